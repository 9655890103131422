"""Report drafts, the reports Lightbox wrote, and the outbox of objects to send.

Everything here is in the index (schema version 3), so it has the index's
guarantees: a committed change survives a crash (kill -9) and a restart.

- Drafts are saved on every change; a study with a draft is held against eviction.
- :func:`store_and_enqueue` stores a signed report's file, records the report
  and puts it in the outbox in **one** transaction: there is never a stored
  report that is not queued, nor a queued report whose file is missing.
- The outbox keeps each item's state (queued, stored, committed, failed),
  attempts, next attempt and the archive's last answer.  A study with an
  item not yet committed is held against eviction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workstation.dicom.header import InstanceRecord
from workstation.store import layout
from workstation.store.cache import StudyCache
from workstation.store.database import inserted_pk, transaction
from workstation.store.layout import StagedFile, fsync_dir
from workstation.store.writer import (
    CommitResult,
    Outcome,
    PendingInstance,
    _commit_one,  # the per-instance step of commit_batch, run inside our own transaction
    _refresh_counts,
    now_iso,
)

QUEUED, STORED, COMMITTED, FAILED = "queued", "stored", "committed", "failed"
OUTBOX_STATES = (QUEUED, STORED, COMMITTED, FAILED)
DRAFT_HOLDER = "report-draft:"
OUTBOX_HOLDER = "outbox:"


class OutboxError(RuntimeError):
    """A report could not be stored and queued (nothing was changed)."""


# Drafts -------------------------------------------------------------------------------

@dataclass(frozen=True)
class DraftRow:
    draft_id: str
    study_uid: str
    template_id: str
    content: dict[str, Any]
    predecessor_uid: str
    created: str
    updated: str


def _hold(con: sqlite3.Connection, study_uid: str, holder: str) -> None:
    con.execute("INSERT OR REPLACE INTO study_holds (study_uid, holder, since) VALUES (?,?,?)",
                (study_uid, holder, now_iso()))


def _release(con: sqlite3.Connection, study_uid: str, holder: str) -> None:
    con.execute("DELETE FROM study_holds WHERE study_uid=? AND holder=?", (study_uid, holder))


def save_draft(cache: StudyCache, draft_id: str, study_uid: str, template_id: str, content: dict[str, Any],
               predecessor_uid: str = "") -> None:
    """Create or update a draft (and hold its study) in one transaction."""
    text = json.dumps(content, ensure_ascii=False, sort_keys=True)
    now = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        con.execute(
            """INSERT INTO report_drafts (draft_id, study_uid, template_id, content, predecessor_uid, created, updated)
               VALUES (?,?,?,?,?,?,?)
               ON CONFLICT(draft_id) DO UPDATE SET template_id=excluded.template_id, content=excluded.content,
                   predecessor_uid=excluded.predecessor_uid, updated=excluded.updated""",
            (draft_id, study_uid, template_id, text, predecessor_uid, now, now),
        )
        _hold(con, study_uid, DRAFT_HOLDER + draft_id)


def _draft(row: sqlite3.Row) -> DraftRow:
    return DraftRow(row["draft_id"], row["study_uid"], row["template_id"], json.loads(row["content"]),
                    row["predecessor_uid"], row["created"], row["updated"])


def get_draft(cache: StudyCache, draft_id: str) -> DraftRow | None:
    with cache.lock:
        row = cache.connection.execute("SELECT * FROM report_drafts WHERE draft_id=?", (draft_id,)).fetchone()
    return _draft(row) if row else None


def list_drafts(cache: StudyCache, study_uid: str | None = None) -> list[DraftRow]:
    sql = "SELECT * FROM report_drafts"
    args: tuple[str, ...] = ()
    if study_uid:
        sql, args = sql + " WHERE study_uid=?", (study_uid,)
    with cache.lock:
        return [_draft(r) for r in cache.connection.execute(sql + " ORDER BY updated DESC", args)]


def delete_draft(cache: StudyCache, draft_id: str) -> None:
    with cache.lock, transaction(cache.connection) as con:
        _delete_draft(con, draft_id)


def _delete_draft(con: sqlite3.Connection, draft_id: str) -> None:
    row = con.execute("SELECT study_uid FROM report_drafts WHERE draft_id=?", (draft_id,)).fetchone()
    if row is not None:
        con.execute("DELETE FROM report_drafts WHERE draft_id=?", (draft_id,))
        _release(con, row["study_uid"], DRAFT_HOLDER + draft_id)


# Reports --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReportRow:
    sop_instance_uid: str
    study_uid: str
    state: str  # preliminary | final | amended
    template_id: str
    title: str
    observer: str
    predecessor_uid: str
    amendment_reason: str
    signed: bool
    created: str


def list_reports(cache: StudyCache, study_uid: str | None = None) -> list[ReportRow]:
    sql = "SELECT * FROM reports"
    args: tuple[str, ...] = ()
    if study_uid:
        sql, args = sql + " WHERE study_uid=?", (study_uid,)
    with cache.lock:
        rows = list(cache.connection.execute(sql + " ORDER BY created, rowid", args))
    return [_report(r) for r in rows]


def _report(r: sqlite3.Row) -> ReportRow:
    values: dict[str, Any] = dict(r)
    values["signed"] = bool(values["signed"])
    return ReportRow(**values)


def report_status(cache: StudyCache, study_uids: list[str] | None = None) -> dict[str, str]:
    """Each study's report status: preliminary, final, amended or draft (studies without one are absent).

    The latest issued report's state; a study with only a draft is "draft"
    (a worklist must tell a reported study from one being written).
    """
    with cache.lock:
        con = cache.connection
        reports = list(con.execute("SELECT study_uid, state FROM reports ORDER BY created, rowid"))
        drafts = {r[0] for r in con.execute("SELECT DISTINCT study_uid FROM report_drafts")}
    status: dict[str, str] = {}
    for uid in drafts:
        status[uid] = "draft"
    for r in reports:
        status[r["study_uid"]] = r["state"]
    if study_uids is not None:
        wanted = set(study_uids)
        status = {k: v for k, v in status.items() if k in wanted}
    return status


# Storing a signed report and queueing it ------------------------------------------------------

#: The "SOP class" of an outbox item that is an HL7 report message to a RIS (destination ``hl7:...``).
HL7_CLASS = "HL7 ORU^R01"


@dataclass(frozen=True)
class HL7Outbound:
    """An HL7 message to queue with a report: the destination (``hl7:NAME``), its control ID and text."""

    destination: str
    control_id: str
    message: str


def hl7_message(cache: StudyCache, pk: int) -> tuple[str, str] | None:
    """(control ID, message text) of an HL7 outbox item, or None."""
    with cache.lock:
        row = cache.connection.execute("SELECT control_id, message FROM hl7_outbound WHERE outbox_pk=?",
                                       (pk,)).fetchone()
    return (row["control_id"], row["message"]) if row else None


def record_ack(cache: StudyCache, pk: int, code: str, text: str) -> None:
    """Keep the RIS's acknowledgement (MSA-1 and its text) of an HL7 outbox item."""
    with cache.lock, transaction(cache.connection) as con:
        con.execute("UPDATE hl7_outbound SET ack_code=?, ack_text=? WHERE outbox_pk=?", (code, text, pk))


