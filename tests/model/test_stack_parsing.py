"""Geometry strings of the index parsed for a whole series: repeated values once, bad values refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.viewer_phantom import SLICE_GAP, phantom_study
from workstation.model.stack import frame_refs, load_stack, parse_floats


@pytest.mark.parametrize("text", ["1\\2\\nan", "1\\inf\\3", "1\\2\\-Infinity", "", "1\\\\3", "1\\2\\3\\4"])
def test_non_finite_missing_and_miscounted_values_are_refused(text):
    assert parse_floats(text, 3) is None


def test_decimal_strings_as_dicom_writes_them():
    assert parse_floats("-125.5\\+3e1\\ 0.25 ", 3).tolist() == [-125.5, 30.0, 0.25]


def test_the_frames_of_a_series_share_one_read_only_orientation(cache, tmp_path):
    study = phantom_study(cache, tmp_path / "ph", 6)
    stack = load_stack(cache, cache.series(study)[0])
    first = stack.frames[0].orientation
    assert first is not None and all(f.orientation is first for f in stack.frames)
    with pytest.raises(ValueError):
        first[0] = 0.5  # shared by every frame: changing it in place would move them all
    assert stack.frames[0].pixel_spacing == stack.frames[-1].pixel_spacing
    # Positions stay each frame's own, and the geometry built from them is as before.
    assert np.allclose(np.diff([f.position[2] for f in stack.frames]), SLICE_GAP)
    assert math.isclose(float(np.linalg.norm(stack.normal)), 1.0)
    # Their normal is worked out once for all, and anew for a frame given another orientation.
    normal = stack.frames[0].normal
    assert all(f.normal is normal for f in stack.frames)
    moved = stack.frames[1]
    moved.orientation = np.array([0.0, 1.0, 0.0, 0.0, 0.0, -1.0])
    assert np.allclose(moved.normal, [-1.0, 0.0, 0.0]) and stack.frames[2].normal is normal


def test_one_instance_alone_parses_as_in_a_series(cache, tmp_path):
    study = phantom_study(cache, tmp_path / "ph", 2)
    series = cache.series(study)[0]
    row = cache.instances(series.series_uid)[0]
    (ref,) = frame_refs(row, cache.path_of(row))
    stacked = next(f for f in load_stack(cache, series).frames if f.sop_instance_uid == row.sop_instance_uid)
    assert np.array_equal(ref.orientation, stacked.orientation) and np.array_equal(ref.position, stacked.position)
    assert ref.orientation.flags.writeable  # parsed for this frame alone: its own array


def test_a_loader_resumed_reads_after_its_grace_and_a_cancel_meanwhile_reads_nothing(cache, tmp_path, monkeypatch):
    from workstation.model import stack_pixels
    from workstation.model.stack_pixels import StackLoader, StackPixels

    study = phantom_study(cache, tmp_path / "ph", 5)
    stack = load_stack(cache, cache.series(study)[0])
    monkeypatch.setattr(stack_pixels, "RESUME_GRACE_S", 600.0)  # longer than the test: only a cancel ends it
    pixels = StackPixels(stack)
    assert pixels.load(2)
    loader = StackLoader(pixels)
    loader.start(2, paused=True)
    loader.resume()  # the viewer painted its first image: the painting goes on meanwhile
    loader.cancel()
    assert loader.join(30)
    assert pixels.count_loaded == 1  # nothing read during the grace
    # Started running (not paused), a loader reads at once.
    monkeypatch.setattr(stack_pixels, "RESUME_GRACE_S", 600.0)
    running = StackLoader(pixels)
    running.start(2)
    assert running.join(30) and pixels.done
