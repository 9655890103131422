"""The Remote tab: search an archive's studies and bring the chosen ones into the cache.

The query (:func:`workstation.ui.remote_query.stream_studies`) runs on a worker
thread and its rows stream in as the archive answers, in batches at most ten
times a second, so a search answered by thousands of studies never blocks the
GUI; Cancel sends a C-CANCEL.  Chosen studies go to the retrieve queue below
the results (:class:`workstation.ui.retrieve_queue.RetrieveQueue`), which runs
several at once up to the archive's limit.  A study already in the cache is
marked; a retrieved one appears in the Local tab and can be opened at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.store.cache import StudyCache
from workstation.ui.background import BackgroundTask
from workstation.ui.filter_bar import FilterBar
from workstation.ui.remote_query import RemoteStudy, stream_studies
from workstation.ui.qvariant import item_value, signal_value
from workstation.ui.retrieve_panel import RetrievePanel
from workstation.ui.retrieve_queue import RetrieveQueue
from workstation.ui.study_format import first_line, format_da, format_modalities, format_person_name

log = logging.getLogger(__name__)

#: Rows shown at most for one search (the archive is told to stop after that).
MAX_ROWS = 5000
BATCH_INTERVAL_S = 0.1
CACHED_COLUMN = 10
STUDY_DATE_COLUMN = 4

COLUMNS = ("Patient name", "Patient ID", "Birth date", "Sex", "Study date", "Modalities", "Description",
           "Accession", "Series", "Images", "")


def search_work(node, ae_title: str, flt):
    """The work of one search (for :class:`BackgroundTask`): rows leave in batches at most every
    :data:`BATCH_INTERVAL_S` seconds; it returns the line the status bar shows at the end."""

    def work(emit, cancel: threading.Event) -> str:
        batch: list[RemoteStudy] = []
        notes: list[str] = []  # what the archive answered that did not match, said once at the end
        seen: set[str] = set()
        n = 0
        last = time.monotonic()
        try:
            for row in stream_studies(node, ae_title, flt, cancel.is_set, notes=notes):
                if row.study_uid in seen:
                    continue
                seen.add(row.study_uid)
                batch.append(row)
                n += 1
                now = time.monotonic()
                if now - last >= BATCH_INTERVAL_S:
                    emit(batch)
                    batch, last = [], now
                if n >= MAX_ROWS:
                    cancel.set()
                    break
        finally:
            if batch:  # also the rows that came before a failure
                emit(batch)
        what = f"{n} stud{'y' if n == 1 else 'ies'} on {node.name}"
        if n >= MAX_ROWS:
            what += f" (the first {MAX_ROWS}: narrow the search)"
        elif cancel.is_set():
            what = f"Cancelled: {what}"
        return what + "".join(f" — {n}" for n in notes)

    return work


class RemoteTab(QWidget):
    """Search a configured archive and retrieve studies.

    Parameters
    ----------
    cache : StudyCache
        To mark studies already cached.
    settings_loader : callable
        Returns the current :class:`workstation.config.Settings` (nodes, our AE title).
    retrieve_study : callable
        ``retrieve_study(node, study_uid, progress, cancel) -> report`` (the connectivity
        layer's retrieve bound to the home and a cache connection of its own).

    Signals
    -------
    retrieved(str)
        A study came into the cache (its Study Instance UID).
    """

    retrieved = Signal(str)

    def __init__(self, cache: StudyCache, settings_loader: Callable, retrieve_study: Callable,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self._settings = settings_loader
        self.node_combo = QComboBox()
        self.node_combo.setMinimumWidth(140)
        self.filter_bar = FilterBar()
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.retrieve_button = QPushButton("Retrieve")
        self.cancel_button = QPushButton("Cancel search")
        self.cancel_button.setEnabled(False)
        self.status = QLabel("Choose an archive and search")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setStretchLastSection(True)
        for c, width in enumerate((190, 110, 90, 40, 90, 90, 220, 110, 50, 60)):
            self.table.setColumnWidth(c, width)
        self.table.doubleClicked.connect(lambda *_: self.retrieve_selected())
        self.queue = RetrieveQueue(retrieve_study, lambda uid: self.cache.study(uid) is not None, self)
        self.queue.retrieved.connect(self._on_retrieved)
        self.queue_panel = RetrievePanel(self.queue)
        top = QHBoxLayout()
        top.addWidget(QLabel("Archive"))
        top.addWidget(self.node_combo)
        top.addWidget(self.filter_bar, 1)
        top.addWidget(self.search_button)
        top.addWidget(self.cancel_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.retrieve_button)
        results = QWidget()
        results_layout = QVBoxLayout(results)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addWidget(self.table, 1)
        results_layout.addLayout(bottom)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(results)
        self.splitter.addWidget(self.queue_panel)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.search_button.clicked.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.cancel_button.clicked.connect(self.cancel_search)
        self.rows: list[RemoteStudy] = []
        self._row_of: dict[str, int] = {}
        self._cached: dict[str, bool] = {}
        # The search runs on a plain thread; its rows are collected on the GUI thread (no Qt off it).
        self.searcher = BackgroundTask(self, "remote-search")
        self.searcher.item.connect(self._add_rows)
        self.searcher.finished.connect(self._on_search_done)
        self.searcher.failed.connect(self._on_search_failed)
        self.reload_nodes()

    # Nodes ------------------------------------------------------------------------------
    def reload_nodes(self) -> None:
        """Offer the configured archives (called again when settings change)."""
        current = self.node_combo.currentText()
        self.node_combo.clear()
        try:
            nodes = self._settings().nodes
        except Exception as exc:  # unreadable settings: say so instead of an empty list
            self.status.setText(f"Settings cannot be read: {first_line(str(exc))}")
            nodes = []
        for node in nodes:
            self.node_combo.addItem(node.name)
        if current:
            self.node_combo.setCurrentText(current)
        if not nodes:
            self.status.setText("No archive is configured (Tools > DICOM nodes…)")
        self.search_button.setEnabled(bool(nodes) and not self.searcher.is_running())

    def _node(self):
        settings = self._settings()
        return settings, settings.node(self.node_combo.currentText())

    # Search -----------------------------------------------------------------------------
    def busy(self) -> bool:
        """A search runs, or a retrieve runs or waits."""
        return self.searcher.is_running() or self.queue.busy()

    def searching(self) -> bool:
        return self.searcher.is_running()

    def cancel_search(self) -> None:
        if self.searcher.is_running():
            self.searcher.cancel()
            self.status.setText("Cancelling…")

    def cancel(self) -> None:
        """Stop the search and every retrieve (at exit)."""
        self.cancel_search()
        self.queue.cancel_all()

    def wait(self, timeout_ms: int) -> bool:
        ok = self.searcher.wait(timeout_ms / 1000)
        return self.queue.wait(timeout_ms) and ok

    def search(self) -> bool:
        """Query the chosen archive with the filters; rows stream in as they arrive."""
        if self.searcher.is_running():
            return False
        try:
            settings, node = self._node()
        except Exception as exc:
            self.status.setText(first_line(str(exc)))
            return False
        self.rows, self._row_of, self._cached = [], {}, {}
        self.table.setRowCount(0)
        self.status.setText(f"Searching {node.name}…")
        self.cancel_button.setEnabled(True)
        self.search_button.setEnabled(False)
        return self.searcher.start(search_work(node, settings.ae_title, self.filter_bar.current_filter()))

    def _add_rows(self, payload: object) -> None:
        batch: list[RemoteStudy] = signal_value(payload, list)  # a batch of the search's answers
        fresh = list({s.study_uid: s for s in batch if s.study_uid not in self._row_of}.values())
        if not fresh:
            return
        first = self.table.rowCount()
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(first + len(fresh))
        for r, study in enumerate(fresh, start=first):
            self._row_of[study.study_uid] = r
            self.rows.append(study)
            self._fill_row(r, study)
        self.table.setUpdatesEnabled(True)
        if self.searcher.is_running():
            self.status.setText(f"Searching… {len(self.rows)} so far")

    def _fill_row(self, r: int, s: RemoteStudy, recheck: bool = True) -> None:
        if recheck or s.study_uid not in self._cached:
            self._cached[s.study_uid] = self.cache.study(s.study_uid) is not None
        cached = self._cached[s.study_uid]
        values = (format_person_name(s.patient_name), s.patient_id, format_da(s.birth_date), s.sex,
                  format_da(s.study_date), format_modalities(s.modalities), s.description, s.accession,
                  s.num_series, s.num_instances, "in cache" if cached else "")
        for c, v in enumerate(values):
            item = self.table.item(r, c)
            if item is None:
                item = QTableWidgetItem(v)
                if c == 0:
                    item.setData(Qt.ItemDataRole.UserRole, s.study_uid)
                self.table.setItem(r, c, item)
            else:
                item.setText(v)
            item.setForeground(QBrush(QColor("#8fbf8f")) if cached else QBrush())

    def _on_search_done(self, payload: object) -> None:
        text = signal_value(payload, str)
        # Newest first, once all are in: Qt sorts the rows on the ISO study date text (no Python per row).
        dates = [r.study_date for r in self.rows]
        if dates != sorted(dates, reverse=True):
            by_uid = {s.study_uid: s for s in self.rows}
            self.table.clearSelection()
            self.table.sortItems(STUDY_DATE_COLUMN, Qt.SortOrder.DescendingOrder)
            self.rows = [by_uid[uid] for r in range(self.table.rowCount())
                         if (uid := item_value(self.table.item(r, 0), str)) is not None]
            self._row_of = {s.study_uid: r for r, s in enumerate(self.rows)}
        self.status.setText(text)
        self._on_search_finished()

    def _on_search_failed(self, text: str) -> None:
        self.status.setText(f"Failed: {text}")
        self._on_search_finished()

    def _on_search_finished(self) -> None:
        self.cancel_button.setEnabled(False)
        self.search_button.setEnabled(self.node_combo.count() > 0)

    def selected_studies(self) -> list[RemoteStudy]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.rows[r] for r in rows if r < len(self.rows)]

    # Retrieve ---------------------------------------------------------------------------
    def retrieve_selected(self) -> bool:
        """Queue the selected studies for retrieve (they run in the background, several at once)."""
        chosen = self.selected_studies()
        if not chosen:
            self.status.setText("Select one or more studies first")
            return False
        try:
            _settings, node = self._node()
        except Exception as exc:
            self.status.setText(first_line(str(exc)))
            return False
        self.queue.add_many(node, [(study.study_uid, " ".join(
            t for t in (format_person_name(study.patient_name), format_da(study.study_date), study.description) if t))
            for study in chosen])
        self.status.setText(f"{len(chosen)} stud{'y' if len(chosen) == 1 else 'ies'} queued for retrieve "
                            f"from {node.name}")
        return True

    def _on_retrieved(self, study_uid: str) -> None:
        r = self._row_of.get(study_uid)
        if r is not None and r < len(self.rows):
            self._fill_row(r, self.rows[r])
        self.retrieved.emit(study_uid)
