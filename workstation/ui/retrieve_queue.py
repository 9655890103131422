"""The retrieve queue: studies waiting for, or being brought from, an archive, several at a time.

:class:`RetrieveJob` and :func:`next_starts` are plain Python (the scheduling
rule, testable without threads); :class:`RetrieveQueue` is the one adapter
that runs each job's Qt-free :func:`workstation.net.retrieve.retrieve` on a
worker thread and turns its progress into Qt signals, at most about ten per
second per job.

Per archive, the running jobs together use at most the node's
``max_associations`` associations: a job alone gets all of them (the
retrieve spreads its series over them), several queued jobs share them and
run side by side.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Signal

from workstation.config import Node
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import signal_value
from workstation.ui.study_format import first_line

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)

#: ``retrieve_study(node, study_uid, progress, cancel) -> RetrieveReport``
RetrieveStudy = Callable[[Node, str, Callable[[Any], None], threading.Event], Any]

_ids = itertools.count(1)


@dataclass
class RetrieveJob:
    """One study to bring into the cache.

    Attributes
    ----------
    job_id : int
    node : Node
        The archive, as configured when the job was added.
    study_uid : str
    label : str
        What the panel shows (patient and study); never logged.
    state : str
        ``queued``, ``running``, ``done``, ``failed`` or ``cancelled``.
    associations : int
        Associations this job may open while it runs.
    progress : object or None
        The last :class:`~workstation.net.retrieve.RetrieveProgress`.
    summary : str
        The report's summary, or why the job failed.
    """

    node: Node
    study_uid: str
    label: str = ""
    job_id: int = field(default_factory=lambda: next(_ids))
    state: str = QUEUED
    associations: int = 0
    progress: Any = None
    summary: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


def next_starts(jobs: Iterable[RetrieveJob]) -> list[tuple[RetrieveJob, int]]:
    """Which queued jobs start now, and with how many associations each.

    Per node, the associations of running jobs plus those handed out here
    never exceed ``node.max_associations``; the free ones are shared evenly
    among the queued jobs in order (the first ones get the remainder).

    Returns
    -------
    list of (RetrieveJob, int)
    """
    jobs = list(jobs)
    starts: list[tuple[RetrieveJob, int]] = []
    for name in dict.fromkeys(j.node.name for j in jobs):
        mine = [j for j in jobs if j.node.name == name]
        limit = max(1, int(mine[0].node.max_associations))
        free = limit - sum(j.associations for j in mine if j.state == RUNNING)
        queued = [j for j in mine if j.state == QUEUED]
        while free > 0 and queued:
            share = max(1, free // min(len(queued), free))
            starts.append((queued.pop(0), share))
            free -= share
    return starts


class _Throttle:
    """Passes on one progress report every :data:`PROGRESS_INTERVAL_S`, holding back the latest of the others."""

    def __init__(self, emit: Callable[[Any], None]) -> None:
        self._emit = emit
        self._lock = threading.Lock()
        self._last = 0.0
        self.held: Any = None  # the latest report not let through yet

    def report(self, progress: Any) -> None:
        # Called from the retrieve's association threads.
        now = time.monotonic()
        with self._lock:
            if now - self._last < PROGRESS_INTERVAL_S:
                self.held = progress
                return
            self._last, self.held = now, None
        self._emit(progress)

    def flush(self) -> None:
        with self._lock:
            held, self.held = self.held, None
        if held is not None:
            self._emit(held)


def job_work(job: RetrieveJob, retrieve_study: RetrieveStudy):
    """The work of one job (for :class:`BackgroundTask`): emits progress, returns ``(state, summary)``.

    It reads the job's values once, here on the GUI thread, and never changes the job.
    """
    job_id, study_uid, cancel = job.job_id, job.study_uid, job.cancel
    node = dataclasses.replace(job.node, max_associations=max(1, job.associations))

    def work(emit, _cancel) -> tuple[str, str]:
        throttle = _Throttle(emit)
        try:
            report = retrieve_study(node, study_uid, throttle.report, cancel)
        except Exception as exc:  # noqa: BLE001 - the panel shows why
            log.warning("retrieve job %d failed: %s", job_id, type(exc).__name__)
            return CANCELLED if cancel.is_set() else FAILED, first_line(str(exc)) or type(exc).__name__
        summary = report.summary() if hasattr(report, "summary") else "done"
        if getattr(report, "cancelled", False) or (cancel.is_set() and not getattr(report, "ok", True)):
            state = CANCELLED
        elif getattr(report, "ok", True):
            state = DONE
        else:
            state = FAILED
        throttle.flush()  # the final counts, held back by the throttle
        return state, summary

    return work


class RetrieveQueue(QObject):
    """Jobs retrieving studies in the background, in parallel up to each node's limit.

    Parameters
    ----------
    retrieve_study : callable
        ``retrieve_study(node, study_uid, progress, cancel) -> RetrieveReport``: the
        connectivity layer's retrieve bound to the home and a cache connection of its own.
    in_cache : callable, optional
        ``in_cache(study_uid) -> bool``; a finished job whose study is cached emits ``retrieved``.

    Signals
    -------
    job_added(int)
    job_changed(int)
        State or progress of the job changed.
    retrieved(str)
        A study came into the cache (its Study Instance UID).
    idle()
        No job runs or waits any more.
    """

    job_added = Signal(int)
    job_changed = Signal(int)
    retrieved = Signal(str)
    idle = Signal()

    def __init__(self, retrieve_study: RetrieveStudy, in_cache: Callable[[str], bool] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._retrieve = retrieve_study
        self._in_cache = in_cache or (lambda _uid: True)
        self.jobs: dict[int, RetrieveJob] = {}
        self._tasks: dict[int, BackgroundTask] = {}  # of the running jobs

    # Public -------------------------------------------------------------------------------
    def add(self, node: Node, study_uid: str, label: str = "") -> RetrieveJob:
        """Queue a study; it starts at once when its node has a free association."""
        return self.add_many(node, [(study_uid, label)])[0]

    def add_many(self, node: Node, studies: Iterable[tuple[str, str]]) -> list[RetrieveJob]:
        """Queue several studies ``(study_uid, label)`` at once, so they share the node's associations."""
        jobs = []
        for study_uid, label in studies:
            job = RetrieveJob(node, study_uid, label)
            self.jobs[job.job_id] = job
            jobs.append(job)
            self.job_added.emit(job.job_id)
        self._schedule()
        return jobs

    def job(self, job_id: int) -> RetrieveJob:
        return self.jobs[job_id]

    def busy(self) -> bool:
        return any(not j.finished for j in self.jobs.values())

    def running(self) -> list[RetrieveJob]:
        return [j for j in self.jobs.values() if j.state == RUNNING]

    def cancel(self, job_id: int) -> None:
        """Cancel a job: a queued one never starts, a running one stops (C-CANCEL) keeping only whole files."""
        job = self.jobs[job_id]
        job.cancel.set()
        if job.state == QUEUED:
            job.state, job.summary = CANCELLED, "Cancelled before it started"
            self.job_changed.emit(job_id)
            self._check_idle()

    def cancel_all(self) -> None:
        for job_id, job in list(self.jobs.items()):
            if not job.finished:
                self.cancel(job_id)

    def retry(self, job_id: int) -> bool:
        """Queue a failed or cancelled job again (a repeated retrieve fetches only what is missing)."""
        job = self.jobs[job_id]
        if not job.finished or job.state == DONE:
            return False
        job.state, job.summary, job.progress, job.associations = QUEUED, "", None, 0
        job.cancel = threading.Event()
        self.job_changed.emit(job_id)
        self._schedule()
        return True

    def remove_finished(self) -> None:
        for job_id in [i for i, j in self.jobs.items() if j.finished]:
            del self.jobs[job_id]

    def wait(self, timeout_ms: int) -> bool:
        """Wait for the running threads (after :meth:`cancel_all` at exit); False on timeout."""
        deadline = time.monotonic() + timeout_ms / 1000
        return all(task.wait(max(0.0, deadline - time.monotonic())) for task in list(self._tasks.values()))

    # Running ------------------------------------------------------------------------------
    def _schedule(self) -> None:
        for job, share in next_starts(self.jobs.values()):
            job.state, job.associations = RUNNING, share
            # A plain thread per job; its progress and outcome are collected on the GUI thread.  Bound
            # methods, not lambdas: PySide keeps a lambda's connection in a helper object that can be
            # deleted twice when the task goes first and the queue right after it (a crash at exit).
            task = BackgroundTask(self, f"retrieve-{job.job_id}")
            task.item.connect(self._on_task_item)
            task.finished.connect(self._on_task_finished)
            task.failed.connect(self._on_task_failed)
            self._tasks[job.job_id] = task
            self.job_changed.emit(job.job_id)
            task.start(job_work(job, self._retrieve))

    def _job_of(self, task: QObject | None) -> int | None:
        return next((i for i, t in self._tasks.items() if t is task), None)

    def _on_task_item(self, progress: object) -> None:  # whatever retrieve_study reports: kept as it is
        job_id = self._job_of(self.sender())
        if job_id is not None:
            self._on_progress(job_id, progress)

    def _on_task_finished(self, outcome: object) -> None:
        job_id = self._job_of(self.sender())
        if job_id is not None:
            state, summary = signal_value(outcome, tuple)  # job_work's (state, summary)
            self._on_ended(job_id, state, summary)

    def _on_task_failed(self, message: str) -> None:
        job_id = self._job_of(self.sender())
        if job_id is not None:
            self._on_ended(job_id, FAILED, message)

    def _on_progress(self, job_id: int, progress: Any) -> None:
        job = self.jobs.get(job_id)
        if job is not None and job.state == RUNNING:
            job.progress = progress
            self.job_changed.emit(job_id)

    def _on_ended(self, job_id: int, state: str, summary: str) -> None:
        task = self._tasks.pop(job_id, None)
        if task is not None:
            task.deleteLater()  # its thread has ended
        job = self.jobs.get(job_id)
        if job is not None:
            job.state, job.summary, job.associations = state, summary, 0
            self.job_changed.emit(job_id)
            if state != CANCELLED and self._in_cache(job.study_uid):
                self.retrieved.emit(job.study_uid)
        self._schedule()
        self._check_idle()

    def _check_idle(self) -> None:
        if not self.busy() and not self._tasks:
            self.idle.emit()
