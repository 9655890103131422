"""Length, angle and ROI measurements on MPR planes, in mm, kept in patient coordinates.

A measurement is made on one plane; it is shown while that plane passes through
its points (within half a voxel), whatever the view's zoom or the plane's
obliquity, because the plane frame is in mm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from workstation.volume3d.planes import Plane
from workstation.volume3d.reslice import SliceImage

KINDS = ("length", "angle", "roi")

#: A point (u, v) mm of a plane's frame.
ViewPoint = Sequence[float] | np.ndarray


def length_mm(a: ArrayLike, b: ArrayLike) -> float:
    """Distance between two patient (or plane-frame) points, mm."""
    return float(np.linalg.norm(np.subtract(b, a)))


def angle_degrees(a: ArrayLike, vertex: ArrayLike, c: ArrayLike) -> float:
    """The angle at ``vertex`` between the rays to ``a`` and ``c``, degrees."""
    u, w = np.subtract(a, vertex), np.subtract(c, vertex)
    nu, nw = np.linalg.norm(u), np.linalg.norm(w)
    if nu == 0 or nw == 0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(u @ w / (nu * nw), -1.0, 1.0))))


def ellipse_mask(shape: tuple[int, ...], image: SliceImage, p0: ViewPoint, p1: ViewPoint) -> np.ndarray:
    """Pixels of a slice image inside the ellipse inscribed in the box with corners ``p0``, ``p1`` (u, v mm)."""
    rows, cols = shape
    u = image.origin_uv[0] + np.arange(cols) * image.spacing
    v = image.origin_uv[1] + (rows - 1 - np.arange(rows)) * image.spacing  # row 0 is the top
    cu, cv = (p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2
    ru, rv = max(abs(p1[0] - p0[0]) / 2, 1e-6), max(abs(p1[1] - p0[1]) / 2, 1e-6)
    inside: np.ndarray = ((u[None, :] - cu) / ru) ** 2 + ((v[:, None] - cv) / rv) ** 2 <= 1.0
    return inside


def roi_stats(image: SliceImage, p0: ViewPoint, p1: ViewPoint) -> dict[str, float]:
    """Mean, SD, min, max and area of an elliptical ROI on a resliced plane (values as resliced)."""
    mask = ellipse_mask(image.array.shape, image, p0, p1)
    values = image.array[mask].astype(np.float64)
    ru, rv = abs(p1[0] - p0[0]) / 2, abs(p1[1] - p0[1]) / 2
    if values.size == 0:
        return {"pixels": 0, "area_mm2": float(np.pi * ru * rv), "mean": float("nan"), "sd": float("nan"),
                "min": float("nan"), "max": float("nan")}
    return {
        "pixels": int(values.size),
        "area_mm2": float(np.pi * ru * rv),
        "mean": float(values.mean()),
        "sd": float(values.std()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


@dataclass
class Measurement:
    """A measurement in patient coordinates, made on a plane of ``view``.

    ``points``: two for a length (ends), three for an angle (end, vertex, end),
    two for an ROI (corners of the ellipse's box on the plane).
    """

    kind: str
    view: str
    points: list[np.ndarray]
    label: str = ""
    values: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"measurement kind must be one of {', '.join(KINDS)}")
        need = {"length": 2, "angle": 3, "roi": 2}[self.kind]
        if len(self.points) != need:
            raise ValueError(f"a {self.kind} needs {need} points")
        self.points = [np.asarray(p, float) for p in self.points]

    def compute(self, image: SliceImage | None = None, plane: Plane | None = None,
                reference: ArrayLike | None = None, unit: str = "") -> None:
        """Fill ``values`` and ``label`` (an ROI needs the plane image, its plane and the frame's reference)."""
        if self.kind == "length":
            d = length_mm(*self.points)
            self.values = {"length_mm": d}
            self.label = f"{d:.1f} mm"
        elif self.kind == "angle":
            a = angle_degrees(*self.points)
            self.values = {"angle_degrees": a}
            self.label = f"{a:.1f}°"
        elif image is not None and plane is not None and reference is not None:
            p0, p1 = (plane.to_view(p, plane.project(reference)) for p in self.points)
            self.values = roi_stats(image, p0, p1)
            v = self.values
            self.label = f"mean {v['mean']:.1f} {unit}  SD {v['sd']:.1f}\narea {v['area_mm2']:.1f} mm²".strip()

    def on_plane(self, plane: Plane, tolerance: float) -> bool:
        """True while every point lies within ``tolerance`` mm of the plane."""
        return all(abs((p - plane.center) @ plane.normal) <= tolerance for p in self.points)

    def in_view(self, plane: Plane, reference: ArrayLike) -> ViewMeasurement:
        """The measurement in (u, v) mm of ``plane``'s frame, ready to draw."""
        ref = plane.project(reference)
        return ViewMeasurement(self.kind, [plane.to_view(p, ref) for p in self.points], self.label)


@dataclass
class ViewMeasurement:
    """A measurement in one view's plane frame: what the scene draws."""

    kind: str
    points: list[np.ndarray]
    label: str

    def outline(self) -> list[tuple[float, float]]:
        if self.kind != "roi":
            return [(float(p[0]), float(p[1])) for p in self.points]
        (u0, v0), (u1, v1) = self.points
        cu, cv, ru, rv = (u0 + u1) / 2, (v0 + v1) / 2, abs(u1 - u0) / 2, abs(v1 - v0) / 2
        t = np.linspace(0, 2 * np.pi, 48, endpoint=False)
        return [(float(cu + ru * np.cos(a)), float(cv + rv * np.sin(a))) for a in t]

    def anchor(self) -> tuple[float, float]:
        p = self.points[-1]
        return float(p[0]) + 2.0, float(p[1]) + 2.0
