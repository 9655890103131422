"""Measurements on one frame: calibration, lengths, angles and region statistics.

All functions are pure: points are image coordinates in PIXEL units (see
:mod:`workstation.imaging.geometry`: the centre of the pixel in column ``c``,
row ``r`` is ``(c + 0.5, r + 0.5)``), values are modality values.

Calibration (PS3.3 10.7.1.3 "Pixel Spacing Value Order and Valid Values",
C.8.11.4 DX, C.8.5.5 US regions) is chosen in this order:

1. Pixel Spacing in the patient (cross-sectional images, or a projection
   image whose Pixel Spacing was calibrated: Pixel Spacing Calibration Type
   present, or Pixel Spacing different from Imager Pixel Spacing);
2. Imager Pixel Spacing of a projection image: distances at the detector,
   shown with the note "measured at detector" (the patient is magnified);
3. the Sequence of Ultrasound Regions: Physical Delta X/Y of the region that
   holds the measurement, when both axes are in cm;
4. none: "uncalibrated (px)".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pydicom.dataset import Dataset

from workstation.imaging.frames import frame_dataset

__all__ = [
    "Calibration",
    "Measurement",
    "RoiStatistics",
    "UNCALIBRATED",
    "calibration_for",
    "length",
    "angle",
    "cobb_angle",
    "polyline_length",
    "rectangle_mask",
    "ellipse_mask",
    "polygon_mask",
    "roi_statistics",
    "rectangle_statistics",
    "ellipse_statistics",
    "freehand_statistics",
    "value_at",
]

# Physical Units X/Y Direction code for centimetres (PS3.3 C.8.5.5.1.15).
_US_UNIT_CM = 3

#: An image point (x, y) in PIXEL units.
Point = Sequence[float] | np.ndarray
#: Image points: a sequence of (x, y) or an (n, 2) array.
Points = Sequence[Point] | np.ndarray


@dataclass(frozen=True)
class Calibration:
    """How image distances become physical distances.

    Attributes
    ----------
    row_spacing, column_spacing : float
        Size of a pixel vertically (between row centres) and horizontally,
        in :attr:`unit` per pixel (1 for uncalibrated images).
    unit : str
        "mm" or "px".
    source : str
        "Pixel Spacing", "Imager Pixel Spacing", "Ultrasound Region" or "".
    note : str
        What a reader must see next to the value: "measured at detector",
        "uncalibrated (px)", "calibrated (GEOMETRY)", or "".
    """

    row_spacing: float
    column_spacing: float
    unit: str = "mm"
    source: str = ""
    note: str = ""

    @property
    def calibrated(self) -> bool:
        """True when distances are in mm."""
        return self.unit == "mm"

    def to_physical(self, dx: float, dy: float) -> tuple[float, float]:
        """An image displacement (PIXEL units) in calibrated units."""
        return dx * self.column_spacing, dy * self.row_spacing


#: The calibration of an image with none: one unit per pixel.
UNCALIBRATED = Calibration(1.0, 1.0, "px", "", "uncalibrated (px)")


@dataclass(frozen=True)
class Measurement:
    """A measured value with its unit and the text to show.

    ``text`` carries the calibration note, e.g. "12.3 mm (measured at detector)".
    """

    value: float
    unit: str
    text: str
    note: str = ""


@dataclass(frozen=True)
class RoiStatistics:
    """Statistics of the modality values of the pixels inside a region.

    Attributes
    ----------
    mean, sd, minimum, maximum : float
        Over the pixels whose centres lie inside the region; ``sd`` is the
        population standard deviation.  NaN when no pixel centre is inside.
    pixel_count : int
        Number of those pixels.
    area : float
        The region's geometric area in ``area_unit``.
    area_unit : str
        "mm²" or "px²".
    units : str
        Units of the values ("HU" for CT, "" when none).
    note : str
        The calibration note.
    """

    mean: float
    sd: float
    minimum: float
    maximum: float
    pixel_count: int
    area: float
    area_unit: str
    units: str = ""
    note: str = ""

    def lines(self) -> list[str]:
        """The statistics as text lines for a measurement label."""
        unit = f" {self.units}" if self.units else ""
        note = f" ({self.note})" if self.note else ""
        if self.pixel_count == 0:
            return [f"area {_fmt(self.area)} {self.area_unit}{note}", "no pixels inside"]
        # Hounsfield units are whole numbers, as in the report (workstation.reporting.precision).
        d = 0 if self.units == "HU" else 1
        return [
            f"mean {_fmt(self.mean, d)}{unit}  SD {_fmt(self.sd, d)}",
            f"min {_fmt(self.minimum, d)}  max {_fmt(self.maximum, d)}{unit}",
            f"area {_fmt(self.area)} {self.area_unit}{note}  ({self.pixel_count} px)",
        ]


def _fmt(value: float, decimals: int = 1) -> str:
    if not math.isfinite(value):
        return "-"
    if abs(value) >= 1e5:
        return f"{value:.4g}"
    return rounded_text(value, decimals)


def rounded_text(value: float, decimals: int = 1) -> str:
    """``value`` rounded half away from zero (as a reader rounds, and as the report does), no "-0"."""
    from decimal import ROUND_HALF_UP, Decimal

    d = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    text = f"{d:f}"
    return text[1:] if text.startswith("-") and d == 0 else text


# -- calibration --------------------------------------------------------------------------


def _pair(value: Iterable[Any]) -> tuple[float, float] | None:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        return None
    return a, b


def calibration_for(ds: Dataset, frame: int = 0, points: Points | None = None) -> Calibration:
    """The calibration of a measurement on one frame.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image (header only is enough).
    frame : int
        0-based frame (per-frame Pixel Measures are honoured).
    points : sequence of (x, y), optional
        The measurement's points, to find its ultrasound region.  Without
        points, a single calibrated region of the image is used.

    Returns
    -------
    Calibration
        See the module notes for the order; :data:`UNCALIBRATED` when none applies.
    """
    flat = frame_dataset(ds, frame)
    pixel = _pair(flat.get("PixelSpacing") or [])
    imager = _pair(flat.get("ImagerPixelSpacing") or [])
    if pixel is not None:
        calibration_type = str(flat.get("PixelSpacingCalibrationType", "") or "").strip()
        if imager is not None and not calibration_type and np.allclose(pixel, imager, rtol=1e-6):
            return Calibration(*pixel, "mm", "Pixel Spacing", "measured at detector")
        note = f"calibrated ({calibration_type})" if imager is not None and calibration_type else ""
        if imager is not None and not calibration_type:
            note = "calibrated"
        return Calibration(*pixel, "mm", "Pixel Spacing", note)
    if imager is not None:
        return Calibration(*imager, "mm", "Imager Pixel Spacing", "measured at detector")
    region = _ultrasound_region(flat, points)
    if region is not None:
        return region
    return UNCALIBRATED


def _region_box(item: Dataset) -> tuple[int, int, int, int] | None:
    try:
        return (
            int(item.RegionLocationMinX0),
            int(item.RegionLocationMinY0),
            int(item.RegionLocationMaxX1),
            int(item.RegionLocationMaxY1),
        )
    except (AttributeError, TypeError, ValueError):
        return None


def _ultrasound_region(ds: Dataset, points: Points | None) -> Calibration | None:
    regions = ds.get("SequenceOfUltrasoundRegions") or []
    calibrated = []
    for item in regions:
        box = _region_box(item)
        try:
            ux, uy = int(item.PhysicalUnitsXDirection), int(item.PhysicalUnitsYDirection)
            dx, dy = abs(float(item.PhysicalDeltaX)), abs(float(item.PhysicalDeltaY))
        except (AttributeError, TypeError, ValueError):
            continue
        if box is None or ux != _US_UNIT_CM or uy != _US_UNIT_CM or dx <= 0 or dy <= 0:
            continue
        calibrated.append((box, Calibration(dy * 10.0, dx * 10.0, "mm", "Ultrasound Region", "")))
    if not calibrated:
        return None
    if points is None:
        return calibrated[0][1] if len(calibrated) == 1 else None
    pts = [(float(x), float(y)) for x, y in points]
    for (x0, y0, x1, y1), calibration in calibrated:
        # Region corners are pixel indices, inclusive: the region covers x0 .. x1 + 1 in PIXEL units.
        if all(x0 <= x <= x1 + 1 and y0 <= y <= y1 + 1 for x, y in pts):
            return calibration
    return None


# -- distances and angles -----------------------------------------------------------------


def _physical(points: Points, calibration: Calibration) -> np.ndarray:
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    physical: np.ndarray = p * np.array([calibration.column_spacing, calibration.row_spacing])
    return physical


def _text(value: float, unit: str, note: str) -> str:
    return f"{rounded_text(value)} {unit}" + (f" ({note})" if note else "")


def length(p0: Point, p1: Point, calibration: Calibration = UNCALIBRATED) -> Measurement:
    """Distance between two image points.

    Returns
    -------
    Measurement
        In mm when calibrated, else in px (the text then says "uncalibrated (px)").
    """
    a, b = _physical([p0, p1], calibration)
    value = float(np.hypot(*(b - a)))
    return Measurement(value, calibration.unit, _text(value, calibration.unit, calibration.note), calibration.note)


def polyline_length(points: Points, calibration: Calibration = UNCALIBRATED) -> Measurement:
    """Length along an open polyline."""
    p = _physical(points, calibration)
    value = float(np.sum(np.hypot(*np.diff(p, axis=0).T))) if len(p) > 1 else 0.0
    return Measurement(value, calibration.unit, _text(value, calibration.unit, calibration.note), calibration.note)


def _angle_between(u: np.ndarray, v: np.ndarray) -> float:
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return float("nan")
    cos = float(np.clip(u @ v / (nu * nv), -1.0, 1.0))
    return math.degrees(math.acos(cos))


def angle(p0: Point, vertex: Point, p1: Point, calibration: Calibration = UNCALIBRATED) -> Measurement:
    """The angle at ``vertex`` between the rays to ``p0`` and ``p1``, 0 to 180 degrees.

    Non-square pixels are accounted for through the calibration (an
    uncalibrated image is taken to have square pixels).
    """
    a, v, b = _physical([p0, vertex, p1], calibration)
    value = _angle_between(a - v, b - v)
    return Measurement(value, "°", f"{rounded_text(value)}°")


def cobb_angle(line1: Points, line2: Points, calibration: Calibration = UNCALIBRATED) -> Measurement:
    """Cobb angle: the angle between two lines (e.g. vertebral endplates), 0 to 90 degrees.

    Parameters
    ----------
    line1, line2 : ((x, y), (x, y))
        Two points of each line; the order of the points does not matter.
    """
    a0, a1, b0, b1 = _physical([*line1, *line2], calibration)
    value = _angle_between(a1 - a0, b1 - b0)
    if value > 90.0:
        value = 180.0 - value
    return Measurement(value, "°", f"Cobb {rounded_text(value)}°")


# -- regions ------------------------------------------------------------------------------


def _centres(rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
    ys = np.arange(rows, dtype=float)[:, None] + 0.5
    xs = np.arange(columns, dtype=float)[None, :] + 0.5
    return xs, ys


def rectangle_mask(shape: tuple[int, ...], corner0: Point, corner1: Point) -> np.ndarray:
    """Pixels whose centres lie in the axis-aligned rectangle with these opposite corners."""
    rows, columns = shape[:2]
    xs, ys = _centres(rows, columns)
    (x0, y0), (x1, y1) = corner0, corner1
    xa, xb = sorted((float(x0), float(x1)))
    ya, yb = sorted((float(y0), float(y1)))
    inside: np.ndarray = (xs >= xa) & (xs <= xb) & (ys >= ya) & (ys <= yb)
    return inside


def ellipse_mask(shape: tuple[int, ...], corner0: Point, corner1: Point) -> np.ndarray:
    """Pixels whose centres lie in the ellipse inscribed in the rectangle with these corners."""
    rows, columns = shape[:2]
    xs, ys = _centres(rows, columns)
    (x0, y0), (x1, y1) = corner0, corner1
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    rx, ry = abs(x1 - x0) / 2.0, abs(y1 - y0) / 2.0
    if rx == 0 or ry == 0:
        return np.zeros((rows, columns), dtype=bool)
    inside: np.ndarray = ((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2 <= 1.0
    return inside


def polygon_mask(shape: tuple[int, ...], points: Points) -> np.ndarray:
    """Pixels whose centres lie inside a closed polygon (even-odd rule)."""
    rows, columns = shape[:2]
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    mask = np.zeros((rows, columns), dtype=bool)
    if len(p) < 3:
        return mask
    xs, ys = _centres(rows, columns)
    xs = np.broadcast_to(xs, (rows, columns))
    ys = np.broadcast_to(ys, (rows, columns))
    # Only the bounding box can be inside: test those centres.
    r0, r1 = max(int(np.floor(p[:, 1].min())), 0), min(int(np.ceil(p[:, 1].max())) + 1, rows)
    c0, c1 = max(int(np.floor(p[:, 0].min())), 0), min(int(np.ceil(p[:, 0].max())) + 1, columns)
    if r0 >= r1 or c0 >= c1:
        return mask
    bx, by = xs[r0:r1, c0:c1], ys[r0:r1, c0:c1]
    inside = np.zeros(bx.shape, dtype=bool)
    x_prev, y_prev = p[-1]
    for x, y in p:
        crosses = (y > by) != (y_prev > by)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = (x_prev - x) * (by - y) / (y_prev - y) + x
        inside ^= crosses & (bx < x_at)
        x_prev, y_prev = x, y
    mask[r0:r1, c0:c1] = inside
    return mask


def _polygon_area(points: Points) -> float:
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(p) < 3:
        return 0.0
    x, y = p[:, 0], p[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def roi_statistics(
    values: ArrayLike,
    mask: np.ndarray,
    area_px: float,
    calibration: Calibration = UNCALIBRATED,
    units: str = "",
) -> RoiStatistics:
    """Statistics of ``values`` under ``mask``.

    Parameters
    ----------
    values : numpy.ndarray
        Modality values of the frame (rows, columns).
    mask : numpy.ndarray
        bool, same shape.
    area_px : float
        The region's geometric area in square pixels.
    calibration : Calibration
        For the area.
    units : str
        Units of the values ("HU").
    """
    selected = np.asarray(values)[mask]
    pixel_area = calibration.row_spacing * calibration.column_spacing
    area = float(area_px) * pixel_area
    area_unit = "mm²" if calibration.calibrated else "px²"
    if selected.size == 0:
        nan = float("nan")
        return RoiStatistics(nan, nan, nan, nan, 0, area, area_unit, units, calibration.note)
    data = selected.astype(np.float64, copy=False)
    return RoiStatistics(
        mean=float(data.mean()),
        sd=float(data.std()),
        minimum=float(data.min()),
        maximum=float(data.max()),
        pixel_count=int(selected.size),
        area=area,
        area_unit=area_unit,
        units=units,
        note=calibration.note,
    )


def rectangle_statistics(values: ArrayLike, corner0: Point, corner1: Point, calibration: Calibration = UNCALIBRATED,
                         units: str = "") -> RoiStatistics:
    """Statistics of a rectangle ROI given by two opposite corners."""
    mask = rectangle_mask(np.shape(values), corner0, corner1)
    area = abs(corner1[0] - corner0[0]) * abs(corner1[1] - corner0[1])
    return roi_statistics(values, mask, area, calibration, units)


def ellipse_statistics(values: ArrayLike, corner0: Point, corner1: Point, calibration: Calibration = UNCALIBRATED,
                       units: str = "") -> RoiStatistics:
    """Statistics of an ellipse ROI inscribed in the rectangle of two opposite corners."""
    mask = ellipse_mask(np.shape(values), corner0, corner1)
    area = math.pi * abs(corner1[0] - corner0[0]) * abs(corner1[1] - corner0[1]) / 4.0
    return roi_statistics(values, mask, area, calibration, units)


def freehand_statistics(values: ArrayLike, points: Points, calibration: Calibration = UNCALIBRATED,
                        units: str = "") -> RoiStatistics:
    """Statistics of a freehand (closed polygon) ROI."""
    mask = polygon_mask(np.shape(values), points)
    return roi_statistics(values, mask, _polygon_area(points), calibration, units)


def value_at(values: ArrayLike, x: float, y: float) -> float | None:
    """The value of the pixel under image point ``(x, y)``, None off the image."""
    column, row = int(math.floor(x)), int(math.floor(y))
    rows, columns = np.shape(values)[:2]
    if not (0 <= row < rows and 0 <= column < columns):
        return None
    return float(np.asarray(values)[row, column])
