"""Cine rate from the image: Recommended Display Frame Rate, Frame Time / Frame Time Vector, Cine Rate."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from workstation.imaging.frames import frame_rate, frame_timing
from workstation.imaging.frame_display import FrameDisplay
from workstation.imaging.viewport import ViewportModel, default_frame_rate


def header(**values) -> Dataset:
    ds = Dataset()
    ds.NumberOfFrames = 30
    for k, v in values.items():
        setattr(ds, k, v)
    return ds


def test_an_rgb_cine_with_a_58_ms_frame_time_vector_plays_at_17_fps():
    ds = header(PhotometricInterpretation="RGB", FrameIncrementPointer=0x00181065,
                FrameTimeVector=[0] + [58] * 29)
    timing = frame_timing(ds)
    assert timing.source == "FrameTimeVector" and timing.frames_per_second == pytest.approx(1000 / 58)
    assert len(timing.intervals_ms) == 30
    assert default_frame_rate(ds) == pytest.approx(17.24, abs=0.01)


def test_a_varying_vector_plays_at_its_mean_interval():
    ds = header(FrameTimeVector=[0, 40, 60, 50, 50])
    assert frame_rate(ds) == pytest.approx(20.0)


@pytest.mark.parametrize("values, fps, source", [
    (dict(RecommendedDisplayFrameRate=25, FrameTime=40.0, CineRate=12), 25, "RecommendedDisplayFrameRate"),
    (dict(FrameTime=40.0, CineRate=12), 25, "FrameTime"),
    # the Frame Increment Pointer says which timing the frames follow
    (dict(FrameIncrementPointer=0x00181065, FrameTime=100.0, FrameTimeVector=[0, 50, 50]), 20, "FrameTimeVector"),
    (dict(FrameIncrementPointer=0x00181063, FrameTime=100.0, FrameTimeVector=[0, 50, 50]), 10, "FrameTime"),
    (dict(CineRate=12), 12, "CineRate"),
    (dict(FrameTime=0.0, CineRate=12), 12, "CineRate"),  # a zero Frame Time is skipped
    (dict(FrameTimeVector=[0, 0, 0]), 10, ""),  # nothing usable: the fallback
    (dict(), 10, ""),
])
def test_precedence(values, fps, source):
    timing = frame_timing(header(**values))
    assert (timing.frames_per_second, timing.source) == (pytest.approx(fps), source)


def test_the_viewport_reports_the_rate_in_effect():
    vp = ViewportModel(FrameDisplay())
    assert vp.frame_rate() == 10.0  # nothing shown: the default
    vp.cine.frames_per_second, vp.cine.user_set = 24.0, True
    assert vp.frame_rate() == 24.0
