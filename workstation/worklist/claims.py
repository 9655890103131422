"""Who is reading or has reported a study: claimed here, or told by the RIS.

A claim is one row per study (table ``reading_claims``): the reader, the
reading status (in progress, preliminary, final, amended) and where it was
learnt.  A *local* claim is made when this workstation's reader opens a study
from the worklist; it lapses after :data:`CLAIM_HOURS` (a reader who opened it
and went home).  A *RIS* claim comes from the RIS's order status or result
messages (a colleague at another station opened or reported the study); it is
kept until the RIS says otherwise.  A claim for an order whose study is not
known here yet is keyed :func:`accession_key` instead of a Study Instance UID.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.store.writer import now_iso

IN_PROGRESS = "in progress"
#: Reading statuses a claim may carry (the worklist's words).
CLAIM_STATUSES = (IN_PROGRESS, "preliminary", "final", "amended")
LOCAL, RIS = "local", "ris"


def accession_key(accession: str) -> str:
    """The claim key of an order known only by its accession (the worklist item's key too)."""
    return f"accession:{accession}"


@dataclass(frozen=True)
class Claim:
    study_uid: str
    reader: str
    reader_id: str
    since: str
    status: str = IN_PROGRESS
    source: str = LOCAL

    def by(self, reader: str, reader_id: str = "") -> bool:
        """True when the claim is this reader's (by ID when both have one, else by name).

        Without a name on either side (no reader set up here), a claim made here is this
        reader's and one from the RIS is not.
        """
        if self.reader_id and reader_id:
            return self.reader_id == reader_id
        if not self.reader and not reader:
            return self.source == LOCAL
        return self.reader == reader


def claim(cache: StudyCache, study_uid: str, reader: str, reader_id: str = "", *, status: str = IN_PROGRESS,
          source: str = LOCAL) -> Claim:
    """Record that ``reader`` is reading (or has reported) ``study_uid``, replacing an earlier claim.

    Parameters
    ----------
    study_uid : str
        The study, or :func:`accession_key` of an order whose study is not known.
    reader, reader_id : str
        The reader's name (DICOM PN) and ID.
    status : str
        One of :data:`CLAIM_STATUSES`.
    source : str
        ``"local"`` (opened here) or ``"ris"`` (the RIS said so).
    """
    if status not in CLAIM_STATUSES:
        raise ValueError(f"unknown reading status {status!r}: one of {', '.join(CLAIM_STATUSES)}")
    since = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        con.execute("INSERT OR REPLACE INTO reading_claims (study_uid, reader, reader_id, since, status, source) "
                    "VALUES (?,?,?,?,?,?)", (study_uid, reader, reader_id, since, status, source))
    return Claim(study_uid, reader, reader_id, since, status, source)


def release(cache: StudyCache, study_uid: str, *, only_in_progress: bool = False) -> bool:
    """Remove the claim of ``study_uid``; True when there was one.

    ``only_in_progress``: a reported status (preliminary, final) is kept.
    """
    sql = "DELETE FROM reading_claims WHERE study_uid=?"
    if only_in_progress:
        sql += f" AND status='{IN_PROGRESS}'"
    with cache.lock, transaction(cache.connection) as con:
        return con.execute(sql, (study_uid,)).rowcount > 0


def claim_of(cache: StudyCache, study_uid: str) -> Claim | None:
    """The claim of one study (current or lapsed), or None."""
    with cache.lock:
        row = cache.connection.execute("SELECT * FROM reading_claims WHERE study_uid=?", (study_uid,)).fetchone()
    return _claim(row) if row is not None else None


def _claim(r: sqlite3.Row) -> Claim:
    return Claim(r["study_uid"], r["reader"], r["reader_id"], r["since"], r["status"], r["source"])


#: A local claim older than this no longer marks the study in progress (a reader who opened it and went home).
CLAIM_HOURS = 12.0


def claims(cache: StudyCache, *, max_age_hours: float = CLAIM_HOURS,
           now: dt.datetime | None = None) -> dict[str, Claim]:
    """The claims still current, by Study Instance UID (or :func:`accession_key`).

    A local "in progress" claim lapses after ``max_age_hours``; what the RIS said,
    and reported statuses, stay until replaced or released.
    """
    now = now or dt.datetime.now(dt.UTC)
    oldest = (now - dt.timedelta(hours=max_age_hours)).isoformat(timespec="seconds")
    with cache.lock:
        rows = list(cache.connection.execute(
            "SELECT * FROM reading_claims WHERE source != ? OR status != ? OR since >= ?",
            (LOCAL, IN_PROGRESS, oldest)))
    return {r["study_uid"]: _claim(r) for r in rows}


def reporters(cache: StudyCache) -> dict[str, set[str]]:
    """Who issued reports, by Study Instance UID (the observer names recorded with each report)."""
    with cache.lock:
        rows = list(cache.connection.execute("SELECT study_uid, observer FROM reports"))
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["study_uid"], set()).add(r["observer"])
    return out
