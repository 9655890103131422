"""Every control of the reading window, used the way a reader uses it: the guard for every future control.

The window is the one ``lightbox`` composes (viewer, Remote tab, DICOM nodes,
report panel, QC, hanging protocols, monitor layouts) with the demo CT and its
prior hung.  The crawler finds its controls itself (``findChildren``), so a new
action or button is covered without editing this test:

* every QAction of every menu (and submenu) of the menu bar, of the viewer's
  toolbar and its drop-down menus, and of the viewport context menu, triggered;
* every enabled QAbstractButton of the window, its docks and its tabs, clicked
  with the mouse (its dock shown and its tab made current first);
* the buttons of every window or dialog those open, clicked too, then the
  window closed;
* each viewer tool picked from the toolbar, then the left button pressed,
  dragged and released in a viewport.

Modal dialogs, message boxes and menus are closed by a timer; file dialogs and
input dialogs answer "cancelled".  pytest-qt's exception capture is on: an
exception raised in any slot or event handler fails the test.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMenu,
    QScrollBar,
    QStackedWidget,
    QTabBar,
    QWidget,
    QWidgetAction,
)

from tests.hanging.conftest import demo  # noqa: F401 - the session's small demo studies
from workstation.imaging.interaction import Tool
from workstation.store.importer import import_paths
from workstation.ui.app import compose_main_window

WAIT_MS = 20_000

# Controls not crawled, each with its reason.
SKIPPED_ACTIONS = {
    "Quit": "ends the application (the quit prompt has its own test)",
}
SKIPPED_BUTTONS = {
    "Cancel import": "only shown while an import runs",
}


def _text(obj) -> str:
    return obj.text().replace("&", "").strip()


class ModalCloser:
    """Closes whatever modal dialog, message box or menu pops up, every few milliseconds."""

    def __init__(self) -> None:
        self.closed: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(30)
        self.timer.timeout.connect(self._close)
        self.timer.start()

    def _close(self) -> None:
        popup = QApplication.activePopupWidget()
        if popup is not None:
            self.closed.append(f"menu {popup.objectName() or type(popup).__name__}")
            popup.close()
            return
        modal = QApplication.activeModalWidget()
        if modal is not None:
            self.closed.append(f"dialog {modal.windowTitle()!r}")
            if hasattr(modal, "reject"):
                modal.reject()
            else:
                modal.close()

    def stop(self) -> None:
        self.timer.stop()


def _no_file_or_text_dialogs(monkeypatch) -> None:
    """The native file and input dialogs answer as if the reader cancelled them."""
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([], "")))
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("", False)))
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a, **k: ("", False)))


def _menu_actions(menu: QMenu, seen: set) -> list[QAction]:
    out = []
    for action in menu.actions():
        if action.isSeparator() or id(action) in seen:
            continue
        seen.add(id(action))
        if action.menu() is not None:
            out += _menu_actions(action.menu(), seen)
        elif not isinstance(action, QWidgetAction):
            out.append(action)
    return out


def _all_actions(window) -> list[QAction]:
    """Actions of the menu bar, the viewer's toolbar menus and anything else the window owns."""
    seen: set = set()
    actions = []
    for top in window.menuBar().actions():
        if top.menu() is not None:
            actions += _menu_actions(top.menu(), seen)
    for menu in window.findChildren(QMenu):
        actions += _menu_actions(menu, seen)
    for action in window.findChildren(QAction):
        if id(action) not in seen and not action.isSeparator() and action.menu() is None \
                and not isinstance(action, QWidgetAction) and not action.objectName().startswith("qt_"):
            seen.add(id(action))
            actions.append(action)
    return actions


def _reveal(widget: QWidget) -> None:
    """Show the dock holding ``widget`` and make its tab current, as a reader would first."""
    parent = widget.parentWidget()
    child = widget
    while parent is not None:
        if isinstance(parent, QDockWidget):
            parent.show()
            parent.raise_()
        if isinstance(parent, QStackedWidget) and parent.indexOf(child) >= 0:
            parent.setCurrentWidget(child)
        child, parent = parent, parent.parentWidget()


def _clickable(button: QAbstractButton) -> bool:
    if isinstance(button.parentWidget(), (QScrollBar, QTabBar)) or button.objectName().startswith("qt_"):
        return False
    return _text(button) not in SKIPPED_BUTTONS


