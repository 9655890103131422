"""The segmentations of the open studies as overlay layers for 2D viewports (Qt-free).

Viewports ask :meth:`SegmentationOverlays.layer` for the RGBA layer over the
image they show (by SOP Instance UID); the segment list toggles segments and
switches between outline and fill.  Layers are cached per image and dropped
when a setting changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from workstation.clinical.seg import SEGMENTATION_STORAGE, SegmentationError, SegmentationObject, overlay_rgba

if TYPE_CHECKING:
    from workstation.store.cache import StudyCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentRow:
    """One line of the segment list."""

    segmentation: int
    number: int
    label: str
    colour: tuple[int, int, int]
    visible: bool
    images: int


class SegmentationOverlays:
    """Segmentations of the open studies and how they are shown."""

    def __init__(self) -> None:
        self.segmentations: list[SegmentationObject] = []
        self.messages: list[str] = []
        self.outline_only = False
        self.fill_opacity = 0.35
        self._cache: dict[str, np.ndarray | None] = {}
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        self._cache.clear()
        for listener in list(self._listeners):
            listener()

    def clear(self) -> None:
        self.segmentations.clear()
        self.messages.clear()
        self._changed()

    def load_study(self, cache: StudyCache, study_uid: str) -> int:
        """Read the SEG instances of a cached study; returns how many were added (bad ones go to ``messages``)."""
        added = 0
        for series in cache.series(study_uid):
            if series.modality != "SEG":
                continue
            for row in cache.instances(series.series_uid):
                if row.sop_class_uid != SEGMENTATION_STORAGE:
                    continue
                if any(str(s.dataset.SOPInstanceUID) == row.sop_instance_uid for s in self.segmentations):
                    continue
                try:
                    self.segmentations.append(SegmentationObject(cache.path_of(row)))
                    added += 1
                except (SegmentationError, OSError) as exc:
                    self.messages.append(f"segmentation of series {series.series_number or '?'}: {exc}")
                    log.warning("segmentation not shown: %s", type(exc).__name__)
        if added:
            self._changed()
        return added

    def add(self, segmentation: SegmentationObject) -> None:
        self.segmentations.append(segmentation)
        self._changed()

    def rows(self) -> list[SegmentRow]:
        return [
            SegmentRow(i, s.number, s.label, s.colour, s.visible, len(s.frames))
            for i, seg in enumerate(self.segmentations)
            for s in seg.segments.values()
        ]

    def set_visible(self, segmentation: int, number: int, visible: bool) -> None:
        self.segmentations[segmentation].segments[number].visible = visible
        self._changed()

    def set_outline_only(self, on: bool) -> None:
        self.outline_only = on
        self._changed()

    def layer(self, sop_instance_uid: str) -> np.ndarray | None:
        """The RGBA (rows, columns, 4) layer of every visible segment over one image, or None."""
        if sop_instance_uid in self._cache:
            return self._cache[sop_instance_uid]
        out = None
        for seg in self.segmentations:
            layer = overlay_rgba(seg, sop_instance_uid, fill_opacity=self.fill_opacity, outline_only=self.outline_only)
            if layer is None:
                continue
            if out is None:
                out = layer
            else:  # later segmentations over earlier ones
                a = layer[..., 3:4].astype(np.float32) / 255.0
                rgb = out[..., :3] * (1 - a) + layer[..., :3] * a
                alpha = np.maximum(out[..., 3], layer[..., 3])
                out = np.concatenate([np.rint(rgb), alpha[..., None]], axis=-1).astype(np.uint8)
        self._cache[sop_instance_uid] = out
        return out
