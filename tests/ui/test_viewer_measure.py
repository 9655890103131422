"""Measuring on the phantom with the mouse: lengths, angles, ROIs, points, arrows, text; editing them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.ui.viewer_helpers import click, drag, open_viewer, view_point_of
from tests.viewer_phantom import SPACING, phantom_study
from workstation.imaging.annotation_layer import Kind
from workstation.imaging.interaction import Tool


@pytest.fixture
def viewer(qtbot, cache, tmp_path):
    v = open_viewer(qtbot, cache, phantom_study(cache, tmp_path / "phantom", 4))
    yield v
    v.shutdown()


def _only(viewer):
    items = list(viewer.session.annotations)
    assert len(items) == 1
    return items[0]


def test_length_between_points_10_mm_apart_reads_10_mm(viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.LENGTH)
    # 20 pixels of 0.5 mm apart.
    drag(w, view_point_of(w, 20.5, 40.5), view_point_of(w, 40.5, 40.5))
    a = _only(viewer)
    assert a.kind is Kind.LENGTH
    assert a.values["length"] == pytest.approx(10.0, abs=SPACING)  # within one pixel
    assert a.lines[0].endswith(" mm") and a.lines[0].startswith("10.")
    # Listed in the panel with its value.
    name, value = viewer.panel.values_of(0)
    assert name == "Length" and value.endswith(" mm")
    assert viewer.panel.tree.topLevelItem(0).text(1) == "Se 1 Im 1"


def test_a_click_without_a_drag_is_no_length(viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.LENGTH)
    click(w, view_point_of(w, 30, 30))
    assert len(viewer.session.annotations) == 0


def test_ellipse_and_rectangle_rois_give_hu_statistics(viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.ELLIPSE)
    drag(w, view_point_of(w, 24, 24), view_point_of(w, 36, 36))  # inside the 100 HU square
    a = _only(viewer)
    assert a.values["mean"] == pytest.approx(100) and a.values["sd"] == pytest.approx(0)
    assert a.values["pixels"] > 80
    assert a.values["area"] == pytest.approx(3.14159 * 3 * 3, rel=0.15)  # 6 mm across
    assert any("HU" in line for line in a.lines)
    viewer.session.annotations.clear()
    viewer.set_tool(Tool.RECTANGLE)
    drag(w, view_point_of(w, 10, 25), view_point_of(w, 30, 35))  # half in air, half in the square
    a = _only(viewer)
    assert (a.values["min"], a.values["max"]) == (-1000, 100)
    assert a.values["area"] == pytest.approx(20 * 10 * SPACING ** 2, rel=0.1)
    assert a.values["pixels"] == pytest.approx(200, abs=30)


def test_freehand_roi_and_point_value(viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.FREEHAND)
    corners = [(22, 22), (38, 22), (38, 38), (22, 38)]
    w.setFocus()
    from PySide6.QtTest import QTest

    QTest.mousePress(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_point_of(w, *corners[0]))
    for c in corners[1:]:
        QTest.mouseMove(w, view_point_of(w, *c))
    QTest.mouseRelease(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view_point_of(w, *corners[-1]))
    a = _only(viewer)
    assert a.kind is Kind.FREEHAND
    assert a.values["mean"] == pytest.approx(100)
    assert a.values["area"] == pytest.approx(16 * 16 * SPACING ** 2, rel=0.1)
    viewer.session.annotations.clear()
    viewer.set_tool(Tool.POINT)
    click(w, view_point_of(w, 5.5, 5.5))
    assert _only(viewer).values["value"] == -1000


def test_angle_by_drag_then_click(viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.ANGLE)
    drag(w, view_point_of(w, 40, 20), view_point_of(w, 20, 20))  # first leg ends at the vertex
    assert w.interaction.pending is not None
    click(w, view_point_of(w, 20, 50))
    a = _only(viewer)
    assert a.values["angle"] == pytest.approx(90, abs=2)
    assert w.interaction.pending is None


def test_cobb_angle_from_two_dragged_lines(viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.COBB)
    drag(w, view_point_of(w, 10, 10), view_point_of(w, 50, 10))
    drag(w, view_point_of(w, 10, 40), view_point_of(w, 50, 60))
    a = _only(viewer)
    assert len(a.points) == 4
    assert a.values["angle"] == pytest.approx(26.57, abs=1.5)  # atan(20 / 40)


def test_arrow_and_text_take_the_readers_text(viewer):
    w = viewer.viewports[0]
    w.interaction.ask_text = lambda initial: "lesion"
    viewer.set_tool(Tool.ARROW)
    drag(w, view_point_of(w, 10, 10), view_point_of(w, 20, 20))
    viewer.set_tool(Tool.TEXT)
    click(w, view_point_of(w, 40, 10))
    kinds = {a.kind: a for a in viewer.session.annotations}
    assert kinds[Kind.ARROW].text == "lesion" and kinds[Kind.TEXT].text == "lesion"
    assert viewer.panel.tree.topLevelItemCount() == 2
    w.interaction.ask_text = lambda initial: None  # cancelled: no text annotation
    click(w, view_point_of(w, 40, 40))
    assert len(viewer.session.annotations) == 2


def test_measurements_are_movable_editable_and_deletable(qtbot, viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.LENGTH)
    drag(w, view_point_of(w, 20.5, 40.5), view_point_of(w, 40.5, 40.5))
    a = _only(viewer)
    # Drag the end handle 10 pixels further: 15 mm.
    drag(w, view_point_of(w, 40.5, 40.5), view_point_of(w, 50.5, 40.5))
    assert len(viewer.session.annotations) == 1
    assert a.values["length"] == pytest.approx(15.0, abs=SPACING)
    # Drag the line by its middle: it moves, its length stays.
    drag(w, view_point_of(w, 35.5, 40.5), view_point_of(w, 35.5, 50.5))
    assert a.points[0][1] == pytest.approx(50.5, abs=0.5)
    assert a.values["length"] == pytest.approx(15.0, abs=SPACING)
    # Select tool + Delete key removes the selected measurement.
    viewer.set_tool(Tool.SELECT)
    click(w, view_point_of(w, 35.5, 50.5))
    assert viewer.session.annotations.selected is a
    qtbot.keyClick(w, Qt.Key.Key_Delete)
    assert len(viewer.session.annotations) == 0
    assert viewer.panel.tree.topLevelItemCount() == 0


def test_picking_a_measurement_in_the_panel_shows_its_image(qtbot, viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.LENGTH)
    w.model.set_index(3)
    drag(w, view_point_of(w, 10, 10), view_point_of(w, 30, 10))
    w.model.set_index(0)
    tree = viewer.panel.tree
    click(tree.viewport(), tree.visualItemRect(tree.topLevelItem(0)).center())
    assert w.model.index == 3
    viewer.panel.delete_button.click()
    assert len(viewer.session.annotations) == 0


def test_measurements_stay_on_their_image(viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.LENGTH)
    drag(w, view_point_of(w, 10, 10), view_point_of(w, 30, 10))
    key = w.model.frame.key
    w.model.scroll(1)
    assert viewer.session.annotations.on_frame(w.model.frame.key) == []
    assert len(viewer.session.annotations.on_frame(key)) == 1
    # Rotated, a measurement keeps its image points and its value.
    w.model.scroll(-1)
    w.model.view.rotate(1)
    a = _only(viewer)
    before = list(a.points)
    w.repaint()
    assert a.points == before
    assert QPoint(*map(int, w.model.view.to_view(*a.points[0]))) != QPoint(0, 0)