@dataclass(frozen=True)
class QueuedReport:
    commit: CommitResult
    outbox_pk: int | None


def store_and_enqueue(cache: StudyCache, staged: StagedFile, record: InstanceRecord, *, state: str,
                      template_id: str = "", title: str = "", observer: str = "", predecessor_uid: str = "",
                      amendment_reason: str = "", signed: bool = False, destination: str | None = None,
                      draft_id: str = "", hl7: HL7Outbound | None = None) -> QueuedReport:
    """Store the report file, record it, queue it for ``destination`` and drop its draft: one transaction.

    ``destination`` None stores without queueing (a report kept locally).
    ``hl7``: the report's HL7 message for a RIS, queued in the same transaction.

    Raises
    ------
    OutboxError
        The cache holds another object under this SOP Instance UID, or the
        file could not be written; nothing was recorded or queued.
    """
    received = now_iso()
    touched_series: set[int] = set()
    touched_studies: set[int] = set()
    dirs: set[Path] = set()
    uid = record.sop_instance_uid
    journal = layout.RenameJournal(cache.cache_dir)
    with cache.lock:
        con = cache.connection
        try:
            with transaction(con):
                if con.execute("SELECT 1 FROM instances WHERE sop_instance_uid=?", (uid,)).fetchone():
                    # Never two objects under one SOP Instance UID, never the same report twice.
                    raise OutboxError(f"report {uid} not stored: the cache already holds an object with this UID")
                result = _commit_one(con, cache.cache_dir, PendingInstance(staged, record, source="report"),
                                     received, touched_series, touched_studies, dirs, {},
                                     journal, {})
                if result.outcome is not Outcome.STORED:
                    raise OutboxError(f"report {uid} not stored: {result.outcome.value} ({result.message})")
                for d in dirs:
                    fsync_dir(d)
                _refresh_counts(con, touched_series, touched_studies)
                con.execute(
                    """INSERT INTO reports (sop_instance_uid, study_uid, state, template_id, title, observer,
                           predecessor_uid, amendment_reason, signed, created) VALUES (?,?,?,?,?,?,?,?,?,?)""",
                    (uid, record.study_uid, state, template_id, title, observer, predecessor_uid,
                     amendment_reason, int(signed), received),
                )
                pk = None
                if destination is not None:
                    pk = _enqueue(con, record.sop_instance_uid, record.sop_class_uid, record.study_uid,
                                  staged.file_hash, destination, received)
                if hl7 is not None:
                    hl7_pk = _enqueue(con, record.sop_instance_uid, HL7_CLASS, record.study_uid, staged.file_hash,
                                      hl7.destination, received)
                    con.execute("INSERT INTO hl7_outbound (outbox_pk, control_id, message) VALUES (?,?,?)",
                                (hl7_pk, hl7.control_id, hl7.message))
                if draft_id:
                    _delete_draft(con, draft_id)
        except (OSError, sqlite3.Error) as exc:
            _undo_renames(journal, staged)
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise OutboxError(f"report {uid} not stored: cannot write to the cache ({why})") from None
        except OutboxError:
            _undo_renames(journal, staged)
            raise
        finally:
            journal.close()
    return QueuedReport(result, pk)


