"""The local study list as Qt models: a table of :class:`StudyRow` and its sorting proxy.

All text and sort keys come from :mod:`workstation.ui.study_format`; this module
only maps them onto Qt roles.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from workstation.store.queries import StudyRow
from workstation.ui import theme
from workstation.ui.qvariant import item_value
from workstation.ui.study_format import (
    HEADERS,
    MIXED_PATIENTS_TOOLTIP,
    NUMERIC_COLUMNS,
    Column,
    display_value,
    sort_key,
)

SORT_ROLE = Qt.ItemDataRole.UserRole
STUDY_UID_ROLE = Qt.ItemDataRole.UserRole + 1

_Index = QModelIndex | QPersistentModelIndex


class StudyTableModel(QAbstractTableModel):
    """One row per cached study, kept in the order chosen with :meth:`sort`.

    Sorting happens here, on keys computed once per row, rather than in the
    proxy: a proxy sort asks the model for data on every comparison, which for
    thousands of studies costs a visible fraction of a second in Python.
    Replacing the rows with the same studies in the same order only signals the
    changed rows, so the view keeps its selection and scroll position while an
    import updates counts.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[StudyRow] = []
        self._warning_icon: QIcon | None = None
        self._sort_column = Column.STUDY_DATE
        self._sort_order = Qt.SortOrder.DescendingOrder

    # Contents ----------------------------------------------------------------------
    def set_rows(self, rows: Sequence[StudyRow]) -> bool:
        """Show ``rows`` (in the current sort order); returns whether anything changed."""
        rows = self._sorted(rows)
        if rows == self._rows:
            return False
        same_studies = [r.study_uid for r in rows] == [r.study_uid for r in self._rows]
        if same_studies:
            old, self._rows = self._rows, rows
            last = len(Column) - 1
            for i, (a, b) in enumerate(zip(old, rows, strict=True)):  # the same studies
                if a != b:
                    self.dataChanged.emit(self.index(i, 0), self.index(i, last))
        else:
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()
        return True

    def _sorted(self, rows: Sequence[StudyRow]) -> list[StudyRow]:
        column = self._sort_column
        # The UID breaks ties so rows never swap places between two refreshes.
        return sorted(
            rows,
            key=lambda r: (sort_key(r, column), r.study_uid),
            reverse=self._sort_order == Qt.SortOrder.DescendingOrder,
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column``; selections and other persistent indexes follow their rows."""
        if not 0 <= column < len(Column):
            return
        self._sort_column, self._sort_order = Column(column), order
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        uids = [self._rows[i.row()].study_uid if i.isValid() else None for i in persistent]
        self._rows = self._sorted(self._rows)
        position = {r.study_uid: n for n, r in enumerate(self._rows)}
        moved = [
            self.index(position[uid], i.column()) if uid in position else QModelIndex()
            for i, uid in zip(persistent, uids, strict=True)
        ]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def rows(self) -> list[StudyRow]:
        return list(self._rows)

    def study_at(self, row: int) -> StudyRow:
        return self._rows[row]

    def row_of(self, study_uid: str) -> int | None:
        """Row number of a study, or ``None`` when it is not shown."""
        for i, r in enumerate(self._rows):
            if r.study_uid == study_uid:
                return i
        return None

    # QAbstractTableModel -------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(Column):
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[Column(section)]
            if role == Qt.ItemDataRole.TextAlignmentRole and Column(section) in NUMERIC_COLUMNS:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return display_value(row, column)
        if role == SORT_ROLE:
            return sort_key(row, column)
        if role == STUDY_UID_ROLE:
            return row.study_uid
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if row.mixed_patients:
            if role == Qt.ItemDataRole.ToolTipRole:
                return MIXED_PATIENTS_TOOLTIP
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(theme.WARNING_TEXT))
            if role == Qt.ItemDataRole.DecorationRole and column is Column.PATIENT_NAME:
                return self._warning()
        return None

    def _warning(self) -> QIcon:
        if self._warning_icon is None:
            style = QApplication.style()
            self._warning_icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return self._warning_icon


class StudySortProxy(QSortFilterProxyModel):
    """The view's model: passes sorting on to :class:`StudyTableModel` (see there why).

    It stays a proxy so quick filters that need no index query can be added here.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if source is not None:
            source.sort(column, order)

    def study_uid(self, index: _Index) -> str | None:
        """The study UID of a proxy index (any column)."""
        return item_value(index, str, STUDY_UID_ROLE)  # None for an invalid index
