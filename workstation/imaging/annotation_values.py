"""The numbers an annotation shows, from the measurement functions of :mod:`workstation.imaging.measurements`.

This module only maps an :class:`~workstation.imaging.annotation_layer.Annotation`
onto those pure functions (calibration, lengths, angles, ROI statistics over
modality values) and keeps their results on the annotation as text lines and
numbers.
"""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging import measurements as m
from workstation.imaging.annotation_layer import Annotation, Kind

UNCALIBRATED = m.UNCALIBRATED


def calibration_for(header: Dataset | None, frame: int = 0, points: m.Points | None = None) -> m.Calibration:
    """The calibration of a measurement at ``points`` on a frame (uncalibrated without a header)."""
    if header is None:
        return m.UNCALIBRATED
    try:
        return m.calibration_for(header, frame, points)
    except Exception:  # an odd header is measured in pixels rather than not at all
        return m.UNCALIBRATED


def _area_px(a: Annotation) -> float:
    pts = np.asarray(a.points, dtype=float)
    if a.kind in (Kind.RECTANGLE, Kind.ELLIPSE):
        w, h = np.abs(pts[1] - pts[0])
        return float(w * h if a.kind is Kind.RECTANGLE else math.pi * w * h / 4)
    x, y = pts[:, 0], pts[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _roi(a: Annotation, cal: m.Calibration, values: np.ndarray | None, units: str) -> m.RoiStatistics:
    p = a.points
    if values is None:
        # Colour images: the area only (no single value per pixel to average).
        return m.roi_statistics(np.zeros((1, 1)), np.zeros((1, 1), dtype=bool), _area_px(a), cal, "")
    if a.kind is Kind.RECTANGLE:
        return m.rectangle_statistics(values, p[0], p[1], cal, units)
    if a.kind is Kind.ELLIPSE:
        return m.ellipse_statistics(values, p[0], p[1], cal, units)
    return m.freehand_statistics(values, p, cal, units)


def measure(a: Annotation, cal: m.Calibration, values: np.ndarray | None = None, units: str = "",
            stored: np.ndarray | None = None) -> None:
    """Fill ``a.lines`` and ``a.values`` from its points.

    Parameters
    ----------
    a : Annotation
    cal : Calibration
        From :func:`calibration_for`.
    values : numpy.ndarray, optional
        Modality values of the frame (grayscale), for ROI statistics and point values.
    units : str
        Their units ("HU" for CT).
    stored : numpy.ndarray, optional
        The frame's stored values, for the colour of a point on a colour image.
    """
    p, lines, out = a.points, [], {}
    need = a.kind.points_needed
    if (need is not None and len(p) < need) or (a.kind is Kind.FREEHAND and len(p) < 3):
        a.lines, a.values = ([a.text] if a.text else []), {}
        return
    if a.kind is Kind.LENGTH:
        r = m.length(p[0], p[1], cal)
        out["length"] = r.value
        lines.append(r.text)
    elif a.kind is Kind.ANGLE:
        r = m.angle(p[0], p[1], p[2], cal)
        out["angle"] = r.value
        lines.append(r.text)
    elif a.kind is Kind.COBB:
        r = m.cobb_angle((p[0], p[1]), (p[2], p[3]), cal)
        out["angle"] = r.value
        lines.append(r.text)
    elif a.kind.is_roi:
        s = _roi(a, cal, values, units)
        out.update(area=s.area, pixels=s.pixel_count)
        if values is not None and s.pixel_count:
            out.update(mean=s.mean, sd=s.sd, min=s.minimum, max=s.maximum)
            lines.extend(s.lines())
        else:
            note = f" ({s.note})" if s.note else ""
            lines.append(f"area {s.area:.1f} {s.area_unit}{note}")
    elif a.kind is Kind.POINT:
        if values is not None:
            v = m.value_at(values, *p[0])
            if v is not None:
                out["value"] = v
                lines.append(f"{v:g}" + (f" {units}" if units else ""))
        elif stored is not None and stored.ndim == 3:
            col, row = int(math.floor(p[0][0])), int(math.floor(p[0][1]))
            if 0 <= row < stored.shape[0] and 0 <= col < stored.shape[1]:
                lines.append("RGB " + " ".join(str(int(c)) for c in stored[row, col]))
    if a.text:
        lines.insert(0, a.text)
    a.lines, a.values = lines, out
