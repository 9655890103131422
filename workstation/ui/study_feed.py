"""Keeps the study list in step with the index, whoever writes to it.

Imports in this process (their own connection), the ``lightbox import`` command
and the storage SCP all commit through other SQLite connections, so one cheap
``PRAGMA data_version`` poll (about 0.1 ms) catches every one of them.  The list
is re-read only when that number moves, and the read runs on a worker thread
with its own connection: with thousands of studies it takes a noticeable
fraction of a second, which the GUI thread must not spend.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from workstation.store.cache import StudyCache
from workstation.store.queries import StudyFilter
from workstation.ui.study_model import StudyTableModel
from workstation.ui.qvariant import signal_value

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 250  # the version poll costs about 0.1 ms; the list is re-read only when it moved


class _Courier(QObject):
    """Carries a finished read from the worker thread to the GUI thread (a queued signal)."""

    delivered = Signal(int, object)  # request number, rows or the sqlite3.Error raised


class StudyFeed(QObject):
    """Fills a :class:`StudyTableModel` from the index and keeps it current.

    Parameters
    ----------
    cache : StudyCache
        The GUI's own connection; only its data version is read here.
    model : StudyTableModel
        The model to fill.
    interval_ms : int
        How often to poll the index's data version.
    open_reader : callable, optional
        Opens the connection the worker thread reads the list through; by default
        a new one on ``cache``'s files.

    Signals
    -------
    refreshed(int)
        The model now holds a fresh read; the argument is the number of studies.
    """

    refreshed = Signal(int)

    def __init__(
        self,
        cache: StudyCache,
        model: StudyTableModel,
        *,
        interval_ms: int = POLL_INTERVAL_MS,
        open_reader: Callable[[], StudyCache] | None = None,
        parent=None,
    ) -> None:
        super().__init__(parent)
        self._cache = cache
        self._model = model
        self._open_reader = open_reader or (lambda: StudyCache(cache.index_file, cache.cache_dir))
        self._reader: StudyCache | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._filter = StudyFilter()
        self._seen_version: int | None = None
        self._requested = 0  # number of the newest read asked for
        self._in_flight = False
        self._stopped = False
        self.last_read_s = 0.0
        self._courier = _Courier(self)
        self._courier.delivered.connect(self._on_read)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    @property
    def study_filter(self) -> StudyFilter:
        return self._filter

    def is_reading(self) -> bool:
        """Whether a read is on its way (tests wait for this to become False)."""
        return self._in_flight

    def start(self) -> None:
        """Load the list and keep polling."""
        self._stopped = False
        self.refresh()
        self._timer.start()

    def stop(self) -> None:
        """Stop polling, let a running read end, and close the reader's connection."""
        self._stopped = True
        self._timer.stop()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)  # a read is one bounded query
            self._executor = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._in_flight = False

    def set_filter(self, flt: StudyFilter) -> None:
        """Show only the studies ``flt`` selects (re-reads the index)."""
        self._filter = flt
        self.refresh()

    def poll(self) -> bool:
        """Re-read the list if the index changed since the last read; returns whether it will."""
        try:
            version = self._cache.data_version()
        except sqlite3.Error as exc:
            log.warning("study list: cannot poll the index (%s)", type(exc).__name__)
            return False
        if version == self._seen_version:
            return False
        self.refresh()
        return True

    def refresh(self) -> None:
        """Re-read the list with the current filter (one read at a time; the newest request wins)."""
        if self._stopped:
            return
        self._requested += 1
        if not self._in_flight:
            self._dispatch()

    def _dispatch(self) -> None:
        try:
            # The version first: a commit landing during the read is caught by the next poll.
            self._seen_version = self._cache.data_version()
            if self._reader is None:
                self._reader = self._open_reader()
        except sqlite3.Error as exc:
            log.warning("study list: cannot read the index (%s)", type(exc).__name__)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="study-list")
        self._in_flight = True
        self._executor.submit(self._read, self._reader, self._filter, self._requested)

    def _read(self, reader: StudyCache, flt: StudyFilter, number: int) -> None:
        """Worker thread: query the index and hand the rows to the GUI thread."""
        t0 = time.perf_counter()
        try:
            rows: object = reader.studies(flt)
        except sqlite3.Error as exc:
            rows = exc
        self.last_read_s = time.perf_counter() - t0
        self._courier.delivered.emit(number, rows)

    def _on_read(self, number: int, rows: object) -> None:
        self._in_flight = False
        if self._stopped:
            return
        if number != self._requested:
            self._dispatch()  # the filter or the index changed meanwhile: read again
            return
        if isinstance(rows, sqlite3.Error):
            log.warning("study list: cannot read the index (%s)", type(rows).__name__)
            return
        studies = signal_value(rows, list)  # the StudyRow list of a successful read
        self._model.set_rows(studies)
        self.refreshed.emit(len(studies))
