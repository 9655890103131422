"""A scrolled, linked grid paints what a freshly shown one paints: the per-viewport memories keep nothing stale.

The viewports keep what did not change from one frame to the next (the corner
text's layout per edge, the lines composed into bands, the scroll bar's
picture, the scale bar's place); these tests scroll with the wheel and drag the
scroll bar with the mouse, then compare with viewports that never scrolled.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtTest import QTest

from tests.ui.viewer_helpers import WAIT_MS, drag, open_viewer, wheel
from tests.viewer_phantom import phantom_study
from workstation.imaging import overlay_model
from workstation.ui.viewer import overlay
from workstation.ui.viewer.stack_scrollbar import HANDLE_COLOR


@pytest.fixture
def phantom(cache, tmp_path):
    return phantom_study(cache, tmp_path / "phantom", 10)


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3].copy()


def _linked_grid(qtbot, cache, study_uid, index: int = 0):
    """A 2 x 2 layout (chosen with the toolbar's grid button) of the phantom at ``index``, scroll linking on."""
    viewer = open_viewer(qtbot, cache, study_uid, size=(1000, 700))
    viewer.toolbar.grid_chooser.buttons[(2, 2)].click()
    ds = viewer.session.display_sets[0]
    for i in range(4):
        viewer.session.show(ds, i, index)
    viewer.toolbar.link_scroll_action.trigger()
    assert viewer.session.links.scroll
    shown = viewer.viewports[:4]
    qtbot.waitUntil(lambda: all(w.model.is_loaded() and w.model.pixels.done for w in shown), timeout=WAIT_MS)
    half = viewer.grid_host.width() / 2  # the grid laid out: four viewports side by side
    qtbot.waitUntil(lambda: all(w.isVisible() and w.width() <= half for w in shown), timeout=WAIT_MS)
    return viewer, shown


def _settled(qtbot, shown) -> None:
    """Wait for the full-quality paint after the moves and for the scroll bars to catch up."""
    qtbot.waitUntil(lambda: all(not w._moving and not w._bar_timer.isActive() for w in shown), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: all(w.scrollbar.value() == w.model.index for w in shown), timeout=WAIT_MS)


def test_a_linked_grid_scrolled_with_the_wheel_paints_what_a_fresh_grid_shows(qtbot, cache, phantom):
    scrolled, shown = _linked_grid(qtbot, cache, phantom)
    try:
        for notches in (-1, -1, -2, 1, -3):  # each turn repaints all four with what changed only
            wheel(shown[0], notches)
            for w in shown:
                w.repaint()
        assert [w.model.index for w in shown] == [6, 6, 6, 6]
        _settled(qtbot, shown)
        after = [_pixels(w.grab().toImage()) for w in shown]
        corners = overlay_model.corner_lines(shown[3].model)
        assert "Im 7/10" in corners["bottom_left"] and corners["top_left"][0] == "PHANTOM, Paula"
    finally:
        scrolled.shutdown()
    fresh, fresh_shown = _linked_grid(qtbot, cache, phantom, index=6)
    try:
        _settled(qtbot, fresh_shown)
        for k, w in enumerate(fresh_shown):
            expected = _pixels(w.grab().toImage())
            assert after[k].shape == expected.shape
            differ = np.abs(after[k].astype(int) - expected.astype(int)).max(axis=2)
            assert (differ > 0).sum() == 0, f"viewport {k}: {(differ > 0).sum()} pixels differ"
    finally:
        fresh.shutdown()


def test_the_scroll_bar_is_painted_where_the_mouse_takes_its_handle(qtbot, cache, phantom):
    viewer = open_viewer(qtbot, cache, phantom)
    try:
        w = viewer.viewports[0]
        bar = w.scrollbar
        wheel(w, -2)
        qtbot.waitUntil(lambda: bar.value() == 2, timeout=WAIT_MS)

        def handle_centre() -> QPoint:
            return bar.handle_rect().center().toPoint()

        def painted(at: QPoint) -> QColor:
            return w.grab().toImage().pixelColor(bar.mapTo(w, at))

        before = handle_centre()
        assert painted(before) == HANDLE_COLOR
        # Drag the handle down with the mouse: the stack follows and the handle is drawn at its new place.
        drag(bar, before, QPoint(before.x(), bar.height() - 4))
        assert w.model.index == bar.value() == 9
        after = handle_centre()
        assert after.y() > before.y() + bar.handle_rect().height()
        assert painted(after) == HANDLE_COLOR
        assert painted(before) != HANDLE_COLOR
        # A click in the trough above the handle pages back, and the picture follows again.
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(before.x(), 3))
        assert w.model.index == bar.value() < 9
        assert painted(handle_centre()) == HANDLE_COLOR
    finally:
        viewer.shutdown()


