"""QC state kept in the index (migration 4): the "QC done" mark, notes read, the audit.

These tables belong to QC; the rest of the index is the store's.  Every
function takes the cache's lock and writes in one ``BEGIN IMMEDIATE``
transaction, like the store's own writers.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any
from collections.abc import Iterable

from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.store.writer import now_iso


@dataclass(frozen=True)
class QcMark:
    """A study marked "QC done"."""

    study_uid: str
    operator: str
    marked_at: str
    outcome: str  # the checklist's overall status when it was marked: pass, warn or fail
    summary: str

    def as_dict(self) -> dict[str, str]:
        return {"study_uid": self.study_uid, "operator": self.operator, "marked_at": self.marked_at,
                "outcome": self.outcome, "summary": self.summary}


def set_qc_done(cache: StudyCache, study_uid: str, *, operator: str, outcome: str, summary: str = "") -> QcMark:
    """Mark ``study_uid`` "QC done" (replacing an earlier mark)."""
    mark = QcMark(study_uid, operator, now_iso(), outcome, summary)
    with cache.lock, transaction(cache.connection) as con:
        con.execute(
            "INSERT OR REPLACE INTO qc_marks (study_uid, operator, marked_at, outcome, summary) VALUES (?,?,?,?,?)",
            (mark.study_uid, mark.operator, mark.marked_at, mark.outcome, mark.summary),
        )
        _audit(con, "qc-done", study_uid, operator, "", {"outcome": outcome})
    return mark


def clear_qc_done(cache: StudyCache, study_uid: str, *, operator: str = "") -> bool:
    """Remove the mark; False when there was none."""
    with cache.lock, transaction(cache.connection) as con:
        n = con.execute("DELETE FROM qc_marks WHERE study_uid=?", (study_uid,)).rowcount
        if n:
            _audit(con, "qc-undone", study_uid, operator, "", {})
    return n > 0


def qc_mark(cache: StudyCache, study_uid: str) -> QcMark | None:
    """The study's "QC done" mark, or None."""
    with cache.lock:
        r = cache.connection.execute("SELECT * FROM qc_marks WHERE study_uid=?", (study_uid,)).fetchone()
    return QcMark(r["study_uid"], r["operator"], r["marked_at"], r["outcome"], r["summary"]) if r else None


def qc_marks(cache: StudyCache, study_uids: Iterable[str] | None = None) -> dict[str, QcMark]:
    """Marks of several studies (all when None), by Study Instance UID."""
    with cache.lock:
        rows = list(cache.connection.execute("SELECT * FROM qc_marks"))
    wanted = set(study_uids) if study_uids is not None else None
    return {r["study_uid"]: QcMark(r["study_uid"], r["operator"], r["marked_at"], r["outcome"], r["summary"])
            for r in rows if wanted is None or r["study_uid"] in wanted}


# Rejection notes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoteRecord:
    """A Key Object Selection document read once: is it a rejection note, and what does it reject."""

    note_uid: str
    study_uid: str
    file_hash: str
    is_rejection: bool
    title: tuple[str, str, str] = ("", "", "")  # code value, scheme, meaning
    rejected: tuple[tuple[str, str, str], ...] = ()  # (study UID, series UID, SOP Instance UID)


def notes_read(cache: StudyCache, study_uid: str) -> dict[str, str]:
    """Notes of a study already read: note UID -> file hash."""
    with cache.lock:
        rows = cache.connection.execute("SELECT note_uid, file_hash FROM qc_notes WHERE study_uid=?", (study_uid,))
        return {r["note_uid"]: r["file_hash"] for r in rows}


def record_notes(cache: StudyCache, notes: Iterable[NoteRecord]) -> None:
    """Remember notes read (replacing what an earlier reading of the same note said)."""
    read_at = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        for n in notes:
            con.execute("DELETE FROM qc_rejections WHERE note_uid=?", (n.note_uid,))
            con.execute(
                """INSERT OR REPLACE INTO qc_notes (note_uid, study_uid, file_hash, is_rejection, title_code,
                       title_scheme, title_meaning, read_at) VALUES (?,?,?,?,?,?,?,?)""",
                (n.note_uid, n.study_uid, n.file_hash, int(n.is_rejection), *n.title, read_at),
            )
            con.executemany(
                "INSERT OR IGNORE INTO qc_rejections (note_uid, study_uid, series_uid, sop_instance_uid) "
                "VALUES (?,?,?,?)",
                [(n.note_uid, st, se, sop) for st, se, sop in n.rejected],
            )


def forget_notes(cache: StudyCache, note_uids: Iterable[str]) -> None:
    """Drop notes no longer in the cache (their rejections go with them)."""
    with cache.lock, transaction(cache.connection) as con:
        for uid in note_uids:
            con.execute("DELETE FROM qc_rejections WHERE note_uid=?", (uid,))
            con.execute("DELETE FROM qc_notes WHERE note_uid=?", (uid,))


def rejected_in_study(cache: StudyCache, study_uid: str) -> dict[str, tuple[str, str, str]]:
    """SOP Instance UID -> (note UID, title code, title meaning) of every rejected instance of a study."""
    with cache.lock:
        rows = cache.connection.execute(
            """SELECT r.sop_instance_uid, r.note_uid, n.title_code, n.title_meaning
               FROM qc_rejections r JOIN qc_notes n ON n.note_uid = r.note_uid
               WHERE r.study_uid=? ORDER BY n.read_at""",
            (study_uid,),
        )
        return {r["sop_instance_uid"]: (r["note_uid"], r["title_code"], r["title_meaning"]) for r in rows}


def rejection_notes(cache: StudyCache, study_uid: str) -> set[str]:
    """SOP Instance UIDs of the rejection notes read in a study."""
    with cache.lock:
        rows = cache.connection.execute("SELECT note_uid FROM qc_notes WHERE study_uid=? AND is_rejection=1",
                                        (study_uid,))
        return {r["note_uid"] for r in rows}


# Audit ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditEntry:
    action: str
    study_uid: str
    operator: str
    reason: str
    details: dict[str, Any]
    created: str


def record_audit(cache: StudyCache, action: str, study_uid: str, operator: str, reason: str,
                 details: dict[str, Any]) -> None:
    """Remember a QC action (kept in the index, never in the logs: details may name the patient)."""
    with cache.lock, transaction(cache.connection) as con:
        _audit(con, action, study_uid, operator, reason, details)


def _audit(con: sqlite3.Connection, action: str, study_uid: str, operator: str, reason: str,
           details: dict[str, Any]) -> None:
    con.execute(
        "INSERT INTO qc_audit (action, study_uid, operator, reason, details, created) VALUES (?,?,?,?,?,?)",
        (action, study_uid, operator, reason, json.dumps(details, ensure_ascii=False, default=str), now_iso()),
    )


def audit_entries(cache: StudyCache, study_uid: str) -> list[AuditEntry]:
    """The study's QC actions, oldest first."""
    with cache.lock:
        rows = list(cache.connection.execute("SELECT * FROM qc_audit WHERE study_uid=? ORDER BY pk", (study_uid,)))
    return [AuditEntry(r["action"], r["study_uid"], r["operator"], r["reason"], json.loads(r["details"] or "{}"),
                       r["created"]) for r in rows]
