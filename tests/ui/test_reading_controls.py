"""Reading by keyboard and from the viewport.

Focus, the shortcuts sheet, MPR from a viewport, cine controls, overlays.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter
from PySide6.QtWidgets import QApplication

from tests.hanging.conftest import demo  # noqa: F401 - the session's small demo studies
from workstation.imaging.interaction import VIEWPORT_KEYS
from workstation.store.importer import import_paths
from workstation.ui.app import compose_main_window
from workstation.ui.viewer import overlay
from workstation.ui.viewer.toolbar import TOOL_SHORTCUTS, VIEWER_KEYS

WAIT_MS = 20_000


@pytest.fixture
def reading(qtbot, cache, home, demo):  # noqa: F811
    """The whole window with the demo CT (and its prior) hung, the first viewport painted."""
    for key in ("ct-chest-2024", "ct-chest-2023", "us-carotid-2024"):
        assert import_paths(cache, demo.files[key], workers=1).imported == len(demo.files[key])
    window = compose_main_window(home, cache, listen=False, background=False)
    # Not handed to qtbot: closed and deleted below, before the test's cache closes.
    window.resize(1600, 1000)
    window.show()
    window.activateWindow()
    window.browser.activate_study(demo.uids["ct-chest-2024"])
    viewer = window.viewer
    qtbot.waitUntil(lambda: window.hanging.plan is not None and viewer.viewports[0].model.render() is not None,
                    timeout=WAIT_MS)
    yield window
    for w in getattr(window, "volume_workspaces", []):
        w.close()
    window.close()
    viewer.shutdown()
    window.deleteLater()  # its timers go before the test's cache closes
    qtbot.wait(50)


def test_the_active_viewport_keeps_the_keys_through_stage_and_layout_changes(qtbot, reading):
    window, viewer = reading, reading.viewer
    vp = viewer.viewports[0]
    qtbot.mouseClick(vp, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    assert QApplication.focusWidget() is vp
    qtbot.mouseClick(window.hanging.next_button, Qt.MouseButton.LeftButton)
    assert window.hanging.stage == 1
    assert QApplication.focusWidget() is viewer.active_widget
    before = viewer.active_widget.model.index
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Down)
    assert viewer.active_widget.model.index == before + 1  # the arrow keys still scroll
    viewer.toolbar.grid_chooser.buttons[(2, 2)].click()
    assert viewer.session.grid == (2, 2) and QApplication.focusWidget() is viewer.active_widget
    # Text fields are reached by a click only, never by the focus moving along from a hidden viewport.
    fields = [f for f in window.findChildren(type(window.browser.filter_bar.name_edit)) if f.window() is window]
    assert fields and all(f.focusPolicy() == Qt.FocusPolicy.ClickFocus for f in fields), \
        [f.accessibleName() or f.placeholderText() for f in fields if f.focusPolicy() != Qt.FocusPolicy.ClickFocus]


def test_the_shortcuts_sheet_lists_every_key_and_each_key_works(qtbot, reading):
    window = reading
    window.shortcuts_action.trigger()
    text = window.shortcuts_dialog.text.toPlainText()
    menu_keys = [a.shortcut().toString() for a in window.findChildren(type(window.shortcuts_action))
                 if not a.shortcut().isEmpty() and any(a in m.actions() for m in _menus(window))]
    assert menu_keys and all(key in text for key in menu_keys), [k for k in menu_keys if k not in text]
    for key in list(TOOL_SHORTCUTS.values()) + list(VIEWPORT_KEYS) + list(VIEWER_KEYS):
        assert key in text
    assert "next stage" in text and "Right drag" in text
    window.shortcuts_dialog.close()
    # Every key the sheet lists for a viewport is one the viewport really uses.
    interaction = window.viewer.active_widget.interaction
    for listed in VIEWPORT_KEYS:
        for name in _key_names(listed):
            mods = frozenset({"shift"}) if name.startswith("Shift+") else frozenset()
            name = name.removeprefix("Shift+").replace(" ", "")
            if name in ("Delete", "Backspace"):
                continue  # needs a selected measurement
            assert interaction.key(name, mods), name


def test_every_key_a_viewport_uses_is_on_the_sheet(qtbot, reading):
    """The converse: no key works in a viewport without the sheet saying so."""
    listed = set()
    for entry in list(VIEWPORT_KEYS) + list(VIEWER_KEYS) + list(TOOL_SHORTCUTS.values()):
        if "…" in entry:
            a, b = [int(x) for x in re.findall(r"\d", entry)]
            listed |= {str(k) for k in range(a, b + 1)}
        else:
            listed |= {part.strip().removeprefix("Shift+").replace(" ", "") for part in entry.split("/")}
    interaction = reading.viewer.active_widget.interaction
    candidates = [chr(c) for c in range(ord("A"), ord("Z") + 1)] + [str(d) for d in range(10)] + [
        "Up", "Down", "Left", "Right", "PageUp", "PageDown", "Home", "End", "Escape", "Space", "Tab", "Return"]
    used = [name for name in candidates if interaction.key(name)]
    assert used and set(used) <= listed, set(used) - listed


def _menus(window):
    out, todo = [], [a.menu() for a in window.menuBar().actions() if a.menu()]
    while todo:
        m = todo.pop()
        out.append(m)
        todo += [a.menu() for a in m.actions() if a.menu()]
    return out


def _key_names(listed: str) -> list[str]:
    if "…" in listed:
        return re.findall(r"\d", listed)[:1]  # how many presets there are depends on the modality
    return [part.strip() for part in listed.split("/")]


def test_mpr_of_the_viewport_from_its_menu_and_its_lines_go_when_closed(qtbot, reading):
    window, viewer = reading, reading.viewer
    vp = viewer.viewports[1]
    centre = vp.rect().center()
    qtbot.mousePress(vp, Qt.MouseButton.RightButton, pos=centre)
    qtbot.mouseRelease(vp, Qt.MouseButton.RightButton, pos=centre)  # a right click without dragging
    menu = vp.context_menu
    assert menu is not None and menu.isVisible() and viewer.session.active == 1
    action = next(a for a in menu.actions() if a.text().replace("&", "").startswith("MPR"))
    menu.close()
    action.trigger()
    workspace = window.volume_workspaces[-1]
    series = vp.model.display_set.series_uid
    assert workspace.series_box.currentData() == series
    qtbot.waitUntil(lambda: workspace.mpr is not None, timeout=30_000)  # loaded without another click
    qtbot.waitUntil(lambda: "mpr" in viewer.session.external_planes, timeout=WAIT_MS)
    workspace.close()
    assert "mpr" not in viewer.session.external_planes  # the dashed crosshair is gone with the window


def test_the_toolbar_shows_the_cine_that_plays(qtbot, reading, demo):  # noqa: F811
    window, viewer = reading, reading.viewer
    viewer.open_study(demo.uids["us-carotid-2024"])
    qtbot.waitUntil(lambda: window.hanging.plan is not None
                    and window.hanging.plan.study_uid == demo.uids["us-carotid-2024"], timeout=WAIT_MS)
    playing = [w for w in viewer.viewports if w.model.cine.playing]
    if not playing:  # the protocol did not start it: start it as the key does
        viewer.active_widget.setFocus()
        qtbot.keyClick(viewer.active_widget, Qt.Key.Key_Space)
        playing = [w for w in viewer.viewports if w.model.cine.playing]
    assert playing
    viewer.session.set_active(playing[0].index)
    viewer._on_activated(playing[0].index)
    tb = viewer.toolbar
    assert tb.cine_action.isChecked() and "❚❚" in tb.cine_action.text()
    assert tb.fps_box.value() == pytest.approx(playing[0].model.cine.frames_per_second, abs=0.05)
    assert playing[0].cine_timer.interval() == round(1000 / tb.fps_box.value())
    tb.fps_box.setValue(5.0)  # the reader's rate is the one that plays
    assert playing[0].cine_timer.interval() == 200
    # Another study: the controls show its paused cine at the rate it would play at, not the last one's.
    viewer.open_study(demo.uids["ct-chest-2024"])
    qtbot.waitUntil(lambda: window.hanging.plan is not None
                    and window.hanging.plan.study_uid == demo.uids["ct-chest-2024"], timeout=WAIT_MS)
    active = viewer.active_widget.model
    assert not tb.cine_action.isChecked() and "▶" in tb.cine_action.text()
    assert tb.fps_box.value() == pytest.approx(active.frame_rate(), abs=0.05)


CORNERS = {
    "top_left": ["MÜLLER, ANNA-MARIA", "ID LBX-0002-0001", "DOB 1967-09-02 F", "Lightbox General Hospital"],
    "top_right": ["2024-04-22 10:31", "CT CHEST WITH CONTRAST", "Acc LBXB2404221031", "Se 3 CT CHEST 1.25 LUNG"],
    "bottom_left": ["Im 12/24", "Loc -132.5 mm", "120 kVp 250 mAs"],
    "bottom_right": ["W 1500 L -600 (Lung)", "Zoom 2.83", "1.25 mm"],
}


@pytest.mark.parametrize("size", [(380, 230), (240, 200), (160, 150), (900, 700)])
def test_corner_lines_never_overlap(qtbot, size):
    rect = QRectF(0, 0, *size)
    fm = QFontMetricsF(overlay.overlay_font(10.0))
    placed = overlay.layout_corners(rect, CORNERS, fm)
    boxes = [QRectF(x, y - fm.ascent(), fm.horizontalAdvance(t), fm.height()) for x, y, t in placed]
    for i, a in enumerate(boxes):
        assert rect.contains(a), (placed[i], size)
        for b in boxes[i + 1:]:
            assert not a.intersects(b), (placed, size)
    # the middle of each edge stays free for the orientation markers
    marker = QFontMetricsF(overlay.overlay_font(13.0, bold=True))
    middle = QRectF(0, size[1] / 2 - fm.height() / 2, size[0], fm.height())
    top_marker = QRectF(size[0] / 2 - marker.horizontalAdvance("W") / 2, 6, marker.horizontalAdvance("W"),
                        marker.height())
    bottom_marker = top_marker.translated(0, size[1] - 12 - marker.height())
    assert not any(box.intersects(zone) for box in boxes for zone in (middle, top_marker, bottom_marker))
    # each edge's lines take at most a third of the height: the image stays visible in small viewports
    assert all(box.bottom() <= size[1] / 3 + 1 or box.top() >= size[1] * 2 / 3 - 1 for box in boxes), placed
    if size == (900, 700):
        assert len(placed) == sum(map(len, CORNERS.values()))  # room for all: nothing dropped
    else:
        texts = [t for _x, _y, t in placed]
        assert any(t.startswith("MÜLLER") or t.startswith("MÜ") for t in texts)  # identity kept first


@pytest.mark.parametrize("background", [0, 255, 128])
def test_corner_text_reads_on_any_pixel_value(qtbot, background):
    image = QImage(200, 40, QImage.Format.Format_RGB32)
    image.fill(QColor(background, background, background))
    p = QPainter(image)
    p.setFont(overlay.overlay_font(10.0))
    overlay.shadowed_text(p, 5, 25, "DOB 1967-09-02")
    p.end()
    ptr = image.constBits()
    pixels = np.frombuffer(ptr, np.uint8).reshape(40, 200, 4)[..., :3].mean(axis=2)
    # Both light letters and a dark outline are there, whatever lies under them.
    assert (pixels > 200).sum() > 40 and (pixels < 40).sum() > 40


def test_mpr_from_the_list_reads_the_studys_largest_series_at_once(qtbot, reading, demo):  # noqa: F811
    window = reading
    window.close_study_action.trigger()
    assert window.browser.select_study(demo.uids["ct-chest-2024"])
    window.volume_action.trigger()  # Tools › MPR and 3D… (Ctrl+M)
    workspace = window.volume_workspaces[-1]
    assert workspace.series_box.currentData() is not None
    assert workspace.message.text() != "Choose a series"
    qtbot.waitUntil(lambda: workspace.mpr is not None, timeout=30_000)
    workspace.close()


def test_a_stage_change_does_not_take_the_keys_from_a_field_the_reader_types_in(qtbot, reading):
    window = reading
    field = window.browser.filter_bar.accession_edit
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    assert QApplication.focusWidget() is field
    window.hanging.next_stage()  # as a prior arriving in the background does
    assert QApplication.focusWidget() is field


def test_the_docks_tab_together_float_and_close(qtbot, reading):
    from PySide6.QtWidgets import QDockWidget

    window = reading
    report, qc = window.findChild(QDockWidget, "reportDock"), window.findChild(QDockWidget, "qcDock")
    window.browser.select_study(window.viewer.session.patient.study_uid)
    assert window.qc.show_checklist()  # QC › QC checklist shows its dock
    qtbot.waitUntil(qc.isVisible)
    assert qc in window.tabifiedDockWidgets(report)  # one column for both, a tab each
    wanted = (QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
              | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    for dock in (report, qc):
        assert dock.features() & wanted == wanted
        assert dock.minimumWidth() <= 300  # the content scrolls rather than widening the window
    toggle = report.toggleViewAction()
    assert toggle in window.findChildren(type(toggle)) or toggle.parent() is not None
    toggle.trigger()
    assert not report.isVisible()
    toggle.trigger()
    assert report.isVisible()
    before = window.viewer.viewports[0].width()
    report.setFloating(True)
    qtbot.waitUntil(report.isFloating)
    assert window.viewer.viewports[0].width() >= before  # the images take the room it leaves
    report.setFloating(False)
    assert not report.isFloating()
