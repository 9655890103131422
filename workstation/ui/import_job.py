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
from typing import Callable, Sequence

from PySide6.QtCore import QObject, QThread, Signal

from workstation.jobs.core import CancelToken
from workstation.store.cache import StudyCache
from workstation.store.importer import ImportSummary, import_paths

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


class _ImportThread(QThread):
    progress = Signal(int, int)
    summary_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, open_cache: Callable[[], StudyCache], paths: list[str], token: CancelToken, parent=None) -> None:
        super().__init__(parent)
        self._open_cache = open_cache
        self._paths = paths
        self._token = token
        self._gate = RateGate()

    def _report(self, done: int, total: int) -> None:
        if self._gate.allow(done, total):
            self.progress.emit(done, total)

    def run(self) -> None:
        try:
            with self._open_cache() as cache:
                summary = import_paths(cache, self._paths, progress=self._report, cancel=self._token)
        except Exception as exc:  # the GUI must hear of any failure, not lose the thread silently
            # Only the type in the log: messages of file errors can carry paths named after patients.
            log.error("import failed: %s", type(exc).__name__)
            self.failed.emit(str(exc) or type(exc).__name__)
            return
        self.summary_ready.emit(summary)


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
        self._thread: _ImportThread | None = None
        self._token: CancelToken | None = None
        self._result: tuple[str, object] | None = None

    def is_running(self) -> bool:
        return self._thread is not None

    def start(self, paths: Sequence[str | os.PathLike[str]]) -> bool:
        """Import ``paths`` in the background; returns False if an import is already running."""
        if self._thread is not None or not paths:
            return False
        self._token = CancelToken()
        self._result = None
        thread = _ImportThread(self._open_cache, [os.fspath(p) for p in paths], self._token, self)
        thread.progress.connect(self.progress)
        thread.summary_ready.connect(self._on_summary)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        log.info("import started: %d paths", len(paths))
        thread.start()
        self.started.emit(len(paths))
        return True

    def cancel(self) -> None:
        """Ask the running import to stop after the chunk it is committing."""
        if self._token is not None:
            self._token.cancel()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the running import ends or ``timeout_ms`` passes; True when none runs."""
        thread = self._thread
        if thread is None:
            return True
        return thread.wait(timeout_ms)

    def _on_summary(self, summary: ImportSummary) -> None:
        self._result = ("finished", summary)

    def _on_failed(self, message: str) -> None:
        self._result = ("failed", message)

    def _on_thread_finished(self) -> None:
        # Report only once the thread has really ended, so a new import may start at once.
        thread, self._thread, self._token = self._thread, None, None
        if thread is not None:
            thread.deleteLater()
        kind, payload = self._result or ("failed", "the import ended without a result")
        self._result = None
        if kind == "finished":
            self.finished.emit(payload)
        else:
            self.failed.emit(payload)
