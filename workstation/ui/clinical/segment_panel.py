"""The segment list: label, colour and a visibility check per segment, and outline or fill."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QCheckBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from workstation.clinical.seg_overlays import SegmentationOverlays
from workstation.ui.qvariant import item_value


def _swatch(colour: tuple[int, int, int]) -> QIcon:
    pm = QPixmap(12, 12)
    pm.fill(QColor(*colour))
    return QIcon(pm)


class SegmentPanel(QWidget):
    """Shows the rows of a :class:`SegmentationOverlays`; hidden while there is no segmentation."""

    def __init__(self, overlays: SegmentationOverlays, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.overlays = overlays
        self.title = QLabel("Segments")
        self.list = QListWidget()
        self.list.setToolTip("Tick to show a segment over its images")
        self.outline = QCheckBox("Outline only")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.outline)
        self._filling = False
        self.list.itemChanged.connect(self._on_item)
        self.outline.toggled.connect(overlays.set_outline_only)
        overlays.subscribe(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        rows = self.overlays.rows()
        self.setVisible(bool(rows))
        if [item_value(self.list.item(i), tuple) for i in range(self.list.count())] == \
                [(r.segmentation, r.number) for r in rows]:  # fmt: skip
            return
        self._filling = True
        self.list.clear()
        for r in rows:
            item = QListWidgetItem(_swatch(r.colour), f"{r.number}  {r.label}  ({r.images} images)")
            item.setData(Qt.ItemDataRole.UserRole, (r.segmentation, r.number))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if r.visible else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self._filling = False

    def _on_item(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        key = item_value(item, tuple)  # (segmentation, segment number)
        if key is None:
            return
        segmentation, number = key
        self.overlays.set_visible(segmentation, number, item.checkState() == Qt.CheckState.Checked)
