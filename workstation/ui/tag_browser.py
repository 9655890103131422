"""Tag browser: an instance's whole data set as a tree, search, copy, and the differences from another.

The tree, the search and the diff are :mod:`workstation.qc.tags` and
:mod:`workstation.qc.tag_diff`; this widget only shows them.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)
from pydicom.dataset import Dataset

from workstation.qc.instances import QcError, instance_choices, read
from workstation.qc.notes import rejected_sop_uids
from workstation.qc.tag_diff import diff_datasets
from workstation.qc.tags import TagNode, copy_text, describe, search, tag_tree
from workstation.store.cache import StudyCache
from workstation.ui.qvariant import combo_value, item_value
from workstation.ui.theme import COLORS

#: Private elements stand out from the standard ones without shouting.
PRIVATE_COLOR = COLORS["Link"]
NODE_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Tag", "Name", "VR", "Value")
DIFF_COLUMNS = ("Where", "Name", "Change", "First", "Second")


class TagBrowser(QWidget):
    """Browse one instance's data set; compare it with another.

    Parameters
    ----------
    cache : StudyCache, optional
        Where instances picked by SOP Instance UID are read from.
    """

    def __init__(self, cache: StudyCache | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache = cache
        self._nodes: list[TagNode] = []
        self._items: dict[int, QStandardItem] = {}  # id(node) -> its first-column item
        self._matches: list[TagNode] = []
        self._match = -1
        self.dataset: Dataset | None = None
        self.other: Dataset | None = None

        self.instance_combo = QComboBox()
        self.instance_combo.setAccessibleName("Instance")
        self.instance_combo.setMinimumContentsLength(30)
        self.compare_combo = QComboBox()
        self.compare_combo.setAccessibleName("Compare with")
        self.compare_combo.setMinimumContentsLength(30)
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search: (0010,0010), keyword, name or value — Enter for the next match")
        self.search_edit.setClearButtonEnabled(True)
        self.match_label = QLabel("")
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.tree.header()
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.diff_table = QTableWidget(0, len(DIFF_COLUMNS))
        self.diff_table.setHorizontalHeaderLabels(list(DIFF_COLUMNS))
        self.diff_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.diff_table.horizontalHeader().setStretchLastSection(True)
        self.diff_table.verticalHeader().setVisible(False)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tree, "Data set")
        self.tabs.addTab(self.diff_table, "Differences")

        pick = QHBoxLayout()
        pick.addWidget(QLabel("Instance"))
        pick.addWidget(self.instance_combo, 2)
        pick.addWidget(QLabel("Compare with"))
        pick.addWidget(self.compare_combo, 2)
        find = QHBoxLayout()
        find.addWidget(self.search_edit, 1)
        find.addWidget(self.match_label)
        layout = QVBoxLayout(self)
        layout.addLayout(pick)
        layout.addLayout(find)
        layout.addWidget(self.tabs, 1)

        self.copy_action = QAction("Copy value", self)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_current_value)
        self.copy_line_action = QAction("Copy tag, name and value", self)
        self.copy_line_action.triggered.connect(self.copy_current_line)
        self.tree.addAction(self.copy_action)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.search_edit.textChanged.connect(self.find_text)
        self.search_edit.returnPressed.connect(self.next_match)
        self.instance_combo.activated.connect(lambda i: self.open_instance(combo_value(self.instance_combo, str, i)))
        self.compare_combo.activated.connect(self._compare_chosen)

    # Choosing instances --------------------------------------------------------------------
    def set_study(self, study_uid: str) -> None:
        """Offer the study's instances in both pickers and show the first."""
        if self._cache is None:
            return
        choices = instance_choices(self._cache, study_uid, rejected_sop_uids(self._cache, study_uid))
        self.instance_combo.clear()
        self.compare_combo.clear()
        self.compare_combo.addItem("(nothing)", None)
        for label, uid in choices:
            self.instance_combo.addItem(label, uid)
            self.compare_combo.addItem(label, uid)
        if choices:
            self.open_instance(choices[0][1])

    def _read(self, sop_uid: str) -> Dataset:
        row = self._cache.instance(sop_uid) if self._cache is not None else None
        if self._cache is None or row is None:
            raise QcError(f"instance {sop_uid} is not in the cache")
        return read(self._cache, row)

    def open_instance(self, sop_uid: str | None) -> None:
        if not sop_uid:
            return
        try:
            ds = self._read(sop_uid)
        except QcError as exc:
            self.match_label.setText(str(exc))
            return
        index = self.instance_combo.findData(sop_uid)
        if index >= 0:
            self.instance_combo.setCurrentIndex(index)
        self.show_dataset(ds)

    def _compare_chosen(self, index: int) -> None:
        uid = combo_value(self.compare_combo, str, index)
        if uid is None:
            self.show_diff(None)
            return
        try:
            self.show_diff(self._read(uid))
        except QcError as exc:
            self.match_label.setText(str(exc))

    # The tree ------------------------------------------------------------------------------
    def show_dataset(self, ds: Dataset) -> None:
        """Show ``ds`` (top level expanded one step: sequences closed until asked)."""
        self.dataset = ds
        self._nodes = tag_tree(ds)
        self._items.clear()
        self.model.removeRows(0, self.model.rowCount())
        root = self.model.invisibleRootItem()
        for node in self._nodes:
            self._add(root, node)
        for column in range(3):
            self.tree.resizeColumnToContents(column)
        if self.other is not None:
            self.show_diff(self.other)
        self.find_text(self.search_edit.text())

    def _add(self, parent: QStandardItem, node: TagNode) -> None:
        name = node.name + (f"  ({node.private_creator})" if node.private_creator else "")
        cells = [QStandardItem(node.tag_text), QStandardItem(name), QStandardItem(node.vr), QStandardItem(node.value)]
        cells[0].setData(node, NODE_ROLE)
        if node.full_value != node.value:
            cells[3].setToolTip(node.full_value[:2000])
        if node.is_private:
            for c in cells:
                c.setForeground(QColor(PRIVATE_COLOR))
        parent.appendRow(cells)
        self._items[id(node)] = cells[0]
        for child in node.children:
            self._add(cells[0], child)

    def current_node(self) -> TagNode | None:
        index = self.tree.currentIndex()
        if not index.isValid():
            return None
        return item_value(self.model.itemFromIndex(index.siblingAtColumn(0)), TagNode, NODE_ROLE)

    def select_node(self, node: TagNode) -> None:
        """Expand down to ``node``, select it and scroll it into view."""
        item = self._items.get(id(node))
        if item is None:
            return
        index = item.index()
        parent = index.parent()
        while parent.isValid():
            self.tree.expand(parent)
            parent = parent.parent()
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    # Search --------------------------------------------------------------------------------
    def find_text(self, text: str) -> list[TagNode]:  # not find: QWidget.find(window id) is Qt's
        """Select the first node matching ``text``; returns every match."""
        self._matches = search(self._nodes, text) if text.strip() else []
        self._match = -1
        if not text.strip():
            self.match_label.setText("")
        elif not self._matches:
            self.match_label.setText("no match")
        else:
            self.next_match()
        return self._matches

    def next_match(self) -> None:
        if not self._matches:
            return
        self._match = (self._match + 1) % len(self._matches)
        self.select_node(self._matches[self._match])
        self.match_label.setText(f"{self._match + 1} of {len(self._matches)}")

    # Copy ----------------------------------------------------------------------------------
    def copy_current_value(self) -> str:
        node = self.current_node()
        text = copy_text(node) if node is not None else ""
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def copy_current_line(self) -> str:
        node = self.current_node()
        text = describe(node) if node is not None else ""
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def _context_menu(self, pos) -> None:
        if not self.tree.indexAt(pos).isValid():
            return
        menu = QMenu(self)
        menu.addAction(self.copy_action)
        menu.addAction(self.copy_line_action)
        menu.exec(self.tree.viewport().mapToGlobal(pos))

    # Differences ---------------------------------------------------------------------------
    def show_diff(self, other: Dataset | None) -> int:
        """Fill the Differences tab with what differs from ``other``; returns how many rows."""
        self.other = other
        self.diff_table.setRowCount(0)
        if other is None or self.dataset is None:
            self.tabs.setTabText(1, "Differences")
            return 0
        diffs = diff_datasets(self.dataset, other)
        self.diff_table.setRowCount(len(diffs))
        for r, d in enumerate(diffs):
            for c, text in enumerate((d.path, d.name, d.status, d.left, d.right)):
                item = QTableWidgetItem(text)
                item.setToolTip(text[:2000])
                self.diff_table.setItem(r, c, item)
        self.diff_table.resizeColumnsToContents()
        self.tabs.setTabText(1, f"Differences ({len(diffs)})")
        self.tabs.setCurrentIndex(1)
        return len(diffs)
