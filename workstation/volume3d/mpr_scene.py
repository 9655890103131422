"""One MPR view as a VTK scene: the resliced plane, crosshair lines, orientation letters, scale bar, measurements.

No Qt here: the CLI renders it into an offscreen window, the MPR widget into its
QVTK window.  The view's world is the plane's frame (x = right, y = up, mm).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from vtkmodules.vtkCommonCore import vtkCommand, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkActor2D,
    vtkImageActor,
    vtkPolyDataMapper,
    vtkPolyDataMapper2D,
    vtkProp,
    vtkRenderer,
    vtkTextActor,
)

from workstation.volume3d.measure import ViewMeasurement
from workstation.volume3d.planes import MprGeometry, edge_labels, nice_length
from workstation.volume3d.reslice import Reslicer

#: Crosshair colour of each plane's line (the colour of the view it belongs to).
PLANE_COLOURS = {"axial": (0.95, 0.3, 0.3), "coronal": (0.35, 0.85, 0.35), "sagittal": (0.95, 0.85, 0.3)}
OVERLAY_Z = 1.0  # mm in front of the image, towards the camera
MEASURE_COLOUR = (0.3, 0.85, 1.0)

#: An RGB colour, each channel 0 to 1.
Colour = tuple[float, float, float]


def _polyline(points: list[tuple[float, float, float]], closed: bool = False) -> vtkPolyData:
    pts = vtkPoints()
    for p in points:
        pts.InsertNextPoint(*p)
    lines = vtkCellArray()
    ids = list(range(len(points))) + ([0] if closed else [])
    lines.InsertNextCell(len(ids))
    for i in ids:
        lines.InsertCellPoint(i)
    poly = vtkPolyData()
    poly.SetPoints(pts)
    poly.SetLines(lines)
    return poly


def _line_actor(colour: Colour, width: float = 1.5) -> tuple[vtkActor, vtkPolyDataMapper]:
    mapper = vtkPolyDataMapper()
    actor = vtkActor()
    actor.SetMapper(mapper)
    actor.GetProperty().SetColor(*colour)
    actor.GetProperty().SetLineWidth(width)
    actor.GetProperty().LightingOff()
    return actor, mapper


def _text(size: int = 14, colour: Colour = (0.95, 0.95, 0.6)) -> vtkTextActor:
    t = vtkTextActor()
    prop = t.GetTextProperty()
    prop.SetFontSize(size)
    prop.SetColor(*colour)
    prop.SetBold(True)
    prop.SetShadow(True)
    return t


class MprScene:
    """The renderer of one MPR view (``name`` is axial, coronal or sagittal).

    Parameters
    ----------
    name : str
        Which of the geometry's planes this view shows.
    reslicer : Reslicer
        This view's own reslice pipeline.
    """

    def __init__(self, name: str, reslicer: Reslicer) -> None:
        self.name = name
        self.reslicer = reslicer
        self.renderer = vtkRenderer()
        self.renderer.SetBackground(0, 0, 0)
        self.image_actor = vtkImageActor()
        self.image_actor.GetMapper().SetInputConnection(reslicer.output_port())
        self.image_actor.InterpolateOn()
        self.renderer.AddViewProp(self.image_actor)
        self.lines: dict[str, tuple[vtkActor, vtkPolyDataMapper]] = {}
        for other, colour in PLANE_COLOURS.items():
            if other != name:
                self.lines[other] = _line_actor(colour)
                self.renderer.AddActor(self.lines[other][0])
        self.edge_text = {edge: _text(16) for edge in ("left", "right", "top", "bottom")}
        positions = {"left": (0.01, 0.5, 0), "right": (0.99, 0.5, 2), "top": (0.5, 0.97, 1), "bottom": (0.5, 0.02, 1)}
        for edge, (x, y, justify) in positions.items():
            t = self.edge_text[edge]
            t.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
            t.SetPosition(x, y)
            t.GetTextProperty().SetJustification(justify)
            t.GetTextProperty().SetVerticalJustificationToCentered()
            self.renderer.AddViewProp(t)
        self.corner_text = _text(13, (0.9, 0.9, 0.9))
        self.corner_text.GetTextProperty().SetBold(False)
        self.corner_text.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self.corner_text.SetPosition(0.01, 0.92)
        self.renderer.AddViewProp(self.corner_text)
        self._scale_mapper = vtkPolyDataMapper2D()
        self.scale_actor = vtkActor2D()
        self.scale_actor.SetMapper(self._scale_mapper)
        self.scale_actor.GetProperty().SetColor(0.95, 0.95, 0.95)
        self.scale_actor.GetProperty().SetLineWidth(2)
        self.scale_text = _text(12, (0.95, 0.95, 0.95))
        self.renderer.AddViewProp(self.scale_actor)
        self.renderer.AddViewProp(self.scale_text)
        self._measure_props: list[vtkProp] = []
        self.scale_mm = 0.0
        cam = self.renderer.GetActiveCamera()
        cam.ParallelProjectionOn()
        self.renderer.AddObserver(vtkCommand.StartEvent, lambda *_: self._update_scale_bar())
        self._fitted = False

    # Content -----------------------------------------------------------------------------
    def show(
        self,
        geometry: MprGeometry,
        *,
        window: tuple[float, float] = (40.0, 400.0),
        interpolation: str = "linear",
        slab_mm: float = 0.0,
        slab_mode: str = "mip",
        size: tuple[int, int] | None = None,
        shown_window: tuple[float, float] | None = None,
    ) -> None:
        """Bring the view up to date with the geometry, window (centre, width, stored values) and slab.

        ``shown_window`` is the same window in modality values, for the corner text (default ``window``).
        """
        plane = geometry.plane(self.name)
        self.reslicer.configure(plane, geometry.reference, size=size, interpolation=interpolation, slab_mm=slab_mm,
                                slab_mode=slab_mode)
        prop = self.image_actor.GetProperty()
        prop.SetColorLevel(float(window[0]))
        prop.SetColorWindow(max(float(window[1]), 1.0))
        prop.SetInterpolationTypeToLinear()
        self._update_crosshair(geometry)
        for edge, letters in edge_labels(plane).items():
            self.edge_text[edge].SetInput(letters)
        slab = f"  slab {slab_mm:.1f} mm {slab_mode.upper()}" if slab_mm > 0 else ""
        shown = shown_window or window
        self.corner_text.SetInput(f"{self.name.capitalize()}{slab}\nW {shown[1]:.0f}  L {shown[0]:.0f}")
        if not self._fitted:
            self.fit()

    def _update_crosshair(self, geometry: MprGeometry) -> None:
        half = 2000.0  # mm: longer than any volume, clipped by the view
        for other, (point, direction) in geometry.crosshair(self.name).items():
            a = point - half * direction
            b = point + half * direction
            self.lines[other][1].SetInputData(_polyline([(a[0], a[1], OVERLAY_Z), (b[0], b[1], OVERLAY_Z)]))

    def set_crosshair_visible(self, visible: bool) -> None:
        for actor, _ in self.lines.values():
            actor.SetVisibility(visible)

    def fit(self) -> None:
        """Zoom so that the whole resliced plane fills the view."""
        self.reslicer.filter.Update()
        x0, x1, y0, y1, _, _ = self.reslicer.filter.GetOutput().GetBounds()
        cam = self.renderer.GetActiveCamera()
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        cam.SetFocalPoint(cx, cy, 0)
        cam.SetPosition(cx, cy, 1000)
        cam.SetViewUp(0, 1, 0)
        w, h = self.renderer.GetSize() if self.renderer.GetRenderWindow() else (1, 1)
        aspect = (w / h) if h else 1.0
        cam.SetParallelScale(max((y1 - y0) / 2, (x1 - x0) / 2 / max(aspect, 1e-3)) * 1.02)
        self.renderer.ResetCameraClippingRange()
        self._fitted = True

    # Scale bar ---------------------------------------------------------------------------
    def mm_per_pixel(self) -> float:
        _, h = self.renderer.GetSize()
        return 2 * self.renderer.GetActiveCamera().GetParallelScale() / max(h, 1)

    def _update_scale_bar(self) -> None:
        w, h = self.renderer.GetSize()
        if w <= 0 or h <= 0:
            return
        mmpp = self.mm_per_pixel()
        self.scale_mm = nice_length(mmpp, 0.25 * w)
        px = self.scale_mm / mmpp if mmpp > 0 else 0
        x0, y0 = 12, 14
        self._scale_mapper.SetInputData(
            _polyline([(x0, y0 + 5, 0), (x0, y0, 0), (x0 + px, y0, 0), (x0 + px, y0 + 5, 0)])
        )
        self.scale_text.SetInput(f"{self.scale_mm:g} mm")
        self.scale_text.SetPosition(x0 + px + 6, y0 - 4)

    # Measurements ------------------------------------------------------------------------
    def show_measurements(self, items: list[ViewMeasurement]) -> None:
        """Draw measurements (already in this view's (u, v) frame) with their labels."""
        for prop in self._measure_props:
            self.renderer.RemoveViewProp(prop)
        self._measure_props = []
        for m in items:
            pts = [(u, v, OVERLAY_Z) for u, v in m.outline()]
            actor, mapper = _line_actor(MEASURE_COLOUR, 2.0)
            mapper.SetInputData(_polyline(pts, closed=m.kind == "roi"))
            label = _text(13, MEASURE_COLOUR)
            label.SetInput(m.label)
            label.GetPositionCoordinate().SetCoordinateSystemToWorld()
            anchor = m.anchor()
            label.GetPositionCoordinate().SetValue(anchor[0], anchor[1], OVERLAY_Z)
            for prop in (actor, label):
                self.renderer.AddViewProp(prop)
                self._measure_props.append(prop)

    def display_to_view(self, x: float, y: float) -> np.ndarray:
        """Display pixel (origin bottom-left) to (u, v) mm of the plane frame."""
        self.renderer.SetDisplayPoint(x, y, 0)
        self.renderer.DisplayToWorld()
        wx, wy, _, w = self.renderer.GetWorldPoint()
        return np.array([wx / (w or 1.0), wy / (w or 1.0)])

    def view_to_display(self, uv: Sequence[float] | np.ndarray) -> np.ndarray:
        self.renderer.SetWorldPoint(float(uv[0]), float(uv[1]), 0.0, 1.0)
        self.renderer.WorldToDisplay()
        x, y, _ = self.renderer.GetDisplayPoint()
        return np.array([x, y])


def warm_up_renderer(name: str) -> vtkRenderer:
    """A throwaway MPR scene of a tiny volume without its text, to render once in a new window.

    VTK compiles a window's shader programs at their first use and keeps them in the
    window, whichever scene asked: rendering this first (on another thread, see
    :func:`workstation.ui.volume_vtk.first_frames`) leaves the image and line shaders
    ready for the view's own first drawing.  The text actors are left out: their glyphs
    go through FreeType's process-wide cache, which only the GUI thread may use.  Remove
    it from the window (which releases what it holds there) before the view's scene joins.
    """
    from workstation.model.volume import Volume

    tiny = Volume(array=np.zeros((4, 4, 4), np.int16), origin=np.zeros(3), spacing=np.ones(3),
                  direction=np.eye(3), rescaled=True, modality="CT")
    scene = MprScene(name, Reslicer(tiny))
    scene.show(MprGeometry(tiny.center()))
    for text in (*scene.edge_text.values(), scene.corner_text, scene.scale_text):
        scene.renderer.RemoveViewProp(text)
    return scene.renderer
