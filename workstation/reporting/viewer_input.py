"""Turning the 2D viewer's annotations and frames into report inputs (no Qt).

The viewer keeps :class:`~workstation.imaging.annotation_layer.Annotation`
objects (points in image pixel coordinates, values computed in mm or the
modality's units); a report wants :class:`~.inputs.Measurement` and
:class:`~.inputs.KeyImage`.  Frames are 0-based in the viewer and 1-based in
DICOM; a frame number is only referenced for multi-frame images.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.reporting.inputs import ImageRef, KeyImage, Measurement

#: (SOP Instance UID) -> (SOP Class UID, number of frames), e.g. from the cache index.
ImageLookup = Callable[[str], tuple[str, int] | None]


def image_ref(sop_instance_uid: str, frame: int, lookup: ImageLookup) -> ImageRef | None:
    found = lookup(sop_instance_uid)
    if found is None:
        return None
    sop_class, frames = found
    return ImageRef(sop_class, sop_instance_uid, frame + 1 if frames > 1 else None)


def _ellipse_axes(points: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    """Bounding-box corners → the ELLIPSE graphic's major axis end points, then minor axis end points."""
    (x0, y0), (x1, y1) = points[0], points[1]
    cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
    horizontal = ((cx - rx, cy), (cx + rx, cy))
    vertical = ((cx, cy - ry), (cx, cy + ry))
    return horizontal + vertical if rx >= ry else vertical + horizontal


def _outline(a: Annotation) -> tuple[str, tuple[tuple[float, float], ...]]:
    p = [(float(x), float(y)) for x, y in a.points]
    if a.kind is Kind.RECTANGLE:
        (x0, y0), (x1, y1) = p[0], p[1]
        return "POLYLINE", ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
    if a.kind is Kind.ELLIPSE:
        return "ELLIPSE", _ellipse_axes(p)
    if a.kind is Kind.FREEHAND:
        return "POLYLINE", tuple(p + [p[0]]) if p and p[0] != p[-1] else tuple(p)
    if a.kind is Kind.POINT:
        return "POINT", tuple(p[:1])
    return "POLYLINE", tuple(p)


def measurements_from_annotation(a: Annotation, lookup: ImageLookup, *, length_unit: str = "mm",
                                 value_unit: str = "") -> list[Measurement]:
    """The report measurements one annotation holds (none for arrows, text or uncalibrated lengths).

    ``length_unit`` is the viewer's calibration unit; lengths and areas are only
    reported in mm (a length in pixels means nothing to a reader of the report).
    ``value_unit`` is the modality unit of ROI statistics ("HU" for CT; "" for none).
    """
    ref = image_ref(a.frame_key[0], int(a.frame_key[1]), lookup)
    if ref is None or not a.values:
        return []
    graphic, points = _outline(a)
    label = a.text
    v = a.values
    out: list[Measurement] = []

    def add(kind: str, value: float, unit: str) -> None:
        out.append(Measurement(kind, value, unit, ref, graphic, points, label))

    calibrated = length_unit == "mm"
    if a.kind is Kind.LENGTH and "length" in v and calibrated:
        add("length", v["length"], "mm")
    elif a.kind in (Kind.ANGLE, Kind.COBB) and "angle" in v:
        add("angle", v["angle"], "deg")
    elif a.kind.is_roi:
        if "area" in v and calibrated:
            add("area", v["area"], "mm2")
        unit = value_unit or "1"
        for key, kind in (("mean", "mean"), ("sd", "standard_deviation"), ("min", "minimum"), ("max", "maximum")):
            if key in v:
                add(kind, v[key], unit)
    elif a.kind is Kind.POINT and "value" in v:
        add("mean", v["value"], value_unit or "1")
    return out


def measurements_from_annotations(annotations: Iterable[Annotation], lookup: ImageLookup, *, length_unit: str = "mm",
                                  value_unit: str = "") -> list[Measurement]:
    return [m for a in annotations
            for m in measurements_from_annotation(a, lookup, length_unit=length_unit, value_unit=value_unit)]


def key_image(sop_instance_uid: str, frame: int, lookup: ImageLookup, note: str = "") -> KeyImage | None:
    ref = image_ref(sop_instance_uid, frame, lookup)
    return KeyImage(ref, note) if ref is not None else None
