"""Running the units of a retrieve: one C-GET or C-MOVE (or a few) on an association of its own.

:mod:`workstation.net.retrieve` decides what to fetch and how many
associations share it; here each unit (a study, a series or a list of SOP
Instance UIDs, :class:`~workstation.net.retrieve_plan.Unit`) is asked for,
its responses followed (C-CANCEL sent when the retrieve is cancelled), C-GET
sub-operations received into the cache through a
:class:`~workstation.store.committer.GroupCommitter`, and the progress of all
units tallied.  A unit for a patient-root node carries the study's Patient ID,
sent in every identifier (the unique key of the level above, PS3.4 C.4.2.2.1).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import StoragePresentationContexts as _DEFAULT_STORAGE  # offered when C-FIND named no class
from pynetdicom import build_role, evt

from workstation.config import Node
from workstation.dicom.charset import UTF8, query_character_set
from workstation.net.association import (
    NoAcceptedContext,
    Peer,
    associate,
    context,
    make_ae,
    no_response_error,
    status_category,
)
from workstation.net.move_registry import next_message_id, outstanding_move
from workstation.net.retrieve_plan import Unit
from workstation.net.sop_class_names import (
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
)
from workstation.net.received_files import discard_abandoned, payload_of, receive_into
from workstation.net.storage_scp import (
    ACCEPTED_TRANSFER_SYNTAXES,
    stage_received,
    status_dataset,
)
from workstation.store.cache import StudyCache
from workstation.store.committer import GroupCommitter

log = logging.getLogger("workstation.net.retrieve")  # one logger for the whole retrieve

MOVE_DESTINATION_UNKNOWN = 0xA801


@dataclass(frozen=True)
class RetrieveProgress:
    """Where a retrieve stands (sub-operations, as the archive and our receiver count them)."""

    completed: int
    remaining: int
    failed: int
    warning: int
    total: int
    bytes: int
    elapsed_s: float

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.elapsed_s if self.elapsed_s > 0 else 0.0


ProgressCallback = Callable[[RetrieveProgress], None]


class _Tally:
    """Sub-operation counters of all units, reported at most ten times a second."""

    def __init__(self, total: int, callback: ProgressCallback | None, interval: float = 0.1) -> None:
        self._lock = threading.Lock()
        self._units: dict[int, tuple[int, int, int, int]] = {}
        self._expected: dict[int, int] = {}
        self.total = total
        self.bytes = 0
        self.received = 0
        self.refusals: dict[str, int] = {}
        self._callback = callback
        self._interval = interval
        self._last = 0.0
        self._started = time.monotonic()

    def expect(self, key: int, n: int) -> None:
        with self._lock:
            self._expected[key] = n

    def update(self, key: int, status: Dataset) -> None:
        values = tuple(int(status.get(kw, 0) or 0) for kw in (
            "NumberOfCompletedSuboperations", "NumberOfRemainingSuboperations",
            "NumberOfFailedSuboperations", "NumberOfWarningSuboperations"))
        if any(kw in status for kw in ("NumberOfCompletedSuboperations", "NumberOfRemainingSuboperations")):
            with self._lock:
                self._units[key] = values  # type: ignore[assignment]
        self.tick()

    def refused(self, reason: str) -> None:
        """A sub-operation we answered with a failure (unreadable data set, disk full...)."""
        with self._lock:
            self.refusals[reason] = self.refusals.get(reason, 0) + 1

    def received_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes += n
            self.received += 1
        self.tick()

    def snapshot(self) -> RetrieveProgress:
        with self._lock:
            completed = sum(v[0] for v in self._units.values())
            failed = sum(v[2] for v in self._units.values())
            warning = sum(v[3] for v in self._units.values())
            remaining = sum(v[1] for v in self._units.values())
            remaining += sum(n for k, n in self._expected.items() if k not in self._units)
            completed = max(completed, self.received - failed - warning) if not self._units else completed
            return RetrieveProgress(completed, remaining, failed, warning, self.total, self.bytes,
                                    time.monotonic() - self._started)

    def tick(self, force: bool = False) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last < self._interval:
                return
            self._last = now
        self._callback(self.snapshot())


def _sop_classes(node: Node | Peer, move: bool) -> str:
    patient = isinstance(node, Node) and node.query_model == "patient"
    if move:
        return PatientRootQueryRetrieveInformationModelMove if patient else StudyRootQueryRetrieveInformationModelMove
    return PatientRootQueryRetrieveInformationModelGet if patient else StudyRootQueryRetrieveInformationModelGet


def _unsupported(peer: Peer, sop_class: str) -> NoAcceptedContext:
    """The archive does not take our retrieve model: say so, and which query model to set instead."""
    patient = sop_class in (PatientRootQueryRetrieveInformationModelGet, PatientRootQueryRetrieveInformationModelMove)
    gets = (PatientRootQueryRetrieveInformationModelGet, StudyRootQueryRetrieveInformationModelGet)
    service = "C-GET" if sop_class in gets else "C-MOVE"
    mine, other = ("Patient Root", "study") if patient else ("Study Root", "patient")
    return NoAcceptedContext(f"{peer.describe()} does not accept {mine} {service}; if it supports "
                             f"{'Study' if patient else 'Patient'} Root, set the node's query model to {other}", peer)


def _identifier(unit: Unit, charset: str | None = None) -> Dataset:
    """The C-MOVE/C-GET identifier of ``unit``.

    ``charset`` is the node's character set, declared when the Patient ID is
    not plain ASCII (None: UTF-8, as :func:`~workstation.net.find.find` does).
    """
    ds = Dataset()
    declared = query_character_set([unit.patient_id], UTF8 if charset is None else charset)
    if declared is not None:
        terms = declared.split("\\") if isinstance(declared, str) else list(declared)
        ds.SpecificCharacterSet = terms[0] if len(terms) == 1 else terms
    ds.QueryRetrieveLevel = unit.level
    for kw, value in unit.identifier_keys().items():
        setattr(ds, kw, value)
    return ds


class _UnitResult:
    def __init__(self, unit: Unit, status: int | None = None, error: str = "", completed: int = 0) -> None:
        self.unit, self.status, self.error, self.completed = unit, status, error, completed


def _run_move(peer: Peer, calling_ae: str, destination: str, sop_class: str, unit: Unit, key: int,
              tally: _Tally, is_cancelled: Callable[[], bool], *, charset: str | None = None) -> _UnitResult:
    """One C-MOVE of ``unit`` (and its one-by-one retry, see :func:`_with_uid_list_retry`) to ``destination``.

    ``charset``: the node's character set, for a Patient ID that is not plain ASCII.
    """
    try:
        with associate(peer, calling_ae, [sop_class]) as assoc:
            def request(u: Unit) -> _UnitResult:
                # A Message ID of its own, so the storage SCP can tell this C-MOVE's results
                # from a push that merely claims to be one (see move_registry).
                msg_id = next_message_id()
                with outstanding_move(msg_id, calling_ae, peer.host):
                    responses = assoc.send_c_move(_identifier(u, charset), destination, sop_class, msg_id=msg_id)
                    return _follow(assoc, responses, peer, sop_class, u, key, tally, is_cancelled, "C-MOVE",
                                   msg_id)

            return _with_uid_list_retry(request, unit, is_cancelled)
    except NoAcceptedContext as exc:  # the archive takes the other model only (or none)
        raise _unsupported(peer, sop_class) from exc


def _more(request: Callable[[Unit], _UnitResult], result: _UnitResult, more: Callable[[], Unit | None] | None,
          is_cancelled: Callable[[], bool]) -> _UnitResult:
    """Go on with the units ``more()`` gives while the last one succeeded; the last result."""
    while more is not None and not is_cancelled() and status_category(result.status) in ("Success", "Warning"):
        following = more()
        if following is None:
            break
        result = _with_uid_list_retry(request, following, is_cancelled)
    return result


def _with_uid_list_retry(request: Callable[[Unit], _UnitResult], unit: Unit,
                         is_cancelled: Callable[[], bool]) -> _UnitResult:
    """Run ``unit``; when a list of SOP Instance UIDs fails as a whole, ask for them one by one.

    List-of-UID matching is standard, but some archives (pynetdicom's qrscp
    among them) fail on it, even with 0xA801; one UID per request always works.
    """
    result = request(unit)
    if (unit.level != "IMAGE" or len(unit.sop_uids) < 2 or result.status is None
            or status_category(result.status) != "Failure" or result.completed):
        return result
    log.info("archive failed a list of %d SOP Instance UIDs (0x%04X); asking one by one", len(unit.sop_uids),
             result.status)
    last = result
    for uid in unit.sop_uids:
        if is_cancelled():
            break
        last = request(replace(unit, sop_uids=(uid,), expected=1))  # the same Patient ID
        if last.status == MOVE_DESTINATION_UNKNOWN:
            return last
    return last


def _follow(assoc: Any, responses: Any, peer: Peer, sop_class: str, unit: Unit, key: int, tally: _Tally,
            is_cancelled: Callable[[], bool], what: str, msg_id: int = 1) -> _UnitResult:
    cancel_sent = False
    sent = time.monotonic()
    for status, _identifier_ds in responses:
        if "Status" not in status:
            raise no_response_error(peer, what, assoc, sent)
        sent = time.monotonic()  # the DIMSE timeout runs from the last response
        code = int(status.Status)
        tally.update(key, status)
        if status_category(code) == "Pending":
            if is_cancelled() and not cancel_sent:
                assoc.send_c_cancel(msg_id, query_model=sop_class)
                cancel_sent = True
            continue
        completed = int(status.get("NumberOfCompletedSuboperations", 0) or 0)
        return _UnitResult(unit, code, completed=completed)
    raise no_response_error(peer, what, assoc, sent)


def _get_contexts(sop_classes: set[str], get_class: str) -> list[Any]:
    classes = sorted(sop_classes) or [cx.abstract_syntax for cx in _DEFAULT_STORAGE if cx.abstract_syntax]
    per_syntax = 1 + len(classes) * len(ACCEPTED_TRANSFER_SYNTAXES) <= 128
    contexts = [context(get_class)]
    for cls in classes[:127]:
        if per_syntax:
            # One context per transfer syntax: the archive can send each file as it stores it.
            contexts += [context(cls, [ts]) for ts in ACCEPTED_TRANSFER_SYNTAXES]
        else:
            contexts.append(context(cls, list(ACCEPTED_TRANSFER_SYNTAXES)))
    return contexts[:128]


def _run_get(peer: Peer, calling_ae: str, sop_class: str, sop_classes: set[str], unit: Unit, key: int,
             tally: _Tally, cache: StudyCache, is_cancelled: Callable[[], bool],
             committer: GroupCommitter | None = None, *, more: Callable[[], Unit | None] | None = None,
             arrived: Callable[[str], None] | None = None, charset: str | None = None) -> _UnitResult:
    """One C-GET (then those ``more()`` gives, on the same association); received instances are written at
    once and indexed in groups.

    Every instance answered Success is committed (synced and indexed, or
    failed) before this returns, whatever happened to the association.
    ``arrived`` is told the SOP Instance UID of every object received.
    ``charset``: the node's character set, for a Patient ID that is not plain ASCII.
    """
    contexts = _get_contexts(sop_classes, sop_class)
    ae = make_ae(calling_ae, peer.timeout, contexts)
    roles = [build_role(cls, scp_role=True) for cls in sorted({cx.abstract_syntax for cx in contexts[1:]})]
    source = f"C-GET from {peer.ae_title}"
    own = committer is None
    group = GroupCommitter(cache) if committer is None else committer
    receive_into(cache.cache_dir)

    def on_store(event: Any) -> Dataset:
        try:
            data = payload_of(event)
        except Exception:  # noqa: BLE001 - malformed sub-operation: answer it, keep the association
            return status_dataset(0xC000, "malformed C-STORE request")
        try:
            received = stage_received(group, data, peer.ae_title, source)
        finally:
            data.discard()  # pynetdicom's C-GET path never removes its temporary file
        if arrived is not None and received.sop_instance_uid:
            arrived(received.sop_instance_uid)
        if received.status != 0:
            log.warning("C-GET sub-operation %s answered 0x%04X: %s", received.sop_instance_uid or "(unreadable)",
                        received.status, received.message)
            tally.refused(f"0x{received.status:04X} {received.message}")
        tally.received_bytes(data.size if received.status == 0 else 0)
        return status_dataset(received.status, received.message)

    opened: list[Any] = []
    try:
        with associate(peer, calling_ae, ae=ae, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)]) as assoc:
            opened.append(assoc)
            if not any(cx.abstract_syntax == sop_class for cx in assoc.accepted_contexts):
                # Only storage contexts accepted: pynetdicom would raise a bare ValueError on send_c_get.
                raise _unsupported(peer, sop_class)

            def request(u: Unit) -> _UnitResult:
                responses = assoc.send_c_get(_identifier(u, charset), sop_class, msg_id=1)
                return _follow(assoc, responses, peer, sop_class, u, key, tally, is_cancelled, "C-GET")

            return _more(request, _with_uid_list_retry(request, unit, is_cancelled), more, is_cancelled)
    finally:
        for association in opened:  # an object cut short when the association dropped leaves no file
            discard_abandoned(association, wait=5.0)
        if own:
            group.close()
        else:
            group.flush()
