"""Which reader has a study in progress (opened from the worklist, not yet reported)."""

from __future__ import annotations

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


def claims(cache: StudyCache) -> dict[str, Claim]:
    """Every claim by Study Instance UID."""
    with cache.lock:
        rows = list(cache.connection.execute("SELECT * FROM reading_claims"))
    return {r["study_uid"]: Claim(r["study_uid"], r["reader"], r["reader_id"], r["since"]) for r in rows}


def reporters(cache: StudyCache) -> dict[str, set[str]]:
    """Who issued reports, by Study Instance UID (the observer names recorded with each report)."""
    with cache.lock:
        rows = list(cache.connection.execute("SELECT study_uid, observer FROM reports"))
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["study_uid"], set()).add(r["observer"])
    return out
