"""Stacks of frames in spatial order, read in the background into one array."""

from __future__ import annotations

import numpy as np
import pytest

from tests.viewer_phantom import SLICE_GAP, phantom_pixels, phantom_study
from workstation.model.stack import load_stack, parse_floats
from workstation.model.stack_pixels import StackLoader, StackPixels


def _stack(cache, tmp_path, n=12, **kw):
    study = phantom_study(cache, tmp_path / "ph", n, **kw)
    series = cache.series(study)[0]
    return load_stack(cache, series)


def test_frames_are_sorted_by_position_whatever_the_file_order(cache, tmp_path):
    stack = _stack(cache, tmp_path)
    assert stack.spatially_sorted
    z = [f.position[2] for f in stack.frames]
    assert z == sorted(z)
    assert np.allclose(np.diff(z), SLICE_GAP)
    assert [f.instance_number for f in stack.frames] == list(range(1, 13))


def test_order_follows_instance_numbers_when_they_run_against_position(cache, tmp_path):
    # Instance numbers grow with z here: reversed orientation makes the normal point down.
    stack = _stack(cache, tmp_path, orientation=(1.0, 0.0, 0.0, 0.0, -1.0, 0.0))
    assert [f.instance_number for f in stack.frames] == list(range(1, 13))


def test_nearest_index_and_patient_points(cache, tmp_path):
    stack = _stack(cache, tmp_path)
    f = stack.frames[4]
    # Top left corner of the top left pixel is half a pixel before its centre.
    assert np.allclose(f.patient_point(0.5, 0.5), f.position)
    assert np.allclose(f.patient_point(2.5, 0.5), f.position + [1.0, 0, 0])
    assert stack.nearest_index(np.array([0.0, 0.0, 4 * SLICE_GAP + 1.0])) == 4
    assert stack.nearest_index(np.array([0.0, 0.0, 500.0]), max_distance=5) is None


def test_background_loader_fills_one_array_with_the_stored_values(cache, tmp_path):
    stack = _stack(cache, tmp_path)
    pixels = StackPixels(stack)
    assert pixels.volume is not None and pixels.volume.dtype == np.int16
    assert pixels.load(6)
    assert pixels.count_loaded == 1
    seen = []
    loader = StackLoader(pixels, lambda done, total: seen.append((done, total)))
    loader.start(focus=6)
    assert loader.join(30)
    assert pixels.done and not pixels.errors
    for i in range(len(stack)):
        assert np.array_equal(pixels.image(i), phantom_pixels(i))
        assert pixels.header(i).SOPInstanceUID == stack.frames[i].sop_instance_uid
    assert seen[-1] == (12, 12)
    # Read outward from the focus: the first frames read are 6's neighbours.
    assert seen[0][0] == 2


def test_a_damaged_file_keeps_its_error_and_the_others_load(cache, tmp_path):
    stack = _stack(cache, tmp_path, n=4)
    path = stack.frames[2].path
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])
    pixels = StackPixels(stack)
    loader = StackLoader(pixels)
    loader.start()
    assert loader.join(30)
    assert set(pixels.errors) == {2}
    assert "truncated" in pixels.error(2)
    assert pixels.image(2) is None and pixels.image(3) is not None


def test_parse_floats_rejects_wrong_counts_and_garbage():
    assert parse_floats("1\\2\\3", 3).tolist() == [1, 2, 3]
    assert parse_floats("1\\2", 3) is None
    assert parse_floats("a\\b\\c", 3) is None
    assert parse_floats("", 2) is None


def test_multi_frame_instance_gives_one_frame_each(cache, tmp_path):
    import shutil

    from pydicom.data import get_testdata_file

    from workstation.imaging.frame_display import FrameDisplay
    from workstation.imaging.viewport import DisplaySet, ViewportModel
    from workstation.store.importer import import_paths

    path = get_testdata_file("emri_small.dcm")
    if path is None:
        pytest.skip("pydicom-data is not installed")
    shutil.copy(path, tmp_path / "emri.dcm")
    import_paths(cache, [tmp_path / "emri.dcm"])
    study = cache.studies()[0]
    stack = load_stack(cache, cache.series(study.study_uid)[0])
    assert len(stack) == 10 and [f.frame for f in stack.frames] == list(range(10))
    vp = ViewportModel(FrameDisplay())
    pixels = StackPixels(stack)
    vp.set_display_set(DisplaySet(study, stack, pixels))
    shown = []
    for i in range(10):
        pixels.load(i)
        vp.set_index(i)
        shown.append(vp.render().pixels.copy())
    assert not pixels.errors
    assert any(not np.array_equal(shown[0], s) for s in shown[1:])
