"""The measurement panel: every annotation of the session with its values.

Selecting a row selects the annotation and shows its frame; Delete (or the
button) removes it; double-clicking a text or arrow edits its text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.imaging.annotation_layer import Annotation, AnnotationLayer, Kind
from workstation.ui.qvariant import tree_value

ROLE_ID = Qt.ItemDataRole.UserRole


class MeasurementPanel(QWidget):
    """Lists the session's annotations.

    Signals
    -------
    show_requested(object)
        The reader picked an annotation (show its frame).
    text_edited(object)
        The reader changed an annotation's text (re-measure and repaint).
    """

    show_requested = Signal(object)
    text_edited = Signal(object)

    def __init__(self, layer: AnnotationLayer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.title = QLabel("Measurements")
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Measurement", "Image"])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemClicked.connect(lambda *_: self._on_selection())
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self.delete_selected)
        self.clear_button = QPushButton("Delete all")
        self.clear_button.clicked.connect(lambda: self.layer.clear())
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._updating = False
        self._frame_labels: dict[tuple[str, int], str] = {}
        layer.subscribe(self.refresh)

    def set_frame_labels(self, labels: dict[tuple[str, int], str]) -> None:
        """How to name a frame in the Image column (e.g. "Se 2 Im 14")."""
        self._frame_labels = labels
        self.refresh()

    def refresh(self) -> None:
        self._updating = True
        try:
            self.tree.clear()
            for a in self.layer:
                label = a.kind.value + (f": {a.text}" if a.text and a.kind in (Kind.TEXT, Kind.ARROW) else "")
                values = [line for line in a.lines if line != a.text]
                # The values go on their own lines under the name: ROI statistics do not fit one row.
                item = QTreeWidgetItem(["\n".join([label, *values]), self._frame_labels.get(a.frame_key, "")])
                item.setData(0, ROLE_ID, a.id)
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
                self.tree.addTopLevelItem(item)
                if a is self.layer.selected:
                    item.setSelected(True)
            self.tree.resizeColumnToContents(1)
            self.title.setText(f"Measurements ({len(self.layer)})")
        finally:
            self._updating = False

    def values_of(self, row: int) -> list[str]:
        """The lines shown for row ``row``: the name, then the values."""
        item = self.tree.topLevelItem(row)
        if item is None:
            raise IndexError(f"no measurement in row {row}")
        return item.text(0).split("\n")

    def _annotation_of(self, item: QTreeWidgetItem | None) -> Annotation | None:
        annotation_id = tree_value(item, int, 0, ROLE_ID)
        return self.layer.by_id(annotation_id) if annotation_id is not None else None

    def _on_selection(self) -> None:
        if self._updating:
            return
        items = self.tree.selectedItems()
        a = self._annotation_of(items[0]) if items else None
        if a is not None:
            self.layer.selected = a
            self.show_requested.emit(a)

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        a = self._annotation_of(item)
        if a is None or a.kind not in (Kind.TEXT, Kind.ARROW):
            return
        text, ok = QInputDialog.getText(self, "Annotation", "Text:", text=a.text)
        if ok:
            a.text = text
            self.text_edited.emit(a)

    def delete_selected(self) -> None:
        a = self._annotation_of(self.tree.currentItem()) or self.layer.selected
        if a is not None:
            self.layer.remove(a)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
            return
        super().keyPressEvent(event)
