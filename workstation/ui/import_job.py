"""Runs an import off the GUI thread and reports it as Qt signals.

The import itself is the Qt-free :func:`workstation.store.importer.import_paths`;
this adapter gives it a thread, its own connection to the index (so the study
list's data-version poll sees each chunk land) and a cancel token, and turns its
progress into signals at most about ten times a second.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from workstation.jobs.core import CancelToken
from workstation.store.cache import StudyCache
from workstation.store.importer import ImportSummary, import_paths
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import signal_value

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1


class RateGate:
    """Lets a progress report through at most every ``interval`` seconds, and always the last one."""

    def __init__(self, interval: float = PROGRESS_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: float | None = None

    def allow(self, done: int, total: int) -> bool:
        now = self._clock()
        if done >= total or self._last is None or now - self._last >= self._interval:
            self._last = now
            return True
        return False


def import_work(open_cache: Callable[[], StudyCache], paths: list[str], token: CancelToken):
    """The work of one import (for :class:`BackgroundTask`): emits ``(done, total)``, returns the summary."""

    def work(emit, _cancel) -> ImportSummary:
        gate = RateGate()

        def report(done: int, total: int) -> None:
            if gate.allow(done, total):
                emit((done, total))

        with open_cache() as cache:
            return import_paths(cache, paths, progress=report, cancel=token)

    return work


class ImportRunner(QObject):
    """Starts imports one at a time in a worker thread.

    Parameters
    ----------
    open_cache : callable
        Returns a new :class:`StudyCache` connection for the worker (closed when it ends).

    Signals
    -------
    started(int)
        An import began; the argument is the number of paths given.
    progress(int, int)
        Files done and files found, at most about ten times a second.
    finished(object)
        The :class:`ImportSummary` once the import ended (also when cancelled).
    failed(str)
        The import stopped on an error.
    """

    started = Signal(int)
    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, open_cache: Callable[[], StudyCache], parent=None) -> None:
        super().__init__(parent)
        self._open_cache = open_cache
        # The import runs on a plain thread; its progress and end are collected on the GUI thread.
        self._task = BackgroundTask(self, "import")
        self._task.item.connect(self._on_counts)  # a bound method: see BackgroundTask on lambdas
        self._task.finished.connect(self._on_end)
        self._task.failed.connect(self._on_failed)
        self._token: CancelToken | None = None

    def is_running(self) -> bool:
        return self._task.is_running()

    def start(self, paths: Sequence[str | os.PathLike[str]]) -> bool:
        """Import ``paths`` in the background; returns False if an import is already running."""
        if self._task.is_running() or not paths:
            return False
        self._token = CancelToken()
        log.info("import started: %d paths", len(paths))
        self._task.start(import_work(self._open_cache, [os.fspath(p) for p in paths], self._token))
        self.started.emit(len(paths))
        return True

    def cancel(self) -> None:
        """Ask the running import to stop after the chunk it is committing."""
        if self._token is not None:
            self._token.cancel()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the running import's thread ends or ``timeout_ms`` passes; True when none runs.

        Its ``finished`` (or ``failed``) still comes from the event loop.
        """
        return self._task.wait(timeout_ms / 1000)

    def _on_counts(self, payload: object) -> None:
        done, total = signal_value(payload, tuple)
        self.progress.emit(done, total)

    # ``finished`` and ``failed`` come once the thread has really ended, so a new import may start at once.
    def _on_end(self, payload: object) -> None:
        self._token = None
        self.finished.emit(signal_value(payload, ImportSummary))

    def _on_failed(self, message: str) -> None:
        self._token = None
        self.failed.emit(message)
