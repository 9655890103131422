"""Cross-referencing between viewports: reference lines and slice matching by patient position.

All of it is plane geometry in patient coordinates (LPS, mm): two frames can
be cross-referenced only in one Frame of Reference.  The plane geometry
itself is :mod:`workstation.imaging.geometry`'s; this module applies it to
the frames of stacks.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from workstation.imaging import geometry
from workstation.imaging.geometry import ImagePlane
from workstation.model.stack import ImageStack

LINKABLE_COSINE = 0.9  # stacks whose normals are this close are scrolled together
PARALLEL_EPSILON = 1e-12  # planes whose unit normals' |cosine| is above 1 - this have no reference line


class FramePlane(Protocol):
    """What cross-referencing reads of a frame: a stack's FrameRef, or a frame carried into another frame
    of reference (:class:`workstation.imaging.registrations.MappedFrame`)."""

    @property
    def position(self) -> np.ndarray | None: ...
    @property
    def orientation(self) -> np.ndarray | None: ...
    @property
    def pixel_spacing(self) -> tuple[float, float] | None: ...
    @property
    def rows(self) -> int: ...
    @property
    def columns(self) -> int: ...
    @property
    def normal(self) -> np.ndarray | None: ...
    @property
    def derived(self) -> dict[str, Any]: ...  # values computed once per frame


def image_plane(f: FramePlane, frame_of_reference_uid: str) -> ImagePlane | None:
    """The plane of a frame from the geometry the stack already holds (no header read).

    Kept with the frame: every repaint of every viewport asks for the planes of the
    frames the other viewports show.
    """
    key = (f.pixel_spacing, f.rows, f.columns, frame_of_reference_uid)
    memo = f.derived.get("image_plane")
    if memo is not None and memo[0] == key and memo[1] is f.position and memo[2] is f.orientation:
        remembered: ImagePlane | None = memo[3]
        return remembered
    plane = _image_plane(f, frame_of_reference_uid)
    f.derived["image_plane"] = (key, f.position, f.orientation, plane)
    return plane


def _image_plane(f: FramePlane, frame_of_reference_uid: str) -> ImagePlane | None:
    if f.position is None or f.orientation is None or f.pixel_spacing is None or f.normal is None:
        return None
    row_dir, col_dir = f.orientation[:3], f.orientation[3:]
    return ImagePlane(
        position=f.position,
        row_direction=row_dir / np.linalg.norm(row_dir),
        column_direction=col_dir / np.linalg.norm(col_dir),
        row_spacing=f.pixel_spacing[0],
        column_spacing=f.pixel_spacing[1],
        rows=f.rows,
        columns=f.columns,
        frame_of_reference_uid=frame_of_reference_uid,
    )


def reference_line(source: FramePlane, target: FramePlane,
                   frame_of_reference_uid: str) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where ``source``'s image cuts ``target``'s (both in one Frame of Reference), or None.

    See :func:`workstation.imaging.geometry.reference_line`; the result is in
    ``target``'s image coordinates.
    """
    ns, nt = source.normal, target.normal
    if ns is not None and nt is not None and abs(float(ns @ nt)) > 1.0 - PARALLEL_EPSILON:
        return None  # parallel planes never cut (the common case: a grid of axial series)
    a, b = image_plane(source, frame_of_reference_uid), image_plane(target, frame_of_reference_uid)
    if a is None or b is None:
        return None
    return geometry.reference_line(a, b)


def stack_normal(stack: ImageStack) -> np.ndarray | None:
    """The normal of a spatially sorted stack (None otherwise); computed once per stack."""
    return stack.normal


def linkable(a: ImageStack, b: ImageStack) -> bool:
    """True when two stacks are near enough parallel to scroll together."""
    na, nb = stack_normal(a), stack_normal(b)
    return na is not None and nb is not None and abs(float(na @ nb)) >= LINKABLE_COSINE


def position_along(stack: ImageStack, index: int) -> float | None:
    """Position (mm) of frame ``index`` along the stack's normal."""
    g = stack.geometry
    if g.along is not None:
        return float(g.along[index])
    n = g.normal
    f = stack.frames[index]
    return float(f.position @ n) if n is not None and f.position is not None else None


def matching_index(source: ImageStack, index: int, target: ImageStack, offset_mm: float = 0.0) -> int | None:
    """The frame of ``target`` at the patient position of ``source``'s frame ``index``.

    ``offset_mm`` is added to the source position along the target's normal
    (the manual offset that aligns a prior with the current study).
    """
    if not linkable(source, target):
        return None
    f = source.frames[index]
    n = stack_normal(target)
    if n is None or f.position is None:  # linkable stacks have normals; a frame may still lack a position
        return None
    point = f.position + n * offset_mm
    if target.geometry.along is not None:
        # Parallel frames sorted along the normal: a binary search, not a pass over every frame.
        return target.index_at(float(point @ n))
    return target.nearest_index(point)


def link_offset(source: ImageStack, index: int, target: ImageStack, target_index: int) -> float:
    """The offset (mm along the target normal) that makes the two frames match."""
    n = stack_normal(target)
    target_position, source_position = target.frames[target_index].position, source.frames[index].position
    if n is None or target_position is None or source_position is None:
        return 0.0
    return float((target_position - source_position) @ n)


def plane_segment(frame: FramePlane, centre: ArrayLike,
                  normal: ArrayLike) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where the plane through ``centre`` with ``normal`` cuts ``frame``: a (column, row) pixel segment or None.

    ``frame`` carries ``position``, ``orientation`` (six direction cosines), ``pixel_spacing``
    (row, column spacing), ``rows`` and ``columns`` (a stack's FrameRef).
    """
    if frame.position is None or frame.orientation is None:
        return None
    orientation = np.asarray(frame.orientation, float)
    row_spacing, column_spacing = frame.pixel_spacing or (1.0, 1.0)
    n = np.asarray(normal, float)
    f0 = float((np.asarray(frame.position, float) - np.asarray(centre, float)) @ n)
    fc = float(column_spacing) * float(orientation[:3] @ n)
    fr = float(row_spacing) * float(orientation[3:] @ n)
    if abs(fc) < 1e-9 and abs(fr) < 1e-9:
        return None  # parallel
    corners = [(0.0, 0.0), (frame.columns - 1.0, 0.0), (frame.columns - 1.0, frame.rows - 1.0),
               (0.0, frame.rows - 1.0)]
    values = [f0 + c * fc + r * fr for c, r in corners]
    points: list[tuple[float, float]] = []
    for i in range(4):
        (c0, r0), (c1, r1) = corners[i], corners[(i + 1) % 4]
        a, b = values[i], values[(i + 1) % 4]
        if a == 0:
            points.append((c0, r0))
        if (a < 0 < b) or (b < 0 < a):
            t = a / (a - b)
            points.append((c0 + t * (c1 - c0), r0 + t * (r1 - r0)))
    unique: list[tuple[float, float]] = []
    for p in points:
        if all(abs(p[0] - q[0]) + abs(p[1] - q[1]) > 1e-6 for q in unique):
            unique.append(p)
    return (unique[0], unique[1]) if len(unique) >= 2 else None
