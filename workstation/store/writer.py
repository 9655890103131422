"""Committing staged files to the cache: one transaction per batch.

Inside ``BEGIN IMMEDIATE`` (so concurrent writers take turns) each staged file
is checked against the index by SOP Instance UID:

- new: renamed into place and indexed;
- same UID, same content: a duplicate, the staged copy is dropped;
- same UID, different content: a conflict, kept aside under ``.conflicts`` and
  recorded, the cached copy untouched.

Files are renamed before the transaction commits, so the index never points at
a missing or partial file; a crash in between leaves an orphan file that
``cache verify --repair`` indexes.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime, UTC
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.store.database import inserted_pk, transaction
from workstation.store.merges import is_merged_study, record_late_merge, survivor_of
from workstation.store.layout import (
    RenameJournal,
    StagedFile,
    conflict_relpath,
    fsync_dir,
    instance_relpath,
    resolve_inside,
)

if TYPE_CHECKING:  # the record is only named here; reading headers (pydicom) is not needed to commit
    from workstation.dicom.header import InstanceRecord

log = logging.getLogger(__name__)


class Outcome(str, Enum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    FAILED = "failed"


@dataclass(frozen=True)
class CommitResult:
    sop_instance_uid: str
    outcome: Outcome
    message: str = ""
    relpath: str = ""


@dataclass(frozen=True)
class PendingInstance:
    staged: StagedFile
    record: InstanceRecord
    source: str = ""
    source_ae: str = ""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# (series UID, study UID, patient key): the rows an instance hangs under.
_HierarchyKey = tuple[str, str, tuple[str, str, str]]


def _patient_key(rec: InstanceRecord) -> tuple[str, str, str]:
    if rec.patient_id:
        return rec.patient_id, rec.issuer_of_patient_id, ""
    # No Patient ID: never merge two anonymous patients by an empty key.
    return "", rec.issuer_of_patient_id, f"{rec.patient_name}|{rec.patient_birth_date}"


def commit_batch(con: sqlite3.Connection, cache_dir: Path, batch: list[PendingInstance]) -> list[CommitResult]:
    """Rename and index a batch of staged files; see the module docstring."""
    results: list[CommitResult] = []
    touched_series: set[int] = set()
    touched_studies: set[int] = set()
    dirs_to_sync: set[Path] = set()
    received = now_iso()
    known: dict[_HierarchyKey, tuple[int, int]] = {}  # -> (series pk, study pk) within this batch
    folders: dict[str, Path] = {}  # series folders checked and made in this batch
    renamed = RenameJournal(cache_dir)  # files moved into place in this transaction: removed if it fails
    try:
        # Where the batch's new files will go, journalled in one write before any is moved.
        renamed.expect(rel for rel in map(_relpath_or_none, batch) if rel)
        with transaction(con):
            for item in batch:
                rec = item.record
                try:
                    res = _commit_one(con, cache_dir, item, received, touched_series, touched_studies,
                                      dirs_to_sync, known, renamed, folders)
                except OSError as exc:
                    # Disk full, permissions: this instance fails, the batch goes on.
                    item.staged.tmp_path.unlink(missing_ok=True)
                    res = CommitResult(rec.sop_instance_uid, Outcome.FAILED, cannot_write_message(exc, cache_dir))
                results.append(res)
            for d in dirs_to_sync:
                fsync_dir(d)
            _refresh_counts(con, touched_series, touched_studies)
    except (sqlite3.Error, OSError) as exc:
        # The index could not take the batch (its disk is full, it is locked ...): nothing of the
        # batch is indexed, so nothing of it may stay behind as a file no row points at.
        for path in renamed.paths:
            path.unlink(missing_ok=True)
        for item in batch:
            item.staged.tmp_path.unlink(missing_ok=True)
        raise CacheWriteError(cannot_write_message(exc, cache_dir, index=True), disk_full=is_disk_full(exc)) from exc
    finally:
        renamed.close()
    return results


def _relpath_or_none(item: PendingInstance) -> str | None:
    rec = item.record
    try:
        return instance_relpath(rec.study_uid, rec.series_uid, rec.sop_instance_uid)
    except ValueError:
        return None  # _commit_one says why


class CacheWriteError(OSError):
    """A batch could not be indexed; its files were removed.  ``disk_full`` tells why, when it is that."""

    def __init__(self, message: str, *, disk_full: bool = False) -> None:
        super().__init__(message)
        self.disk_full = disk_full


def is_disk_full(exc: BaseException | None) -> bool:
    """True for ENOSPC/EDQUOT and SQLite's "database or disk is full"."""
    if isinstance(exc, CacheWriteError):
        return exc.disk_full
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code == getattr(sqlite3, "SQLITE_FULL", 13) or "disk is full" in str(exc)
    return False


