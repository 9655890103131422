"""Key-image display sets: the images a Key Object Selection document points to, as one stack."""

from __future__ import annotations

import logging
from dataclasses import replace

from pydicom.dataset import Dataset

from workstation.imaging.key_images import read_key_object_selection
from workstation.imaging.viewport import DisplaySet
from workstation.model.stack import FrameRef, ImageStack, frame_refs
from workstation.model.stack_pixels import StackPixels
from workstation.store.cache import StudyCache
from workstation.store.queries import SeriesRow, StudyRow

log = logging.getLogger(__name__)


def key_image_display_set(cache: StudyCache, kos: Dataset, study: StudyRow, series: SeriesRow,
                          known: list[DisplaySet]) -> DisplaySet | None:
    """The referenced images of ``kos`` in document order (None when none is in the cache).

    Frames already stacked in ``known`` display sets are reused (their
    geometry is known); other referenced images are looked up in the cache.
    """
    try:
        content = read_key_object_selection(kos)
    except ValueError:
        return None
    by_key: dict[tuple[str, int], FrameRef] = {}
    for ds in known:
        for f in ds.stack.frames:
            by_key[f.key] = f
    frames: list[FrameRef] = []
    missing = 0
    for ref in content.references:
        wanted = [n - 1 for n in ref.frames] or None
        refs = [f for k, f in by_key.items() if k[0] == ref.sop_instance_uid]
        if not refs:
            row = cache.instance(ref.sop_instance_uid)
            if row is None:
                missing += 1
                continue
            refs = frame_refs(row, cache.path_of(row))
        refs.sort(key=lambda f: f.frame)
        frames.extend(replace(f) for f in refs if wanted is None or f.frame in wanted)
    if missing:
        log.info("key object selection: %d referenced images are not in the cache", missing)
    if not frames:
        return None
    stack = ImageStack(series=series, frames=frames, spatially_sorted=False)
    title = f"Key images: {content.title or 'Of Interest'}"
    if content.description:
        title += f" ({content.description})"
    return DisplaySet(study, stack, StackPixels(stack), title=title, key=content.sop_instance_uid)
