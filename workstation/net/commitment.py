"""Storage Commitment (push model): ask an archive to take responsibility for instances.

This is the API the layers above call to make a send durable (signed reports,
QC corrections).  No Qt; every wait is bounded.

How to use it
-------------
Send the objects first (:func:`workstation.net.send.send_files`), then ask for
commitment of what was stored::

    from workstation.net.commitment import CommitmentInbox, request_commitment
    from workstation.net.listener import ensure_listener

    inbox = CommitmentInbox(home)
    with ensure_listener(home, settings, cache):       # N-EVENT-REPORTs can reach us
        report = request_commitment(node, settings.ae_title,
                                    [(sop_class_uid, sop_instance_uid), ...],
                                    inbox=inbox, timeout=60)
    for outcome in report.outcomes:
        outcome.state        # "committed" | "failed" | "unknown"
        outcome.reason       # plain words ("" when committed)

or do both steps at once with :func:`workstation.net.delivery.deliver`, which
also falls back to an image-level C-FIND check when the archive does not
support Storage Commitment.

What happens
------------
1. An association with the Storage Commitment Push Model SOP Class is opened
   and an N-ACTION (Action Type 1, "Request Storage Commitment") is sent with a
   new Transaction UID and the Referenced SOP Sequence.
2. The archive answers the N-ACTION at once (a failure status here ends the
   request: every instance is *unknown*, ``report.error`` says why), then sends
   the result as an N-EVENT-REPORT (Event Type 1: all committed; 2: some
   failed, each with its Failure Reason) either on the same association, or
   later on a new association to our storage SCP (Orthanc does that).
3. Reports arriving on the same association are taken by a handler bound to
   it; reports arriving at a storage SCP of any Lightbox process sharing this
   home are written by that SCP into the home's commitment inbox
   (:class:`CommitmentInbox`, one JSON file per Transaction UID), which is
   polled here.  That is why the SCP can be the GUI's, ``lightbox listen``'s,
   or a temporary one (:func:`workstation.net.listener.ensure_listener`).
4. The association stays open while waiting (some archives only report on it);
   the wait ends after ``timeout`` seconds, or when ``cancel`` is set.

Per instance the outcome is ``committed``, ``failed`` (with the archive's
Failure Reason in words, e.g. 0x0112 "no such object instance") or
``unknown`` (no report in time, the report did not mention it, or the request
itself failed).  Nothing is ever reported committed without the archive
saying so.

When the archive does not support Storage Commitment, :func:`request_commitment`
raises :class:`CommitmentNotSupported`; :func:`check_by_find` is the weaker
check (an image-level C-FIND per series that the instances are there).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import build_role, evt

from workstation.config import Node
from workstation.home import Home
from workstation.net.association import (
    Cancel,
    NetworkError,
    NoAcceptedContext,
    Peer,
    associate,
    cancel_check,
    peer_of,
    status_category,
)
from workstation.net.sop_class_names import StorageCommitmentPushModel

log = logging.getLogger(__name__)

COMMITTED = "committed"
FAILED = "failed"
UNKNOWN = "unknown"

#: Failure Reason (0008,1197) values, PS3.3 C.14.1.1.
FAILURE_REASONS = {
    0x0110: "processing failure",
    0x0112: "no such object instance (the archive does not have it)",
    0x0119: "class-instance conflict",
    0x0122: "referenced SOP class not supported",
    0x0124: "refused: not authorised",
    0x0131: "duplicate transaction UID",
    0x0213: "resource limitation",
}

#: Storage Commitment Push Model SOP Instance UID (PS3.4 J.3.5: a well-known instance).
PUSH_MODEL_INSTANCE = "1.2.840.10008.1.20.1.1"


class CommitmentNotSupported(NetworkError):
    """The archive did not accept the Storage Commitment Push Model SOP Class."""


@dataclass(frozen=True)
class CommitmentOutcome:
    """What the archive said about one instance.

    Attributes
    ----------
    sop_class_uid, sop_instance_uid : str
        The instance.
    state : str
        ``"committed"``, ``"failed"`` or ``"unknown"``.
    reason : str
        Plain words for ``failed`` and ``unknown``; empty when committed.
    failure_reason : int or None
        The archive's Failure Reason code for ``failed``.
    """

    sop_class_uid: str
    sop_instance_uid: str
    state: str
    reason: str = ""
    failure_reason: int | None = None


@dataclass
class CommitmentReport:
    """The outcome of one commitment request (or of a C-FIND check).

    Attributes
    ----------
    peer : str
        ``AE@host:port`` of the archive.
    method : str
        ``"storage commitment"`` or ``"C-FIND check"``: which check was used.
    transaction_uid : str
        The Transaction UID sent ("" for a C-FIND check).
    outcomes : list of CommitmentOutcome
        One per requested instance, in request order.
    via : str
        Where the N-EVENT-REPORT came: ``"same association"``, ``"new association"``,
        or "" when none came.
    error : str
        Why the request failed or no report came, in plain words.
    elapsed_s : float
    """

    peer: str
    method: str = "storage commitment"
    transaction_uid: str = ""
    outcomes: list[CommitmentOutcome] = field(default_factory=list)
    via: str = ""
    error: str = ""
    elapsed_s: float = 0.0

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def ok(self) -> bool:
        """True when every instance was committed."""
        return bool(self.outcomes) and all(o.state == COMMITTED for o in self.outcomes)

    def summary(self) -> str:
        text = (f"{self.method} on {self.peer}: {self.count(COMMITTED)} committed, {self.count(FAILED)} failed, "
                f"{self.count(UNKNOWN)} unknown")
        if self.via:
            text += f" (report on the {self.via})"
        if self.error:
            text += f" — {self.error}"
        return text


# The inbox: N-EVENT-REPORTs received by any storage SCP of this home ---------------------
class CommitmentInbox:
    """N-EVENT-REPORT results, one JSON file per Transaction UID, in the home.

    The storage SCP calls :meth:`put`; :func:`request_commitment` calls
    :meth:`take`.  Files make it work across processes (the GUI's SCP receives,
    a command waits) as well as inside one.

    Parameters
    ----------
    home : Home or path-like
        The Lightbox home (or, in tests, any folder to use as the inbox).
    """

    def __init__(self, home: Home | str | os.PathLike[str]) -> None:
        base = home.data_dir if isinstance(home, Home) else Path(home)
        self.folder = Path(base) / "commitment"
        self._arrived = threading.Condition()

    def _path(self, transaction_uid: str) -> Path:
        from workstation.dicom.uids import checked_uid

        return self.folder / f"{checked_uid(transaction_uid, 'Transaction UID')}.json"

    def put(self, report: dict[str, Any]) -> None:
        """Store one parsed N-EVENT-REPORT (see :func:`parse_event_report`), atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._path(report["transaction_uid"])
        fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(report, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with self._arrived:
            self._arrived.notify_all()

    def take(self, transaction_uid: str) -> dict[str, Any] | None:
        """Return and remove the report for ``transaction_uid``, or None when it has not come."""
        path = self._path(transaction_uid)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("unreadable commitment report %s: %s", path.name, exc)
            return None
        if not isinstance(data, dict):
            log.warning("unreadable commitment report %s: not a JSON object", path.name)
            return None
        path.unlink(missing_ok=True)
        return data

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` s, waking early when this process's SCP puts a report."""
        with self._arrived:
            self._arrived.wait(timeout)

    def prune(self, older_than_s: float = 7 * 86400) -> int:
        """Remove reports nobody took (their requester gave up); returns how many."""
        removed = 0
        limit = time.time() - older_than_s
        for path in self.folder.glob("*.json") if self.folder.is_dir() else ():
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except OSError:
                pass
        return removed


def parse_event_report(event_type_id: int, info: Dataset | None, *, calling_ae: str = "") -> dict[str, Any]:
    """Turn an N-EVENT-REPORT's Event Information into the inbox's plain dict.

    Parameters
    ----------
    event_type_id : int
        1 (all committed) or 2 (failures exist).
    info : Dataset
        Event Information: Transaction UID, Referenced SOP Sequence and
        Failed SOP Sequence.
    calling_ae : str
        The AE that sent it (for logs).

    Returns
    -------
    dict
        ``transaction_uid``, ``event_type``, ``committed`` ([class, instance]),
        ``failed`` ([class, instance, reason code]), ``calling_ae``.

    Raises
    ------
    ValueError
        When there is no Transaction UID.
    """
    if info is None or not str(info.get("TransactionUID", "") or ""):
        raise ValueError("N-EVENT-REPORT without a Transaction UID")
    committed = [
        [str(item.get("ReferencedSOPClassUID", "")), str(item.get("ReferencedSOPInstanceUID", ""))]
        for item in info.get("ReferencedSOPSequence", []) or []
    ]
    failed = []
    for item in info.get("FailedSOPSequence", []) or []:
        reason = item.get("FailureReason")
        failed.append([str(item.get("ReferencedSOPClassUID", "")), str(item.get("ReferencedSOPInstanceUID", "")),
                       int(reason) if reason is not None else None])
    return {
        "transaction_uid": str(info.TransactionUID),
        "event_type": int(event_type_id),
        "committed": committed,
        "failed": failed,
        "calling_ae": calling_ae,
        "received_at": time.time(),
    }


def handle_event_report(event: Any, inbox: CommitmentInbox) -> tuple[int, None]:
    """pynetdicom ``EVT_N_EVENT_REPORT`` handler for a storage SCP: put the report in ``inbox``."""
    try:
        info = event.event_information
        report = parse_event_report(int(event.request.EventTypeID or 0), info,
                                    calling_ae=str(event.assoc.requestor.ae_title))
        inbox.put(report)
    except (ValueError, AttributeError) as exc:
        log.warning("malformed storage commitment report: %s", exc)
        return 0x0110, None  # processing failure: the archive may send it again
    except OSError as exc:
        log.warning("cannot keep a storage commitment report: %s", exc)
        return 0x0110, None
    log.info("storage commitment report %s: %d committed, %d failed", report["transaction_uid"],
             len(report["committed"]), len(report["failed"]))
    return 0x0000, None


# The request -----------------------------------------------------------------------------
def _action_dataset(transaction_uid: str, references: Sequence[tuple[str, str]]) -> Dataset:
    ds = Dataset()
    ds.TransactionUID = transaction_uid
    items = []
    for sop_class, sop_instance in references:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    ds.ReferencedSOPSequence = items
    return ds


def outcomes_from_report(references: Sequence[tuple[str, str]], report: dict[str, Any] | None,
                         missing_reason: str) -> list[CommitmentOutcome]:
    """One outcome per reference from a parsed report (None: all unknown with ``missing_reason``)."""
    committed = {uid for _cls, uid in (report or {}).get("committed", [])}
    failed = {row[1]: row[2] for row in (report or {}).get("failed", [])}
    out = []
    for sop_class, uid in references:
        if uid in failed:
            code = failed[uid]
            words = FAILURE_REASONS.get(code, "reason not given") if code is not None else "reason not given"
            code_text = f" (Failure Reason 0x{code:04X})" if code is not None else ""
            out.append(CommitmentOutcome(sop_class, uid, FAILED, f"{words}{code_text}", code))
        elif uid in committed:
            out.append(CommitmentOutcome(sop_class, uid, COMMITTED))
        elif report is None:
            out.append(CommitmentOutcome(sop_class, uid, UNKNOWN, missing_reason))
        else:
            out.append(CommitmentOutcome(sop_class, uid, UNKNOWN, "the archive's report did not mention it"))
    return out


def request_commitment(
    node: Node | Peer,
    calling_ae: str,
    references: Iterable[tuple[str, str]],
    *,
    inbox: CommitmentInbox | None,
    timeout: float = 60.0,
    cancel: Cancel | None = None,
) -> CommitmentReport:
    """Request Storage Commitment for ``references`` and wait (bounded) for the result.

    Parameters
    ----------
    node : Node or Peer
        The archive.
    calling_ae : str
        Our AE title (the archive sends a report on a new association to it).
    references : iterable of (SOP Class UID, SOP Instance UID)
        The instances, already stored on the archive.
    inbox : CommitmentInbox or None
        Where our storage SCP puts reports arriving on a new association;
        None waits for a report on the same association only.
    timeout : float
        Seconds to wait for the N-EVENT-REPORT after the N-ACTION was answered.
    cancel : callable or threading.Event, optional
        Ends the wait early (outcomes not yet reported are *unknown*).

    Returns
    -------
    CommitmentReport
        One outcome per reference, in order; ``method`` is "storage commitment".

    Raises
    ------
    CommitmentNotSupported
        The archive does not support the Storage Commitment Push Model.
    NetworkError
        No association could be established.
    """
    peer = peer_of(node)
    refs = [(str(c), str(i)) for c, i in references]
    is_cancelled = cancel_check(cancel)
    started = time.monotonic()
    transaction_uid = generate_uid()
    report = CommitmentReport(peer=peer.describe(), transaction_uid=transaction_uid)
    same_assoc: dict[str, Any] = {}
    got_same = threading.Event()

    def on_report(event: Any) -> tuple[int, None]:
        try:
            parsed = parse_event_report(int(event.request.EventTypeID or 0), event.event_information)
        except (ValueError, AttributeError) as exc:
            log.warning("malformed storage commitment report on the association: %s", exc)
            return 0x0110, None
        if parsed["transaction_uid"] == transaction_uid:
            same_assoc.update(parsed)
            got_same.set()
        elif inbox is not None:  # an older request's report: keep it for its requester
            inbox.put(parsed)
        return 0x0000, None

    if not refs:
        return report
    try:
        with associate(
            peer,
            calling_ae,
            [StorageCommitmentPushModel],
            # Some archives send the report on this association in the SCP role.
            ext_neg=[build_role(StorageCommitmentPushModel, scu_role=True, scp_role=True)],
            evt_handlers=[(evt.EVT_N_EVENT_REPORT, on_report)],
        ) as assoc:
            if not any(cx.abstract_syntax == StorageCommitmentPushModel for cx in assoc.accepted_contexts):
                raise CommitmentNotSupported(f"{peer.describe()} does not support Storage Commitment", peer)
            status, _reply = assoc.send_n_action(
                _action_dataset(transaction_uid, refs), 1, StorageCommitmentPushModel, PUSH_MODEL_INSTANCE
            )
            code = int(status.Status) if "Status" in status else None
            if code is None or status_category(code) not in ("Success", "Warning"):
                report.error = ("no answer to the storage commitment request" if code is None else
                                f"the archive refused the storage commitment request (status 0x{code:04X})")
                report.outcomes = outcomes_from_report(refs, None, report.error)
                report.elapsed_s = time.monotonic() - started
                return report
            result = _wait_for_report(transaction_uid, inbox, got_same, assoc, timeout, is_cancelled)
    except NoAcceptedContext as exc:
        raise CommitmentNotSupported(f"{peer.describe()} does not support Storage Commitment", peer) from exc
    if result is None and not got_same.is_set() and inbox is not None:
        result = inbox.take(transaction_uid)  # it may have come while the association closed
    if got_same.is_set():
        result, report.via = same_assoc, "same association"
    elif result is not None:
        report.via = "new association"
    if result is None:
        report.error = ("cancelled while waiting for the archive's storage commitment report" if is_cancelled()
                        else f"no storage commitment report from {peer.describe()} within {timeout:g} s")
    report.outcomes = outcomes_from_report(refs, result, report.error)
    report.elapsed_s = time.monotonic() - started
    log.info("storage commitment %s: %d committed, %d failed, %d unknown (%s) in %.2f s", transaction_uid,
             report.count(COMMITTED), report.count(FAILED), report.count(UNKNOWN), report.via or "no report",
             report.elapsed_s)
    return report


def _wait_for_report(transaction_uid: str, inbox: CommitmentInbox | None, got_same: threading.Event,
                     assoc: Any, timeout: float, is_cancelled: Any) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while True:
        if got_same.is_set():
            return None
        if inbox is not None:
            found = inbox.take(transaction_uid)
            if found is not None:
                return found
        remaining = deadline - time.monotonic()
        if remaining <= 0 or is_cancelled():
            return None
        step = min(0.05, remaining)
        if inbox is not None:
            inbox.wait(step)
        else:
            got_same.wait(step)
        if not assoc.is_established and inbox is None and not got_same.is_set():
            return None  # the archive closed the association: nothing more can come on it


# The weaker check ----------------------------------------------------------------------
def check_by_find(
    node: Node | Peer,
    calling_ae: str,
    instances: Iterable[tuple[str, str, str, str]],
    cancel: Cancel | None = None,
) -> CommitmentReport:
    """Check with image-level C-FINDs (one per series) that instances are on the archive.

    Parameters
    ----------
    node : Node or Peer
        The archive.
    calling_ae : str
        Our AE title.
    instances : iterable of (study UID, series UID, SOP Class UID, SOP Instance UID)
    cancel : callable or threading.Event, optional

    Returns
    -------
    CommitmentReport
        ``method`` "C-FIND check"; found instances count as committed (the
        archive holds them, though it made no promise to keep them), missing ones
        as failed, and all are unknown when the query failed.
    """
    from workstation.net.find import find

    peer = peer_of(node)
    started = time.monotonic()
    items = [tuple(map(str, it)) for it in instances]
    report = CommitmentReport(peer=peer.describe(), method="C-FIND check")
    by_series: dict[tuple[str, str], set[str]] = {}
    for study, series, _cls, uid in items:
        by_series.setdefault((study, series), set()).add(uid)
    found: set[str] = set()
    try:
        for study, series in by_series:
            keys = {"StudyInstanceUID": study, "SeriesInstanceUID": series, "SOPInstanceUID": ""}
            for ds in find(node, calling_ae, "IMAGE", keys, cancel, model="study"):
                found.add(str(ds.get("SOPInstanceUID", "")))
    except NetworkError as exc:
        report.error = f"the C-FIND check failed: {exc}"
    for _study, _series, cls, uid in items:
        if report.error:
            report.outcomes.append(CommitmentOutcome(cls, uid, UNKNOWN, report.error))
        elif uid in found:
            report.outcomes.append(CommitmentOutcome(cls, uid, COMMITTED, ""))
        else:
            report.outcomes.append(CommitmentOutcome(cls, uid, FAILED, "not found on the archive by C-FIND"))
    report.elapsed_s = time.monotonic() - started
    return report