def cannot_write_message(exc: BaseException, cache_dir: Path, *, index: bool = False) -> str:
    """One sentence for a failed write: a full disk is named as such, with where and how much is free."""
    if is_disk_full(exc):
        try:
            free = shutil.disk_usage(cache_dir).free
            room = f" ({free // (1 << 20)} MB free)"
        except OSError:
            room = ""
        # "disk full" first: a C-STORE's Error Comment keeps only 64 characters.
        return f"disk full: no room for the cache at {cache_dir}{room}; free space there or prune the cache"
    if isinstance(exc, OSError):
        return f"cannot write to the cache: {exc.strerror or exc}"
    return f"cannot {'index' if index else 'store'} it: {exc}"


def _commit_one(
    con: sqlite3.Connection,
    cache_dir: Path,
    item: PendingInstance,
    received: str,
    touched_series: set[int],
    touched_studies: set[int],
    dirs_to_sync: set[Path],
    known: dict[_HierarchyKey, tuple[int, int]],
    renamed: RenameJournal,
    folders: dict[str, Path],
) -> CommitResult:
    rec, staged = item.record, item.staged
    row = con.execute(
        "SELECT file_hash, file_path FROM instances WHERE sop_instance_uid=?", (rec.sop_instance_uid,)
    ).fetchone()
    if row is not None:
        if row["file_hash"] == staged.file_hash:
            staged.tmp_path.unlink(missing_ok=True)
            return CommitResult(rec.sop_instance_uid, Outcome.DUPLICATE, "already in the cache", row["file_path"])
        return _keep_conflict(con, cache_dir, item, received, dirs_to_sync, renamed)

    relpath = instance_relpath(rec.study_uid, rec.series_uid, rec.sop_instance_uid)
    folder_rel, _, name = relpath.rpartition("/")
    folder = folders.get(folder_rel)
    if folder is None:
        # Once per series and batch: resolving every file's path (a stat per component) and
        # making its folder again cost more than the rename itself.
        folder = folders[folder_rel] = resolve_inside(cache_dir, folder_rel)
        folder.mkdir(parents=True, exist_ok=True)
    final = folder / name  # a checked UID: never a separator, never ".."
    renamed.note(final, relpath)
    os.replace(staged.tmp_path, final)
    dirs_to_sync.add(final.parent)
    key = (rec.series_uid, rec.study_uid, _patient_key(rec))
    if key not in known:
        known[key] = _upsert_hierarchy(con, rec, received)
    series_pk, study_pk = known[key]
    con.execute(
        """INSERT INTO instances (series_pk, sop_instance_uid, sop_class_uid, instance_number,
               transfer_syntax_uid, rows, columns, number_of_frames, image_position, image_orientation,
               pixel_spacing, slice_thickness, acquisition_time, image_type, view_position, image_laterality,
               patient_id, patient_name, file_path, file_size, file_hash, received_at, source_ae, source,
               bits_allocated, pixel_representation, samples_per_pixel, photometric_interpretation,
               rescale_slope, rescale_intercept, pixel_data_offset)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        (
            series_pk, rec.sop_instance_uid, rec.sop_class_uid, rec.instance_number,
            rec.transfer_syntax_uid, rec.rows, rec.columns, rec.number_of_frames, rec.image_position,
            rec.image_orientation, rec.pixel_spacing, rec.slice_thickness, rec.acquisition_time,
            rec.image_type, rec.view_position, rec.image_laterality, rec.patient_id, rec.patient_name,
            relpath, staged.size, staged.file_hash, received, item.source_ae, item.source,
            rec.bits_allocated, rec.pixel_representation, rec.samples_per_pixel,
            rec.photometric_interpretation, rec.rescale_slope, rec.rescale_intercept, rec.pixel_data_offset,
        ),
    )
    touched_series.add(series_pk)
    touched_studies.add(study_pk)
    return CommitResult(rec.sop_instance_uid, Outcome.STORED, "", relpath)


def _keep_conflict(
    con: sqlite3.Connection, cache_dir: Path, item: PendingInstance, received: str, dirs_to_sync: set[Path],
    renamed: RenameJournal,
) -> CommitResult:
    rec, staged = item.record, item.staged
    relpath = conflict_relpath(rec.sop_instance_uid, staged.file_hash)
    known = con.execute(
        "SELECT 1 FROM conflicts WHERE sop_instance_uid=? AND file_hash=?", (rec.sop_instance_uid, staged.file_hash)
    ).fetchone()
    if known:
        staged.tmp_path.unlink(missing_ok=True)
    else:
        final = resolve_inside(cache_dir, relpath)
        final.parent.mkdir(parents=True, exist_ok=True)
        renamed.note(final)
        os.replace(staged.tmp_path, final)
        dirs_to_sync.add(final.parent)
        con.execute(
            """INSERT INTO conflicts (sop_instance_uid, study_uid, series_uid, file_path, file_size,
                   file_hash, received_at, source) VALUES (?,?,?,?,?,?,?,?)""",
            (rec.sop_instance_uid, rec.study_uid, rec.series_uid, relpath, staged.size, staged.file_hash,
             received, item.source),
        )
    log.warning("conflict: SOP Instance %s arrived again with different content; kept aside", rec.sop_instance_uid)
    return CommitResult(
        rec.sop_instance_uid,
        Outcome.CONFLICT,
        "a different object with this SOP Instance UID is already cached; the new copy was kept aside",
        relpath,
    )


def _upsert_hierarchy(con: sqlite3.Connection, rec: InstanceRecord, received: str) -> tuple[int, int]:
    pid, issuer, extra = _patient_key(rec)
    row = con.execute(
        "SELECT pk FROM patients WHERE patient_id=? AND issuer=? AND key_extra=?", (pid, issuer, extra)
    ).fetchone()
    if row is None:
        patient_pk = inserted_pk(con.execute(
            "INSERT INTO patients (patient_id, issuer, key_extra, name, birth_date, sex) VALUES (?,?,?,?,?,?)",
            (pid, issuer, extra, rec.patient_name, rec.patient_birth_date, rec.patient_sex),
        ))
    else:
        patient_pk = row["pk"]

    row = con.execute("SELECT pk, patient_pk FROM studies WHERE study_uid=?", (rec.study_uid,)).fetchone()
    if row is None:
        survivor = survivor_of(con, pid)
        if survivor is not None:
            # A new study under a Patient ID the RIS merged away: filed under the survivor, as the merge would have.
            patient_pk = survivor.pk
            record_late_merge(con, survivor, rec.study_uid, pid, rec.patient_name, received)
        study_pk = inserted_pk(con.execute(
            """INSERT INTO studies (patient_pk, study_uid, study_date, study_time, description, accession,
                   study_id, referring_physician, institution, created) VALUES (?,?,?,?,?,?,?,?,?,?)""",
            (patient_pk, rec.study_uid, rec.study_date, rec.study_time, rec.study_description,
             rec.accession_number, rec.study_id, rec.referring_physician, rec.institution_name, received),
        ))
    else:
        study_pk = row["pk"]
        if row["patient_pk"] != patient_pk and not is_merged_study(con, rec.study_uid, pid):
            # Never silent: the study is flagged and QC shows it (a study the RIS merged away from this
            # Patient ID is one patient's, not two).
            con.execute("UPDATE studies SET mixed_patients=1 WHERE pk=?", (study_pk,))
            log.warning("study %s holds instances of more than one patient", rec.study_uid)

    row = con.execute("SELECT pk FROM series WHERE series_uid=?", (rec.series_uid,)).fetchone()
    if row is None:
        series_pk = inserted_pk(con.execute(
            """INSERT INTO series (study_pk, series_uid, series_number, description, modality, body_part,
                   laterality, frame_of_reference_uid, protocol_name, contrast_bolus_agent, series_date,
                   series_time) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
            (study_pk, rec.series_uid, rec.series_number, rec.series_description, rec.modality, rec.body_part,
             rec.laterality, rec.frame_of_reference_uid, rec.protocol_name, rec.contrast_bolus_agent,
             rec.series_date, rec.series_time),
        ))
    else:
        series_pk = row["pk"]
    return series_pk, study_pk


