"""The local study list as Qt models: a table of :class:`StudyRow` and its sorting proxy.

All text and sort keys come from :mod:`workstation.ui.study_format`; this module
only maps them onto Qt roles.
"""

from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import QApplication, QStyle

from workstation.store.queries import StudyRow
from workstation.ui import theme
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
    """One row per cached study, in the order the index returned them.

    Replacing the rows with the same studies in the same order only signals the
    changed rows, so the view keeps its selection and scroll position while an
    import updates counts.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[StudyRow] = []
        self._warning_icon: QIcon | None = None

    # Contents ----------------------------------------------------------------------
    def set_rows(self, rows: Sequence[StudyRow]) -> bool:
        """Show ``rows``; returns whether anything changed."""
        rows = list(rows)
        if rows == self._rows:
            return False
        same_studies = [r.study_uid for r in rows] == [r.study_uid for r in self._rows]
        if same_studies:
            old, self._rows = self._rows, rows
            last = len(Column) - 1
            for i, (a, b) in enumerate(zip(old, rows)):
                if a != b:
                    self.dataChanged.emit(self.index(i, 0), self.index(i, last))
        else:
            self.beginResetModel()
            self._rows = rows
            self.endResetModel()
        return True

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
    """Sorts the study list by each column's sort key (numbers as numbers, dates with times)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a = left.data(SORT_ROLE)
        b = right.data(SORT_ROLE)
        if a == b:
            # A stable tie-break keeps rows from jumping when an import refreshes them.
            return str(left.data(STUDY_UID_ROLE)) < str(right.data(STUDY_UID_ROLE))
        if a is None or b is None:
            return a is None
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)

    def study_uid(self, index: _Index) -> str | None:
        """The study UID of a proxy index (any column)."""
        return index.data(STUDY_UID_ROLE) if index.isValid() else None
