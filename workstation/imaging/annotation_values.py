"""The numbers an annotation shows: lengths and areas calibrated, angles, ROI statistics.

Calibration, in order: Pixel Spacing (or the frame's Pixel Measures); else
Imager Pixel Spacing, marked "measured at detector" (projection images are
magnified: the size at the detector is not the size in the patient); else
the Sequence of Ultrasound Regions region holding the points, when its
physical units are centimetres; else none, and lengths are given in pixels
with "uncalibrated (px)".

ROI statistics are over modality values (HU for CT) of the pixels whose
centres lie inside the shape; the area is the shape's own area.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging.annotation_layer import Annotation, Kind

UNCALIBRATED = "uncalibrated (px)"
AT_DETECTOR = "measured at detector"
US_REGION = "ultrasound region"


@dataclass(frozen=True)
class Calibration:
    """Millimetres per pixel along rows (y) and columns (x), or pixels when uncalibrated."""

    row_spacing: float = 1.0  # mm between rows (y direction)
    column_spacing: float = 1.0  # mm between columns (x direction)
    calibrated: bool = False
    note: str = UNCALIBRATED

    @property
    def unit(self) -> str:
        return "mm" if self.calibrated else "px"


def _pair(value) -> tuple[float, float] | None:
    try:
        a, b = float(value[0]), float(value[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (a, b) if a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b) else None


def _us_region(header: Dataset, points: list[tuple[float, float]]):
    for region in header.get("SequenceOfUltrasoundRegions", []) or []:
        try:
            x0, y0 = int(region.RegionLocationMinX0), int(region.RegionLocationMinY0)
            x1, y1 = int(region.RegionLocationMaxX1), int(region.RegionLocationMaxY1)
            units_ok = int(region.PhysicalUnitsXDirection) == 3 and int(region.PhysicalUnitsYDirection) == 3
            dx, dy = abs(float(region.PhysicalDeltaX)), abs(float(region.PhysicalDeltaY))
        except (AttributeError, TypeError, ValueError):
            continue
        inside = all(x0 <= x <= x1 + 1 and y0 <= y <= y1 + 1 for x, y in points)
        if inside and units_ok and dx > 0 and dy > 0:
            return dy * 10.0, dx * 10.0  # cm per pixel -> mm
    return None


def calibration_for(header: Dataset | None, pixel_spacing: tuple[float, float] | None = None,
                    points: list[tuple[float, float]] | None = None) -> Calibration:
    """How to turn pixels into millimetres for measurements at ``points`` of a frame.

    Parameters
    ----------
    header : Dataset or None
        The image's header.
    pixel_spacing : tuple, optional
        The frame's Pixel Spacing (row, column) when known from elsewhere (per-frame groups).
    points : list, optional
        The measurement's points (ultrasound regions must hold them all).
    """
    spacing = pixel_spacing or (_pair(header.get("PixelSpacing")) if header is not None else None)
    if spacing:
        return Calibration(spacing[0], spacing[1], True, "")
    if header is None:
        return Calibration()
    imager = _pair(header.get("ImagerPixelSpacing"))
    if imager:
        return Calibration(imager[0], imager[1], True, AT_DETECTOR)
    region = _us_region(header, points or [])
    if region:
        return Calibration(region[0], region[1], True, US_REGION)
    return Calibration()


def _mm(cal: Calibration, dx: float, dy: float) -> tuple[float, float]:
    return dx * cal.column_spacing, dy * cal.row_spacing


def length(cal: Calibration, a, b) -> float:
    """Length of segment ``a``-``b`` in mm (pixels when uncalibrated)."""
    dx, dy = _mm(cal, b[0] - a[0], b[1] - a[1])
    return math.hypot(dx, dy)


def angle_at(cal: Calibration, a, vertex, b) -> float:
    """Angle a-vertex-b in degrees, in physical space (non-square pixels accounted for)."""
    u = np.array(_mm(cal, a[0] - vertex[0], a[1] - vertex[1]))
    v = np.array(_mm(cal, b[0] - vertex[0], b[1] - vertex[1]))
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    return math.degrees(math.acos(float(np.clip(u @ v / (nu * nv), -1.0, 1.0))))


def cobb_angle(cal: Calibration, p0, p1, q0, q1) -> float:
    """Angle between lines p0-p1 and q0-q1, 0 to 90 degrees."""
    u = np.array(_mm(cal, p1[0] - p0[0], p1[1] - p0[1]))
    v = np.array(_mm(cal, q1[0] - q0[0], q1[1] - q0[1]))
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return 0.0
    a = math.degrees(math.acos(float(np.clip(abs(u @ v) / (nu * nv), 0.0, 1.0))))
    return a


def roi_mask(annotation: Annotation, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Pixels whose centres are inside an ROI: (mask over its bounding box, (row0, col0) of the box)."""
    pts = np.array(annotation.points, dtype=float)
    rows, cols = shape
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    c0, c1 = max(0, x0), min(cols, x1 + 1)
    r0, r1 = max(0, y0), min(rows, y1 + 1)
    if c1 <= c0 or r1 <= r0:
        return np.zeros((0, 0), dtype=bool), (r0, c0)
    cy, cx = np.mgrid[r0:r1, c0:c1].astype(float) + 0.5
    if annotation.kind is Kind.RECTANGLE:
        (ax, ay), (bx, by) = annotation.points
        mask = (cx >= min(ax, bx)) & (cx <= max(ax, bx)) & (cy >= min(ay, by)) & (cy <= max(ay, by))
    elif annotation.kind is Kind.ELLIPSE:
        (ax, ay), (bx, by) = annotation.points
        ex, ey = (ax + bx) / 2, (ay + by) / 2
        rx, ry = max(abs(bx - ax) / 2, 1e-9), max(abs(by - ay) / 2, 1e-9)
        mask = ((cx - ex) / rx) ** 2 + ((cy - ey) / ry) ** 2 <= 1.0
    else:  # polygon, even-odd rule
        mask = np.zeros(cx.shape, dtype=bool)
        xs, ys = pts[:, 0], pts[:, 1]
        for i in range(len(pts)):
            xa, ya, xb, yb = xs[i], ys[i], xs[i - 1], ys[i - 1]
            crosses = (ya > cy) != (yb > cy)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = xa + (cy - ya) * (xb - xa) / (yb - ya)
            mask ^= crosses & (cx < x_at)
    return mask, (r0, c0)