class Crawl:
    def __init__(self, qtbot, window, study_uid: str) -> None:
        self.qtbot, self.window, self.study_uid = qtbot, window, study_uid
        self.triggered: list[str] = []
        self.clicked: list[str] = []
        self.skipped: list[str] = []
        self.buttons_done: list[QAbstractButton] = []

    def ensure_study(self) -> None:
        """Closing the study is a control too: open it again for the next one."""
        viewer = self.window.viewer
        if self.window.browser.selected_study_uid() != self.study_uid:
            self.window.browser.select_study(self.study_uid)  # the list's selection drives QC and Compare
        if viewer.session.patient is None or viewer.session.patient.study_uid != self.study_uid:
            self.window.browser.activate_study(self.study_uid)
            self.qtbot.waitUntil(lambda: self.window.hanging.plan is not None
                                 and viewer.session.patient is not None, timeout=WAIT_MS)
        if not self.window.isVisible():
            self.window.show()
        if self.window.isFullScreen():
            self.window.full_screen_action.setChecked(False)

    def settle(self) -> None:
        self.qtbot.wait(20)

    def settle_window(self, top: QWidget, limit_s: float = 15.0) -> None:
        """Wait until a new window's controls stop changing (its content may come up in the background)."""
        import time

        end, last, steady = time.monotonic() + limit_s, -1, 0
        while time.monotonic() < end and steady < 3 and shiboken6.isValid(top):
            count = sum(b.isVisible() and b.isEnabled() for b in top.findChildren(QAbstractButton))
            steady = steady + 1 if count == last else 0
            last = count
            self.qtbot.wait(150)

    def new_windows(self, before: set[int]) -> list[QWidget]:
        return [w for w in QApplication.topLevelWidgets()
                if w.isVisible() and id(w) not in before and w is not self.window and not isinstance(w, QMenu)]

    def crawl_window(self, top: QWidget, label: str) -> None:
        """Click every enabled button of a window the crawl opened, then close it.

        A click may rebuild the window's content (new buttons) or delete it: passes go on
        until no new button shows; the buttons that close the window come last.
        """
        done: set[tuple[str, str]] = set()

        def closing(b: QAbstractButton) -> bool:
            return _text(b).lower().startswith(("close", "cancel", "ok"))

        def click_all(last: bool) -> bool:
            clicked = False
            for button in top.findChildren(QAbstractButton):
                if not (shiboken6.isValid(top) and top.isVisible()):
                    return clicked
                if not shiboken6.isValid(button) or closing(button) != last:
                    continue
                name = _text(button) or button.toolTip() or type(button).__name__
                key = (name, type(button).__name__)
                if key in done or not (button.isVisible() and button.isEnabled() and _clickable(button)):
                    continue
                done.add(key)
                self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
                self.clicked.append(f"{label} › {name}")
                self.settle()
                clicked = True
            return clicked

        for _ in range(4):
            self.settle_window(top)
            if not click_all(last=False):
                break
        if shiboken6.isValid(top) and top.isVisible():
            click_all(last=True)
        if shiboken6.isValid(top):
            top.close()
        self.settle()

    def use(self, what: str, fire) -> None:
        before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
        fire()
        self.settle()
        for top in self.new_windows(before):
            if shiboken6.isValid(top):
                self.crawl_window(top, f"{what} › {top.windowTitle() or type(top).__name__}")
        self.ensure_study()

    def actions(self) -> None:
        # Some menus are rebuilt as the reader works (window presets follow the active series):
        # a second pass reaches the actions that replaced deleted ones.
        done: set[str] = set()
        for _ in range(2):
            for action in _all_actions(self.window):
                if not shiboken6.isValid(action):
                    continue
                self.action(action, done)

    def action(self, action: QAction, done: set[str]) -> None:
        name = _text(action) or action.toolTip()
        owner = action.parent()
        key = f"{type(owner).__name__}:{getattr(owner, 'title', lambda: '')()}:{name}"
        if key in done:
            return
        done.add(key)
        if name in SKIPPED_ACTIONS:
            self.skipped.append(f"action {name}: {SKIPPED_ACTIONS[name]}")
            return
        if not action.isEnabled():
            return
        if True:

            def fire(action=action):
                checkable = action.isCheckable()
                action.trigger()
                if checkable and shiboken6.isValid(action):
                    self.settle()
                    action.trigger()  # and back, as the reader would after looking

            self.use(f"action {name}", fire)
            self.triggered.append(name)

    def buttons(self) -> None:
        """Click every enabled button once (a later pass clicks those enabled since, e.g. by a QC study)."""
        done = self.buttons_done
        for button in self.window.findChildren(QAbstractButton):
            if not shiboken6.isValid(button) or button in done or not _clickable(button):
                continue
            _reveal(button)
            self.settle()
            if not (shiboken6.isValid(button) and button.isVisible() and button.isEnabled()):
                continue
            done.append(button)
            name = _text(button) or button.toolTip() or button.objectName() or type(button).__name__
            self.use(f"button {name}", lambda b=button: self.qtbot.mouseClick(b, Qt.MouseButton.LeftButton))
            self.clicked.append(name)

    def tools(self) -> list[str]:
        viewer = self.window.viewer
        used = []
        for tool, action in viewer.toolbar.tool_actions.items():
            self.ensure_study()
            viewer.session.set_active(0)
            button = viewer.toolbar.button_for(action)
            if button is not None and button.isVisible():
                self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
            else:
                action.trigger()  # a tool of the Measure ▾ menu
            assert viewer.viewports[0].interaction.tool is tool
            vp = viewer.viewports[0]
            self.qtbot.waitUntil(lambda vp=vp: vp.model.frame is not None, timeout=WAIT_MS)
            centre = vp.rect().center()
            start, end = centre - QPoint(20, 20), centre + QPoint(25, 30)
            self.qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
            for k in range(1, 6):
                self.qtbot.mouseMove(vp, start + (end - start) * k / 5)
            self.qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)
            self.settle()
            used.append(tool.value)
        return used


