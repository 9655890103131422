"""Which visible stacks are parallel, remembered: a grid of axial series draws no reference lines on each other.

Reference lines are asked for every viewport at every paint; whether two
series' planes can cross at all depends only on their geometries, so it is
worked out once per pair of stacks (and once per viewport for "all the others
are parallel") and asked again only when a stack or its geometry changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workstation.imaging.cross_reference import PARALLEL_EPSILON
from workstation.model.stack import ImageStack, StackGeometry

#: Pairs remembered before the memory starts again (stacks come and go with the studies opened).
MAX_PAIRS = 1024


def shared_normal(geometry: StackGeometry) -> np.ndarray | None:
    """The normal every frame of a stack has (exactly), or None (a frame without a plane, or several normals)."""
    if not geometry.count or not geometry.has_plane.all():
        return None
    normals = geometry.normals
    return normals[0] if (normals == normals[0]).all() else None


class ParallelStacks:
    """Answers "are these stacks parallel?" for the reference lines, remembering the answers."""

    def __init__(self) -> None:
        # (target stack, source stack) ids -> (their geometries, True when every frame of one is parallel to
        # every frame of the other)
        self._pairs: dict[tuple[int, int], tuple[StackGeometry, StackGeometry, bool]] = {}
        # viewport index -> (its stack, that stack's geometry, the other visible stacks' geometries, all parallel)
        self._viewports: dict[int, tuple[ImageStack, StackGeometry, list[StackGeometry | None], bool]] = {}

    def all_parallel(self, index: int, target: ImageStack, others: Sequence[ImageStack | None]) -> bool:
        """True when every stack in ``others`` (the other visible viewports') is of ``target``'s frame of
        reference and parallel to it (:meth:`parallel`): none of them can draw a line on viewport ``index``.
        A stack of another frame of reference counts as not parallel (a registration may turn it)."""
        geometries = [s.geometry if s is not None else None for s in others]
        memo = self._viewports.get(index)
        if memo is not None and memo[0] is target and memo[1] is target.geometry \
                and len(memo[2]) == len(geometries) and all(a is b for a, b in zip(memo[2], geometries, strict=True)):
            return memo[3]
        uid = target.frame_of_reference_uid
        answer = all(s is None or (s.frame_of_reference_uid == uid and self.parallel(target, s)) for s in others)
        self._viewports[index] = (target, target.geometry, geometries, answer)
        return answer

    def parallel(self, a: ImageStack, b: ImageStack) -> bool:
        """True when all frames of ``a`` and ``b`` lie in planes :func:`reference_line` finds parallel."""
        ga, gb = a.geometry, b.geometry
        key = (id(a), id(b))
        memo = self._pairs.get(key)
        if memo is not None and memo[0] is ga and memo[1] is gb:
            return memo[2]
        na, nb = shared_normal(ga), shared_normal(gb)
        answer = na is not None and nb is not None and abs(float(na @ nb)) > 1.0 - PARALLEL_EPSILON
        if len(self._pairs) > MAX_PAIRS:
            self._pairs.clear()
        self._pairs[key] = (ga, gb, answer)
        return answer
