"""A layout that lays its items out in rows and wraps to the next row when the width runs out.

Toolbars and filter bars use it so that a narrow window (a 1280 px monitor, a
portrait mammography monitor, a window beside a dock) shows every control on
two or three rows instead of hiding some behind an overflow button or forcing
the window wider than the screen.  The height follows the width
(``heightForWidth``), so the boxes around it make room for the extra rows.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget, QWidgetItem


class FlowLayout(QLayout):
    """Items left to right, wrapping into rows; each row as high as its tallest item.

    Parameters
    ----------
    parent : QWidget, optional
    spacing : int
        Pixels between items, horizontally and vertically.
    """

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    # QLayout's interface ----------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt's name
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt's name
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def insertWidget(self, index: int, widget: QWidget) -> None:  # noqa: N802 - Qt's style
        """Put ``widget`` before the item at ``index`` (at the end when out of range)."""
        self.addChildWidget(widget)
        item = QWidgetItem(widget)
        self._items.insert(index if 0 <= index <= len(self._items) else len(self._items), item)
        self.invalidate()

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt's name
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self._lay_out(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt's name
        super().setGeometry(rect)
        self._lay_out(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        # One row holding everything: what the layout would like when there is room.
        width = height = 0
        for item in self._visible():
            hint = item.sizeHint()
            width += hint.width() + (self._spacing if width else 0)
            height = max(height, hint.height())
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt's name
        # As narrow as the widest single item: everything else wraps.
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    # Placement ---------------------------------------------------------------------------
    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not ((w := i.widget()) is not None and w.isHidden())]

    def _lay_out(self, rect: QRect, *, apply: bool) -> int:
        m: QMargins = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_height = area.x(), area.y(), 0
        row: list[tuple[QLayoutItem, QSize, int]] = []

        def place_row() -> None:
            # Items of a row share its middle line (a label beside a taller combo box).
            for item, size, left in row:
                if apply:
                    top = y + (row_height - size.height()) // 2
                    item.setGeometry(QRect(QPoint(left, top), size))

        for item in self._visible():
            hint = item.sizeHint().expandedTo(item.minimumSize())
            size = QSize(min(hint.width(), max(area.width(), 1)), hint.height())
            if row and x + size.width() > area.right() + 1:
                place_row()
                y += row_height + self._spacing
                x, row_height, row = area.x(), 0, []
            row.append((item, size, x))
            x += size.width() + self._spacing
            row_height = max(row_height, size.height())
        place_row()
        return y + row_height - rect.y() + m.bottom()
