"""Cross-referencing between viewports: reference lines and slice matching by patient position.

All of it is plane geometry in patient coordinates (LPS, mm): two frames can
be cross-referenced only in one Frame of Reference.  The plane geometry
itself is :mod:`workstation.imaging.geometry`'s; this module applies it to
the frames of stacks.
"""

from __future__ import annotations

import numpy as np

from workstation.imaging import geometry
from workstation.imaging.geometry import ImagePlane
from workstation.model.stack import FrameRef, ImageStack

LINKABLE_COSINE = 0.9  # stacks whose normals are this close are scrolled together


def image_plane(f: FrameRef, frame_of_reference_uid: str) -> ImagePlane | None:
    """The plane of a frame from the geometry the stack already holds (no header read)."""
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


def reference_line(source: FrameRef, target: FrameRef, frame_of_reference_uid: str):
    """Where ``source``'s image cuts ``target``'s (both in one Frame of Reference), or None.

    See :func:`workstation.imaging.geometry.reference_line`; the result is in
    ``target``'s image coordinates.
    """
    a, b = image_plane(source, frame_of_reference_uid), image_plane(target, frame_of_reference_uid)
    if a is None or b is None:
        return None
    return geometry.reference_line(a, b)


def stack_normal(stack: ImageStack) -> np.ndarray | None:
    """The normal of a spatially sorted stack (None otherwise)."""
    if not stack.spatially_sorted or not len(stack):
        return None
    return stack.frames[0].normal


def linkable(a: ImageStack, b: ImageStack) -> bool:
    """True when two stacks are near enough parallel to scroll together."""
    na, nb = stack_normal(a), stack_normal(b)
    return na is not None and nb is not None and abs(float(na @ nb)) >= LINKABLE_COSINE


def position_along(stack: ImageStack, index: int) -> float | None:
    """Position (mm) of frame ``index`` along the stack's normal."""
    n = stack_normal(stack)
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
    point = f.position + n * offset_mm
    return target.nearest_index(point)


def link_offset(source: ImageStack, index: int, target: ImageStack, target_index: int) -> float:
    """The offset (mm along the target normal) that makes the two frames match."""
    n = stack_normal(target)
    if n is None:
        return 0.0
    return float((target.frames[target_index].position - source.frames[index].position) @ n)
