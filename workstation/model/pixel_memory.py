"""Stacks whose stored values are already in memory, by series: MPR and 3D use them instead of reading again.

The 2D viewer reads a series once into one ``(frames, rows, columns)`` array
(:class:`~workstation.model.stack_pixels.StackPixels`).  A volume of the same
series for MPR and 3D is the same voxels in the same order, so
:func:`workstation.model.series_volume.load_series_volume` takes a view of that
array instead of reading every file again (and holding the voxels twice).

Entries are weak: a stack the viewer closed is gone from here as well.  Only
series whose frames are all single planes of one size, 16 bits, are kept (the
ones with a shared array); any thread may look them up.
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # stack_pixels imports this module
    from workstation.model.stack_pixels import StackPixels

_lock = threading.Lock()
_by_series: weakref.WeakValueDictionary[str, StackPixels] = weakref.WeakValueDictionary()


def remember(series_uid: str, pixels: StackPixels) -> None:
    """Note that ``pixels`` (a StackPixels with one shared array) hold ``series_uid``'s frames."""
    if not series_uid or getattr(pixels, "volume", None) is None:
        return
    with _lock:
        current = _by_series.get(series_uid)
        # A key-image display set holds some frames of a series: it does not replace the whole stack.
        if current is not None and len(current.stack) > len(pixels.stack):
            return
        _by_series[series_uid] = pixels


def pixels_of(series_uid: str) -> StackPixels | None:
    """The StackPixels in memory for ``series_uid`` (the most recently opened), or None."""
    with _lock:
        return _by_series.get(series_uid)


def forget(series_uid: str) -> None:
    with _lock:
        _by_series.pop(series_uid, None)