def test_corner_text_is_laid_out_again_only_where_it_changed(qapp):
    rect = QRectF(0, 0, 420, 260)
    corners = {"top_left": ["MÜLLER, ANNA-MARIA", "ID LBX-0002-0001", "DOB 1967-09-02 F"],
               "top_right": ["2024-04-22 10:31", "CT CHEST WITH CONTRAST", "Se 3 CT CHEST 1.25 LUNG"],
               "bottom_left": ["Im 12/24", "Loc -132.5 mm"], "bottom_right": ["W 1500 L -600 (Lung)", "Zoom 83%"]}
    markers = {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    font = overlay.overlay_font(10.0)

    def expected(corners, rect):
        placed = overlay.TextLayer.items(overlay.layout_corners(rect, corners, overlay.metrics(font)), font)
        return placed + overlay.TextLayer.items(overlay.marker_places(rect, markers),
                                                overlay.overlay_font(13.0, bold=True), overlay.MARKER_COLOR)

    def added(text: overlay.CornerText, corners, rect):
        layer = overlay.TextLayer()
        text.add_to(layer, rect, corners, markers)
        return [item[0] for item in layer._items]

    text = overlay.CornerText()
    assert added(text, corners, rect) == [item[0] for item in expected(corners, rect)]
    top = text._memo["top"][1]
    scrolled = {**corners, "bottom_left": ["Im 13/24", "Loc -133.75 mm"]}
    assert added(text, scrolled, rect) == [item[0] for item in expected(scrolled, rect)]
    assert text._memo["top"][1] is top  # the top edge was not laid out again
    # Another patient's line at the top, or a narrower viewport: laid out anew.
    renamed = {**scrolled, "top_left": ["ÅSTRÖM, Åsa", *scrolled["top_left"][1:]]}
    assert added(text, renamed, rect) == [item[0] for item in expected(renamed, rect)]
    narrow = QRectF(0, 0, 230, 200)
    assert added(text, renamed, narrow) == [item[0] for item in expected(renamed, narrow)]
    assert any(k[2].startswith("ÅST") for k in added(text, renamed, narrow))  # whose images: kept first


def _unpainted(w) -> int:
    """Pixels of the viewport its paint leaves alone: it is drawn over magenta, without its background."""
    from PySide6.QtWidgets import QWidget

    image = QImage(w.size(), QImage.Format.Format_RGB32)
    image.fill(QColor(255, 0, 255))
    w.render(image, QPoint(0, 0), renderFlags=QWidget.RenderFlag.DrawChildren)
    rgb = _pixels(image).astype(int)
    r, g, b = rgb[..., 2], rgb[..., 1], rgb[..., 0]  # RGB32 is B, G, R, A in memory
    return int(((r - g > 60) & (b - g > 60)).sum())  # magenta, or magenta under the translucent scroll bar


def test_every_pixel_of_a_viewport_is_painted_around_the_image_in_any_view(qtbot, cache, phantom):
    viewer = open_viewer(qtbot, cache, phantom)
    try:
        w = viewer.viewports[0]
        assert _unpainted(w) == 0
        wheel(w, -12, modifiers=Qt.KeyboardModifier.ControlModifier)  # zoomed out: black all around
        wheel(w, -1)
        assert w._moving and _unpainted(w) == 0  # the sampled image while the stack moves
        qtbot.waitUntil(lambda: not w._moving, timeout=WAIT_MS)
        assert _unpainted(w) == 0  # the smooth-scaled image at rest
        qtbot.keyClick(w, Qt.Key.Key_P)  # the pan tool: the image leaves part of where it was
        drag(w, QPoint(w.width() // 2, w.height() // 2), QPoint(w.width() // 2 + 37, w.height() // 2 + 23))
        for keys in ((Qt.Key.Key_R,), (Qt.Key.Key_H,), (Qt.Key.Key_V, Qt.Key.Key_R)):
            for k in keys:
                qtbot.keyClick(w, k)
            wheel(w, -1)
            assert _unpainted(w) == 0, keys
            qtbot.waitUntil(lambda: not w._moving, timeout=WAIT_MS)
            assert _unpainted(w) == 0, keys
        wheel(w, 30, modifiers=Qt.KeyboardModifier.ControlModifier)  # magnified past the viewport's edges
        assert _unpainted(w) == 0
    finally:
        viewer.shutdown()


def test_corner_text_of_a_frame_shown_again_follows_window_and_zoom(qtbot, cache, phantom):
    """A frame's header fields are kept once it was shown; window/level and zoom are read at each paint."""
    viewer = open_viewer(qtbot, cache, phantom)
    try:
        w = viewer.viewports[0]
        qtbot.waitUntil(lambda: w.model.is_loaded() and w.model.pixels.done, timeout=WAIT_MS)
        w.repaint()
        first = overlay_model.corner_lines(w.model)
        wheel(w, -3)
        w.repaint()
        assert overlay_model.corner_lines(w.model)["bottom_left"][0].startswith("Im 4/10")
        wheel(w, 3)  # back on the first frame: its fields come from what the display set kept
        centre = QPoint(w.width() // 2, w.height() // 2)
        drag(w, centre, centre + QPoint(40, 25), button=Qt.MouseButton.RightButton)  # window/level
        wheel(w, -2, modifiers=Qt.KeyboardModifier.ControlModifier)  # zoom
        w.repaint()
        shown = overlay_model.corner_lines(w.model)
        assert w.model.index == 0 and shown["bottom_left"] == first["bottom_left"]
        assert shown["top_left"] == first["top_left"] and shown["top_right"] == first["top_right"]
        assert shown["bottom_right"][0] != first["bottom_right"][0]  # the new window
        assert shown["bottom_right"][1] != first["bottom_right"][1]  # the new zoom
        w.model.display_set.corner_memo.clear()
        assert overlay_model.corner_lines(w.model) == shown  # worked out anew: the same
    finally:
        viewer.shutdown()
