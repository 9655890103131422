"""Presentation states and key object selections in the study cache.

Saving puts a GSPS or KOS into the cache like any received object (so the
send command can return it to the study's archive); finding lists those of a
study: presentation states under the series they apply to, key object
selections as key-image display sets.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation.dicom.charset import encode_dataset
from workstation.dicom.header import parse_header
from workstation.imaging.key_images import (
    KEY_OBJECT_SELECTION_SOP_CLASS,
    KeyObjectSelectionContent,
    read_key_object_selection,
)
from workstation.imaging.presentation_state import GSPS_SOP_CLASS, PresentationState, read_gsps
from workstation.store.cache import StudyCache
from workstation.store.queries import InstanceRow
from workstation.store.writer import CommitResult

__all__ = [
    "SavedPresentationState",
    "store_object",
    "presentation_states_by_series",
    "key_object_selections",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SavedPresentationState:
    """A GSPS of the cache, read, with where it is."""

    path: Path
    state: PresentationState

    @property
    def title(self) -> str:
        """What a series list shows: label, description, date."""
        parts = [self.state.content_label, self.state.content_description, self.state.creation_date]
        return " — ".join(p for p in parts if p)


def store_object(cache: StudyCache, ds: Dataset, *, source: str = "lightbox") -> CommitResult:
    """Write a built object (GSPS, KOS) into the cache as a Part 10 file.

    Returns
    -------
    CommitResult
        As for any received object: stored, duplicate (same bytes again) or conflict.
    """
    data = encode_dataset(ds)  # every name exact: UTF-8 when the images' character set cannot hold a value
    _dataset, record = parse_header(data, len(data))
    return cache.store_bytes(data, record, source=source)


def _read(cache: StudyCache, row: InstanceRow) -> tuple[Path, Dataset] | None:
    path = cache.path_of(row)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return path, dcmread(path, force=True)
    except Exception as exc:  # one unreadable object must not hide the others
        log.warning("cannot read cached object %s: %s", row.sop_instance_uid, exc)
        return None


def _rows_of_class(cache: StudyCache, study_uid: str, sop_class_uid: str) -> Iterator[InstanceRow]:
    for series in cache.series(study_uid):
        for row in cache.instances(series.series_uid):
            if row.sop_class_uid == sop_class_uid:
                yield row


def presentation_states_by_series(cache: StudyCache, study_uid: str) -> dict[str, list[SavedPresentationState]]:
    """The study's GSPS objects, listed under every series they reference.

    Returns
    -------
    dict
        Series Instance UID -> presentation states, newest first.  Objects
        that cannot be read are logged (by UID) and left out.
    """
    out: dict[str, list[SavedPresentationState]] = {}
    for row in _rows_of_class(cache, study_uid, GSPS_SOP_CLASS):
        read = _read(cache, row)
        if read is None:
            continue
        path, ds = read
        try:
            state = read_gsps(ds)
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("cannot read presentation state %s: %s", row.sop_instance_uid, exc)
            continue
        for series_uid in dict.fromkeys(r.series_instance_uid for r in state.referenced):
            out.setdefault(series_uid, []).append(SavedPresentationState(path, state))
    for states in out.values():
        states.sort(key=lambda s: (s.state.creation_date, s.state.creation_time), reverse=True)
    return out


def key_object_selections(cache: StudyCache, study_uid: str) -> list[KeyObjectSelectionContent]:
    """The study's Key Object Selection documents, newest first (by Content Date/Time)."""
    out = []
    for row in _rows_of_class(cache, study_uid, KEY_OBJECT_SELECTION_SOP_CLASS):
        read = _read(cache, row)
        if read is None:
            continue
        try:
            out.append(read_key_object_selection(read[1]))
        except (ValueError, TypeError, AttributeError) as exc:
            log.warning("cannot read key object selection %s: %s", row.sop_instance_uid, exc)
    out.sort(key=lambda c: (c.content_date, c.content_time), reverse=True)
    return out
