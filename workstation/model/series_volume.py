"""Volumes of a cached series: its stacks, what is wrong with them, and reading one.

This is the cache-facing half of volume assembly (:mod:`workstation.model.slices`,
:mod:`workstation.model.stacks` and :mod:`workstation.model.volume` never touch
the index).  :func:`describe_series` is what ``lightbox volume`` prints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from workstation.model import pixel_memory
from workstation.model.slices import slices_from_rows
from workstation.model.stacks import Stack, StackSplit, split_stacks
from workstation.model.volume import ProgressFn, Volume, VolumeError, read_stack
from workstation.store.cache import StudyCache

if TYPE_CHECKING:  # the 2D reader; only its arrays are used here
    from workstation.model.stack_pixels import StackPixels


@dataclass
class SeriesStacks:
    """The stacks of one cached series (largest first; localizers last)."""

    series_uid: str
    modality: str
    frame_of_reference_uid: str
    split: StackSplit

    @property
    def stacks(self) -> list[Stack]:
        return self.split.stacks

    @property
    def primary(self) -> Stack | None:
        return self.split.primary

    def stack(self, index: int | None) -> Stack:
        """Stack ``index`` (0-based), or the primary one for None."""
        if index is None:
            if self.primary is None:
                reason = f" ({self.split.skipped[0]})" if self.split.skipped else ""
                raise VolumeError(f"series {self.series_uid} holds no stack of two or more parallel slices{reason}")
            return self.primary
        if not 0 <= index < len(self.stacks):
            raise VolumeError(f"series {self.series_uid} has {len(self.stacks)} stack(s); "
                              f"there is no stack {index + 1}")
        return self.stacks[index]


def series_stacks(cache: StudyCache, series_uid: str) -> SeriesStacks:
    """Split a cached series into stacks (reads headers only for multi-frame images)."""
    rows = cache.instances(series_uid)
    if not rows:
        raise VolumeError(f"no series {series_uid} in the cache (see 'lightbox series STUDY_UID')")
    slices, skipped = slices_from_rows(rows, [cache.path_of(r) for r in rows])
    split = split_stacks(slices)
    split.skipped[:0] = skipped
    modality, frame = "", ""
    for s in cache.series(rows[0].study_uid):
        if s.series_uid == series_uid:
            modality, frame = s.modality, s.frame_of_reference_uid
    return SeriesStacks(series_uid, modality, frame, split)


def load_series_volume(
    cache: StudyCache,
    series_uid: str,
    *,
    stack: int | None = None,
    phase: int = 0,
    rescale: bool = True,
    progress: ProgressFn | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Volume:
    """Read one stack (default: the primary) of a cached series into a :class:`Volume`.

    When the 2D viewer holds the series' stored values in memory
    (:mod:`workstation.model.pixel_memory`) and they form this stack plane for
    plane, the volume is a view of that array (stored values, with the rescale
    to apply): the files are not read again and the voxels are not held twice.
    """
    found = series_stacks(cache, series_uid)
    chosen = found.stack(stack)
    vol = volume_from_memory(chosen, pixel_memory.pixels_of(series_uid), phase=phase, progress=progress,
                             cancelled=cancelled)
    if vol is None:
        vol = read_stack(chosen, phase=phase, rescale=rescale, progress=progress, cancelled=cancelled)
    vol.series_uid, vol.modality, vol.frame_of_reference_uid = series_uid, found.modality, found.frame_of_reference_uid
    return vol


def volume_from_memory(stack: Stack, pixels: StackPixels | None, *, phase: int = 0,
                       progress: ProgressFn | None = None,
                       cancelled: Callable[[], bool] | None = None) -> Volume | None:
    """The volume of ``stack`` over the stored values ``pixels`` (a StackPixels) already hold, or None.

    None when they cannot stand for it as they are: another size or type, gaps or a sheared
    stack (filled or shifted planes), planes that are not consecutive frames of the 2D stack,
    or a frame that failed to read.  Frames the 2D reader has not reached yet are read here.
    Planes in the 2D stack's order are a view of its array; in the opposite order, a copy.
    """
    if pixels is None or pixels.volume is None or not 0 <= phase < stack.phases or stack.sheared:
        return None
    grid = stack.planes[phase]
    planes = [p for p in grid if p is not None]
    if len(planes) != len(grid) or len(planes) < 2:
        return None
    first = stack.first
    array = pixels.volume
    if array.shape[1:] != (first.rows, first.columns) or array.dtype != (np.int16 if first.signed else np.uint16):
        return None
    found = [pixels.stack.index_of(p.sop_instance_uid, p.frame) for p in planes]
    index = [i for i in found if i is not None]
    if len(index) != len(found):
        return None
    step = index[1] - index[0]
    if step not in (1, -1) or any(b - a != step for a, b in zip(index, index[1:], strict=False)):
        return None
    total = len(index)
    for k, i in enumerate(index):
        if cancelled is not None and cancelled():
            raise VolumeError("cancelled")
        if not pixels.load(i):
            return None  # this frame failed in 2D as well: read the files and say what is wrong
        if progress is not None:
            progress(k + 1, total)
    lo, hi = min(index), max(index)
    voxels = array[lo:hi + 1] if step == 1 else np.ascontiguousarray(array[lo:hi + 1][::-1])
    uniform = all(p.rescale_slope == first.rescale_slope and p.rescale_intercept == first.rescale_intercept
                  for p in planes)
    if not uniform:
        return None
    rescaled = first.rescale_slope == 1.0 and first.rescale_intercept == 0.0
    return Volume(array=voxels, origin=np.array(stack.origin, float), spacing=np.array(stack.spacing, float),
                  direction=np.array(stack.direction, float), sop_instance_uids=[p.sop_instance_uid for p in planes],
                  rescale_slope=first.rescale_slope, rescale_intercept=first.rescale_intercept, rescaled=rescaled,
                  acquired=np.ones(total, dtype=bool), notes=stack.messages())


def _vec(v: npt.ArrayLike) -> list[float]:
    return [round(float(x), 6) for x in np.ravel(v)]


def describe_stack(index: int, stack: Stack) -> dict[str, Any]:
    """One stack as plain data (JSON-ready)."""
    z, y, x = stack.shape
    return {
        "stack": index + 1,
        "orientation": stack.orientation_name,
        "localizer": stack.localizer,
        "dimensions": [x, y, z],
        "temporal_positions": stack.phases,
        "origin": _vec(stack.origin),
        "spacing": _vec(stack.spacing),
        "direction": _vec(stack.direction.T),  # row direction, column direction, normal
        "tilt_degrees": round(stack.tilt_degrees, 3),
        "gaps": [{"after_z": round(g.after, 3), "before_z": round(g.before, 3), "missing": g.missing}
                 for g in stack.gaps],
        "duplicates": [{"z": round(d.position, 3), "kept": d.kept, "dropped": list(d.dropped)}
                       for d in stack.duplicates],
        "messages": stack.messages(),
    }


def describe_series(found: SeriesStacks) -> dict[str, Any]:
    """The series' stacks and skipped images as plain data (JSON-ready)."""
    primary = found.primary
    return {
        "series_uid": found.series_uid,
        "modality": found.modality,
        "frame_of_reference_uid": found.frame_of_reference_uid,
        "primary_stack": (found.stacks.index(primary) + 1) if primary is not None else None,
        "stacks": [describe_stack(i, s) for i, s in enumerate(found.stacks)],
        "skipped": list(found.split.skipped),
    }