def _refresh_counts(con: sqlite3.Connection, series_pks: set[int], study_pks: set[int]) -> None:
    for pk in series_pks:
        con.execute(
            "UPDATE series SET num_instances=(SELECT count(*) FROM instances WHERE series_pk=?) WHERE pk=?", (pk, pk)
        )
    for pk in study_pks:
        refresh_study_summary(con, pk)


def refresh_study_summary(con: sqlite3.Connection, study_pk: int) -> None:
    """Recompute a study's counts, modalities and body parts from its series."""
    con.execute(
        """UPDATE studies SET
             num_series=(SELECT count(*) FROM series WHERE study_pk=:pk),
             num_instances=(SELECT coalesce(sum(num_instances),0) FROM series WHERE study_pk=:pk),
             size_bytes=(SELECT coalesce(sum(i.file_size),0) FROM instances i JOIN series se
                 ON i.series_pk=se.pk WHERE se.study_pk=:pk),
             modalities=coalesce((SELECT group_concat(m, '\\') FROM
                 (SELECT DISTINCT modality AS m FROM series WHERE study_pk=:pk AND modality!='' ORDER BY m)), ''),
             body_parts=coalesce((SELECT group_concat(b, '\\') FROM
                 (SELECT DISTINCT body_part AS b FROM series WHERE study_pk=:pk AND body_part!='' ORDER BY b)), '')
           WHERE pk=:pk""",
        {"pk": study_pk},
    )
