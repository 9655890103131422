"""The 3D view's interactive frames keep to their time: a slow one makes the next ones coarser, a quick one finer."""

from __future__ import annotations

import pytest

from tests.volume3d.conftest import phantom
from workstation.volume3d.rendering import offscreen_window
from workstation.volume3d.scene3d import (
    INTERACTIVE_FRAME_S,
    INTERACTIVE_IMAGE_SAMPLE,
    MAX_INTERACTIVE_IMAGE_SAMPLE,
    VolumeScene,
)


def test_slow_interactive_frames_make_the_next_coarser_and_full_quality_stays():
    scene = VolumeScene(phantom(), mapper="cpu")
    scene.set_interactive(True)
    assert scene.mapper.GetImageSampleDistance() == INTERACTIVE_IMAGE_SAMPLE
    # Four times the budget: rays twice as far apart (a quarter of them).
    assert scene.fit_interactive_frame(4 * INTERACTIVE_FRAME_S) == pytest.approx(2 * INTERACTIVE_IMAGE_SAMPLE)
    assert scene.mapper.GetImageSampleDistance() == pytest.approx(2 * INTERACTIVE_IMAGE_SAMPLE)
    assert scene.fit_interactive_frame(100 * INTERACTIVE_FRAME_S) == MAX_INTERACTIVE_IMAGE_SAMPLE
    # Within the budget's upper half: kept; well under it: finer again, never finer than the base.
    assert scene.fit_interactive_frame(0.75 * INTERACTIVE_FRAME_S) == MAX_INTERACTIVE_IMAGE_SAMPLE
    assert scene.fit_interactive_frame(0.01 * INTERACTIVE_FRAME_S) == INTERACTIVE_IMAGE_SAMPLE
    scene.fit_interactive_frame(4 * INTERACTIVE_FRAME_S)
    scene.set_interactive(False)
    assert scene.mapper.GetImageSampleDistance() == 1.0  # full quality whatever the interactive frames took
    scene.set_interactive(True)
    assert scene.mapper.GetImageSampleDistance() == pytest.approx(2 * INTERACTIVE_IMAGE_SAMPLE)  # remembered


def test_an_interactive_render_is_timed_and_a_full_quality_one_is_not():
    scene = VolumeScene(phantom(), mapper="cpu")
    window = offscreen_window(64, 64)
    scene.attach(window)
    timed = []
    scene.fit_interactive_frame = lambda seconds: timed.append(seconds) or scene.interactive_image_sample
    window.Render()
    assert timed == []
    scene.set_interactive(True)
    window.Render()
    assert len(timed) == 1 and timed[0] > 0
    window.Finalize()
