"""The 3D view's background work: a preview volume, the full volume with a ready ray caster and its frame.

The frame rendered by the worker is what the view itself renders for the same
scene and camera; a volume of stored values (the 2D viewer's array) gets the
presets' HU mapped through its rescale.
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest

from tests.volume3d.conftest import phantom
from workstation.model.volume import Volume
from workstation.volume3d.image_data import to_vtk_image
from workstation.volume3d.prepare3d import (
    WORKER_NICENESS,
    FrameRequest,
    camera_of,
    prepare_full,
    preview_volume,
    render_preview,
    yield_to_gui,
)
from workstation.volume3d.presets import load_preset
from workstation.volume3d.rendering import capture, offscreen_window
from workstation.volume3d.scene3d import VolumeScene, set_transfer_functions


def _stored(volume: Volume, intercept: int = -1024) -> Volume:
    """The same voxels as stored values: modality value = stored + intercept."""
    return Volume(array=(volume.array - intercept).astype(np.int16), origin=volume.origin, spacing=volume.spacing,
                  direction=volume.direction, rescale_intercept=intercept, rescaled=False, modality="CT")


def test_preview_is_every_nth_voxel_within_the_budget():
    vol = phantom(shape=(40, 48, 48))
    assert preview_volume(vol, max_voxels=vol.array.size) is vol
    small = preview_volume(vol, max_voxels=10_000)
    assert small.array.size <= 10_000 and small.array.flags.c_contiguous
    step = round(small.spacing[0] / vol.spacing[0])
    assert np.array_equal(small.array, vol.array[::step, ::step, ::step])
    assert np.allclose(small.origin, vol.origin)


def test_presets_in_hu_apply_to_stored_values_through_the_rescale():
    from vtkmodules.vtkRenderingCore import vtkVolumeProperty

    vol = phantom()
    modality, stored = vtkVolumeProperty(), vtkVolumeProperty()
    preset = load_preset("ct-bone")
    set_transfer_functions(modality, preset, vol)
    set_transfer_functions(stored, preset, _stored(vol))
    for hu in (-500.0, 150.0, 400.0, 1200.0):
        assert stored.GetScalarOpacity().GetValue(hu + 1024) == modality.GetScalarOpacity().GetValue(hu)


def _render_in_scene(vol, preset, size=(80, 60)):
    scene = VolumeScene(vol, mapper="cpu")
    window = offscreen_window(*size)
    scene.attach(window)
    scene.apply_preset(preset)
    scene.view(30, 10)
    return scene, window


def test_the_worker_frame_is_the_views_own_render_and_its_mapper_keeps_the_gradients():
    vol = _stored(phantom(shape=(40, 40, 40)))
    preset = load_preset("ct-bone")
    scene, window = _render_in_scene(vol, preset)
    scene.cube_renderer.SetDraw(False)  # the worker draws the volume only; the view adds the cube
    window.Render()
    expected = capture(window)
    request = FrameRequest(80, 60, camera_of(scene.renderer), scene.blend, scene.clipping_planes(),
                           tuple(scene.renderer.GetBackground()), ("key",))
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("p", prepare_full(vol, "cpu", preset, request)))
    worker.start()
    worker.join(60)
    prepared = out["p"]
    assert prepared.key == ("key",) and prepared.frame.shape == (60, 80, 3)
    assert np.abs(prepared.frame.astype(int) - expected.astype(int)).max() <= 2
    # Adopted by the view: the worker's frame is shown as it is, then the volume renders again.
    scene.adopt(prepared.volume, prepared.image, prepared.mapper)
    scene.show_frame(prepared.frame)
    window.Render()
    assert np.abs(capture(window).astype(int) - expected.astype(int)).max() <= 2 and scene.showing_frame
    scene.clear_frame()
    window.Render()
    assert np.abs(capture(window).astype(int) - expected.astype(int)).max() <= 2 and not scene.showing_frame


def test_the_worker_preview_frame_is_the_views_own_preview_render():
    vol = _stored(phantom(shape=(40, 40, 40)))
    preset = load_preset("ct-bone")
    scene, window = _render_in_scene(vol, preset)
    scene.cube_renderer.SetDraw(False)
    scene.set_preview(True)
    scene.set_interactive(True)
    window.Render()
    expected = capture(window)
    request = FrameRequest(80, 60, camera_of(scene.renderer), scene.blend, scene.clipping_planes(),
                           tuple(scene.renderer.GetBackground()), ("key",))
    out: dict = {}
    worker = threading.Thread(
        target=lambda: out.setdefault("f", render_preview(vol, preset, request, offscreen_window)))
    worker.start()
    worker.join(60)
    assert out["f"].shape == (60, 80, 3) and int(expected.max()) > 50
    assert np.abs(out["f"].astype(int) - expected.astype(int)).max() <= 2


def test_without_rendering_the_worker_still_computes_the_gradients_the_view_then_uses():
    """Where the worker may not draw (a window kind it cannot share): its mapper's gradients are made without OpenGL."""
    vol = _stored(phantom(shape=(40, 40, 40)))
    preset = load_preset("ct-bone")
    scene, window = _render_in_scene(vol, preset)
    scene.cube_renderer.SetDraw(False)
    window.Render()
    expected = capture(window)
    out: dict = {}
    worker = threading.Thread(target=lambda: out.setdefault("p", prepare_full(vol, "cpu", preset, render_in=None)))
    worker.start()
    worker.join(60)
    prepared = out["p"]
    assert prepared.frame is None and prepared.key is None
    computed = []
    prepared.mapper.AddObserver("VolumeMapperComputeGradientsEndEvent", lambda *_: computed.append(1))
    scene.adopt(prepared.volume, prepared.image, prepared.mapper)
    window.Render()
    assert computed == []  # the worker's gradients were kept: the view's render only cast the rays
    assert np.abs(capture(window).astype(int) - expected.astype(int)).max() <= 2


def test_a_cancelled_preparation_returns_nothing():
    vol = phantom(shape=(24, 24, 24))
    assert prepare_full(vol, "cpu", load_preset("ct-bone"), cancelled=lambda: True) is None


def test_a_large_volume_is_reduced_for_3d_and_gpu_mappers_are_made_without_a_render():
    vol = phantom(shape=(16, 64, 64))
    prepared = prepare_full(vol, "gpu", load_preset("mip"), max_voxels=20_000)
    assert prepared.volume.array.shape == (16, 32, 32) and prepared.frame is None
    assert prepared.image.GetDimensions() == to_vtk_image(prepared.volume).GetDimensions()


@pytest.mark.skipif(not hasattr(os, "getpriority") or sys.platform != "linux", reason="per-thread niceness is Linux's")
def test_the_preparing_worker_yields_the_cpu_to_the_gui_thread():
    """The worker lowers its own priority (and its VTK threads'), not the process's or the GUI thread's."""
    seen: dict[str, int] = {}

    def worker() -> None:
        seen["before"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        seen["lowered"] = int(yield_to_gui())
        seen["after"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=worker)
    t.start()
    t.join(10)
    assert seen["lowered"] == 1
    assert seen["after"] == max(seen["before"], WORKER_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before
