"""Layouts across diagnostic monitors: one layout spanning two, or one protocol stage on each.

A reading station usually has two diagnostic monitors side by side (and often a
colour monitor for the worklist).  Two ways of using them, both under the View
menu:

* **Span two diagnostic monitors**: the reading window covers both diagnostic
  monitors (the bounding box of their available areas, without a frame), so one
  hanging-protocol layout runs across them; the study list is hidden.
* **One stage per monitor**: the reading window goes to the first diagnostic
  monitor and a second window, on the second monitor, shows the next stage of
  the same hanging protocol (stage n on the left, n + 1 on the right).  It
  follows the main window: another stage, another protocol, another study or a
  closed study all show there at once.

Which monitors are diagnostic, and the rectangles, come from the Qt-free
:mod:`workstation.placement`; this module only reads Qt's screens and moves
windows.  With fewer than two monitors both actions say so and change nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, QRect, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workstation.home import Home
from workstation.placement import Rect, Screen, diagnostic_screens, span_rect
from workstation.store.cache import StudyCache
from workstation.ui.window_placement import current_screens

log = logging.getLogger(__name__)

NEEDS_TWO = "This needs two diagnostic monitors; only one is connected"


def _qrect(r: Rect) -> QRect:
    return QRect(r.x, r.y, r.width, r.height)


class StageWindow(QWidget):
    """A second reading window that shows one stage of the main window's hanging protocol."""

    def __init__(self, cache: StudyCache, home: Home) -> None:
        # Frameless, like the main window beside it: each covers its monitor (closed from the View menu).
        super().__init__(None, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        from workstation.ui.hanging_apply import HangingController
        from workstation.ui.viewer.viewer import ViewerWidget

        self.setWindowTitle("Second monitor")
        self.viewer = ViewerWidget(cache)
        self.hanging = HangingController(self.viewer, home, auto=False)
        from workstation.ui.volume_cells import VolumeCells

        # MPR and 3D viewports of the protocol show as such on this monitor too.
        self.hanging.volume_cells = VolumeCells(self.viewer, lambda: StudyCache(cache.index_file, cache.cache_dir))
        self.note = QLabel("")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet("color: #c8c8c8; background-color: #000000; padding: 4px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.note)
        layout.addWidget(self.viewer, 1)
        self.note.hide()

    @property
    def study_uid(self) -> str | None:
        patient = self.viewer.session.patient
        return patient.study_uid if patient is not None else None

    def follow(self, plan, stage: int) -> None:
        """Show stage ``stage`` of ``plan`` (None: nothing open), hanging the study first if needed."""
        if plan is None:
            self.viewer.close_session()
            self._say("No study open in the main window")
            return
        mine = self.hanging.plan
        other = mine is None or mine.study_uid != plan.study_uid or mine.protocol_id != plan.protocol_id \
            or self.study_uid != plan.study_uid
        if other and self.hanging.hang(plan.study_uid, plan.protocol_id) is None:
                self._say("The study could not be opened here")
                return
        if stage >= len(plan.stages):
            self.viewer.close_session()
            self.hanging.plan = None
            self._say(f"{plan.protocol_name} has no stage {stage + 1}")
            return
        self.note.hide()
        self.hanging.show_stage(stage)

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.note.show()

    def shutdown(self) -> None:
        if self.hanging.volume_cells is not None:  # attached in __init__
            self.hanging.volume_cells.stop()
        self.viewer.shutdown()


class MonitorLayouts(QObject):
    """The View menu's monitor layouts for a main window with a viewer and a hanging controller.

    Parameters
    ----------
    window : MainWindow
    controller : HangingController
        The main window's; the second monitor follows its plan and stage.
    cache : StudyCache
    home : Home
    screens : callable, optional
        Returns the connected monitors (Qt's, by default).
    """

    def __init__(self, window, controller, cache: StudyCache, home: Home,
                 screens: Callable[[], Sequence[Screen]] = current_screens) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.cache = cache
        self.home = home
        self._screens = screens
        self._normal: QRect | None = None
        self._list_was_visible = True
        self.stage_window: StageWindow | None = None
        self.span_action = QAction("Span two diagnostic &monitors", window)
        self.span_action.setCheckable(True)
        self.span_action.toggled.connect(self._on_span_toggled)
        self.stages_action = QAction("One &stage per monitor", window)
        self.stages_action.setCheckable(True)
        self.stages_action.toggled.connect(self._on_stages_toggled)
        controller.plan_changed.connect(self._follow)
        controller.stage_changed.connect(self._follow)
        window.viewer.session.subscribe(self._on_session_changed)

    def add_to(self, menu) -> None:
        menu.addSeparator()
        menu.addAction(self.span_action)
        menu.addAction(self.stages_action)

    @property
    def mode(self) -> str:
        """"span", "stages" or "normal"."""
        if self.stage_window is not None:
            return "stages"
        return "span" if self._normal is not None else "normal"

    def diagnostic(self) -> list[Screen]:
        screens = list(self._screens())
        return diagnostic_screens(screens, 2) if len(screens) >= 2 else []

    # Span ----------------------------------------------------------------------------------
    def span(self, on: bool) -> bool:
        """Lay the reading window across both diagnostic monitors (or back); False when it can't."""
        self.span_action.setChecked(on)
        return self.mode == ("span" if on else "normal")

    def _monitors_for(self, action: QAction, other: QAction) -> list[Screen]:
        """The two diagnostic monitors for ``action``'s layout, ``other`` layout turned off first.

        With fewer, ``action`` is unchecked again, the status bar says why, and [] is returned.
        """
        monitors = self.diagnostic()
        if len(monitors) < 2:
            action.blockSignals(True)
            action.setChecked(False)
            action.blockSignals(False)
            self.window.statusBar().showMessage(NEEDS_TWO, 8000)
            log.info("monitor layout refused: fewer than two monitors")
            return []
        if other.isChecked():
            other.setChecked(False)
        return monitors

    def _on_span_toggled(self, on: bool) -> None:
        if on:
            monitors = self._monitors_for(self.span_action, self.stages_action)
            if not monitors:
                return
            self._enter(span_rect(monitors))
            log.info("reading window spans %d monitors", len(monitors))
        else:
            self._leave()

    def _enter(self, rect: Rect) -> None:
        window = self.window
        if self._normal is None:
            self._normal = window.normalGeometry() if window.isMaximized() or window.isFullScreen() \
                else window.geometry()
            self._list_was_visible = window.study_list_widget().isVisible()
        window.showNormal()
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        window.setGeometry(_qrect(rect))
        window.study_list_widget().setVisible(False)
        window.show()

    def _leave(self) -> None:
        if self._normal is None:
            return
        window = self.window
        window.setWindowFlag(Qt.WindowType.FramelessWindowHint, False)
        window.setGeometry(self._normal)
        window.study_list_widget().setVisible(self._list_was_visible)
        window.show()
        self._normal = None

    # One stage per monitor -------------------------------------------------------------------
    def stages(self, on: bool) -> bool:
        """Show the next protocol stage on the second diagnostic monitor (or stop); False when it can't."""
        self.stages_action.setChecked(on)
        return self.mode == ("stages" if on else "normal")

    def _on_stages_toggled(self, on: bool) -> None:
        if not on:
            self._close_stage_window()
            self._leave()
            return
        monitors = self._monitors_for(self.stages_action, self.span_action)
        if not monitors:
            return
        self._enter(monitors[0].available)
        self.window.study_list_widget().setVisible(self._list_was_visible)
        sw = StageWindow(self.cache, self.home)
        sw.viewer.session.corner_text_overrides = getattr(self.window.viewer.session, "corner_text_overrides", {})
        sw.viewer.destination_of = self.window.viewer.destination_of
        sw.setGeometry(_qrect(monitors[1].available))
        sw.show()
        from workstation.ui.display_calibration import calibrate_window

        calibrate_window(sw, sw.viewer, self.window)  # that monitor's GSDF, followed when the window moves
        self.stage_window = sw
        log.info("second reading window on the second diagnostic monitor")
        self._follow()

    def _close_stage_window(self) -> None:
        sw, self.stage_window = self.stage_window, None
        if sw is not None:
            sw.shutdown()
            sw.close()
            sw.deleteLater()

    def _follow(self, *_changed) -> None:
        sw = self.stage_window
        if sw is None:
            return
        plan = self.controller.plan
        patient = self.window.viewer.session.patient
        if patient is None or plan is None or plan.study_uid != patient.study_uid:
            sw.follow(None, 0)
        else:
            sw.follow(plan, self.controller.stage + 1)

    def _on_session_changed(self, what: str) -> None:
        if what == "studies" and self.window.viewer.session.patient is None:
            self._follow()

    def shutdown(self) -> None:
        """Close the second window and give the main window its normal geometry back (it is closing).

        The layout in use is noted in the window's placement memory (saved with it), so the
        next start lays the window out the same way when two monitors are still there.
        """
        memory = getattr(self.window, "_placement", None)
        if memory is not None:
            memory.monitor_layout = self.mode
        self._close_stage_window()
        self._leave()

    def restore(self) -> str:
        """Lay the window out as it was at the last exit (after it is shown); returns the mode now."""
        memory = getattr(self.window, "_placement", None)
        wanted = getattr(memory, "monitor_layout", "normal")
        if wanted != "normal" and len(self.diagnostic()) < 2:
            log.info("monitor layout %s not restored: fewer than two monitors", wanted)
            return self.mode
        if wanted == "span":
            self.span(True)
        elif wanted == "stages":
            self.stages(True)
        return self.mode


def attach_monitor_layouts(window, home: Home, cache: StudyCache,
                           screens: Callable[[], Sequence[Screen]] = current_screens) -> MonitorLayouts | None:
    """Add the monitor layouts to ``window``'s View menu (needs its viewer and hanging controller)."""
    controller = getattr(window, "hanging", None)
    if getattr(window, "viewer", None) is None or controller is None:
        return None
    layouts = MonitorLayouts(window, controller, cache, home, screens)
    menu = next((a.menu() for a in window.menuBar().actions() if a.menu() and a.text().replace("&", "") == "View"),
                None)
    if menu is not None:
        layouts.add_to(menu)
    window.monitor_layouts = layouts
    return layouts
