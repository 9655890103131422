"""Keeps the study list in step with the index, whoever writes to it.

Imports in this process (their own connection), the ``lightbox import`` command
and the storage SCP all commit through other SQLite connections, so one cheap
``PRAGMA data_version`` poll catches every one of them; the list is re-read only
when that number moves.
"""

from __future__ import annotations

import logging
import sqlite3
import time

from PySide6.QtCore import QObject, QTimer, Signal

from workstation.store.cache import StudyCache
from workstation.store.queries import StudyFilter
from workstation.ui.study_model import StudyTableModel

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 500


class StudyFeed(QObject):
    """Fills a :class:`StudyTableModel` from a :class:`StudyCache` and keeps it current.

    Parameters
    ----------
    cache : StudyCache
        The GUI's own connection to the index (read only here).
    model : StudyTableModel
        The model to fill.
    interval_ms : int
        How often to poll the index's data version.
    """

    refreshed = Signal(int)  # number of studies now shown

    def __init__(self, cache: StudyCache, model: StudyTableModel, *, interval_ms: int = POLL_INTERVAL_MS, parent=None) -> None:
        super().__init__(parent)
        self._cache = cache
        self._model = model
        self._filter = StudyFilter()
        self._seen_version: int | None = None
        self.last_refresh_s = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    @property
    def study_filter(self) -> StudyFilter:
        return self._filter

    def start(self) -> None:
        """Load the list now and keep polling."""
        self.refresh()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def set_filter(self, flt: StudyFilter) -> None:
        """Show only the studies ``flt`` selects (re-reads the index at once)."""
        self._filter = flt
        self.refresh()

    def poll(self) -> bool:
        """Re-read the list if the index changed since the last read; returns whether it did."""
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
        """Re-read the list from the index with the current filter."""
        t0 = time.perf_counter()
        try:
            # Read the version first: a commit landing during the query is caught by the next poll.
            self._seen_version = self._cache.data_version()
            rows = self._cache.studies(self._filter)
        except sqlite3.Error as exc:
            log.warning("study list: cannot read the index (%s)", type(exc).__name__)
            return
        self._model.set_rows(rows)
        self.last_refresh_s = time.perf_counter() - t0
        self.refreshed.emit(len(rows))
