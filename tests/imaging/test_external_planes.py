"""MPR planes drawn as reference lines in 2D viewports of the same frame of reference."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.factories import uid, write_series
from workstation.imaging.cross_reference import plane_segment
from workstation.session.reading import ReadingSession
from workstation.store.importer import import_paths


def _axial(rows=16, columns=16):
    return SimpleNamespace(position=np.array([0.0, 0.0, 5.0]), orientation=np.array([1.0, 0, 0, 0, 1.0, 0]),
                           pixel_spacing=(0.5, 0.5), rows=rows, columns=columns)


def test_coronal_plane_cuts_an_axial_image_along_a_row():
    seg = plane_segment(_axial(), centre=[3.0, 2.0, 0.0], normal=[0, 1.0, 0])
    assert seg is not None
    (c0, r0), (c1, r1) = seg
    assert r0 == pytest.approx(4.0) and r1 == pytest.approx(4.0)  # y = 2 mm at 0.5 mm rows
    assert sorted([c0, c1]) == pytest.approx([0.0, 15.0])


def test_parallel_or_missing_planes_draw_nothing():
    assert plane_segment(_axial(), centre=[0, 0, 0], normal=[0, 0, 1.0]) is None
    assert plane_segment(_axial(), centre=[0, 50.0, 0], normal=[0, 1.0, 0]) is None


def test_session_draws_external_planes_of_its_frame_of_reference_only(cache, tmp_path):
    study = uid()
    write_series(tmp_path / "s", 4, study_uid=study)
    import_paths(cache, [tmp_path / "s"])
    session = ReadingSession(cache)
    try:
        session.open_study(study)
        vp = session.viewports[0]
        frame_uid = vp.stack.frame_of_reference_uid
        coronal = (np.array([0.0, 2.0, 0.0]), np.array([0.0, 1.0, 0.0]))
        session.set_external_planes("mpr", frame_uid, [coronal])
        assert len(session.reference_lines(0)) == 1
        session.set_external_planes("mpr", "9.9.9", [coronal])  # another frame of reference
        assert session.reference_lines(0) == []
        session.set_external_planes("mpr", frame_uid, [])
        assert session.reference_lines(0) == []
    finally:
        session.close()