def _unreachable_archive(home) -> None:
    """An archive whose port nobody listens on: Search, Echo and Test run and fail with a message."""
    import socket

    from workstation import config

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = config.Settings()
    settings.upsert_node(config.Node(name="NOWHERE", ae_title="NOWHERE", host="127.0.0.1", port=port))
    config.save(settings, home.config_file)


def test_every_control_works_by_click(qtbot, cache, home, demo, monkeypatch):  # noqa: F811
    for key in ("ct-chest-2024", "ct-chest-2023"):
        assert import_paths(cache, demo.files[key], workers=1).imported == len(demo.files[key])
    _unreachable_archive(home)
    _no_file_or_text_dialogs(monkeypatch)
    window = compose_main_window(home, cache, listen=False, background=False)
    # Not handed to qtbot: closed and deleted below, before the test's cache closes.
    window.resize(1600, 1000)
    window.show()
    closer = ModalCloser()
    crawl = Crawl(qtbot, window, demo.uids["ct-chest-2024"])
    try:
        crawl.ensure_study()
        qtbot.waitUntil(lambda: window.viewer.viewports[0].model.render() is not None, timeout=WAIT_MS)
        crawl.buttons()  # first: the actions' dialogs change settings (DICOM nodes › Remove)
        crawl.actions()
        crawl.buttons()  # those the actions enabled (the QC panel once it has a study)
        tools = crawl.tools()
    finally:
        closer.stop()
        for w in QApplication.topLevelWidgets():
            if w is not window and w.isVisible() and not isinstance(w, QMenu):
                w.close()
        window.close()
        window.viewer.shutdown()
        window.deleteLater()  # its timers go before the test's cache closes
        qtbot.wait(50)
    print(f"\nclick crawler: {len(crawl.triggered)} actions triggered, {len(crawl.clicked)} buttons clicked, "
          f"{len(tools)} tools dragged, {len(closer.closed)} modal dialogs or menus closed")
    for reason in crawl.skipped:
        print("  skipped", reason)
    print("  buttons of the window:", ", ".join(c for c in crawl.clicked if "›" not in c))
    print("  buttons of the windows they open:", ", ".join(c for c in crawl.clicked if "›" in c))
    assert len(crawl.triggered) >= 30 and len(crawl.clicked) >= 30
    # The controls that broke before this guard existed were reached.
    assert "Reject images…" in crawl.clicked and "MPR/3D" in crawl.clicked and "Search" in crawl.clicked, \
        [c for c in crawl.clicked if "›" not in c]
    assert any("MPR and 3D › Reset planes" in name for name in crawl.clicked)  # the MPR window's own
    assert any(name.startswith("Sign") for name in crawl.clicked)
    assert "Keyboard shortcuts" in crawl.triggered
    assert set(tools) == {t.value for t in Tool}


