"""The viewer driven with real mouse and key events: scrolling, window/level, zoom, layout, safety."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.ui.viewer_helpers import WAIT_MS, click, drag, open_viewer, view_point_of, wheel
from tests.viewer_phantom import phantom_study
from workstation.imaging import overlay_model
from workstation.imaging.interaction import Tool


@pytest.fixture
def phantom(cache, tmp_path):
    return phantom_study(cache, tmp_path / "phantom", 10)


@pytest.fixture
def viewer(qtbot, cache, phantom):
    v = open_viewer(qtbot, cache, phantom)
    yield v
    v.shutdown()


def test_opening_shows_the_first_image_with_patient_identity(viewer):
    vp = viewer.viewports[0]
    assert vp.model.index == 0 and len(vp.model) == 10
    assert not vp.isHidden() and all(w.isHidden() for w in viewer.viewports[1:])
    corners = overlay_model.corner_lines(vp.model)
    assert corners["top_left"][:2] == ["PHANTOM, Paula", "ID PHANTOM-1"]
    assert "Im 1/10" in corners["bottom_left"]
    assert "W 400 L 40" in corners["bottom_right"]
    assert overlay_model.markers(vp.model) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    # The painted image is the phantom: the square is brighter than the air around it.
    image = vp.grab().toImage()
    inside = view_point_of(vp, 30, 30)
    outside = view_point_of(vp, 5, 40)
    assert image.pixelColor(inside).value() > image.pixelColor(outside).value() + 50
    assert viewer.strip.series_items and viewer.strip.topLevelItemCount() == 1


def test_wheel_keys_and_scroll_drag_move_through_the_stack(qtbot, viewer):
    w = viewer.viewports[0]
    model = w.model
    wheel(w, -3)  # towards the reader: next images
    assert model.index == 3
    wheel(w, 1)
    assert model.index == 2
    w.setFocus()
    for k, expected in ((Qt.Key.Key_Down, 3), (Qt.Key.Key_PageDown, 4), (Qt.Key.Key_End, 9),
                        (Qt.Key.Key_Up, 8), (Qt.Key.Key_Home, 0)):
        qtbot.keyClick(w, k)
        assert model.index == expected, k
    # The frame shown is the frame asked for: the phantom writes its index in pixel (1, 1).
    qtbot.keyClick(w, Qt.Key.Key_End)
    assert int(model.stored()[1, 1]) - 1024 == 9
    assert viewer.toolbar.tool_actions[Tool.SCROLL].isChecked()
    centre = QPoint(w.width() // 2, w.height() // 2)
    drag(w, centre, QPoint(centre.x(), centre.y() - 200))
    assert model.index < 9


def test_right_drag_windows_and_number_keys_pick_presets(qtbot, viewer):
    w = viewer.viewports[0]
    model = w.model
    start = QPoint(w.width() // 2, w.height() // 2)
    drag(w, start, QPoint(start.x() + 100, start.y() + 50), button=Qt.MouseButton.RightButton)
    # 400 wide: 2 units per pixel -> width 600, centre 140.
    assert model.view.voi.width == pytest.approx(600, abs=1)
    assert model.view.voi.center == pytest.approx(140, abs=1)
    assert model.current_window().width == pytest.approx(600, abs=1)
    qtbot.keyClick(w, Qt.Key.Key_4)
    assert (model.view.voi.center, model.view.voi.width, model.view.voi.name) == (-600, 1500, "Lung")
    qtbot.keyClick(w, Qt.Key.Key_0)
    assert model.current_window().center == 40
    qtbot.keyClick(w, Qt.Key.Key_I)
    assert model.view.invert
    # Inverted, the square is darker than the air.
    w.repaint()
    image = w.grab().toImage()
    assert image.pixelColor(view_point_of(w, 30, 30)).value() < image.pixelColor(view_point_of(w, 5, 40)).value()


def test_zoom_pan_fit_one_to_one_rotate_and_flip(qtbot, viewer):
    w = viewer.viewports[0]
    view = w.model.view
    fit = view.zoom
    at = view_point_of(w, 30, 30)
    wheel(w, 2, at, modifiers=Qt.KeyboardModifier.ControlModifier)
    assert view.zoom == pytest.approx(fit * 1.15 ** 2)
    assert view.to_image(at.x(), at.y()) == pytest.approx((30, 30), abs=0.2)
    pan = view.pan
    drag(w, QPoint(100, 100), QPoint(160, 140), button=Qt.MouseButton.MiddleButton)
    assert view.pan == pytest.approx((pan[0] + 60, pan[1] + 40))
    qtbot.keyClick(w, Qt.Key.Key_N)
    assert view.zoom == 1.0 and not view.fit
    qtbot.keyClick(w, Qt.Key.Key_F)
    assert view.fit and view.zoom == pytest.approx(fit)
    qtbot.keyClick(w, Qt.Key.Key_R)
    assert view.rotation == 1
    assert overlay_model.markers(w.model) == {"left": "P", "right": "A", "top": "R", "bottom": "L"}
    qtbot.keyClick(w, Qt.Key.Key_H)
    assert overlay_model.markers(w.model)["left"] == "A"
    viewer.toolbar.reset_action.trigger()
    assert view.rotation == 0 and not view.flip_horizontal
    viewer.set_tool(Tool.ZOOM)
    drag(w, QPoint(200, 300), QPoint(200, 200))
    assert view.zoom == pytest.approx(fit * np.exp(1.0), rel=0.05)
    viewer.set_tool(Tool.PAN)
    before = view.to_view(10, 10)
    drag(w, QPoint(200, 200), QPoint(230, 200))
    assert view.to_view(10, 10)[0] == pytest.approx(before[0] + 30, abs=1)


def test_grid_chooser_shows_the_chosen_number_of_viewports(qtbot, viewer):
    chooser = viewer.toolbar.grid_chooser
    click(chooser.buttons[(2, 3)], QPoint(5, 5))
    assert viewer.session.grid == (2, 3)
    assert [not w.isHidden() for w in viewer.viewports[:7]] == [True] * 6 + [False]
    assert viewer.toolbar.layout_button.text() == "Layout 2×3"
    click(chooser.buttons[(4, 4)], QPoint(5, 5))
    assert all(not w.isHidden() for w in viewer.viewports)
    # Clicking a viewport makes it the active one; a series double-clicked goes there.
    target = viewer.viewports[5]
    click(target, QPoint(20, 20))
    assert viewer.session.active == 5
    item = next(iter(viewer.strip.series_items.values()))
    viewer.strip.itemActivated.emit(item, 0)
    assert target.model.display_set is not None
    click(chooser.buttons[(1, 1)], QPoint(5, 5))
    assert viewer.session.grid == (1, 1) and viewer.session.active == 0


def test_probe_reads_hu_and_patient_position(qtbot, viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.PROBE)
    at = view_point_of(w, 25.5, 30.5)
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, pos=at)
    reading = w.interaction.probe_reading
    assert (reading.column, reading.row) == (25, 30)
    assert reading.value == "100 HU" and reading.stored == "1124"
    assert reading.patient == pytest.approx((-16 + 25 * 0.5, -16 + 30 * 0.5, 0.0))
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, pos=at)


def test_magnifier_shows_a_lens_while_pressed(qtbot, viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.MAGNIFY)
    at = view_point_of(w, 20, 20)
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, pos=at)
    assert w.interaction.lens == (at.x(), at.y())
    image = w.grab().toImage()
    # At twice the zoom the square's corner moves away from the cursor inside the lens.
    inside_lens = QPoint(at.x() - 30, at.y() + 30)
    assert image.pixelColor(inside_lens).value() < 60
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, pos=at)
    assert w.interaction.lens is None


def test_key_image_toggle_and_cine(qtbot, viewer):
    w = viewer.viewports[0]
    qtbot.keyClick(w, Qt.Key.Key_K)
    key = w.model.frame.key
    assert viewer.session.key_images == {key}
    assert viewer.toolbar.key_image_action.isChecked()
    qtbot.keyClick(w, Qt.Key.Key_K)
    assert viewer.session.key_images == set()
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.model.cine.playing and w.cine_timer.isActive()
    start = w.model.index
    qtbot.waitUntil(lambda: w.model.index != start, timeout=WAIT_MS)
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert not w.model.cine.playing and not w.cine_timer.isActive()


def test_damaged_image_shows_its_error_and_the_rest_still_scrolls(qtbot, cache, tmp_path):
    uid = phantom_study(cache, tmp_path / "p", 4)
    series = cache.series(uid)[0]
    rows = sorted(cache.instances(series.series_uid), key=lambda r: r.instance_number)
    path = cache.path_of(rows[0])
    path.write_bytes(path.read_bytes()[:-500])
    viewer = open_viewer_with_error(qtbot, cache, uid)
    try:
        w = viewer.viewports[0]
        assert "truncated" in w.model.error()
        assert w.model.render() is None
        corners = overlay_model.corner_lines(w.model)
        assert corners["top_left"][1] == "ID PHANTOM-1"
        wheel(w, -1)
        assert w.model.render() is not None
    finally:
        viewer.shutdown()


def open_viewer_with_error(qtbot, cache, uid):
    from workstation.ui.viewer.viewer import ViewerWidget

    viewer = ViewerWidget(cache)
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    assert viewer.open_study(uid)
    vp = viewer.viewports[0]
    qtbot.waitUntil(lambda: vp.model.pixels.done, timeout=WAIT_MS)
    return viewer


def test_scrollbar_follows_and_moves_the_stack(qtbot, viewer):
    w = viewer.viewports[0]
    bar = w.scrollbar
    assert bar.isVisible() and (bar.minimum(), bar.maximum()) == (0, 9)
    wheel(w, -3)
    assert bar.value() == 3
    # Click in the bar's trough below the handle: one page further.
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(bar.width() // 2, bar.height() - 5))
    assert w.model.index == bar.value() and w.model.index > 3
    bar.setValue(7)
    assert w.model.index == 7


def test_window_tool_and_linked_window_and_zoom(qtbot, cache, tmp_path):
    from tests.factories import uid
    from tests.viewer_phantom import write_phantom
    from workstation.store.importer import import_paths

    study = uid()
    write_phantom(tmp_path / "a", 3, study_uid=study, series_number=1)
    write_phantom(tmp_path / "b", 3, study_uid=study, series_number=2)
    import_paths(cache, [tmp_path / "a", tmp_path / "b"])
    viewer = open_viewer(qtbot, cache, study)
    try:
        first, second = viewer.viewports[0], viewer.viewports[1]
        viewer.set_tool(Tool.WINDOW)
        drag(first, QPoint(100, 100), QPoint(150, 100))
        assert first.model.view.voi.width == pytest.approx(500, abs=1)
        assert second.model.current_window().width == 400  # not linked
        viewer.toolbar.link_window_action.trigger()
        viewer.toolbar.link_zoom_action.trigger()
        drag(first, QPoint(100, 100), QPoint(100, 120))
        assert second.model.current_window().center == pytest.approx(first.model.current_window().center)
        wheel(first, 1, modifiers=Qt.KeyboardModifier.ControlModifier)
        assert second.model.view.zoom == pytest.approx(first.model.view.zoom)
    finally:
        viewer.shutdown()


def test_series_thumbnails_arrive_from_the_background(qtbot, viewer):
    strip = viewer.strip
    qtbot.waitUntil(lambda: len(strip.thumbnails_made) == 1, timeout=WAIT_MS)
    item = next(iter(strip.series_items.values()))
    assert not item.icon(0).isNull()
    assert "phantom axial" in item.text(0) and "10 im" in item.text(0)
    # The study opened again lists new items: they get the thumbnail made before at once.
    uid = next(iter(strip.series_items))
    assert viewer.open_study(viewer.session.studies[0].study_uid)
    again = strip.series_items[uid]
    assert again is not item and not again.icon(0).isNull()


@pytest.mark.parametrize("height, mm_per_px, drawn", [(760, 0.5, True), (380, 0.5, True), (380, 0.2, True),
                                                      (200, 1.3, False)])
def test_scale_bar_keeps_clear_of_the_right_marker_and_the_corner_text(qapp, height, mm_per_px, drawn):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QFontMetricsF, QImage, QPainter

    from workstation.ui.viewer import overlay

    rect = QRectF(0, 0, 500, height)
    image = QImage(500, height, QImage.Format.Format_ARGB32)
    image.fill(0)
    p = QPainter(image)
    overlay.paint_scale_bar(p, rect, mm_per_px, bottom_lines=2)
    p.end()
    alpha = np.frombuffer(image.constBits(), np.uint8).reshape(height, 500, 4)[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    if not drawn:  # no room between the marker and the corner text: better none than one over them
        assert rows.size == 0
        return
    assert rows.size, "no scale bar drawn"
    marker = QFontMetricsF(overlay.overlay_font(13.0, bold=True))
    line = QFontMetricsF(overlay.overlay_font(10.0)).height()
    assert rows[0] > rect.center().y() + marker.ascent() / 2  # below the right marker's letter
    assert rows[-1] < rect.bottom() - 6 - 2 * line  # above the two lines of bottom-right text


def test_a_minified_stack_scrolls_at_screen_size_then_settles_at_full_quality(qtbot, viewer):
    """While the stack moves, a minified image is sampled at the screen's size; at rest it is painted smooth."""
    w = viewer.viewports[0]
    view = w.model.view
    wheel(w, -20, modifiers=Qt.KeyboardModifier.ControlModifier)  # zoom out below 1:1
    assert view.zoom < 0.9
    wheel(w, -2)
    assert w.model.index == 2 and w._moving
    moving = w.grab().toImage()
    assert w._samples is not None  # the sampled path painted it
    qtbot.waitUntil(lambda: not w._moving, timeout=WAIT_MS)
    still = w.grab().toImage()
    inside, outside = view_point_of(w, 30, 30), view_point_of(w, 5, 40)
    for image in (moving, still):
        assert image.pixelColor(inside).value() > image.pixelColor(outside).value() + 50
    # Away from edges both paintings show the same grey (nearest samples or smooth scaling alike).
    for p in (inside, outside, view_point_of(w, 50, 10)):
        assert abs(moving.pixelColor(p).value() - still.pixelColor(p).value()) <= 1
    beyond = view_point_of(w, -10, -10)  # outside the image: the viewport's black
    assert moving.pixelColor(beyond).value() == still.pixelColor(beyond).value() == 0
    # Flipped left to right the samples run the other way: the same picture moving or still.
    qtbot.keyClick(w, Qt.Key.Key_H)
    assert view.flip_horizontal
    wheel(w, -1)
    assert w._moving
    moving = w.grab().toImage()
    qtbot.waitUntil(lambda: not w._moving, timeout=WAIT_MS)
    still = w.grab().toImage()
    inside, outside = view_point_of(w, 30, 30), view_point_of(w, 5, 40)
    assert view.to_image(inside.x(), inside.y())[0] == pytest.approx(30, abs=1)  # mirrored on screen
    for p in (inside, outside):
        assert abs(moving.pixelColor(p).value() - still.pixelColor(p).value()) <= 1
    assert moving.pixelColor(inside).value() > moving.pixelColor(outside).value() + 50


def test_the_reader_is_followed_closely_until_the_shown_frame_is_read(qtbot, cache, phantom):
    """Opening a study polls the frame reader every few ms until the image shows, then at the usual pace."""
    from tests.ui.viewer_helpers import VIEWER_SIZE
    from workstation.ui.viewer.viewer import FIRST_FRAME_POLL_MS, LOADING_POLL_MS, ViewerWidget

    viewer = ViewerWidget(cache)
    qtbot.addWidget(viewer)
    viewer.resize(*VIEWER_SIZE)
    viewer.show()
    qtbot.waitExposed(viewer)
    assert viewer.open_study(phantom)
    timer = viewer._loading_timer
    assert timer.isActive() and timer.interval() == FIRST_FRAME_POLL_MS
    w = viewer.viewports[0]
    qtbot.waitUntil(lambda: w.model.is_loaded() and w.paint_count > 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not timer.isActive() or timer.interval() == LOADING_POLL_MS, timeout=WAIT_MS)
    viewer.shutdown()
