"""The 3D view's work that can run off the GUI thread: a quick preview volume, and the full one made ready.

The GUI shows a first frame at once from :func:`preview_volume` (a few million
voxels, no shading: the CPU ray caster needs no gradients for it), while a
worker runs :func:`prepare_full` and hands back the full-resolution image data
and a ray caster that has already computed its gradients.  The software ray
caster computes them in its first render, which takes seconds for a 500-slice CT:
run in the worker, inside a render of the worker's own offscreen window of the
view's size and camera (VTK releases the GIL there), so the GUI's event loop keeps
running and the view shows the worker's frame as it is.  The
worker's VTK objects are its own: the GUI thread touches them only once the
worker has finished with them and returned them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkRenderingCore import vtkRenderer
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper

from workstation.model.volume import Volume
from workstation.volume3d.image_data import to_vtk_image
from workstation.volume3d.presets import VrPreset
from workstation.volume3d.rendering import OPENGL_SET_UP, WindowMaker, offscreen_window
from workstation.volume3d.scene3d import (
    INTERACTIVE_IMAGE_SAMPLE,
    INTERACTIVE_SAMPLE_FACTOR,
    MAX_3D_VOXELS,
    VolumeMapper,
    new_mapper,
    reduced_for_3d,
    set_transfer_functions,
)

#: Voxels of the first frame's volume: its render and its copy take tens of milliseconds.
PREVIEW_VOXELS = 2_000_000


def preview_volume(volume: Volume, max_voxels: int = PREVIEW_VOXELS) -> Volume:
    """Every n-th voxel along each axis (n the smallest that fits ``max_voxels``); the volume itself when small."""
    if volume.array.size <= max_voxels:
        return volume
    step = 2
    while volume.array.size / step**3 > max_voxels and step < 16:
        step += 1
    arr = np.ascontiguousarray(volume.array[::step, ::step, ::step])
    spacing = np.array(volume.spacing, float) * step
    return Volume(array=arr, origin=np.array(volume.origin, float), spacing=spacing,
                  direction=np.array(volume.direction, float), rescale_slope=volume.rescale_slope,
                  rescale_intercept=volume.rescale_intercept, rescaled=volume.rescaled,
                  frame_of_reference_uid=volume.frame_of_reference_uid, series_uid=volume.series_uid,
                  modality=volume.modality, notes=[*volume.notes, f"preview from every {step}th voxel"])


@dataclass
class FrameRequest:
    """What the 3D view shows, as plain values: the worker renders the full-quality frame of it.

    ``key`` names the view's state (preset, blend, clipping, camera, size); the view shows
    the worker's frame only if its state still has that key when the frame arrives.
    """

    width: int
    height: int
    camera: dict[str, Any]  # see camera_of
    blend: str
    clipping: list[tuple[np.ndarray, np.ndarray]]  # (origin, inward normal), patient coordinates
    background: tuple[float, ...]
    key: tuple[Any, ...]


@dataclass
class Prepared:
    """The full 3D volume with its image data and a ray caster ready for it (hand to ``VolumeScene.adopt``).

    ``frame``: the full-quality frame of the request, (height, width, 3) uint8 top row first, or None.
    """

    volume: Volume
    image: vtkImageData
    mapper: VolumeMapper
    frame: np.ndarray | None = None
    key: tuple[Any, ...] | None = None


#: The niceness of a worker preparing the 3D volume: below the GUI thread, which must never wait on it.
WORKER_NICENESS = 5


def yield_to_gui() -> bool:
    """Lower this thread's scheduling priority (and that of the threads it starts, VTK's ray casters).

    The gradients of a large volume keep both cores of a small machine busy for a
    second or two; at equal priority the GUI thread, drawing the MPR views meanwhile,
    got a third of a core and each of its steps took three times as long.  Linux
    schedules threads by their own niceness; elsewhere nothing changes (False).
    """
    import os
    import threading

    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return False
    tid = threading.get_native_id()
    try:  # never raised above what the thread has (a process started with nice keeps it)
        os.setpriority(os.PRIO_PROCESS, tid, max(WORKER_NICENESS, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:
        return False
    return True


def prepare_full(volume: Volume, kind: str, preset: VrPreset | None, request: FrameRequest | None = None, *,
                 max_voxels: int = MAX_3D_VOXELS, cancelled: Callable[[], bool] = lambda: False,
                 render_in: WindowMaker | None = offscreen_window) -> Prepared | None:
    """Run in a worker: the 3D volume (reduced when very large), its image data, a warmed-up mapper, a frame.

    For the CPU ray caster one render in the worker's own offscreen window (made by
    ``render_in``) of the requested size and camera computes (and the mapper keeps) the
    gradients and gives the full-quality frame; VTK lets other threads run during a window's
    render, so the GUI's event loop keeps its pace.  The GPU ray caster computes its gradients
    on the graphics card at each render and is returned as made.  ``render_in`` must make a
    window of the kind the caller's thread draws with
    (:func:`~workstation.volume3d.rendering.worker_window_maker`); None leaves all OpenGL to
    the caller's thread: the CPU ray caster's gradients are then computed here without
    OpenGL (:func:`_compute_gradients_here`, holding Python's lock for most of it), and the
    caller's first render only casts the rays.  None when ``cancelled`` turned true on the way.
    """
    full = reduced_for_3d(volume, max_voxels)
    if full.array is volume.array and not full.array.flags.c_contiguous:
        full.array = np.ascontiguousarray(full.array)
    if cancelled():
        return None
    image = to_vtk_image(full)
    mapper = new_mapper(kind, image)
    frame = None
    if isinstance(mapper, vtkFixedPointVolumeRayCastMapper) and preset is not None:  # the CPU ray caster
        if render_in is not None:
            frame = _render_here(full, mapper, preset, request, render_in)
        else:
            _compute_gradients_here(full, mapper, preset)
    if cancelled():
        return None
    return Prepared(full, image, mapper, frame, request.key if request is not None and frame is not None else None)


def _compute_gradients_here(volume: Volume, mapper: vtkFixedPointVolumeRayCastMapper, preset: VrPreset) -> None:
    """The ray caster's gradients and space-leaping tables, computed in this thread without any OpenGL.

    The mapper's own render is called with the window's abort flag already set: it
    computes what the volume needs (gradients, min-max blocks: seconds for a large CT)
    and then stops at its first abort check, before it casts a ray or draws.  The
    window is never initialised, so no OpenGL context is made here; the mapper keeps
    the gradients for its next render, in the view on the GUI thread.
    """
    from vtkmodules.vtkCommonCore import vtkCommand
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkVolume, vtkVolumeProperty
    from vtkmodules.vtkRenderingOpenGL2 import vtkOSOpenGLRenderWindow

    from workstation.volume3d.image_data import volume_matrix, vtk_matrix

    prop = vtkVolumeProperty()
    set_transfer_functions(prop, preset, volume)
    prop.SetInterpolationTypeToLinear()
    prop.ShadeOn()  # gradients are computed only when shading (or gradient opacity) needs them
    actor = vtkVolume()
    actor.SetMapper(mapper)
    actor.SetProperty(prop)
    actor.SetUserMatrix(vtk_matrix(volume_matrix(volume)))
    renderer = vtkRenderer()
    renderer.AddVolume(actor)
    window = vtkOSOpenGLRenderWindow()  # an object only: never rendered, so never given a context
    window.SetSize(8, 8)
    window.AddRenderer(renderer)
    renderer.ResetCamera()
    window.SetAbortRender(1)
    # This render holds Python's lock (VTK lets it go only in a window's render and an algorithm's
    # update): at each progress report the worker sleeps a moment so that the GUI thread, when it
    # waits for the lock, takes it in between.
    pause = mapper.AddObserver(vtkCommand.VolumeMapperComputeGradientsProgressEvent, lambda *_: time.sleep(0.002))
    try:
        mapper.Render(renderer, actor)
    finally:
        mapper.RemoveObserver(pause)
    renderer.RemoveVolume(actor)
    actor.SetMapper(None)  # type: ignore[arg-type]  # VTK takes None (no mapper); its stubs do not say so


def render_preview(preview: Volume, preset: VrPreset, request: FrameRequest, render_in: WindowMaker) -> np.ndarray:
    """Run in a worker: the view's quick first frame of ``preview`` (see :func:`preview_volume`) for ``request``.

    As the view's own preview render draws it (CPU ray casting, no shading or gradient
    opacity, coarse rays), in a window of this thread made by ``render_in``; (height,
    width, 3) uint8, top row first.
    """
    mapper = new_mapper("cpu", to_vtk_image(preview))
    if not isinstance(mapper, vtkFixedPointVolumeRayCastMapper):  # new_mapper("cpu") makes one
        raise TypeError(type(mapper).__name__)
    frame = _render_here(preview, mapper, preset, request, render_in, quick=True)
    if frame is None:  # a request always gets its frame
        raise RuntimeError("no preview frame")
    return frame


def _render_here(volume: Volume, mapper: vtkFixedPointVolumeRayCastMapper, preset: VrPreset,
                 request: FrameRequest | None, make_window: WindowMaker, quick: bool = False) -> np.ndarray | None:
    """Render ``mapper`` once in a window of this thread (VTK lets other threads run meanwhile).

    ``quick``: as :meth:`VolumeScene.set_preview` and ``set_interactive`` draw (no shading or
    gradient opacity, rays and samples further apart).
    """
    from vtkmodules.vtkCommonDataModel import vtkPlane, vtkPlaneCollection
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkVolume, vtkVolumeProperty

    from workstation.volume3d.image_data import volume_matrix, vtk_matrix
    from workstation.volume3d.rendering import capture

    prop = vtkVolumeProperty()
    set_transfer_functions(prop, preset, volume)
    prop.SetInterpolationTypeToLinear()
    actor = vtkVolume()
    actor.SetMapper(mapper)
    actor.SetProperty(prop)
    actor.SetUserMatrix(vtk_matrix(volume_matrix(volume)))
    renderer = vtkRenderer()
    renderer.AddVolume(actor)
    spacing = float(min(volume.spacing)) * (INTERACTIVE_SAMPLE_FACTOR if quick else 1.0)
    mapper.SetSampleDistance(spacing)
    mapper.SetInteractiveSampleDistance(spacing)
    mapper.SetImageSampleDistance(INTERACTIVE_IMAGE_SAMPLE if quick else 1.0)
    if request is None:
        prop.ShadeOn()  # gradients are computed only when shading (or gradient opacity) needs them
        mapper.SetBlendModeToComposite()
        window = make_window(8, 8)
        renderer.ResetCamera()
    else:
        {"composite": mapper.SetBlendModeToComposite, "mip": mapper.SetBlendModeToMaximumIntensity,
         "minip": mapper.SetBlendModeToMinimumIntensity}[request.blend]()
        if request.blend != "composite" or quick:
            prop.ShadeOff()
        if quick:
            prop.SetDisableGradientOpacity(True)
        planes = vtkPlaneCollection()
        for origin, normal in request.clipping:
            plane = vtkPlane()
            plane.SetOrigin(*origin)
            plane.SetNormal(*normal)
            planes.AddItem(plane)
        mapper.SetClippingPlanes(planes)
        renderer.SetBackground(*request.background)
        cam = renderer.GetActiveCamera()
        c = request.camera
        cam.SetPosition(*c["position"])
        cam.SetFocalPoint(*c["focal_point"])
        cam.SetViewUp(*c["view_up"])
        cam.SetViewAngle(c["view_angle"])
        cam.SetParallelProjection(c["parallel"])
        cam.SetParallelScale(c["parallel_scale"])
        renderer.ResetCameraClippingRange()
        window = make_window(max(1, request.width), max(1, request.height))
    with OPENGL_SET_UP:  # the context, made by a first (empty) render: VTK lets Python's lock go there
        window.Render()
    window.AddRenderer(renderer)
    window.Render()
    frame = capture(window) if request is not None else None
    renderer.RemoveVolume(actor)
    # VTK takes None (no mapper) here; its stubs do not say so.
    actor.SetMapper(None)  # type: ignore[arg-type]
    mapper.RemoveAllClippingPlanes()  # the view sets its own
    window.Finalize()
    return frame


def camera_of(renderer: vtkRenderer) -> dict[str, Any]:
    """A renderer's camera as plain values (for :class:`FrameRequest`)."""
    cam = renderer.GetActiveCamera()
    return {"position": tuple(cam.GetPosition()), "focal_point": tuple(cam.GetFocalPoint()),
            "view_up": tuple(cam.GetViewUp()), "view_angle": float(cam.GetViewAngle()),
            "parallel": int(cam.GetParallelProjection()), "parallel_scale": float(cam.GetParallelScale())}


