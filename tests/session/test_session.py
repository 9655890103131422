"""The reading session without widgets: patients, grid, holds, linking, key images, cursor."""

from __future__ import annotations

import numpy as np
import pytest

from tests.factories import uid
from tests.viewer_phantom import phantom_study, write_phantom
from workstation.imaging import overlay_model
from workstation.imaging.annotation_layer import Annotation, AnnotationLayer, Kind
from workstation.imaging.cross_reference import link_offset, matching_index
from workstation.session.patient import OtherPatient, same_patient
from workstation.session.reading import ReadingSession
from workstation.store.importer import import_paths


@pytest.fixture
def session(cache):
    s = ReadingSession(cache)
    yield s
    s.close()


def _holds(cache):
    return {r[0] for r in cache.connection.execute("SELECT study_uid FROM study_holds")}


def test_open_hangs_display_sets_holds_the_study_and_close_releases_it(cache, session, tmp_path):
    study = uid()
    write_phantom(tmp_path / "a", 3, study_uid=study, series_number=1)
    write_phantom(tmp_path / "b", 3, study_uid=study, series_number=2)
    import_paths(cache, [tmp_path / "a", tmp_path / "b"])
    session.open_study(study)
    assert [d.stack.series.series_number for d in session.display_sets] == [1, 2]
    assert session.viewports[0].display_set is session.display_sets[0]
    assert _holds(cache) == {study}
    assert cache.study(study).last_opened
    session.set_grid(1, 2)
    assert session.viewports[1].display_set is session.display_sets[1]
    session.set_grid(9, 0)
    assert session.grid == (4, 1)
    session.close()
    assert _holds(cache) == set() and session.display_sets == []


def test_another_patient_is_refused_unless_allowed(cache, session, tmp_path):
    mine = phantom_study(cache, tmp_path / "a", 2)
    prior = phantom_study(cache, tmp_path / "p", 2)
    theirs = phantom_study(cache, tmp_path / "b", 2, patient_id="X-1", patient_name="Other^Otto")
    same_id_other_name = phantom_study(cache, tmp_path / "c", 2, patient_name="Someone^Else")
    session.open_study(mine)
    assert session.add_study(prior)
    with pytest.raises(OtherPatient):
        session.add_study(theirs)
    # The index keys patients by ID: a different name under a known ID is caught per image.
    same_id = session.add_study(same_id_other_name)
    session.set_grid(1, 3)
    session.show(same_id[0], 2)
    session.display_sets[-1].pixels.load(0)
    assert overlay_model.banner_text(session.viewports[2]).startswith(
        "PATIENT MISMATCH: this image is of SOMEONE, Else")
    assert overlay_model.corner_lines(session.viewports[2])["top_left"][0] == "SOMEONE, Else"
    assert overlay_model.banner_text(session.viewports[0]) == ""
    added = session.add_study(theirs, allow_other_patient=True)
    session.show(added[0], 1)
    assert session.viewports[1].other_patient and not session.viewports[0].other_patient
    assert same_patient(cache.study(mine), cache.study(prior))
    with pytest.raises(KeyError):
        session.open_study("1.2.3.4")


def test_key_images_toggle_per_frame(cache, session, tmp_path):
    session.open_study(phantom_study(cache, tmp_path / "a", 3))
    vp = session.viewports[0]
    assert session.toggle_key_image() is True
    vp.set_index(2)
    session.toggle_key_image()
    assert len(session.key_images) == 2
    vp.set_index(0)
    assert session.toggle_key_image() is False
    assert session.key_images == {vp.stack.frames[2].key}


def test_matching_index_and_offsets(cache, session, tmp_path):
    study = uid()
    write_phantom(tmp_path / "a", 10, study_uid=study, series_number=1)
    write_phantom(tmp_path / "b", 10, study_uid=study, series_number=2, z0=50.0)
    import_paths(cache, [tmp_path / "a", tmp_path / "b"])
    session.open_study(study)
    a, b = (d.stack for d in session.display_sets)
    assert matching_index(a, 3, b) == 0  # b starts at z = 50: nearest to z = 7.5 is its first
    offset = link_offset(a, 3, b, 4)
    assert offset == pytest.approx(50 + 10 - 7.5)
    assert matching_index(a, 5, b, offset) == 6


def test_cursor_marks_only_viewports_of_the_same_frame_of_reference(cache, session, tmp_path):
    one = phantom_study(cache, tmp_path / "a", 5)
    other = phantom_study(cache, tmp_path / "b", 5)
    session.open_study(one)
    session.set_grid(1, 2)
    session.show(session.add_study(other)[0], 1)
    first = session.viewports[0]
    session.place_cursor(first, np.array([0.0, 0.0, 5.0]))
    assert first.cursor_point is not None and session.viewports[1].cursor_point is None


def test_annotation_hits_prefer_handles_and_the_selection():
    layer = AnnotationLayer()
    a = layer.add(Annotation(Kind.LENGTH, [(0, 0), (10, 0)], ("1", 0)))
    b = layer.add(Annotation(Kind.RECTANGLE, [(5, -5), (15, 5)], ("1", 0)))
    hit = layer.hit(("1", 0), (10.5, 0.2), 1.0)
    assert hit.annotation is a and hit.handle == 1
    hit = layer.hit(("1", 0), (15.2, 0), 1.0)
    assert hit.annotation is b and hit.handle is None
    assert layer.hit(("2", 0), (10, 0), 1.0) is None
    layer.remove(b)
    assert layer.selected is None and len(layer) == 1


def test_site_corner_layout_applies_per_modality(cache, session, tmp_path):
    session.open_study(phantom_study(cache, tmp_path / "a", 2))
    vp = session.viewports[0]
    lines = overlay_model.corner_lines(vp, {"CT": {"bottom_left": ["technique"], "top_left": []}})
    assert lines["bottom_left"] == ["120 kVp"]
    assert lines["top_left"] == ["PHANTOM, Paula", "ID PHANTOM-1"]
