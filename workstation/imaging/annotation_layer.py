"""The reader's measurements and annotations, per frame, without widgets.

Points are image coordinates in Graphic Annotation PIXEL units (see
:mod:`workstation.imaging.viewstate`), so an annotation stays on its anatomy
whatever the zoom, rotation or flip, and maps one to one onto a Grayscale
Softcopy Presentation State's graphic objects.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from enum import Enum
from collections.abc import Callable, Iterator

Point = tuple[float, float]


class Kind(str, Enum):
    """What an annotation is; the value is its name in the measurement panel."""

    LENGTH = "Length"
    ANGLE = "Angle"
    COBB = "Cobb angle"
    RECTANGLE = "Rectangle ROI"
    ELLIPSE = "Ellipse ROI"
    FREEHAND = "Freehand ROI"
    POINT = "Point"
    ARROW = "Arrow"
    TEXT = "Text"

    @property
    def points_needed(self) -> int | None:
        """How many points make one (None: any number, freehand)."""
        return {Kind.LENGTH: 2, Kind.ANGLE: 3, Kind.COBB: 4, Kind.RECTANGLE: 2, Kind.ELLIPSE: 2,
                Kind.FREEHAND: None, Kind.POINT: 1, Kind.ARROW: 2, Kind.TEXT: 1}[self]

    @property
    def is_roi(self) -> bool:
        return self in (Kind.RECTANGLE, Kind.ELLIPSE, Kind.FREEHAND)


_ids = itertools.count(1)


@dataclass
class Annotation:
    """One measurement or annotation on one frame.

    Attributes
    ----------
    kind : Kind
    points : list of (float, float)
        Image coordinates (x = column direction, y = row direction).
    frame_key : tuple of (str, int)
        (SOP Instance UID, 0-based frame) of the frame it was drawn on.
    text : str
        The reader's text (arrow, text); the value lines are computed.
    lines : list of str
        The measured values as shown (filled by :mod:`workstation.imaging.annotation_values`).
    values : dict
        The same values as numbers (e.g. ``{"length_mm": 10.0}``) for tests and reports.
    """

    kind: Kind
    points: list[Point]
    frame_key: tuple[str, int]
    text: str = ""
    lines: list[str] = field(default_factory=list)
    values: dict[str, float] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))

    def handles(self) -> list[Point]:
        """The points a reader can drag to edit it (all but a freehand outline's)."""
        return [] if self.kind is Kind.FREEHAND else list(self.points)

    def outline(self) -> list[Point]:
        """Points of the shape as drawn (rectangles and ellipses expanded), for hit tests."""
        if self.kind is Kind.RECTANGLE and len(self.points) == 2:
            (x0, y0), (x1, y1) = self.points
            return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        if self.kind is Kind.ELLIPSE and len(self.points) == 2:
            (x0, y0), (x1, y1) = self.points
            cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
            return [(cx + rx * math.cos(t), cy + ry * math.sin(t))
                    for t in (2 * math.pi * k / 48 for k in range(49))]
        if self.kind is Kind.FREEHAND:
            return list(self.points) + self.points[:1]
        if self.kind is Kind.COBB and len(self.points) == 4:
            return list(self.points[:2])  # the two lines are separate; see segments()
        return list(self.points)

    def segments(self) -> list[tuple[Point, Point]]:
        """Line segments of the drawn shape."""
        if self.kind is Kind.COBB:
            pts = self.points
            return [(pts[i], pts[i + 1]) for i in (0, 2) if i + 1 < len(pts)]
        out = self.outline()
        return list(itertools.pairwise(out))

    def translate(self, dx: float, dy: float) -> None:
        self.points = [(x + dx, y + dy) for x, y in self.points]


def _distance_to_segment(p: Point, a: Point, b: Point) -> float:
    ax, ay = a
    bx, by = b
    px, py = p
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


@dataclass
class Hit:
    """What a point hit: an annotation, and which handle (None: its body)."""

    annotation: Annotation
    handle: int | None


class AnnotationLayer:
    """All annotations of a reading session, by frame, with a selection."""

    def __init__(self) -> None:
        self._items: list[Annotation] = []
        self.selected: Annotation | None = None
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def changed(self) -> None:
        for cb in list(self._listeners):
            cb()

    def __iter__(self) -> Iterator[Annotation]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def add(self, annotation: Annotation) -> Annotation:
        self._items.append(annotation)
        self.selected = annotation
        self.changed()
        return annotation

    def remove(self, annotation: Annotation) -> None:
        if annotation in self._items:
            self._items.remove(annotation)
            if self.selected is annotation:
                self.selected = None
            self.changed()

    def clear(self, frame_keys: set[tuple[str, int]] | None = None) -> None:
        """Remove all annotations (or those of ``frame_keys``)."""
        self._items = [] if frame_keys is None else [a for a in self._items if a.frame_key not in frame_keys]
        if self.selected is not None and self.selected not in self._items:
            self.selected = None
        self.changed()

    def on_frame(self, frame_key: tuple[str, int]) -> list[Annotation]:
        return [a for a in self._items if a.frame_key == frame_key]

    def by_id(self, annotation_id: int) -> Annotation | None:
        return next((a for a in self._items if a.id == annotation_id), None)

    def hit(self, frame_key: tuple[str, int], point: Point, tolerance: float) -> Hit | None:
        """The annotation at ``point`` (image coordinates) on a frame, handles first.

        ``tolerance`` is in image pixels (the caller converts from view pixels).
        The selected annotation wins ties, then the newest.
        """
        items = self.on_frame(frame_key)
        items.sort(key=lambda a: (a is self.selected, a.id), reverse=True)
        for a in items:
            for k, h in enumerate(a.handles()):
                if math.hypot(h[0] - point[0], h[1] - point[1]) <= tolerance:
                    return Hit(a, k)
        for a in items:
            if len(a.points) == 1:
                if math.hypot(a.points[0][0] - point[0], a.points[0][1] - point[1]) <= tolerance * 2:
                    return Hit(a, None)
                continue
            if any(_distance_to_segment(point, p, q) <= tolerance for p, q in a.segments()):
                return Hit(a, None)
        return None