def _undo_renames(journal: layout.RenameJournal, staged: StagedFile) -> None:
    """The transaction rolled back: no file it moved into place may stay without its row."""
    staged.tmp_path.unlink(missing_ok=True)
    for path in journal.paths:
        path.unlink(missing_ok=True)


def _enqueue(con: sqlite3.Connection, sop_uid: str, sop_class: str, study_uid: str, file_hash: str,
             destination: str, now: str) -> int:
    cur = con.execute(
        """INSERT INTO outbox (sop_instance_uid, sop_class_uid, study_uid, file_hash, destination, state,
               next_attempt, created, updated) VALUES (?,?,?,?,?,?,?,?,?)""",
        (sop_uid, sop_class, study_uid, file_hash, destination, QUEUED, now, now, now),
    )
    _hold(con, study_uid, OUTBOX_HOLDER + sop_uid)
    return inserted_pk(cur)


#: The "SOP class" of an outbox item that is an order status message to a RIS (a reading started or released).
HL7_STATUS_CLASS = "HL7 ORM^O01"


def enqueue_hl7(cache: StudyCache, key: str, study_uid: str, message: HL7Outbound,
                sop_class: str = HL7_STATUS_CLASS) -> int:
    """Queue an HL7 message that goes with no stored object (an order status); returns the item's key.

    ``key`` stands in for the SOP Instance UID (unique per message, e.g. its control ID).
    Delivered, retried and acknowledged like a report's message; its study is held until then.
    """
    with cache.lock, transaction(cache.connection) as con:
        pk = _enqueue(con, key, sop_class, study_uid, "", message.destination, now_iso())
        con.execute("INSERT INTO hl7_outbound (outbox_pk, control_id, message) VALUES (?,?,?)",
                    (pk, message.control_id, message.message))
    return pk


