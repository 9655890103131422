"""Reading a cached series as a volume (the cache-facing half of volume.py)."""

from __future__ import annotations

from workstation.model.volume import Volume, VolumeError, read_volume
from workstation.store.cache import StudyCache


def load_series_volume(cache: StudyCache, series_uid: str, *, rescale: bool = True) -> Volume:
    rows = cache.instances(series_uid)
    if not rows:
        raise VolumeError(f"no series {series_uid} in the cache")
    return read_volume(rows, [cache.path_of(r) for r in rows], rescale=rescale)
