"""Which reader has a study in progress (opened from the worklist, not yet reported)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.store.writer import now_iso


@dataclass(frozen=True)
class Claim:
    study_uid: str
    reader: str
    reader_id: str
    since: str

    def by(self, reader: str, reader_id: str = "") -> bool:
        """True when the claim is this reader's (by ID when both have one, else by name)."""
        if self.reader_id and reader_id:
            return self.reader_id == reader_id
        return self.reader == reader


def claim(cache: StudyCache, study_uid: str, reader: str, reader_id: str = "") -> Claim:
    """Mark ``study_uid`` in progress for this reader (replacing an earlier claim)."""
    since = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        con.execute("INSERT OR REPLACE INTO reading_claims (study_uid, reader, reader_id, since) VALUES (?,?,?,?)",
                    (study_uid, reader, reader_id, since))
    return Claim(study_uid, reader, reader_id, since)


def release(cache: StudyCache, study_uid: str) -> None:
    with cache.lock, transaction(cache.connection) as con:
        con.execute("DELETE FROM reading_claims WHERE study_uid=?", (study_uid,))


#: A claim older than this no longer marks the study in progress (a reader who opened it and went home).
CLAIM_HOURS = 12.0


def claims(cache: StudyCache, *, max_age_hours: float = CLAIM_HOURS,
           now: dt.datetime | None = None) -> dict[str, Claim]:
    """The claims still current (younger than ``max_age_hours``), by Study Instance UID."""
    now = now or dt.datetime.now(dt.UTC)
    oldest = (now - dt.timedelta(hours=max_age_hours)).isoformat(timespec="seconds")
    with cache.lock:
        rows = list(cache.connection.execute("SELECT * FROM reading_claims WHERE since >= ?", (oldest,)))
    return {r["study_uid"]: Claim(r["study_uid"], r["reader"], r["reader_id"], r["since"]) for r in rows}


def reporters(cache: StudyCache) -> dict[str, set[str]]:
    """Who issued reports, by Study Instance UID (the observer names recorded with each report)."""
    with cache.lock:
        rows = list(cache.connection.execute("SELECT study_uid, observer FROM reports"))
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["study_uid"], set()).add(r["observer"])
    return out