def enqueue(cache: StudyCache, sop_instance_uid: str, destination: str) -> int:
    """Queue an object already in the cache (e.g. a stored report sent later, or to a second node)."""
    row = cache.instance(sop_instance_uid)
    if row is None:
        raise OutboxError(f"no object {sop_instance_uid} in the cache")
    with cache.lock, transaction(cache.connection) as con:
        known = con.execute("SELECT pk, state FROM outbox WHERE sop_instance_uid=? AND destination=?",
                            (sop_instance_uid, destination)).fetchone()
        if known is not None:
            if known["state"] == FAILED:  # asked again: try again from scratch
                con.execute("UPDATE outbox SET state=?, attempts=0, next_attempt=?, updated=? WHERE pk=?",
                            (QUEUED, now_iso(), now_iso(), known["pk"]))
                _hold(con, row.study_uid, OUTBOX_HOLDER + sop_instance_uid)
            return int(known["pk"])
        return _enqueue(con, sop_instance_uid, row.sop_class_uid, row.study_uid, row.file_hash, destination, now_iso())


# The outbox ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutboxItem:
    pk: int
    sop_instance_uid: str
    sop_class_uid: str
    study_uid: str
    file_hash: str
    destination: str
    state: str
    attempts: int
    next_attempt: str
    last_error: str
    transaction_uid: str
    created: str
    updated: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _item(r: sqlite3.Row) -> OutboxItem:
    # keys(), not the row itself: iterating a sqlite3.Row yields its values, not its column names.
    return OutboxItem(**{k: r[k] for k in r.keys()})  # noqa: SIM118 - see above


