"""What every QC operation shares: reading cached instances and storing what it produced.

Objects QC produces go into the cache like any received object (so they show in
the study and survive restarts) before anything is sent; the originals stay
in the cache untouched.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from workstation.dicom.charset import CharsetError, encode_dataset
from workstation.dicom.header import UnusableInstance, record_from_dataset
from workstation.store.cache import StudyCache
from workstation.store.queries import InstanceRow
from workstation.store.writer import Outcome

log = logging.getLogger(__name__)

#: SOP Class UID of Key Object Selection documents (rejection notes are some of them).
KOS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
#: What ``source`` the cache records for objects QC made.
QC_SOURCE = "qc"


class QcError(ValueError):
    """A QC request that cannot be carried out as asked (the message says why; nothing was changed)."""


@dataclass(frozen=True)
class Produced:
    """An object a QC operation wrote into the cache.

    Attributes
    ----------
    kind : {"copy", "note"}
        A corrected copy, or a rejection note.
    """

    kind: str
    sop_instance_uid: str
    sop_class_uid: str
    series_uid: str
    study_uid: str
    path: Path

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "sop_instance_uid": self.sop_instance_uid, "sop_class_uid": self.sop_class_uid,
                "series_uid": self.series_uid, "study_uid": self.study_uid, "path": str(self.path)}


@dataclass
class QcOutcome:
    """What a correction, split or merge produced: copies and rejection notes, all in the cache."""

    produced: list[Produced] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    @property
    def copies(self) -> list[Produced]:
        return [p for p in self.produced if p.kind == "copy"]

    @property
    def notes(self) -> list[Produced]:
        return [p for p in self.produced if p.kind == "note"]

    def as_dict(self) -> dict[str, Any]:
        return {"copies": len(self.copies), "notes": [p.sop_instance_uid for p in self.notes],
                "rejected": len(self.rejected), "series": sorted({p.series_uid for p in self.copies}),
                "produced": [p.as_dict() for p in self.produced]}


def operator_name(explicit: str | None = None) -> str:
    """Who is doing QC: ``explicit``, else the site-login reader's display name, else the OS login name."""
    from workstation.audit.identity import reader_name

    return reader_name(explicit or "")


def study_rows(cache: StudyCache, study_uid: str) -> list[InstanceRow]:
    """Every cached instance of a study, series by series."""
    return [row for s in cache.series(study_uid) for row in cache.instances(s.series_uid)]


def require_study(cache: StudyCache, study_uid: str) -> None:
    if cache.study(study_uid) is None:
        raise QcError(f"no study {study_uid} in the cache (see 'lightbox studies')")


def read(cache: StudyCache, row: InstanceRow, *, pixels: bool = True) -> Dataset:
    """A cached instance as a data set (QcError when its file cannot be read)."""
    path = cache.path_of(row)
    try:
        return pydicom.dcmread(path, stop_before_pixels=not pixels)
    except (OSError, InvalidDicomError) as exc:
        raise QcError(f"cannot read cached instance {row.sop_instance_uid}: {exc}") from None


def header_only(ds: Dataset) -> Dataset:
    """``ds`` without its pixel data (in place; what a rejection note needs of an original)."""
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            delattr(ds, keyword)
    return ds


def encode(ds: Dataset) -> bytes:
    """Part 10 bytes of ``ds``, every text value exact (UTF-8 when its character set cannot hold one).

    Raises
    ------
    QcError
        A value that cannot be encoded exactly (nothing is written).
    """
    try:
        return encode_dataset(ds)
    except CharsetError as exc:
        raise QcError(f"object {ds.get('SOPInstanceUID', '')} not written: {exc}") from None


def store(cache: StudyCache, datasets: Iterable[tuple[str, Dataset]]) -> list[Produced]:
    """Write produced objects into the cache; ``datasets`` holds (kind, data set) pairs.

    Raises
    ------
    QcError
        When an object cannot be written (objects stored before it stay).
    """
    out: list[Produced] = []
    for kind, ds in datasets:
        data = encode(ds)
        try:
            record = record_from_dataset(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True))
        except UnusableInstance as exc:
            raise QcError(f"produced object {ds.SOPInstanceUID} cannot be cached: {exc}") from None
        result = cache.store_bytes(data, record, source=QC_SOURCE)
        if result.outcome not in (Outcome.STORED, Outcome.DUPLICATE):
            raise QcError(f"produced object {ds.SOPInstanceUID} was not cached: "
                          f"{result.outcome.value} {result.message}")
        out.append(Produced(kind, record.sop_instance_uid, record.sop_class_uid, record.series_uid,
                            record.study_uid, cache.cache_dir / result.relpath))
    return out


def instance_choices(cache: StudyCache, study_uid: str,
                     hidden: AbstractSet[str] = frozenset()) -> list[tuple[str, str]]:
    """(label, SOP Instance UID) of every cached instance of a study, for pickers.

    Labels read "Series 2 CHEST · image 5" and end in " (rejected)" for UIDs in ``hidden``.
    """
    out = []
    for s in cache.series(study_uid):
        number = "" if s.series_number is None else f" {s.series_number}"
        for row in cache.instances(s.series_uid):
            image = f"image {row.instance_number}" if row.instance_number is not None else row.sop_instance_uid
            label = f"Series{number} {s.description or s.modality} · {image}"
            out.append((label + (" (rejected)" if row.sop_instance_uid in hidden else ""), row.sop_instance_uid))
    return out
