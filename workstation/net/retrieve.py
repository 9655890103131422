"""Retrieve a study (or some of its series) from a node into the cache: C-MOVE, C-GET or DICOMweb.

:func:`retrieve` is a Qt-free job: it takes a progress callback (called at
most ten times a second from the job's threads, and once at the end) and a
cancel token, and returns a :class:`RetrieveReport`.

1. Inventory: when nothing of the study is cached, one STUDY-level C-FIND
   (counts and SOP classes) is enough and the transfer starts at once; a
   one-series study is then shared by two associations from both ends
   (:mod:`workstation.net.two_ended`).  Otherwise C-FIND at SERIES then IMAGE
   level lists the instances the archive holds; whatever is already cached is
   left out, so a repeated retrieve fetches only what is missing
   (:mod:`workstation.net.retrieve_plan`).
2. The rest is cut into units (a series, or lists of SOP Instance UIDs) that
   up to ``node.max_associations`` associations fetch in parallel
   (:mod:`workstation.net.retrieve_units` runs each).
3. C-MOVE sends everything to our AE title: a Lightbox storage SCP must be
   receiving for this home (:func:`~workstation.net.listener.ensure_listener`
   uses the running one or starts one for the duration).  C-GET receives on the
   same association.  Both write through the cache, so only complete files are
   ever indexed, whatever happens to the association.
4. When C-MOVE fails with 0xA801 (the archive does not know our AE as a move
   destination) and the node allows it, the rest is fetched with C-GET and the
   report says so.
5. At the end the cache is checked for every instance of the inventory (or
   counted against the archive's count): what is not there counts as failed,
   whatever the archive's counters said.

A node configured as Patient Root is asked in that model throughout: every
C-FIND below PATIENT level and every C-MOVE or C-GET identifier carries the
study's Patient ID.  It is the caller's (from the query result that found the
study: given, or remembered from this process's queries) or, when not
known, the archive is asked for it
(:func:`~workstation.net.retrieve_plan.request_patient_id`), else the cached
study's is used.  Patient IDs are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pynetdicom.status import QR_MOVE_SERVICE_CLASS_STATUS

from workstation.config import Node, Settings
from workstation.home import Home
from workstation.jobs.core import CancelToken
from workstation.net.association import (
    Cancel,
    NetworkError,
    Peer,
    cancel_check,
    peer_of,
    status_category,
)
from workstation.net.retrieve_plan import (
    Inventory,
    Outline,
    Unit,
    cached_uids,
    inventory,
    outline,
    outline_units,
    plan_units,
    request_patient_id,
)
from workstation.net.retrieve_units import (
    MOVE_DESTINATION_UNKNOWN,
    ProgressCallback,
    RetrieveProgress,
    _run_get,
    _run_move,
    _sop_classes,
    _Tally,
    _UnitResult,
)
from workstation.net.two_ended import Arrivals, second_walk
from workstation.store.cache import StudyCache
from workstation.store.committer import GroupCommitter

__all__ = ["METHODS", "MOVE_DESTINATION_UNKNOWN", "ProgressCallback", "RetrieveProgress", "RetrieveReport", "retrieve"]

log = logging.getLogger(__name__)

METHODS = ("move", "get", "dicomweb")


@dataclass
class RetrieveReport:
    """What a retrieve did.

    Attributes
    ----------
    node : str
    study_uid : str
    method : str
        The method that fetched the data (``get`` after a fallback).
    expected : int
        Instances the archive listed (0 when it could not be asked).
    already_cached : int
        Of those, how many were cached before.
    retrieved : int
        Instances that arrived in the cache during this retrieve.
    failed : int
        Instances listed by the archive and still not in the cache, or the
        archive's failed count when there was no inventory.
    missing : list of str
        Their SOP Instance UIDs.
    notes : list of str
        Plain-words remarks (fallback to C-GET, listener used...).
    error : str
        Why the retrieve stopped early, or "".
    """

    node: str
    study_uid: str
    method: str
    expected: int = 0
    already_cached: int = 0
    retrieved: int = 0
    failed: int = 0
    missing: list[str] = field(default_factory=list)
    cancelled: bool = False
    error: str = ""
    notes: list[str] = field(default_factory=list)
    bytes: int = 0
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error and not self.cancelled and self.failed == 0

    def summary(self) -> str:
        text = (f"{self.retrieved} retrieved, {self.already_cached} already cached, {self.failed} failed "
                f"of {self.expected} instances from {self.node} by {self.method} in {self.elapsed_s:.1f} s")
        if self.elapsed_s > 0 and self.bytes:
            text += f" ({self.bytes / 1e6 / self.elapsed_s:.1f} MB/s)"
        if self.cancelled:
            text += " (cancelled)"
        if self.error:
            text += f" — {self.error}"
        return text


def _failure_text(code: int) -> str:
    category, text = QR_MOVE_SERVICE_CLASS_STATUS.get(code, (status_category(code), ""))
    return f"{category} 0x{code:04X}" + (f" ({text})" if text else "")


def _run_units(units: Sequence[Unit], method: str, node: Node | Peer, settings: Settings, cache: StudyCache,
               sop_classes: set[str], tally: _Tally, is_cancelled: Callable[[], bool]) -> list[_UnitResult]:
    peer = peer_of(node)
    sop_class = _sop_classes(node, method == "move")
    parallel = max(1, int(node.max_associations) if isinstance(node, Node) else 1)
    charset = _charset(node)
    stop = threading.Event()
    committer = GroupCommitter(cache) if method == "get" else None  # one group commit for all associations

    def one(index_unit: tuple[int, Unit]) -> _UnitResult:
        key, unit = index_unit
        if is_cancelled() or stop.is_set():
            return _UnitResult(unit, None, "not started")
        try:
            if method == "move":
                res = _run_move(peer, settings.ae_title, settings.ae_title, sop_class, unit, key, tally, is_cancelled,
                                charset=charset)
            else:
                res = _run_get(peer, settings.ae_title, sop_class, sop_classes, unit, key, tally, cache, is_cancelled,
                               committer, charset=charset)
        except NetworkError as exc:
            stop.set()  # the archive is gone or refuses: do not hammer it with the other units
            return _UnitResult(unit, None, str(exc))
        if res.status == MOVE_DESTINATION_UNKNOWN:
            stop.set()
        return res

    for key, unit in enumerate(units):
        tally.expect(key, unit.expected)
    try:
        if parallel == 1 or len(units) == 1:
            return [one(item) for item in enumerate(units)]
        with ThreadPoolExecutor(max_workers=min(parallel, len(units)), thread_name_prefix=f"retrieve-{method}") as pool:
            return list(pool.map(one, enumerate(units)))
    finally:
        if committer is not None:
            committer.close()


#: A single series at least this big is fetched from both ends (:mod:`workstation.net.two_ended`).
TWO_ENDED_MIN = 64
_CHUNK = 25  # instances per request of the second association


def _two_ended_fits(units: list[Unit], plan: Outline, node: Node) -> bool:
    return (node.max_associations > 1 and len(units) == 1 and units[0].level == "STUDY" and len(plan.series) == 1
            and plan.instances >= TWO_ENDED_MIN)


#: Runs one unit (then ``more()``'s) on an association of its own: (unit, key, cancelled, more, arrived).
_Fetch = Callable[[Unit, int, Callable[[], bool], Callable[[], Unit | None] | None, Callable[[str], None]],
                  _UnitResult]


def _get_fetch(node: Node, settings: Settings, cache: StudyCache, sop_classes: set[str], tally: _Tally,
               committer: GroupCommitter) -> _Fetch:
    peer, sop_class = peer_of(node), _sop_classes(node, False)

    def fetch(unit: Unit, key: int, cancelled: Callable[[], bool], more: Callable[[], Unit | None] | None,
              arrived: Callable[[str], None]) -> _UnitResult:
        return _run_get(peer, settings.ae_title, sop_class, sop_classes, unit, key, tally, cache, cancelled,
                        committer, more=more, arrived=arrived, charset=_charset(node))

    return fetch


def _run_two_ended(unit: Unit, plan: Outline, node: Node, settings: Settings, cache: StudyCache, tally: _Tally,
                   is_cancelled: Callable[[], bool], fetch: _Fetch, settle: Callable[[], object],
                   arrivals: Arrivals) -> list[_UnitResult]:
    """A one-series study on two associations, the second one from the other end once it is listed.

    See :mod:`workstation.net.two_ended`.  The study-level request starts at
    once; the series is listed meanwhile; what neither association brought is
    fetched by SOP Instance UID at the end (``settle()`` first commits what
    arrived).  ``fetch`` runs the requests (C-GETs: a C-MOVE would make the
    archive open an association to our storage SCP for each request, which
    costs more than it saves here).
    """
    series_uid = next(iter(plan.series))

    def first_cancelled() -> bool:
        return is_cancelled() or arrivals.crossed.is_set()

    def first() -> _UnitResult:
        try:
            return fetch(unit, 0, first_cancelled, None, arrivals.first)
        except NetworkError as exc:
            return _UnitResult(unit, None, str(exc))

    tally.expect(0, unit.expected)
    results: list[_UnitResult] = []
    inv: Inventory | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="retrieve-first") as pool:
        started = pool.submit(first)
        try:
            inv = inventory(node, settings.ae_title, plan.study_uid, [series_uid], is_cancelled,
                            patient_id=plan.patient_id)
        except NetworkError as exc:
            log.info("cannot list the series while retrieving it (%s): one association", exc)
        walk = second_walk(inv.sop_uids, arrivals.first_arrivals()) if inv is not None else None
        if walk is not None and not started.done() and not is_cancelled():
            def more() -> Unit | None:
                chunk = arrivals.claim_next(walk, _CHUNK, _CHUNK)
                return (Unit("IMAGE", plan.study_uid, series_uid, tuple(chunk), len(chunk), plan.patient_id)
                        if chunk else None)

            opening = more()
            if opening is not None:
                try:
                    results.append(fetch(opening, 1, is_cancelled, more, arrivals.second))
                except NetworkError as exc:
                    # A second association is a bonus (the archive may allow one only): the first goes on.
                    log.info("second association for %s failed (%s); one association", plan.study_uid, exc)
                    arrivals.abandon()
        head = started.result()
    if arrivals.crossed.is_set() and head.status is not None and status_category(head.status) == "Cancel":
        head = _UnitResult(unit, None, "", head.completed)  # stopped where the second one began: not a cancel
    results.insert(0, head)
    settle()
    if inv is not None and not is_cancelled() and not any(r.error for r in results):
        left = plan_units(inv, cached_uids(cache, inv.sop_uids), 1)
        log.info("retrieve from both ends: %d by the study-level request, %d from the other end%s, %d left",
                 len(arrivals.first_arrivals()), arrivals.second_count,
                 "" if walk is not None else " (no split: the archive's order is its own)",
                 sum(u.expected for u in left))
        for key, rest in enumerate(left, start=2):
            try:
                results.append(fetch(rest, key, is_cancelled, None, arrivals.second))
            except NetworkError as exc:
                results.append(_UnitResult(rest, None, str(exc)))
                break
        settle()
    return results


def retrieve(
    node: Node | Peer,
    settings: Settings,
    home: Home,
    cache: StudyCache,
    study_uid: str,
    series_uids: Sequence[str] = (),
    *,
    method: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: Cancel | CancelToken | None = None,
    patient_id: str | None = None,
) -> RetrieveReport:
    """Bring a study, or some of its series, into the cache.

    Parameters
    ----------
    node : Node or Peer
        The archive (a Peer retrieves with one association, C-MOVE unless told).
    settings : Settings
        Our AE title and storage port (the C-MOVE destination).
    home, cache
        This Lightbox's home and cache.
    study_uid : str
    series_uids : sequence of str, optional
        Only these series.
    method : {"move", "get", "dicomweb"}, optional
        Overrides the node's retrieve method.
    progress : callable(RetrieveProgress), optional
        Throttled to about ten calls a second, plus one at the end.
    cancel : callable, threading.Event or CancelToken, optional
        Sends C-CANCEL; files already complete stay in the cache.
    patient_id : str, optional
        The study's Patient ID as the archive files it (from the query result
        that found the study).  Only a patient-root node needs it; when not
        given, the archive is asked, else the cached study's is used.

    Returns
    -------
    RetrieveReport

    Raises
    ------
    NetworkError
        When the archive cannot be reached at all (nothing was retrieved), or
        a patient-root archive's Patient ID of the study cannot be found
        (:class:`~workstation.net.retrieve_plan.PatientUnknown`).
    ValueError
        For an unknown method, or a Patient ID the node's character set cannot hold.
    """
    chosen = method or (node.retrieve if isinstance(node, Node) else "move")
    if chosen not in METHODS:
        raise ValueError(f"unknown retrieve method {chosen!r}: one of {', '.join(METHODS)}")
    if isinstance(cancel, CancelToken):
        token = cancel
        cancel = lambda: token.cancelled  # noqa: E731 - a CancelToken from workstation.jobs
    if chosen == "dicomweb":
        from workstation.net.dicomweb import retrieve_dicomweb

        if not isinstance(node, Node):
            raise ValueError("a DICOMweb retrieve needs a configured node (its URL); this peer has none")

        return retrieve_dicomweb(node, cache, study_uid, series_uids, progress=progress, cancel=cancel)
    peer = peer_of(node)
    is_cancelled = cancel_check(cancel)
    started = time.monotonic()
    report = RetrieveReport(peer.describe(), study_uid, chosen)
    parallel = max(1, node.max_associations) if isinstance(node, Node) else 1
    pid = request_patient_id(node, settings.ae_title, cache, study_uid, patient_id, cancel)
    if pid is None:
        report.error = f"{peer.describe()} has no study {study_uid}"
        report.elapsed_s = time.monotonic() - started
        return report
    plan: Outline | None = None
    inv: Inventory | None = None
    units: list[Unit] = []
    try:
        if not _holds_any(cache, study_uid, series_uids):
            # Nothing to subtract: counts and SOP classes are enough to start the transfer now.
            plan = outline(node, settings.ae_title, study_uid, series_uids, cancel, by_series=parallel > 1,
                           patient_id=pid)
            units = outline_units(plan) if plan is not None else []
            plan = plan if units else None
        if plan is None:
            inv = inventory(node, settings.ae_title, study_uid, series_uids, cancel, patient_id=pid)
    except NetworkError as exc:
        if "accepted none" not in str(exc) and "refused" not in str(exc):
            raise
        # No C-FIND here: fetch the whole study (or series) and trust the archive's counters.
        report.notes.append(f"could not list the study's instances first ({exc}); retrieving all of it")
        plan = inv = None
    before: set[str] = set()
    if plan is not None:
        report.expected = plan.instances
    elif inv is not None:
        before = cached_uids(cache, inv.sop_uids)
        report.expected, report.already_cached = len(inv), len(before)
        if inv.series == [] and not series_uids:
            report.error = f"{peer.describe()} has no study {study_uid}" + (
                " under the Patient ID given" if pid and (patient_id or "").strip() else "")
        units = plan_units(inv, before, parallel)
    else:
        units = ([Unit("SERIES", study_uid, s, patient_id=pid) for s in series_uids] if series_uids
                 else [Unit("STUDY", study_uid, patient_id=pid)])
    tally = _Tally(sum(u.expected for u in units), progress)
    sop_classes = plan.sop_classes if plan is not None else inv.sop_classes if inv is not None else set()
    if units and not report.error:
        _execute(units, chosen, node, settings, home, cache, inv or plan, sop_classes, tally, is_cancelled, report)
    tally.tick(force=True)
    if plan is not None:
        _account_outline(report, plan, node, settings, cache, tally, is_cancelled)
    else:
        _account(report, inv, before, cache, tally)
    report.cancelled = report.cancelled or (is_cancelled() and report.failed > 0)
    report.elapsed_s = time.monotonic() - started
    log.info("retrieve of %s from %s: %s", study_uid, peer.describe(), report.summary())
    return report


def _charset(node: Node | Peer) -> str | None:
    return node.charset if isinstance(node, Node) else None


def _holds_any(cache: StudyCache, study_uid: str, series_uids: Sequence[str]) -> bool:
    """Whether the cache holds any instance of the study (or of the given series)."""
    held = {row.series_uid: row.num_instances for row in cache.series(study_uid)}
    wanted = series_uids or list(held)
    return any(held.get(uid, 0) > 0 for uid in wanted)


def _present(cache: StudyCache, plan: Outline) -> int:
    rows = cache.series(plan.study_uid)
    return sum(row.num_instances for row in rows if not plan.only_series or row.series_uid in plan.series)


def _execute(units: list[Unit], method: str, node: Node | Peer, settings: Settings, home: Home, cache: StudyCache,
             target: Inventory | Outline | None, sop_classes: set[str], tally: _Tally,
             is_cancelled: Callable[[], bool], report: RetrieveReport) -> None:
    disk_full: list[str] = []  # our own refusals for a full disk: the archive's failure follows from them

    def watch(received: Any) -> None:
        if received.status != 0 and str(received.message).startswith("disk full") and not disk_full:
            disk_full.append(received.message)

    try:
        _execute_units(units, method, node, settings, home, cache, target, tally, is_cancelled, report, sop_classes,
                       watch)
    finally:
        disk_full += [text for text in tally.refusals if "disk full" in text][:1]
        if disk_full:
            # The archive's failure statuses (0xA702, 0xC000 ...) are the consequence: name the cause.
            report.error = disk_full[0].split(" ", 1)[1] if disk_full[0].startswith("0x") else disk_full[0]


def _execute_units(units: list[Unit], method: str, node: Node | Peer, settings: Settings, home: Home,
                   cache: StudyCache, target: Inventory | Outline | None, tally: _Tally,
                   is_cancelled: Callable[[], bool],
                   report: RetrieveReport, sop_classes: set[str], watch: Callable[[Any], None]) -> None:
    if method == "move":
        from workstation.net.listener import ensure_listener

        with ensure_listener(home, settings, cache, on_received=watch) as listener:
            if not listener.started_here:
                report.notes.append(f"received by the running Lightbox storage SCP ({listener.describe()})")
            # One association: a second C-MOVE makes the archive open another association to our
            # storage SCP for every request, which costs more here than it saves.
            results = _run_units(units, "move", node, settings, cache, sop_classes, tally, is_cancelled)
            if isinstance(target, Outline):
                plan = target
                listener.settle(cache, expected=plan.instances, present=lambda: _present(cache, plan))
            else:
                listener.settle(cache, target.sop_uids if target is not None else ())
        refused = [r for r in results if r.status == MOVE_DESTINATION_UNKNOWN]
        if refused:
            advice = (f"the archive does not know {settings.ae_title} as a move destination (0xA801): add "
                      f"{settings.ae_title} at this computer's address, port {settings.storage_port}, in the archive")
            if isinstance(node, Node) and node.get_fallback:
                report.notes.append(f"C-MOVE refused — {advice}; retrieved with C-GET instead")
                report.method = "get"
                if isinstance(target, Inventory):
                    still = cached_uids(cache, target.sop_uids)
                    units = plan_units(target, still, max(1, node.max_associations))
                results = _run_units(units, "get", node, settings, cache, sop_classes, tally, is_cancelled)
            else:
                report.error = f"C-MOVE refused — {advice}"
                return
    elif isinstance(target, Outline) and isinstance(node, Node) and _two_ended_fits(units, target, node):
        with GroupCommitter(cache) as committer:
            results = _run_two_ended(units[0], target, node, settings, cache, tally, is_cancelled,
                                     _get_fetch(node, settings, cache, sop_classes, tally, committer),
                                     committer.flush, Arrivals())
    else:
        results = _run_units(units, "get", node, settings, cache, sop_classes, tally, is_cancelled)
    errors = [r.error for r in results if r.error and r.error != "not started"]
    bad = [r.status for r in results if r.status is not None and status_category(r.status) not in
           ("Success", "Warning", "Cancel")]
    if errors:
        report.error = errors[0]
    elif bad:
        report.error = f"the archive answered {_failure_text(bad[0])}"
    if any(r.status is not None and status_category(r.status) == "Cancel" for r in results) or is_cancelled():
        report.cancelled = True


def _account(report: RetrieveReport, inv: Inventory | None, before: set[str], cache: StudyCache, tally: _Tally) -> None:
    snap = tally.snapshot()
    report.bytes = tally.bytes
    if tally.refusals:
        reasons = "; ".join(f"{text} ({n}x)" if n > 1 else text for text, n in list(tally.refusals.items())[:5])
        report.notes.append(f"{sum(tally.refusals.values())} objects the archive sent could not be stored: {reasons}")
    if inv is not None:
        present = cached_uids(cache, inv.sop_uids)
        report.retrieved = len(present - before)
        report.missing = [uid for uid in inv.sop_uids if uid not in present]
        report.failed = len(report.missing)
    else:
        report.retrieved = snap.completed + snap.warning
        report.failed = snap.failed + (snap.remaining if report.error or report.cancelled else 0)
        report.expected = report.retrieved + report.failed
    if not report.bytes and report.retrieved:
        report.bytes = _cached_bytes(cache, inv, before)


def _account_outline(report: RetrieveReport, plan: Outline, node: Node | Peer, settings: Settings,
                     cache: StudyCache, tally: _Tally, is_cancelled: Callable[[], bool]) -> None:
    """Counts of a retrieve started from an :class:`Outline` (nothing of the study was cached before).

    What is in the cache now is what was retrieved; the archive's count is
    what was expected.  When some
    are missing, the archive is asked which instances it holds so the report
    can name them (unless the retrieve was cancelled or the archive is gone).
    """
    report.bytes = tally.bytes
    if tally.refusals:
        reasons = "; ".join(f"{text} ({n}x)" if n > 1 else text for text, n in list(tally.refusals.items())[:5])
        report.notes.append(f"{sum(tally.refusals.values())} objects the archive sent could not be stored: {reasons}")
    report.retrieved = _present(cache, plan)
    # Not the sub-operation counters: fetched from both ends, an instance may have come twice.
    report.expected = max(plan.instances, report.retrieved)
    report.failed = report.expected - report.retrieved
    if not report.bytes and report.retrieved:
        study = cache.study(plan.study_uid)
        if study is not None and not plan.only_series:
            report.bytes = study.size_bytes
    if report.failed and not is_cancelled():
        try:
            inv = inventory(node, settings.ae_title, plan.study_uid, list(plan.series) if plan.only_series else (),
                            patient_id=plan.patient_id)
        except NetworkError as exc:
            log.info("cannot list what is missing of %s: %s", plan.study_uid, exc)
            return
        present = cached_uids(cache, inv.sop_uids)
        report.missing = [uid for uid in inv.sop_uids if uid not in present]
        report.failed = max(report.failed, len(report.missing)) if report.missing else report.failed


def _cached_bytes(cache: StudyCache, inv: Inventory | None, before: set[str]) -> int:
    if inv is None:
        return 0
    total = 0
    for uid in inv.sop_uids:
        if uid not in before:
            row = cache.instance(uid)
            total += row.file_size if row is not None else 0
    return total
