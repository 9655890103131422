"""The local study browser: filter bar, sortable study table and a count of what is shown."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from workstation.store.cache import StudyCache
from workstation.store.queries import StudyFilter
from workstation.ui.filter_bar import FilterBar
from workstation.ui.qvariant import item_value, signal_value
from workstation.ui.study_feed import POLL_INTERVAL_MS, StudyFeed
from workstation.ui.study_format import Column, count_label
from workstation.ui.study_model import STUDY_UID_ROLE, StudySortProxy, StudyTableModel

log = logging.getLogger(__name__)

# Starting widths in average characters; Description takes whatever room is left.
_COLUMN_CHARS = {
    Column.PATIENT_NAME: 28,
    Column.PATIENT_ID: 16,
    Column.BIRTH_DATE: 11,
    Column.SEX: 4,
    Column.STUDY_DATE: 12,
    Column.MODALITIES: 12,
    Column.ACCESSION: 19,
    Column.SERIES: 7,
    Column.IMAGES: 7,
}


class StudyBrowser(QWidget):
    """Lists the studies of the local cache and reports which one the reader opens.

    Parameters
    ----------
    cache : StudyCache
        The GUI's connection to the index.
    poll_interval_ms : int
        How often to look for studies written by others (imports, the storage SCP).

    Signals
    -------
    study_activated(str)
        The Study Instance UID the reader double-clicked (or pressed Enter on).
    """

    study_activated = Signal(str)

    def __init__(self, cache: StudyCache, *, poll_interval_ms: int = POLL_INTERVAL_MS, parent=None) -> None:
        super().__init__(parent)
        self._cache = cache
        self.model = StudyTableModel(self)
        self.proxy = StudySortProxy(self)
        self.proxy.setSourceModel(self.model)
        self.feed = StudyFeed(cache, self.model, interval_ms=poll_interval_ms, parent=self)

        self.filter_bar = FilterBar()
        self.count_label = QLabel(count_label(0))
        self.count_label.setAccessibleName("Number of studies shown")
        self.table = self._make_table()

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter_bar, 1)
        top.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

        self.filter_bar.filter_changed.connect(self._on_filter_changed)
        self.feed.refreshed.connect(self._on_refreshed)
        self.table.doubleClicked.connect(self._activate)
        self._kept_uid: str | None = None
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._restore_selection)

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setAccessibleName("Studies")
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setShowGrid(False)
        table.setSortingEnabled(True)
        table.sortByColumn(Column.STUDY_DATE, Qt.SortOrder.DescendingOrder)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsMovable(True)
        header.setMinimumSectionSize(40)
        char = table.fontMetrics().averageCharWidth()
        for column, chars in _COLUMN_CHARS.items():
            header.resizeSection(column, chars * char + 16)
        header.setSectionResizeMode(Column.DESCRIPTION, QHeaderView.ResizeMode.Stretch)
        # Enter opens the current study; a filter rather than a shortcut works without window focus games.
        table.installEventFilter(self)
        return table

    # Public ---------------------------------------------------------------------------
    def start(self) -> None:
        """Load the list and keep it current."""
        self.feed.start()

    def stop(self) -> None:
        self.feed.stop()

    def refresh(self) -> None:
        """Re-read the list now (after an import in this process, say)."""
        self.feed.poll()

    def set_filter(self, flt: StudyFilter) -> None:
        self.feed.set_filter(flt)

    def shown_study_uids(self) -> list[str]:
        """Study UIDs in the order the table shows them."""
        return [uid for r in range(self.proxy.rowCount())
                if (uid := item_value(self.proxy.index(r, 0), str, STUDY_UID_ROLE)) is not None]

    def selected_study_uid(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.study_uid(rows[0]) if rows else None

    def select_study(self, study_uid: str) -> bool:
        """Select and show a study's row; False when it is not in the list."""
        src_row = self.model.row_of(study_uid)
        if src_row is None:
            return False
        index = self.proxy.mapFromSource(self.model.index(src_row, 0))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(index, flags)
        self.table.scrollTo(index)
        return True

    def activate_study(self, study_uid: str) -> None:
        """Record that the reader opened ``study_uid`` and announce it."""
        try:
            self._cache.mark_opened(study_uid)
        except sqlite3.Error as exc:
            # Opening must not fail because the index is busy; the date is only a convenience.
            log.warning("could not record study %s as opened (%s)", study_uid, type(exc).__name__)
        self.study_activated.emit(study_uid)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)  # type: ignore[attr-defined]
        ):
            self._activate(self.table.currentIndex())
            return True
        return super().eventFilter(watched, event)

    # Slots ----------------------------------------------------------------------------
    def _activate(self, index: QModelIndex) -> None:
        uid = self.proxy.study_uid(index)
        if uid:
            self.activate_study(uid)

    def _on_filter_changed(self, payload: object) -> None:
        flt = signal_value(payload, StudyFilter)
        self.feed.set_filter(flt)

    def _on_refreshed(self, n: int) -> None:
        self.count_label.setText(count_label(n))
        self._offer_modalities(r.modalities for r in self.model.rows())

    def _offer_modalities(self, seen: Iterable[str]) -> None:
        self.filter_bar.add_modalities(seen)

    def _remember_selection(self) -> None:
        self._kept_uid = self.selected_study_uid()

    def _restore_selection(self) -> None:
        if self._kept_uid:
            self.select_study(self._kept_uid)
        self._kept_uid = None
