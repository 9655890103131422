"""What the viewer hands to a report: measurements and key images (plain values, no Qt).

The 2D viewer builds these from its tools; the report turns a
:class:`Measurement` into a numeric content item inferred from a spatial
coordinate on the referenced image, and a :class:`KeyImage` into an image
reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workstation.reporting import precision
from workstation.reporting.codes import MEASUREMENT_CONCEPTS, Coded, unit

#: SCOORD graphic types (PS3.3 C.18.6.1.2) and how many (column, row) points each needs.
GRAPHIC_TYPES = {"POINT": (1, 1), "MULTIPOINT": (1, None), "POLYLINE": (2, None), "CIRCLE": (2, 2),
                 "ELLIPSE": (4, 4)}


@dataclass(frozen=True)
class ImageRef:
    """One image (or frame of a multi-frame image)."""

    sop_class_uid: str
    sop_instance_uid: str
    frame: int | None = None  # 1-based frame number of a multi-frame image

    def as_dict(self) -> dict[str, Any]:
        return {"sop_class_uid": self.sop_class_uid, "sop_instance_uid": self.sop_instance_uid, "frame": self.frame}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImageRef:
        frame = d.get("frame")
        return cls(str(d["sop_class_uid"]), str(d["sop_instance_uid"]), int(frame) if frame else None)


@dataclass(frozen=True)
class Measurement:
    """One measurement made on an image.

    Parameters
    ----------
    kind : str
        ``length``, ``diameter``, ``area``, ``mean``, ``standard_deviation``,
        ``minimum``, ``maximum``, ``angle`` or ``volume``.
    value : float
        The measured value in ``unit``.
    unit : str
        A UCUM code (``mm``, ``mm2``, ``[hnsf'U]`` or ``HU``, ``deg``).
    image : ImageRef
        The image the measurement was drawn on.
    graphic_type : str
        ``POINT``, ``MULTIPOINT``, ``POLYLINE``, ``CIRCLE`` or ``ELLIPSE``.
    points : tuple of (column, row)
        Image coordinates in pixels (PS3.3: the top left corner of the top left pixel is 0,0).
    label : str
        What the reader called it ("nodule right upper lobe"); optional.
    """

    kind: str
    value: float
    unit: str
    image: ImageRef
    graphic_type: str
    points: tuple[tuple[float, float], ...]
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in MEASUREMENT_CONCEPTS:
            raise ValueError(f"unknown measurement kind {self.kind!r}; one of {', '.join(MEASUREMENT_CONCEPTS)}")
        if self.graphic_type not in GRAPHIC_TYPES:
            raise ValueError(f"unknown graphic type {self.graphic_type!r}; one of {', '.join(GRAPHIC_TYPES)}")
        lo, hi = GRAPHIC_TYPES[self.graphic_type]
        n = len(self.points)
        if n < lo or (hi is not None and n > hi):
            wanted = f"{lo}{'' if hi == lo else '+' if hi is None else f'-{hi}'}"
            raise ValueError(f"{self.graphic_type} needs {wanted} points, got {n}")
        object.__setattr__(self, "points", tuple((float(c), float(r)) for c, r in self.points))
        object.__setattr__(self, "value", float(self.value))
        unit(self.unit)  # raises on an empty unit

    @property
    def concept(self) -> Coded:
        return MEASUREMENT_CONCEPTS[self.kind]

    @property
    def unit_code(self) -> Coded:
        return unit(self.unit)

    @property
    def decimal_string(self) -> str:
        """The value rounded to the precision of its unit (see :mod:`~workstation.reporting.precision`)."""
        return precision.decimal_string(self.value, self.unit_code.value)

    def describe(self) -> str:
        """``Length: 96.0 mm``: what the panel lists, rounded as the image and the SR show it."""
        name = self.label or self.concept.meaning
        return f"{name}: {precision.shown(self.value, self.unit_code.value)}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "unit": self.unit, "image": self.image.as_dict(),
                "graphic_type": self.graphic_type, "points": [list(p) for p in self.points], "label": self.label}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Measurement:
        return cls(kind=d["kind"], value=d["value"], unit=d["unit"], image=ImageRef.from_dict(d["image"]),
                   graphic_type=d["graphic_type"], points=tuple(tuple(p) for p in d["points"]),
                   label=d.get("label", ""))


@dataclass(frozen=True)
class KeyImage:
    """An image the reader marked as key, with an optional note."""

    image: ImageRef
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"image": self.image.as_dict(), "note": self.note}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KeyImage:
        return cls(ImageRef.from_dict(d["image"]), d.get("note", ""))


@dataclass
class ReportContent:
    """What the reader wrote: field values by field id, measurements and key images.

    Values are kept as typed text (what the form shows); the template turns
    them into typed values when the SR is built, so a draft never loses what
    was typed, even when it does not parse yet.
    """

    template_id: str
    values: dict[str, str] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    key_images: list[KeyImage] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"template_id": self.template_id, "values": dict(self.values),
                "measurements": [m.as_dict() for m in self.measurements],
                "key_images": [k.as_dict() for k in self.key_images]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReportContent:
        return cls(template_id=str(d["template_id"]), values={str(k): str(v) for k, v in d.get("values", {}).items()},
                   measurements=[Measurement.from_dict(m) for m in d.get("measurements", [])],
                   key_images=[KeyImage.from_dict(k) for k in d.get("key_images", [])])
