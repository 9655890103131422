"""A widget showing one numpy image, scaled to fit with square millimetres, that reports pixel positions."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


def rgb_image(rgb: np.ndarray) -> QImage:
    """A QImage owning a copy of an (h, w, 3) or (h, w) uint8 array."""
    a = np.ascontiguousarray(rgb if rgb.ndim == 3 else np.repeat(rgb[..., None], 3, axis=-1), np.uint8)
    h, w, _ = a.shape
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ImageView(QWidget):
    """Shows an image with a caption; ``hovered(row, column)`` and ``clicked(row, column)`` in image pixels.

    ``pixel_aspect`` is row spacing / column spacing, so anisotropic pixels (a CPR's rows) look right.
    """

    hovered = Signal(float, float)
    clicked = Signal(float, float)
    wheeled = Signal(int)

    def __init__(self, caption: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.text = ""
        self._image: QImage | None = None
        self._shape = (1, 1)
        self.pixel_aspect = 1.0
        self.marks: list[tuple[float, float]] = []
        self.setMouseTracking(True)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def set_image(self, rgb: np.ndarray, pixel_aspect: float = 1.0) -> None:
        self._image = rgb_image(rgb)
        self._shape = rgb.shape[:2]
        self.pixel_aspect = pixel_aspect
        self.update()

    def target(self) -> QRectF:
        """Where the image is drawn in the widget."""
        h, w = self._shape
        img_w, img_h = float(w), float(h) * self.pixel_aspect
        scale = min(self.width() / img_w, self.height() / img_h)
        tw, th = img_w * scale, img_h * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def to_pixel(self, pos: QPointF) -> tuple[float, float] | None:
        r = self.target()
        if not r.contains(pos):
            return None
        h, w = self._shape
        return ((pos.y() - r.y()) / r.height() * h - 0.5, (pos.x() - r.x()) / r.width() * w - 0.5)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        if self._image is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            r = self.target()
            p.drawImage(r, self._image)
            h, w = self._shape
            p.setPen(QColor(255, 220, 0))
            for row, col in self.marks:
                x = r.x() + (col + 0.5) / w * r.width()
                y = r.y() + (row + 0.5) / h * r.height()
                p.drawEllipse(QPointF(x, y), 3, 3)
        p.setPen(QColor(230, 230, 230))
        box = self.rect().adjusted(6, 4, -6, -4)
        p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, self.caption)
        if self.text:
            p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, self.text)
        p.end()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        at = self.to_pixel(event.position())
        if at is not None:
            self.hovered.emit(*at)

    def mousePressEvent(self, event) -> None:  # noqa: N802
        at = self.to_pixel(event.position())
        if at is not None and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(*at)

    def wheelEvent(self, event) -> None:  # noqa: N802
        self.wheeled.emit(1 if event.angleDelta().y() < 0 else -1)