def test_every_menu_shortcut_reaches_its_action(qtbot, cache, home, demo, monkeypatch):  # noqa: F811
    """Each key of the menus triggers its action from the reading window (none is taken twice)."""
    for key in ("ct-chest-2024", "ct-chest-2023"):
        assert import_paths(cache, demo.files[key], workers=1).imported == len(demo.files[key])
    _no_file_or_text_dialogs(monkeypatch)
    window = compose_main_window(home, cache, listen=False, background=False)
    window.resize(1600, 1000)
    window.show()
    window.activateWindow()
    closer = ModalCloser()
    crawl = Crawl(qtbot, window, demo.uids["ct-chest-2024"])
    pressed = []
    try:
        crawl.ensure_study()
        keyed = [a for a in _all_actions(window) if not a.shortcut().isEmpty() and a.isEnabled()
                 and _text(a) not in SKIPPED_ACTIONS]
        seen_keys = [a.shortcut().toString() for a in keyed]
        assert len(seen_keys) == len(set(seen_keys)), f"a key is taken twice: {sorted(seen_keys)}"
        for action in keyed:
            crawl.ensure_study()
            window.activateWindow()  # again after a window an earlier key opened has closed
            qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
            window.viewer.active_widget.setFocus()
            fired = []
            # Bound now: a key that reached an earlier action must not count for this one.
            action.triggered.connect(lambda *_, fired=fired: fired.append(1))
            before = {id(w) for w in QApplication.topLevelWidgets() if w.isVisible()}
            qtbot.keySequence(window, action.shortcut())
            crawl.settle()
            assert fired, f"{action.shortcut().toString()} did not reach {_text(action)} (after {pressed})"
            pressed.append(action.shortcut().toString())
            for top in crawl.new_windows(before):
                top.close()
            if action.isCheckable() and action.isChecked():
                action.trigger()  # back (full screen, study list)
    finally:
        closer.stop()
        for w in QApplication.topLevelWidgets():
            if w is not window and w.isVisible() and not isinstance(w, QMenu):
                w.close()
        window.close()
        window.viewer.shutdown()
        window.deleteLater()
        qtbot.wait(50)
    print(f"\nmenu shortcuts pressed: {', '.join(pressed)}")
    assert len(pressed) >= 8


def test_every_tool_drags_on_every_demo_modality(qtbot, cache, home, demo):  # noqa: F811
    """CT, MR, radiograph, mammogram and colour ultrasound cine: each tool picked and dragged, no slot fails."""
    keys = ["mr-brain-2024", "dx-chest-2024", "mg-screening-2024", "us-carotid-2024"]
    for key in keys:
        assert import_paths(cache, demo.files[key], workers=1).imported == len(demo.files[key])
    window = compose_main_window(home, cache, listen=False, background=False)
    window.resize(1600, 1000)
    window.show()
    closer = ModalCloser()
    dragged = 0
    try:
        for key in keys:
            crawl = Crawl(qtbot, window, demo.uids[key])
            crawl.ensure_study()
            qtbot.waitUntil(lambda: window.viewer.viewports[0].model.render() is not None, timeout=WAIT_MS)
            dragged += len(crawl.tools())
            # and the keys a reader presses in a viewport
            vp = window.viewer.active_widget
            vp.setFocus()
            for k in (Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_1, Qt.Key.Key_0, Qt.Key.Key_I, Qt.Key.Key_R,
                      Qt.Key.Key_H, Qt.Key.Key_F, Qt.Key.Key_Space, Qt.Key.Key_Space, Qt.Key.Key_Period,
                      Qt.Key.Key_Comma, Qt.Key.Key_Escape):
                qtbot.keyClick(window.viewer.active_widget, k)
                crawl.settle()
    finally:
        closer.stop()
        window.close()
        window.viewer.shutdown()
        window.deleteLater()
        qtbot.wait(50)
    assert dragged == len(keys) * len(Tool)
