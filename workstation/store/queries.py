"""Read-side queries of the index: studies, series and instances as plain records."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_RowT = TypeVar("_RowT", bound="DataclassInstance")


@dataclass(frozen=True)
class StudyRow:
    study_uid: str
    patient_name: str
    patient_id: str
    issuer: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    description: str
    accession: str
    study_id: str
    referring_physician: str
    institution: str
    modalities: str
    body_parts: str
    num_series: int
    num_instances: int
    last_opened: str | None
    pinned: bool
    mixed_patients: bool
    size_bytes: int
    # the latest report's state (preliminary, final, amended), else draft, else unreported
    report_status: str = "unreported"
    # instances a reader hides: rejected by a rejection note (IOCM), and the notes themselves
    num_rejected: int = 0

    @property
    def num_images_shown(self) -> int:
        """Instances a reader sees: all of them but the rejected ones and the rejection notes."""
        return max(self.num_instances - self.num_rejected, 0)


@dataclass(frozen=True)
class SeriesRow:
    series_uid: str
    study_uid: str
    series_number: int | None
    description: str
    modality: str
    body_part: str
    laterality: str
    frame_of_reference_uid: str
    protocol_name: str
    contrast_bolus_agent: str
    num_instances: int


@dataclass(frozen=True)
class InstanceRow:
    sop_instance_uid: str
    series_uid: str
    study_uid: str
    sop_class_uid: str
    instance_number: int | None
    transfer_syntax_uid: str
    rows: int | None
    columns: int | None
    number_of_frames: int
    image_position: str
    image_orientation: str
    pixel_spacing: str
    slice_thickness: float | None
    acquisition_time: str
    image_type: str
    view_position: str
    image_laterality: str
    file_path: str
    file_size: int
    file_hash: str
    received_at: str
    source_ae: str
    bits_allocated: int | None
    pixel_representation: int | None
    samples_per_pixel: int | None
    photometric_interpretation: str
    rescale_slope: float | None
    rescale_intercept: float | None
    pixel_data_offset: int | None


@dataclass
class StudyFilter:
    """Filters of the study list; text filters accept DICOM wildcards ``*`` and ``?``."""

    patient_name: str = ""
    patient_id: str = ""
    accession: str = ""
    modality: str = ""
    date_from: str = ""  # YYYYMMDD, inclusive
    date_to: str = ""
    study_uid: str = ""
    report_status: str = ""  # as the index keeps it: unreported, draft, preliminary, final, amended


def _like(value: str) -> str:
    """DICOM wildcard text to a LIKE pattern (case-insensitive substring when no wildcard)."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if "*" in value or "?" in value:
        return escaped.replace("*", "%").replace("?", "_")
    return f"%{escaped}%"


_STUDY_SELECT = """
SELECT s.study_uid, p.name AS patient_name, p.patient_id, p.issuer, p.birth_date, p.sex,
       s.study_date, s.study_time, s.description, s.accession, s.study_id, s.referring_physician,
       s.institution, s.modalities, s.body_parts, s.num_series, s.num_instances, s.last_opened,
       s.pinned, s.mixed_patients, s.size_bytes,
       coalesce((SELECT r.state FROM reports r WHERE r.study_uid = s.study_uid
                 ORDER BY r.created DESC, r.rowid DESC LIMIT 1),
                CASE WHEN EXISTS (SELECT 1 FROM report_drafts d WHERE d.study_uid = s.study_uid) THEN 'draft' END,
                'unreported') AS report_status,
       (SELECT count(DISTINCT r.sop_instance_uid) FROM qc_rejections r
          JOIN instances i ON i.sop_instance_uid = r.sop_instance_uid WHERE r.study_uid = s.study_uid)
       + (SELECT count(*) FROM qc_notes n JOIN instances i ON i.sop_instance_uid = n.note_uid
          WHERE n.study_uid = s.study_uid AND n.is_rejection = 1) AS num_rejected
FROM studies s JOIN patients p ON s.patient_pk = p.pk
"""


