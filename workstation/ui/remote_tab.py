"""The Remote tab: search an archive's studies and bring the chosen ones into the cache.

The query (:func:`workstation.ui.remote_query.search_studies`) and the retrieve
(:func:`workstation.net.retrieve.retrieve`) run on a worker thread; this
widget shows their rows and progress.  A study already in the cache is
marked; a retrieved one appears in the Local tab and can be opened at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.store.cache import StudyCache
from workstation.ui.filter_bar import FilterBar
from workstation.ui.remote_query import RemoteStudy, search_studies
from workstation.ui.study_format import first_line, format_da, format_modalities, format_person_name

log = logging.getLogger(__name__)

COLUMNS = ("Patient name", "Patient ID", "Birth date", "Sex", "Study date", "Modalities", "Description",
           "Accession", "Series", "Images", "")


class _Worker(QThread):
    """Runs one query or retrieve; reports through signals."""

    rows_ready = Signal(object)
    progress = Signal(str)
    done = Signal(str)
    failed = Signal(str)

    def __init__(self, work: Callable, parent=None) -> None:
        super().__init__(parent)
        self._work = work
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            self._work(self)
        except Exception as exc:  # the tab says what went wrong; the thread never dies silently
            log.warning("remote job failed: %s", type(exc).__name__)
            self.failed.emit(first_line(str(exc)) or type(exc).__name__)


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
        layer's retrieve bound to the home and cache).

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
        self._retrieve = retrieve_study
        self.node_combo = QComboBox()
        self.node_combo.setMinimumWidth(140)
        self.filter_bar = FilterBar()
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.retrieve_button = QPushButton("Retrieve")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.status = QLabel("Choose an archive and search")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda *_: self.retrieve_selected())
        top = QHBoxLayout()
        top.addWidget(QLabel("Archive"))
        top.addWidget(self.node_combo)
        top.addWidget(self.filter_bar, 1)
        top.addWidget(self.search_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.retrieve_button)
        bottom.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)
        self.search_button.clicked.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.cancel_button.clicked.connect(self.cancel)
        self.rows: list[RemoteStudy] = []
        self._worker: _Worker | None = None
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
            self.status.setText("No archive is configured (lightbox nodes add …)")
        self.search_button.setEnabled(bool(nodes))

    def _node(self):
        settings = self._settings()
        return settings, settings.node(self.node_combo.currentText())

    # Jobs -------------------------------------------------------------------------------
    def busy(self) -> bool:
        return self._worker is not None

    def _start(self, work: Callable, message: str) -> bool:
        if self._worker is not None:
            return False
        worker = _Worker(work, self)
        worker.rows_ready.connect(self._show_rows)
        worker.progress.connect(self.status.setText)
        worker.done.connect(self._on_done)
        worker.failed.connect(lambda text: self.status.setText(f"Failed: {text}"))
        worker.finished.connect(self._on_finished)
        self._worker = worker
        self.status.setText(message)
        self.cancel_button.setEnabled(True)
        self.search_button.setEnabled(False)
        self.retrieve_button.setEnabled(False)
        worker.start()
        return True

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel.set()
            self.status.setText("Cancelling…")

    def wait(self, timeout_ms: int) -> bool:
        return self._worker is None or self._worker.wait(timeout_ms)

    def _on_finished(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.deleteLater()
        self.cancel_button.setEnabled(False)
        self.search_button.setEnabled(self.node_combo.count() > 0)
        self.retrieve_button.setEnabled(True)

    def _on_done(self, text: str) -> None:
        self.status.setText(text)

    def search(self) -> bool:
        """Query the chosen archive with the filters (in the background)."""
        try:
            settings, node = self._node()
        except Exception as exc:
            self.status.setText(first_line(str(exc)))
            return False
        flt = self.filter_bar.current_filter()

        def work(worker: _Worker) -> None:
            rows = search_studies(node, settings.ae_title, flt, worker.cancel.is_set)
            worker.rows_ready.emit(rows)
            worker.done.emit(f"{len(rows)} stud{'y' if len(rows) == 1 else 'ies'} on {node.name}")

        return self._start(work, f"Searching {node.name}…")

    def _show_rows(self, rows: list[RemoteStudy]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for r, s in enumerate(rows):
            cached = self.cache.study(s.study_uid) is not None
            values = (format_person_name(s.patient_name), s.patient_id, format_da(s.birth_date), s.sex,
                      format_da(s.study_date), format_modalities(s.modalities), s.description, s.accession,
                      s.num_series, s.num_instances, "in cache" if cached else "")
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if cached:
                    item.setForeground(QBrush(QColor("#8fbf8f")))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def selected_studies(self) -> list[RemoteStudy]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.rows[r] for r in rows if r < len(self.rows)]

    def retrieve_selected(self) -> bool:
        """Bring the selected studies into the cache (in the background)."""
        chosen = self.selected_studies()
        if not chosen:
            self.status.setText("Select one or more studies first")
            return False
        try:
            _settings, node = self._node()
        except Exception as exc:
            self.status.setText(first_line(str(exc)))
            return False

        def work(worker: _Worker) -> None:
            notes = []
            for k, study in enumerate(chosen, start=1):
                if worker.cancel.is_set():
                    break

                def progress(p, k=k) -> None:
                    worker.progress.emit(f"Study {k} of {len(chosen)}: {p.completed} received, "
                                         f"{p.remaining} to come, {p.failed} failed")

                report = self._retrieve(node, study.study_uid, progress, worker.cancel)
                notes.append(report.summary() if hasattr(report, "summary") else "done")
                if self.cache.study(study.study_uid) is not None:
                    self.retrieved.emit(study.study_uid)
            worker.done.emit("; ".join(notes) or "Cancelled")

        return self._start(work, f"Retrieving {len(chosen)} stud{'y' if len(chosen) == 1 else 'ies'}…")