def shape_area(cal: Calibration, annotation: Annotation) -> float:
    """Area of an ROI's shape in mm² (px² when uncalibrated)."""
    pts = annotation.points
    if annotation.kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        (ax, ay), (bx, by) = pts
        w, h = _mm(cal, abs(bx - ax), abs(by - ay))
        return w * h if annotation.kind is Kind.RECTANGLE else math.pi * w * h / 4
    xs = np.array([p[0] for p in pts]) * cal.column_spacing
    ys = np.array([p[1] for p in pts]) * cal.row_spacing
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}"


def measure(annotation: Annotation, cal: Calibration, stored: np.ndarray | None = None,
            modality_values=None, units: str = "") -> None:
    """Fill ``annotation.lines`` and ``annotation.values`` from its points.

    Parameters
    ----------
    annotation : Annotation
    cal : Calibration
        From :func:`calibration_for`.
    stored : numpy.ndarray, optional
        The frame's stored values (grayscale), for ROI statistics and point values.
    modality_values : callable, optional
        Stored to modality values (the frame pipeline's ``modality_values``).
    units : str
        Units of the modality values ("HU" for CT).
    """
    a, p, unit = annotation, annotation.points, cal.unit
    lines: list[str] = []
    values: dict = {}
    need = a.kind.points_needed
    if need is not None and len(p) < need:
        a.lines, a.values = [], {}
        return
    if a.kind is Kind.LENGTH:
        values["length"] = length(cal, p[0], p[1])
        lines.append(f"{_fmt(values['length'])} {unit}")
    elif a.kind is Kind.ANGLE:
        values["angle"] = angle_at(cal, p[0], p[1], p[2])
        lines.append(f"{_fmt(values['angle'])}°")
    elif a.kind is Kind.COBB:
        values["angle"] = cobb_angle(cal, *p[:4])
        lines.append(f"Cobb {_fmt(values['angle'])}°")
    elif a.kind.is_roi and len(p) >= (2 if a.kind is not Kind.FREEHAND else 3):
        values["area"] = shape_area(cal, a)
        lines.append(f"Area {_fmt(values['area'], 1)} {unit}²")
        if stored is not None and stored.ndim == 2:
            mask, (r0, c0) = roi_mask(a, stored.shape)
            picked = stored[r0:r0 + mask.shape[0], c0:c0 + mask.shape[1]][mask]
            values["pixels"] = int(picked.size)
            if picked.size:
                v = np.asarray(modality_values(picked) if modality_values else picked, dtype=float)
                values.update(mean=float(v.mean()), sd=float(v.std()), min=float(v.min()), max=float(v.max()))
                u = f" {units}" if units else ""
                lines.append(f"Mean {_fmt(values['mean'])}{u}  SD {_fmt(values['sd'])}")
                lines.append(f"Min {values['min']:g}  Max {values['max']:g}{u}")
            lines.append(f"{values['pixels']} px")
    elif a.kind is Kind.POINT and stored is not None and stored.ndim >= 2:
        col, row = int(math.floor(p[0][0])), int(math.floor(p[0][1]))
        if 0 <= row < stored.shape[0] and 0 <= col < stored.shape[1]:
            raw = stored[row, col]
            if stored.ndim == 2:
                v = modality_values(np.array([raw])) if modality_values else np.array([raw])
                values["value"] = float(v[0])
                lines.append(f"{values['value']:g}{(' ' + units) if units else ''}")
            else:
                lines.append("RGB " + " ".join(str(int(c)) for c in raw))
    if a.text:
        lines.insert(0, a.text)
    if cal.note and (a.kind in (Kind.LENGTH,) or a.kind.is_roi):
        lines.append(cal.note)
    a.lines, a.values = lines, values
