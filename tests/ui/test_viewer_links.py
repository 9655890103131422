"""Cross-referencing with real input: reference lines, linked scrolling, the 3D cursor, another patient."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.factories import uid
from tests.ui.viewer_helpers import WAIT_MS, click, open_viewer, view_point_of, wheel
from tests.viewer_phantom import SLICE_GAP, phantom_study, write_phantom
from workstation.imaging import overlay_model
from workstation.store.importer import import_paths

CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


@pytest.fixture
def two_planes(cache, tmp_path):
    """One study: an axial stack (z 0 to 22.5) and a coronal stack (y -10 to 12.5) in one frame of reference."""
    study, frame = uid(), uid()
    write_phantom(tmp_path / "ax", 10, study_uid=study, frame_of_reference=frame, series_number=1,
                  description="axial")
    write_phantom(tmp_path / "cor", 10, study_uid=study, frame_of_reference=frame, series_number=2,
                  description="coronal", orientation=CORONAL, origin=(-16.0, -10.0, 30.0))
    assert import_paths(cache, [tmp_path / "ax", tmp_path / "cor"]).imported == 20
    return study


@pytest.fixture
def viewer(qtbot, cache, two_planes):
    v = open_viewer(qtbot, cache, two_planes)
    qtbot.waitUntil(lambda: v.viewports[1].model.pixels is not None and v.viewports[1].model.pixels.done,
                    timeout=WAIT_MS)
    yield v
    v.shutdown()


def test_reference_line_of_the_axial_slice_crosses_the_coronal_image(qtbot, viewer):
    axial, coronal = viewer.viewports[0], viewer.viewports[1]
    assert viewer.session.grid == (1, 2)
    assert coronal.model.stack.series.description == "coronal"
    axial.model.set_index(4)  # z = 10 mm
    lines = viewer.session.reference_lines(1)
    assert len(lines) == 1
    (x0, y0), (x1, y1), from_active = lines[0]
    assert from_active
    # Coronal rows go down from z = 30 mm in 0.5 mm steps: z = 10 mm is y = 40 + 0.5.
    assert y0 == pytest.approx(40.5) and y1 == pytest.approx(40.5)
    assert sorted((x0, x1)) == pytest.approx([0.0, 64.0])
    # Scrolling the axial stack moves the line; switching them off hides it.
    wheel(axial, -2)
    assert viewer.session.reference_lines(1)[0][0][1] == pytest.approx(40.5 - 2 * SLICE_GAP / 0.5)
    viewer.toolbar.reference_lines_action.trigger()
    assert viewer.session.reference_lines(1) == []


def test_shift_click_places_the_3d_cursor_and_moves_the_other_viewport(qtbot, viewer):
    axial, coronal = viewer.viewports[0], viewer.viewports[1]
    # On the coronal image, row 20.5 is z = 20 mm: the axial slice there is index 8.
    at = view_point_of(coronal, 30.5, 20.5)
    click(coronal, at, modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert axial.model.index == 8
    assert coronal.model.cursor_point == pytest.approx([-16 + 30 * 0.5, -10.0 + coronal.model.index * 0, 20.0],
                                                       abs=0.3)
    assert overlay_model.cursor_view_point(coronal.model) == pytest.approx((at.x(), at.y()), abs=1)
    assert overlay_model.cursor_view_point(axial.model) is not None


def test_linked_scrolling_follows_patient_position(qtbot, cache, tmp_path):
    study, frame = uid(), uid()
    write_phantom(tmp_path / "a", 10, study_uid=study, frame_of_reference=frame, series_number=1)
    # Thinner coverage shifted by 5 mm: slice k is at z = 5 + 2.5 k.
    write_phantom(tmp_path / "b", 6, study_uid=study, frame_of_reference=frame, series_number=2, z0=5.0)
    import_paths(cache, [tmp_path / "a", tmp_path / "b"])
    viewer = open_viewer(qtbot, cache, study)
    try:
        first, second = viewer.viewports[0], viewer.viewports[1]
        wheel(first, -4)  # z = 10
        assert second.model.index == 0  # not linked yet
        viewer.toolbar.link_scroll_action.trigger()
        wheel(first, -1)  # z = 12.5 -> second's slice 3
        assert second.model.index == 3
        wheel(second, 1)  # the other way round: second at z = 10, first follows
        assert first.model.index == 4
        viewer.toolbar.link_scroll_action.trigger()
        wheel(first, -1)
        assert second.model.index == 2
    finally:
        viewer.shutdown()


def test_a_prior_links_with_the_offset_it_had(qtbot, cache, tmp_path):
    current = phantom_study(cache, tmp_path / "now", 10)
    prior = phantom_study(cache, tmp_path / "then", 10, z0=100.0)  # another frame of reference
    viewer = open_viewer(qtbot, cache, current)
    try:
        assert viewer.add_comparison(prior)
        first, second = viewer.viewports[0], viewer.viewports[1]
        qtbot.waitUntil(lambda: second.model.pixels.done, timeout=WAIT_MS)
        assert second.model.display_set.study.study_uid == prior
        assert not second.model.other_patient and overlay_model.banner_text(second.model) == ""
        wheel(second, -2)  # the reader aligns the prior by hand, then links
        viewer.set_link_scroll(True)
        wheel(first, -3)
        assert second.model.index == 5
    finally:
        viewer.shutdown()


def test_another_patients_study_needs_confirmation_and_shows_a_banner(qtbot, cache, tmp_path):
    mine = phantom_study(cache, tmp_path / "mine", 3)
    theirs = phantom_study(cache, tmp_path / "theirs", 3, patient_id="OTHER-9", patient_name="Other^Otto")
    viewer = open_viewer(qtbot, cache, mine)
    try:
        asked = []
        viewer.confirm_other_patient = lambda text: asked.append(text) or False
        assert not viewer.add_comparison(theirs)
        assert "OTHER-9" in asked[0] and len(viewer.session.studies) == 1
        assert all(not w.model.other_patient for w in viewer.viewports)
        viewer.confirm_other_patient = lambda text: True
        assert viewer.add_comparison(theirs)
        second = viewer.viewports[1]
        assert second.model.other_patient
        assert overlay_model.banner_text(second.model) == "OTHER PATIENT: OTHER, Otto  ID OTHER-9"
        assert overlay_model.corner_lines(second.model)["top_left"][:2] == ["OTHER, Otto", "ID OTHER-9"]
        assert not viewer.viewports[0].model.other_patient
        # The strip flags the other patient's study too.
        top = viewer.strip.topLevelItem(1)
        assert top.text(0).startswith("OTHER PATIENT\nOTHER, Otto (OTHER-9)\n")
        qtbot.waitUntil(lambda: second.model.pixels.done, timeout=WAIT_MS)
        image = second.grab().toImage()
        assert image.pixelColor(second.width() // 2, 5).red() > 150  # the red banner
        # the image is fitted below the banner: none of it is hidden under it
        inset = second.model.view.top_inset
        assert inset > 10
        assert second.model.view.to_view(0, 0)[1] >= inset - 0.5
        assert viewer.viewports[0].model.view.top_inset == 0.0
    finally:
        viewer.shutdown()


def test_parallel_series_draw_no_reference_lines_on_each_other_but_a_turned_one_does(qtbot, cache, tmp_path):
    """Two axial series (slices offset) and a coronal one side by side in the toolbar's 1 x 3 layout."""
    study, frame = uid(), uid()
    write_phantom(tmp_path / "ax", 10, study_uid=study, frame_of_reference=frame, series_number=1,
                  description="axial")
    write_phantom(tmp_path / "ax2", 10, study_uid=study, frame_of_reference=frame, series_number=2,
                  description="axial offset", z0=0.7)
    write_phantom(tmp_path / "cor", 10, study_uid=study, frame_of_reference=frame, series_number=3,
                  description="coronal", orientation=CORONAL, origin=(-16.0, -10.0, 30.0))
    assert import_paths(cache, [tmp_path / "ax", tmp_path / "ax2", tmp_path / "cor"]).imported == 30
    v = open_viewer(qtbot, cache, study)
    try:
        v.toolbar.grid_chooser.buttons[(1, 3)].click()
        session = v.session
        by_name = {d.stack.series.description: d for d in session.display_sets}
        for i, name in enumerate(("axial", "axial offset", "coronal")):
            session.show(by_name[name], i, 0)
        shown = v.viewports[:3]
        qtbot.waitUntil(lambda: all(w.model.pixels is not None and w.model.pixels.done for w in shown),
                        timeout=WAIT_MS)
        for _ in range(2):  # asked again: the remembered answer is the same
            assert [len(session.reference_lines(i)) for i in range(3)] == [1, 1, 2]
        # The coronal viewport now shows the second axial series: no line anywhere.
        session.show(by_name["axial offset"], 2, 0)
        assert [session.reference_lines(i) for i in range(3)] == [[], [], []]
        session.show(by_name["coronal"], 0, 0)
        wheel(shown[1], -3)  # the axial line on the coronal image follows its stack
        lines = session.reference_lines(0)
        assert len(lines) == 2 and lines[0][0][1] != lines[1][0][1]
    finally:
        v.shutdown()
