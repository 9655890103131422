"""What the mouse does in the three linked MPR views, with no Qt: the MPR widget only forwards events.

* Left-drag the crosshair centre: moves the centre, the other two planes follow.
* Left-drag a crosshair line away from the centre: rotates the other planes about
  this view's normal (oblique; do it in a second view for double oblique).
* Left-drag elsewhere (or right-drag anywhere): window and level, linked in all views.
* Wheel: moves this view's plane along its normal by one voxel per step.
* Tools "length", "angle" and "roi": clicks place points; measurements are in mm.

Linear interpolation while the mouse moves, cubic once it is released.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Required, TypedDict

import numpy as np

from workstation.model.volume import Volume
from workstation.volume3d.image_data import to_vtk_image
from workstation.volume3d.measure import Measurement, ViewMeasurement
from workstation.volume3d.mpr_scene import MprScene
from workstation.volume3d.planes import PLANE_NAMES, MprGeometry, Plane
from workstation.volume3d.reslice import Reslicer

CENTER_PICK_PIXELS = 10.0
LINE_PICK_PIXELS = 6.0
TOOLS = ("crosshair", "window", "length", "angle", "roi")
_POINTS_NEEDED = {"length": 2, "angle": 3, "roi": 2}


class _Drag(TypedDict, total=False):
    """A drag in progress: ``kind`` center, rotate (with the line's last ``angle``) or window (from ``xy``)."""

    kind: Required[str]
    view: Required[str]
    angle: float
    xy: tuple[float, float]
    window: tuple[float, float]


class MprController:
    """Three MPR scenes over one volume, linked by one :class:`MprGeometry`.

    Parameters
    ----------
    volume : Volume
        The voxels (one shared VTK image for all three reslices).
    window : (centre, width)
        First window in modality values.
    render : callable, optional
        ``render(view_name)`` redraws one view; the widget passes its windows' Render.
    """

    def __init__(self, volume: Volume, window: tuple[float, float],
                 render: Callable[[str], None] | None = None) -> None:
        self.volume = volume
        image = to_vtk_image(volume)
        self.geometry = MprGeometry(volume.center())
        self.scenes = {name: MprScene(name, Reslicer(volume, image)) for name in PLANE_NAMES}
        self.window = (float(window[0]), float(window[1]))
        self.slab_mm = 0.0
        self.slab_mode = "mip"
        self.tool = "crosshair"
        self.interacting = False
        self.measurements: list[Measurement] = []
        self._pending: list[np.ndarray] = []
        self._drag: _Drag | None = None
        self.renderers: list[Callable[[str], None]] = [render] if render is not None else []
        self.listeners: list[Callable[[list[Plane]], None]] = []
        self.step_mm = float(min(volume.spacing))

    # Showing -----------------------------------------------------------------------------
    def stored_window(self) -> tuple[float, float]:
        v = self.volume
        if v.rescaled or v.rescale_slope == 0:
            return self.window
        return (self.window[0] - v.rescale_intercept) / v.rescale_slope, self.window[1] / abs(v.rescale_slope)

    def refresh(self, names: Iterable[str] = PLANE_NAMES) -> None:
        """Reslice and redraw views (all by default), then tell the listeners where the planes are."""
        interpolation = "linear" if self.interacting else "cubic"
        for name in names:
            scene = self.scenes[name]
            scene.show(self.geometry, window=self.stored_window(), interpolation=interpolation,
                       slab_mm=self.slab_mm, slab_mode=self.slab_mode, shown_window=self.window)
            scene.show_measurements(self._measurements_in(name))
            for render in self.renderers:
                render(name)
        planes = self.geometry.planes()
        for listener in self.listeners:
            listener(planes)

    def _measurements_in(self, name: str) -> list[ViewMeasurement]:
        plane = self.geometry.plane(name)
        tol = max(self.step_mm / 2, self.slab_mm / 2)
        return [m.in_view(plane, self.geometry.reference) for m in self.measurements
                if m.view == name and m.on_plane(plane, tol)]

    # Settings ----------------------------------------------------------------------------
    def set_window(self, center: float, width: float) -> None:
        self.window = (float(center), max(float(width), 1.0))
        self.refresh()

    def set_slab(self, mm: float, mode: str | None = None) -> None:
        self.slab_mm = max(0.0, float(mm))
        if mode is not None:
            self.slab_mode = mode
        self.refresh()

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"tool must be one of {', '.join(TOOLS)}")
        self.tool = tool
        self._pending = []

    def reset(self) -> None:
        self.geometry.reset()
        for s in self.scenes.values():
            s._fitted = False
        self.refresh()

    # Mouse -------------------------------------------------------------------------------
    def press(self, name: str, x: float, y: float, button: str = "left") -> None:
        """A button went down at display pixel (x, y) (origin bottom-left) of view ``name``."""
        scene = self.scenes[name]
        uv = scene.display_to_view(x, y)
        if button == "left" and self.tool in _POINTS_NEEDED:
            self._add_point(name, uv)
            return
        if button == "left" and self.tool == "crosshair":
            hit = self._pick_crosshair(name, x, y)
            if hit == "center":
                self._drag = {"kind": "center", "view": name}
            elif hit is not None:
                self._drag = {"kind": "rotate", "view": name, "angle": self._angle(name, uv)}
        if self._drag is None:
            self._drag = {"kind": "window", "view": name, "xy": (x, y), "window": self.window}
        self.interacting = True

    def move(self, name: str, x: float, y: float) -> None:
        """The mouse moved to (x, y) of view ``name`` (only matters while a button is down)."""
        d = self._drag
        if d is None:
            return
        scene = self.scenes[d["view"]]
        uv = scene.display_to_view(x, y)
        if d["kind"] == "center":
            self.geometry.move_center_in_view(d["view"], uv)
            self.refresh()
        elif d["kind"] == "rotate":
            angle = self._angle(d["view"], uv)
            delta = angle - d["angle"]
            if abs(delta) > 1e-3:
                self.geometry.rotate(d["view"], delta)
                d["angle"] = angle
                self.refresh()
        else:
            dx, dy = x - d["xy"][0], y - d["xy"][1]
            c, w = d["window"]
            scale = max(w, 1.0) / 300.0  # a drag across a view changes the window by about its own size
            self.window = (c - dy * scale, max(1.0, w + dx * scale))
            self.refresh()

    def release(self, name: str) -> None:
        """The button came up: full quality (cubic) again."""
        was = self._drag is not None
        self._drag = None
        self.interacting = False
        if was:
            self.refresh()

    def wheel(self, name: str, steps: int) -> None:
        self.geometry.scroll(name, steps * self.step_mm)
        self.refresh()

    def _angle(self, name: str, uv: np.ndarray) -> float:
        c = self.geometry.crosshair(name)
        centre = next(iter(c.values()))[0]
        return float(np.degrees(np.arctan2(uv[1] - centre[1], uv[0] - centre[0])))

    def _pick_crosshair(self, name: str, x: float, y: float) -> str | None:
        """"center", the name of the line's plane, or None (display pixels)."""
        scene = self.scenes[name]
        lines = self.geometry.crosshair(name)
        centre_uv = next(iter(lines.values()))[0]
        c = scene.view_to_display(centre_uv)
        p = np.array([x, y], float)
        if np.linalg.norm(p - c) <= CENTER_PICK_PIXELS:
            return "center"
        for other, (point, direction) in lines.items():
            far = scene.view_to_display(point + 100.0 * direction)
            d = (far - c) / (np.linalg.norm(far - c) or 1.0)
            rel = p - c
            if abs(rel[0] * d[1] - rel[1] * d[0]) <= LINE_PICK_PIXELS:
                return other
        return None

    # Measurements ------------------------------------------------------------------------
    def _add_point(self, name: str, uv: np.ndarray) -> None:
        plane = self.geometry.plane(name)
        self._pending.append(plane.from_view(uv, self.geometry.reference))
        if len(self._pending) == _POINTS_NEEDED[self.tool]:
            m = Measurement(self.tool, name, self._pending)
            self._pending = []
            self.measure(m)

    def measure(self, m: Measurement) -> Measurement:
        """Compute (an ROI on the view's current reslice) and keep a measurement."""
        image = None
        if m.kind == "roi":
            image = self.scenes[m.view].reslicer.update()
            if not self.volume.rescaled:
                image = type(image)(self.volume.modality_value(image.array), image.spacing, image.origin_uv)
        unit = "HU" if self.volume.modality.upper() == "CT" else ""  # values are modality values (see above)
        m.compute(image, self.geometry.plane(m.view), self.geometry.reference, unit)
        self.measurements.append(m)
        self.refresh([m.view])
        return m

    def clear_measurements(self) -> None:
        self.measurements.clear()
        self._pending = []
        self.refresh()