class FullFrames:
    """Full-quality frames of the 3D view, rendered off the GUI thread with a ray caster of their own.

    The view draws a change at interactive quality at once and asks for the full-quality
    frame here (see :class:`~workstation.ui.volume_view.VolumeView`).  The ray caster is
    made at the first frame, in the calling thread, and keeps its gradients for the next
    ones (computing them takes seconds for a large CT, once).  One thread at a time may call
    :meth:`render`; each call renders in a window of its own made by ``render_in`` (the
    kind the view draws with, see :func:`~workstation.volume3d.rendering.worker_window_maker`).

    Parameters
    ----------
    volume : Volume
        The full 3D volume the view shows (its voxels are shared, not copied).
    render_in : WindowMaker
        Makes the window of each frame.
    """

    def __init__(self, volume: Volume, render_in: WindowMaker) -> None:
        self.volume = volume
        self._render_in = render_in
        self._mapper: vtkFixedPointVolumeRayCastMapper | None = None
        self.rendered = 0  # frames rendered so far (requests dropped as stale never get here)

    def render(self, preset: VrPreset, request: FrameRequest) -> np.ndarray:
        """The full-quality frame of ``request`` with ``preset``: (height, width, 3) uint8, top row first."""
        if self._mapper is None:
            mapper = new_mapper("cpu", to_vtk_image(self.volume))
            if not isinstance(mapper, vtkFixedPointVolumeRayCastMapper):  # new_mapper("cpu") makes one
                raise TypeError(type(mapper).__name__)
            self._mapper = mapper
        frame = _render_here(self.volume, self._mapper, preset, request, self._render_in)
        if frame is None:  # a request always gets its frame
            raise RuntimeError("no frame")
        self.rendered += 1
        return frame
