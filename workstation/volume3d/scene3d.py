"""The 3D view as a VTK scene: volume rendering (composite, MIP, MinIP), isosurface, clipping, orientation cube.

No Qt here: the CLI and the tests render it offscreen; the 3D widget puts the
same renderer in its QVTK window.  World coordinates are patient coordinates
(LPS, mm): the volume's own frame is placed with its user matrix.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from vtkmodules.vtkCommonCore import vtkCommand
from vtkmodules.vtkCommonDataModel import vtkImageData, vtkPiecewiseFunction, vtkPlane, vtkPlaneCollection
from vtkmodules.vtkFiltersCore import vtkFlyingEdges3D, vtkWindowedSincPolyDataFilter
from vtkmodules.vtkRenderingAnnotation import vtkAnnotatedCubeActor
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkColorTransferFunction,
    vtkRenderer,
    vtkVolume,
    vtkVolumeProperty,
)
from vtkmodules.vtkRenderingVolume import vtkFixedPointVolumeRayCastMapper
from vtkmodules.vtkRenderingVolumeOpenGL2 import vtkOpenGLGPUVolumeRayCastMapper

from workstation.model.volume import Volume
from workstation.volume3d.image_data import patient_bounds, to_vtk_image, volume_matrix, vtk_matrix
from workstation.volume3d.presets import VrPreset
from workstation.volume3d.surface import smoothed_surface

if TYPE_CHECKING:
    from vtkmodules.vtkRenderingCore import vtkRenderWindow, vtkRenderWindowInteractor, vtkTexture

#: The two ray casters a scene uses (see :func:`new_mapper`).
VolumeMapper = vtkFixedPointVolumeRayCastMapper | vtkOpenGLGPUVolumeRayCastMapper

CUBE_VIEWPORT = (0.0, 0.0, 0.16, 0.16)
#: Above this many voxels the 3D view renders every other row and column: the CPU ray caster's
#: gradients (1.5 bytes per voxel) would otherwise take MPR and 3D past 2.5x the volume's size.
MAX_3D_VOXELS = 2**26
#: Interactive level of detail: rays cast on a grid this many pixels apart, samples this much further apart.
INTERACTIVE_IMAGE_SAMPLE = 2.0
INTERACTIVE_SAMPLE_FACTOR = 2.0
#: An interactive frame should take at most this long (the event loop is held meanwhile): slower
#: ones make the next ones coarser, rays up to MAX_INTERACTIVE_IMAGE_SAMPLE pixels apart.
INTERACTIVE_FRAME_S = 0.06
MAX_INTERACTIVE_IMAGE_SAMPLE = 6.0


def reduced_for_3d(volume: Volume, max_voxels: int = MAX_3D_VOXELS) -> Volume:
    """The volume itself, or every other row and column of it (same origin, twice the spacing) when it is large."""
    if volume.array.size <= max_voxels:
        return volume
    step = 2
    while volume.array.size / (step * step) > max_voxels and step < 8:
        step *= 2
    arr = np.ascontiguousarray(volume.array[:, ::step, ::step])
    spacing = np.array(volume.spacing, float) * [step, step, 1]
    return Volume(array=arr, origin=np.array(volume.origin, float), spacing=spacing,
                  direction=np.array(volume.direction, float), rescale_slope=volume.rescale_slope,
                  rescale_intercept=volume.rescale_intercept, rescaled=volume.rescaled,
                  frame_of_reference_uid=volume.frame_of_reference_uid, series_uid=volume.series_uid,
                  modality=volume.modality,
                  notes=[*volume.notes, f"3D view from every {step}th row and column "
                                        f"({arr.shape[2]} x {arr.shape[1]} x {arr.shape[0]})"])


def new_mapper(kind: str, image: vtkImageData) -> VolumeMapper:
    """The ray caster of a scene over ``image``: "cpu" (fixed point, software) or "gpu"."""
    mapper = vtkFixedPointVolumeRayCastMapper() if kind == "cpu" else vtkOpenGLGPUVolumeRayCastMapper()
    mapper.SetInputData(image)
    mapper.AutoAdjustSampleDistancesOff()
    return mapper


def set_transfer_functions(prop: vtkVolumeProperty, preset: VrPreset, volume: Volume) -> None:
    """Colour, opacity, gradient opacity and shading of ``preset`` on ``prop``, in ``volume``'s stored values.

    Absolute presets are in modality values (HU for CT); a volume of stored values (the 2D
    viewer's array, shared) gets them mapped through its rescale.
    """
    p = preset.scaled(volume.array)
    slope, intercept = (1.0, 0.0) if volume.rescaled or volume.rescale_slope == 0 else (
        volume.rescale_slope, volume.rescale_intercept)
    rescale = p.scale != "relative" and (slope, intercept) != (1.0, 0.0) and p is preset

    def to_stored(v: float) -> float:
        return (v - intercept) / slope if rescale else v

    colour = vtkColorTransferFunction()
    for v, r, g, b in p.colour:
        colour.AddRGBPoint(to_stored(v), r, g, b)
    opacity = vtkPiecewiseFunction()
    for v, a in p.opacity:
        opacity.AddPoint(to_stored(v), a)
    prop.SetColor(colour)
    prop.SetScalarOpacity(opacity)
    gradient = vtkPiecewiseFunction()
    for v, a in p.gradient_opacity or [[0.0, 1.0], [1.0, 1.0]]:
        gradient.AddPoint(v / abs(slope), a)  # a gradient in stored values per mm
    prop.SetGradientOpacity(gradient)
    prop.SetDisableGradientOpacity(not p.gradient_opacity)
    s = p.shading
    prop.SetShade(bool(s.on) and p.blend == "composite")
    prop.SetAmbient(s.ambient)
    prop.SetDiffuse(s.diffuse)
    prop.SetSpecular(s.specular)
    prop.SetSpecularPower(s.specular_power)


class VolumeScene:
    """Volume rendering, isosurface and clipping of one volume.

    Parameters
    ----------
    volume : Volume
        The voxels (shared with VTK, not copied).
    mapper : {"cpu", "gpu"}
        vtkFixedPointVolumeRayCastMapper or the GPU ray caster (see
        :func:`workstation.volume3d.rendering.choose_mapper`).
    """

    def __init__(self, volume: Volume, *, mapper: str = "cpu", max_voxels: int = MAX_3D_VOXELS) -> None:
        self.source = volume
        volume = reduced_for_3d(volume, max_voxels)
        self.volume = volume
        self.image = to_vtk_image(volume)
        self.matrix = volume_matrix(volume)
        self.mapper_kind = mapper
        self.mapper = new_mapper(mapper, self.image)
        self.full_sample = float(min(volume.spacing))
        self.interactive = False
        self.blend = "composite"
        self.preview = False
        self._frame: vtkTexture | None = None  # a texture of a frame rendered off the GUI thread (show_frame)
        self._volume_was_visible = True
        self.property = vtkVolumeProperty()
        self.property.SetInterpolationTypeToLinear()
        self.actor = vtkVolume()
        self.actor.SetMapper(self.mapper)
        self.actor.SetProperty(self.property)
        self.actor.SetUserMatrix(vtk_matrix(self.matrix))
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0.05, 0.05, 0.07)
        self.renderer.AddVolume(self.actor)
        self.preset: VrPreset | None = None
        self._surface: tuple[vtkFlyingEdges3D, vtkWindowedSincPolyDataFilter, vtkActor] | None = None
        self._clip_box: tuple[float, ...] | None = None
        self._clip_plane: tuple[np.ndarray, np.ndarray] | None = None
        self.cube_renderer = self._make_cube()
        self.interactive_image_sample = INTERACTIVE_IMAGE_SAMPLE
        self._render_started = 0.0
        self.renderer.AddObserver(vtkCommand.StartEvent, lambda *_: self._render_starts())
        self.renderer.AddObserver(vtkCommand.EndEvent, lambda *_: self._render_ended())
        self.set_interactive(False)

    # Window ----------------------------------------------------------------------------
    def attach(self, window: vtkRenderWindow) -> None:
        """Add the scene's renderers to a render window (its own or a QVTK widget's)."""
        window.SetNumberOfLayers(2)
        window.AddRenderer(self.renderer)
        window.AddRenderer(self.cube_renderer)

    def _make_cube(self) -> vtkRenderer:
        cube = vtkAnnotatedCubeActor()
        for face, text in (("XPlus", "L"), ("XMinus", "R"), ("YPlus", "P"), ("YMinus", "A"), ("ZPlus", "S"),
                           ("ZMinus", "I")):
            getattr(cube, f"Set{face}FaceText")(text)
        cube.SetFaceTextScale(0.6)
        cube.GetCubeProperty().SetColor(0.25, 0.35, 0.5)
        cube.GetTextEdgesProperty().SetColor(0.9, 0.9, 0.9)
        for getter in ("GetXPlusFaceProperty", "GetXMinusFaceProperty", "GetYPlusFaceProperty",
                       "GetYMinusFaceProperty", "GetZPlusFaceProperty", "GetZMinusFaceProperty"):
            getattr(cube, getter)().SetColor(1.0, 0.95, 0.7)
        ren = vtkRenderer()
        ren.SetViewport(*CUBE_VIEWPORT)
        ren.SetLayer(1)
        ren.InteractiveOff()
        ren.AddActor(cube)
        self.cube = cube
        return ren

    def _sync_cube(self) -> None:
        """The cube turns with the main camera (same direction of projection and view-up)."""
        main = self.renderer.GetActiveCamera()
        cam = self.cube_renderer.GetActiveCamera()
        dop = np.array(main.GetDirectionOfProjection())
        cam.SetFocalPoint(0, 0, 0)
        cam.SetPosition(*(-dop * 3.2))
        cam.SetViewUp(*main.GetViewUp())
        self.cube_renderer.ResetCameraClippingRange()

    # Rendering modes ---------------------------------------------------------------------
    def apply_preset(self, preset: VrPreset) -> None:
        """Transfer functions, shading and blend mode of a preset (relative presets scaled to this volume)."""
        self.preset = preset
        set_transfer_functions(self.property, preset, self.volume)
        self.set_blend(preset.blend)
        if self.preview:
            self._preview_property()

    def set_blend(self, mode: str) -> None:
        """"composite" (volume rendering), "mip" or "minip"."""
        self.blend = mode
        {"composite": self.mapper.SetBlendModeToComposite, "mip": self.mapper.SetBlendModeToMaximumIntensity,
         "minip": self.mapper.SetBlendModeToMinimumIntensity}[mode]()
        if mode != "composite":
            self.property.ShadeOff()

    # Quick first frame, then the full volume -------------------------------------------------
    def set_preview(self, on: bool) -> None:
        """A first frame without shading or gradient opacity: the CPU ray caster then needs no gradients."""
        self.preview = on
        if on:
            self._preview_property()
        elif self.preset is not None:
            s = self.preset.shading
            self.property.SetShade(bool(s.on) and self.blend == "composite")
            self.property.SetDisableGradientOpacity(not self.preset.gradient_opacity)

    def show_frame(self, rgb: np.ndarray) -> None:
        """Show a frame rendered elsewhere (``prepare3d``, same scene and camera) instead of rendering the volume.

        ``rgb`` is (height, width, 3) uint8, top row first.  It stays until :meth:`clear_frame`
        (any change or interaction: the view calls it before rendering).
        """
        from vtkmodules.util.numpy_support import numpy_to_vtk
        from vtkmodules.vtkCommonDataModel import vtkImageData
        from vtkmodules.vtkRenderingCore import vtkTexture

        h, w, _ = rgb.shape
        pixels = np.ascontiguousarray(rgb[::-1])  # VTK's rows go bottom up
        img = vtkImageData()
        img.SetDimensions(w, h, 1)
        scalars = numpy_to_vtk(pixels.reshape(-1, 3), deep=True)
        img.GetPointData().SetScalars(scalars)
        texture = vtkTexture()
        texture.SetInputData(img)
        texture.InterpolateOff()
        self.renderer.SetBackgroundTexture(texture)
        self.renderer.TexturedBackgroundOn()
        if self._frame is None:
            self._volume_was_visible = bool(self.actor.GetVisibility())
        self.actor.SetVisibility(False)
        self._frame = texture

    def clear_frame(self) -> None:
        """Back to rendering the volume itself."""
        if self._frame is None:
            return
        self.renderer.TexturedBackgroundOff()
        # VTK takes None (no texture) here; its stubs do not say so.
        self.renderer.SetBackgroundTexture(None)  # type: ignore[arg-type]
        self.actor.SetVisibility(self._volume_was_visible)
        self._frame = None

    @property
    def showing_frame(self) -> bool:
        return self._frame is not None

    @property
    def volume_shown(self) -> bool:
        """The volume is drawn: by this scene, or by the frame shown in its place."""
        return bool(self._volume_was_visible if self._frame is not None else self.actor.GetVisibility())

    def _preview_property(self) -> None:
        self.property.ShadeOff()
        self.property.SetDisableGradientOpacity(True)

    def adopt(self, volume: Volume, image: vtkImageData, mapper: VolumeMapper) -> None:
        """Show ``volume`` (the full 3D volume) through ``image`` and ``mapper`` prepared for it off the GUI thread.

        The preset, blend mode, clipping, camera and isosurface carry over; the preview ends.
        """
        self.volume, self.image, self.mapper = volume, image, mapper
        self.matrix = volume_matrix(volume)
        self.actor.SetUserMatrix(vtk_matrix(self.matrix))
        self.actor.SetMapper(mapper)
        self.full_sample = float(min(volume.spacing))
        self.preview = False
        blend = self.blend
        if self.preset is not None:
            set_transfer_functions(self.property, self.preset, volume)
        self.set_blend(blend)
        self.set_preview(False)
        self.set_interactive(self.interactive)
        if self._surface is not None:
            self._surface[0].SetInputData(image)
            self._surface[2].SetUserMatrix(vtk_matrix(self.matrix))
        self._apply_clipping()
        # The near and far planes were set for the preview's bounds (half a voxel short of the full
        # volume's on each side): the full volume's front would be cut, and frames rendered
        # elsewhere (which set their planes for the full volume) would differ from this view's.
        visible = self.actor.GetVisibility()
        self.actor.SetVisibility(True)  # a frame shown meanwhile hides it: its bounds count all the same
        self.renderer.ResetCameraClippingRange()
        self.actor.SetVisibility(visible)

    def set_interactive(self, interactive: bool) -> None:
        """Coarser sampling while the mouse moves; full quality when it stops."""
        self.interactive = interactive
        image_sample = self.interactive_image_sample if interactive else 1.0
        sample = self.full_sample * (INTERACTIVE_SAMPLE_FACTOR if interactive else 1.0)
        self.mapper.SetImageSampleDistance(image_sample)
        self.mapper.SetSampleDistance(sample)
        if isinstance(self.mapper, vtkFixedPointVolumeRayCastMapper):  # the CPU ray caster ("cpu")
            self.mapper.SetInteractiveSampleDistance(sample)

    def _render_starts(self) -> None:
        self._render_started = time.perf_counter()
        self._sync_cube()

    def _render_ended(self) -> None:
        if self.interactive and self._frame is None and self.actor.GetVisibility():
            self.fit_interactive_frame(time.perf_counter() - self._render_started)

    def fit_interactive_frame(self, seconds: float) -> float:
        """After an interactive frame that took ``seconds``: the distance between rays of the next ones.

        The rays, and so the time, go with the inverse square of the distance between them: a
        frame over :data:`INTERACTIVE_FRAME_S` makes the next ones coarser (at most
        :data:`MAX_INTERACTIVE_IMAGE_SAMPLE`), one under half of it finer again (at least
        :data:`INTERACTIVE_IMAGE_SAMPLE`).  Full quality is not affected.
        """
        if INTERACTIVE_FRAME_S / 2 <= seconds <= INTERACTIVE_FRAME_S:
            return self.interactive_image_sample
        wanted = self.interactive_image_sample * math.sqrt(max(seconds, 1e-6) / INTERACTIVE_FRAME_S)
        self.interactive_image_sample = min(MAX_INTERACTIVE_IMAGE_SAMPLE, max(INTERACTIVE_IMAGE_SAMPLE, wanted))
        if self.interactive:
            self.mapper.SetImageSampleDistance(self.interactive_image_sample)
        return self.interactive_image_sample

    def set_volume_visible(self, visible: bool) -> None:
        self.clear_frame()
        self.actor.SetVisibility(visible)

    # Isosurface --------------------------------------------------------------------------
    def set_isosurface(self, threshold: float | None, smoothing: int = 15) -> int:
        """Show the surface at ``threshold`` (modality value) smoothed by ``smoothing`` iterations; None hides it.

        Returns the number of triangles.
        """
        if threshold is None:
            if self._surface is not None:
                self._surface[2].SetVisibility(False)
            return 0
        if self._surface is None:
            edges, smooth, actor = smoothed_surface(self.image, (0.95, 0.9, 0.8), vtk_matrix(self.matrix))
            actor.GetProperty().SetSpecularPower(20)
            self.renderer.AddActor(actor)
            self._surface = (edges, smooth, actor)
            self._apply_clipping()
        edges, smooth, actor = self._surface
        edges.SetValue(0, float(self._stored(threshold)))
        smooth.SetNumberOfIterations(max(0, int(smoothing)))
        actor.SetVisibility(True)
        actor.GetMapper().Update()
        return int(actor.GetMapper().GetInput().GetNumberOfCells())

    def _stored(self, value: float) -> float:
        v = self.volume
        return value if v.rescaled or v.rescale_slope == 0 else (value - v.rescale_intercept) / v.rescale_slope

    # Clipping ----------------------------------------------------------------------------
    def set_clip_box(self, fractions: tuple[float, float, float, float, float, float] | None) -> None:
        """Keep the part of the volume inside (x0, x1, y0, y1, z0, z1), fractions of its extent; None clears."""
        self._clip_box = tuple(float(f) for f in fractions) if fractions is not None else None
        self._apply_clipping()

    def set_clip_plane(self, origin: ArrayLike | None = None, normal: ArrayLike | None = None) -> None:
        """Cut away what lies on the side ``normal`` points away from (patient coordinates); None clears."""
        self._clip_plane = None if origin is None else (np.asarray(origin, float), np.asarray(normal, float))
        self._apply_clipping()

    def clipping_planes(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """The active clipping planes as (origin, inward normal) in patient coordinates."""
        planes: list[tuple[np.ndarray, np.ndarray]] = []
        if self._clip_box is not None:
            ext = (np.array(self.volume.shape[::-1], float) - 1) * self.volume.spacing
            for axis in range(3):
                lo, hi = self._clip_box[2 * axis], self._clip_box[2 * axis + 1]
                d = self.volume.direction[:, axis]
                base = self.volume.origin
                planes.append((base + d * lo * ext[axis], d.copy()))
                planes.append((base + d * hi * ext[axis], -d))
        if self._clip_plane is not None:
            planes.append(self._clip_plane)
        return planes

    def _apply_clipping(self) -> None:
        planes = vtkPlaneCollection()
        for origin, normal in self.clipping_planes():
            p = vtkPlane()
            p.SetOrigin(*origin)
            p.SetNormal(*normal)
            planes.AddItem(p)
        self.mapper.SetClippingPlanes(planes)
        if self._surface is not None:
            self._surface[2].GetMapper().SetClippingPlanes(planes)

    # Camera ------------------------------------------------------------------------------
    def view(self, azimuth: float = 0.0, elevation: float = 0.0, zoom: float = 1.3) -> None:
        """Anterior view (patient's face, head up), then turned by azimuth and elevation (degrees)."""
        center = self.volume.center()
        cam = self.renderer.GetActiveCamera()
        cam.SetFocalPoint(*center)
        cam.SetPosition(*(center + np.array([0.0, -1000.0, 0.0])))
        cam.SetViewUp(0, 0, 1)
        cam.ParallelProjectionOff()
        self.renderer.ResetCamera(self._bounds())
        cam.Azimuth(azimuth)
        cam.Elevation(elevation)
        cam.OrthogonalizeViewUp()
        cam.Zoom(zoom)
        self.renderer.ResetCameraClippingRange()

    def _bounds(self) -> list[float]:
        corners = patient_bounds(self.volume)
        lo, hi = corners.min(axis=0), corners.max(axis=0)
        return [lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]]

    # Interaction -------------------------------------------------------------------------
    def bind_interactor(self, interactor: vtkRenderWindowInteractor,
                        on_start: Callable[[], object] | None = None,
                        on_end: Callable[[], object] | None = None) -> None:
        """Rotate, zoom and pan with the mouse; coarse sampling while it moves, full quality when it stops.

        ``on_start`` is called when an interaction begins; ``on_end``, when given, draws the
        full-quality frame when it stops (instead of a render here, still in coarse sampling).
        """
        from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera

        style = vtkInteractorStyleTrackballCamera()
        interactor.SetInteractorStyle(style)
        self._style = style

        def start(*_: object) -> None:
            self.clear_frame()
            self.set_interactive(True)
            if on_start is not None:
                on_start()

        def end(*_: object) -> None:
            if on_end is not None:
                on_end()
                return
            self.set_interactive(False)
            interactor.GetRenderWindow().Render()

        style.AddObserver(vtkCommand.StartInteractionEvent, start)
        style.AddObserver(vtkCommand.EndInteractionEvent, end)


def warm_up_renderer(mapper: str = "cpu") -> vtkRenderer:
    """A throwaway 3D scene of a tiny volume, to render once in a new window (see ``mpr_scene.warm_up_renderer``).

    It holds what the view draws: the ray caster's image, a frame shown as the background
    texture (:meth:`VolumeScene.show_frame`) and the orientation cube, so that their
    shaders are compiled before the view's first frame.  Remove it from the window before
    the view's scene joins.
    """
    tiny = Volume(array=np.zeros((4, 4, 4), np.int16), origin=np.zeros(3), spacing=np.ones(3),
                  direction=np.eye(3), rescaled=True, modality="CT")
    scene = VolumeScene(tiny, mapper=mapper)
    scene.show_frame(np.zeros((2, 2, 3), np.uint8))
    scene.actor.SetVisibility(True)  # the ray caster's image too, over the background
    scene.renderer.AddActor(scene.cube)
    scene.view()
    return scene.renderer
