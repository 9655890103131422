"""Cross-referencing between viewports: reference lines and slice matching by patient position.

All of it is plane geometry in patient coordinates (LPS, mm): two frames can
be cross-referenced only in one Frame of Reference.
"""

from __future__ import annotations

import numpy as np

from workstation.model.stack import FrameRef, ImageStack

PARALLEL_COSINE = 0.9999  # planes closer to parallel than this have no reference line
LINKABLE_COSINE = 0.9  # stacks whose normals are this close are scrolled together


def _affine(f: FrameRef) -> tuple[np.ndarray, np.ndarray] | None:
    """(origin, 3 x 2 matrix) mapping image coordinates (x, y) to patient coordinates."""
    if f.position is None or f.orientation is None or f.pixel_spacing is None:
        return None
    row_spacing, col_spacing = f.pixel_spacing
    m = np.column_stack([f.orientation[:3] * col_spacing, f.orientation[3:] * row_spacing])
    origin = f.position - m @ np.array([0.5, 0.5])
    return origin, m


def _clip(p0: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray, t0: float, t1: float):
    """Liang-Barsky: narrow [t0, t1] so p0 + t d stays within the box [lo, hi]."""
    for k in range(len(p0)):
        if abs(d[k]) < 1e-12:
            if p0[k] < lo[k] or p0[k] > hi[k]:
                return None
            continue
        a, b = (lo[k] - p0[k]) / d[k], (hi[k] - p0[k]) / d[k]
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 > t1:
            return None
    return t0, t1


def reference_line(source: FrameRef, target: FrameRef) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where ``source``'s plane cuts ``target``'s image, clipped to both images.

    Returns
    -------
    tuple or None
        Two points in ``target``'s image coordinates, or None when the planes
        are (nearly) parallel, a frame lacks geometry, or they do not meet
        within both images.
    """
    a_src, a_dst = _affine(source), _affine(target)
    n_src = source.normal
    if a_src is None or a_dst is None or n_src is None or target.normal is None:
        return None
    if abs(float(n_src @ target.normal)) > PARALLEL_COSINE:
        return None
    o_dst, m_dst = a_dst
    # Points (x, y) of the target image on the source plane: a x + b y + c = 0.
    a, b = m_dst.T @ n_src
    c = float((o_dst - source.position) @ n_src)
    if abs(a) < 1e-12 and abs(b) < 1e-12:
        return None
    # One point of the line and its direction, in target image coordinates.
    p0 = -c * np.array([a, b]) / (a * a + b * b)
    d = np.array([-b, a])
    big = 1e7
    span = _clip(p0, d, np.array([0.0, 0.0]), np.array([float(target.columns), float(target.rows)]), -big, big)
    if span is None:
        return None
    # The same points in source image coordinates, to clip by the source image too.
    o_src, m_src = a_src
    pinv = np.linalg.pinv(m_src)
    q0 = pinv @ (o_dst + m_dst @ p0 - o_src)
    qd = pinv @ (m_dst @ d)
    span = _clip(q0, qd, np.array([0.0, 0.0]), np.array([float(source.columns), float(source.rows)]), *span)
    if span is None or span[1] - span[0] < 1e-9:
        return None
    e0, e1 = p0 + span[0] * d, p0 + span[1] * d
    return (float(e0[0]), float(e0[1])), (float(e1[0]), float(e1[1]))


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