def list_studies(con: sqlite3.Connection, flt: StudyFilter | None = None, limit: int | None = None) -> list[StudyRow]:
    flt = flt or StudyFilter()
    where, args = [], []
    for column, value in (("p.name", flt.patient_name), ("p.patient_id", flt.patient_id),
                          ("s.accession", flt.accession)):
        if value:
            # lb_fold: Unicode case folding ("müller" finds "Müller"; SQLite's LIKE folds ASCII only)
            where.append(f"lb_fold({column}) LIKE lb_fold(?) ESCAPE '\\'")
            args.append(_like(value))
    if flt.modality:
        where.append("('\\' || s.modalities || '\\') LIKE ?")
        args.append(f"%\\{flt.modality.upper()}\\%")
    if flt.date_from:
        where.append("s.study_date >= ?")
        args.append(flt.date_from)
    if flt.date_to:
        where.append("s.study_date <= ?")
        args.append(flt.date_to)
    if flt.study_uid:
        where.append("s.study_uid = ?")
        args.append(flt.study_uid)
    if flt.report_status:
        where.append("""coalesce((SELECT r.state FROM reports r WHERE r.study_uid = s.study_uid
                                   ORDER BY r.created DESC, r.rowid DESC LIMIT 1),
                                  CASE WHEN EXISTS (SELECT 1 FROM report_drafts d WHERE d.study_uid = s.study_uid)
                                       THEN 'draft' END, 'unreported') = ?""")
        args.append(flt.report_status)
    sql = _STUDY_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY s.study_date DESC, s.study_time DESC, p.name"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return _rows(StudyRow, con.execute(sql, args))


def list_series(con: sqlite3.Connection, study_uid: str) -> list[SeriesRow]:
    rows = con.execute(
        """SELECT se.series_uid, st.study_uid, se.series_number, se.description, se.modality, se.body_part,
                  se.laterality, se.frame_of_reference_uid, se.protocol_name, se.contrast_bolus_agent,
                  se.num_instances
           FROM series se JOIN studies st ON se.study_pk = st.pk WHERE st.study_uid = ?
           ORDER BY se.series_number IS NULL, se.series_number, se.series_uid""",
        (study_uid,),
    )
    return _rows(SeriesRow, rows)


_INSTANCE_SELECT = """
SELECT i.sop_instance_uid, se.series_uid, st.study_uid, i.sop_class_uid, i.instance_number,
       i.transfer_syntax_uid, i.rows, i.columns, i.number_of_frames, i.image_position, i.image_orientation,
       i.pixel_spacing, i.slice_thickness, i.acquisition_time, i.image_type, i.view_position,
       i.image_laterality, i.file_path, i.file_size, i.file_hash, i.received_at, i.source_ae,
       i.bits_allocated, i.pixel_representation, i.samples_per_pixel, i.photometric_interpretation,
       i.rescale_slope, i.rescale_intercept, i.pixel_data_offset
FROM instances i JOIN series se ON i.series_pk = se.pk JOIN studies st ON se.study_pk = st.pk
"""


def list_instances(con: sqlite3.Connection, series_uid: str) -> list[InstanceRow]:
    rows = con.execute(
        _INSTANCE_SELECT + " WHERE se.series_uid = ? ORDER BY i.instance_number IS NULL, i.instance_number, i.pk",
        (series_uid,),
    )
    return _rows(InstanceRow, rows)


def list_study_instances(con: sqlite3.Connection, study_uid: str) -> dict[str, list[InstanceRow]]:
    """Every instance of a study in one query, by Series Instance UID (each in :func:`list_instances`' order).

    Series without instances are not keys.
    """
    rows = con.execute(
        _INSTANCE_SELECT + " WHERE st.study_uid = ?"
        " ORDER BY se.pk, i.instance_number IS NULL, i.instance_number, i.pk",
        (study_uid,),
    )
    out: dict[str, list[InstanceRow]] = {}
    for row in _rows(InstanceRow, rows):
        out.setdefault(row.series_uid, []).append(row)
    return out


def get_instance(con: sqlite3.Connection, sop_uid: str) -> InstanceRow | None:
    r = con.execute(_INSTANCE_SELECT + " WHERE i.sop_instance_uid = ?", (sop_uid,)).fetchone()
    return _row(InstanceRow, r) if r else None


@functools.cache
def _shape(cls: type[DataclassInstance]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A row type's field names and its boolean fields (``dataclasses.fields`` is slow to ask per row)."""
    names = tuple(f.name for f in fields(cls))
    return names, tuple(f.name for f in fields(cls) if f.type in ("bool",))


def _row(cls: type[_RowT], r: sqlite3.Row) -> _RowT:
    names, flags = _shape(cls)
    values: dict[str, Any] = {name: r[name] for name in names}
    for name in flags:
        values[name] = bool(values[name])
    return cls(**values)


def _rows(cls: type[_RowT], rows: Iterable[sqlite3.Row]) -> list[_RowT]:
    """Records of many rows of one query: the columns are looked up by name once, not per row."""
    names, flags = _shape(cls)
    out: list[_RowT] = []
    positions: list[tuple[str, int]] = []
    for r in rows:
        if not positions:
            keys = r.keys()
            positions = [(name, keys.index(name)) for name in names]
        values: dict[str, Any] = {name: r[i] for name, i in positions}
        for name in flags:
            values[name] = bool(values[name])
        out.append(cls(**values))
    return out