def list_outbox(cache: StudyCache, states: tuple[str, ...] = OUTBOX_STATES) -> list[OutboxItem]:
    marks = ",".join("?" * len(states))
    with cache.lock:
        rows = list(cache.connection.execute(f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY pk", states))
    return [_item(r) for r in rows]


def due_items(cache: StudyCache, now: dt.datetime | None = None) -> list[OutboxItem]:
    """Queued items whose next attempt is due, and stored items still waiting for commitment."""
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    with cache.lock:
        rows = list(cache.connection.execute(
            "SELECT * FROM outbox WHERE state IN (?, ?) AND next_attempt <= ? ORDER BY pk", (QUEUED, STORED, stamp)))
    return [_item(r) for r in rows]


def next_due(cache: StudyCache) -> str | None:
    """When the earliest pending item is due (ISO time), or None when nothing is pending."""
    with cache.lock:
        row = cache.connection.execute(
            "SELECT min(next_attempt) FROM outbox WHERE state IN (?, ?)", (QUEUED, STORED)).fetchone()
    return row[0] if row else None


def update_item(cache: StudyCache, pk: int, *, state: str, error: str = "", next_attempt: str | None = None,
                transaction_uid: str | None = None, count_attempt: bool = False) -> None:
    """Record what happened to an item; committed (or failed) items stop holding their study when done."""
    if state not in OUTBOX_STATES:
        raise ValueError(f"unknown outbox state {state!r}")
    now = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        row = con.execute("SELECT study_uid, sop_instance_uid FROM outbox WHERE pk=?", (pk,)).fetchone()
        if row is None:
            return
        con.execute(
            """UPDATE outbox SET state=?, last_error=?, next_attempt=coalesce(?, next_attempt),
                   transaction_uid=coalesce(?, transaction_uid), attempts=attempts+?, updated=? WHERE pk=?""",
            (state, error, next_attempt, transaction_uid, int(count_attempt), now, pk),
        )
        if state == COMMITTED:
            pending = con.execute(
                "SELECT 1 FROM outbox WHERE sop_instance_uid=? AND state!=?", (row["sop_instance_uid"], COMMITTED)
            ).fetchone()
            if pending is None:
                _release(con, row["study_uid"], OUTBOX_HOLDER + row["sop_instance_uid"])


# The reader's hand on the outbox (Tools › Outbox) ------------------------------------------------

#: States of objects not yet safe at their destination (what the outbox indicator counts).
WAITING = (QUEUED, STORED, FAILED)


def get_item(cache: StudyCache, pk: int) -> OutboxItem | None:
    with cache.lock:
        row = cache.connection.execute("SELECT * FROM outbox WHERE pk=?", (pk,)).fetchone()
    return _item(row) if row else None


def waiting_count(cache: StudyCache) -> int:
    """Objects queued, stored but not committed, or failed: what still needs the reader or the archive."""
    marks = ",".join("?" * len(WAITING))
    with cache.lock:
        row = cache.connection.execute(f"SELECT count(*) FROM outbox WHERE state IN ({marks})", WAITING).fetchone()
    return int(row[0])


def retry_now(cache: StudyCache, pk: int) -> None:
    """Make an item due at once; a failed one starts again from the C-STORE with a fresh count of attempts."""
    now = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        row = con.execute("SELECT state, study_uid, sop_instance_uid FROM outbox WHERE pk=?", (pk,)).fetchone()
        if row is None or row["state"] == COMMITTED:
            return
        if row["state"] == FAILED:
            con.execute("UPDATE outbox SET state=?, attempts=0, next_attempt=?, updated=? WHERE pk=?",
                        (QUEUED, now, now, pk))
            _hold(con, row["study_uid"], OUTBOX_HOLDER + row["sop_instance_uid"])
        else:
            con.execute("UPDATE outbox SET next_attempt=?, updated=? WHERE pk=?", (now, now, pk))


def change_destination(cache: StudyCache, pk: int, destination: str) -> int:
    """Send an item to ``destination`` instead: queued again from the C-STORE; returns the item's key.

    When the object is already queued for ``destination``, that item is retried
    and this one removed (never two items for one object and one node).
    """
    now = now_iso()
    with cache.lock, transaction(cache.connection) as con:
        row = con.execute("SELECT * FROM outbox WHERE pk=?", (pk,)).fetchone()
        if row is None:
            raise OutboxError("that object is no longer in the outbox")
        if row["destination"] == destination:
            keep = pk
        else:
            other = con.execute("SELECT pk FROM outbox WHERE sop_instance_uid=? AND destination=?",
                                (row["sop_instance_uid"], destination)).fetchone()
            if other is not None:
                con.execute("DELETE FROM outbox WHERE pk=?", (pk,))
                keep = int(other["pk"])
            else:
                con.execute("UPDATE outbox SET destination=? WHERE pk=?", (destination, pk))
                keep = pk
        con.execute("""UPDATE outbox SET state=?, attempts=0, last_error='', transaction_uid='', next_attempt=?,
                           updated=? WHERE pk=?""", (QUEUED, now, now, keep))
        _hold(con, row["study_uid"], OUTBOX_HOLDER + row["sop_instance_uid"])
    return keep


def discard(cache: StudyCache, pk: int) -> None:
    """Take an item out of the outbox (the object stays in the cache); its study is no longer held for it."""
    with cache.lock, transaction(cache.connection) as con:
        row = con.execute("SELECT study_uid, sop_instance_uid FROM outbox WHERE pk=?", (pk,)).fetchone()
        if row is None:
            return
        con.execute("DELETE FROM outbox WHERE pk=?", (pk,))
        pending = con.execute("SELECT 1 FROM outbox WHERE sop_instance_uid=? AND state!=?",
                              (row["sop_instance_uid"], COMMITTED)).fetchone()
        if pending is None:
            _release(con, row["study_uid"], OUTBOX_HOLDER + row["sop_instance_uid"])
