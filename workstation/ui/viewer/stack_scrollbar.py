"""The slim scroll bar over a viewport's right edge, painted by hand.

Slim and dark: it lies over the image's edge and must not draw the eye.

A scroll bar lying on a viewport is repainted with it at every frame of a
scroll (a child is painted whenever its parent is).  Painted through a style
sheet it costs about a fifth of a millisecond; sixteen linked viewports spent
a fifth of each frame on them, most of it waiting for Qt's paint threads: a
translucent fill taller than about a hundred lines is split among them, and
on a busy machine the hand-over costs more than the fill.  The track and
the handle are therefore drawn once into an image per size and blitted (a
blit is not split).  The style sheet stays: it gives the bar its geometry (no arrow
buttons, the handle's minimum length), so the mouse hits what is drawn.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QAbstractSlider, QScrollBar, QStyle, QStyleOptionSlider, QWidget

SCROLLBAR_WIDTH = 12
TRACK_COLOR = QColor(20, 20, 20, 160)
HANDLE_COLOR = QColor("#5a5a5a")
HANDLE_RADIUS = 3.0
# The geometry (hit testing, the handle's minimum length) the painting below follows.
SCROLLBAR_STYLE = f"""
QScrollBar:vertical {{ background: rgba(20, 20, 20, 160); width: {SCROLLBAR_WIDTH}px; margin: 0; }}
QScrollBar::handle:vertical {{ background: #5a5a5a; min-height: 18px; border-radius: 3px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; }}
"""


_PICTURES: dict[tuple[str, int, int, float], QImage] = {}


def _picture(kind: str, width: int, height: int, ratio: float) -> QImage:
    """The track (``"track"``) or the handle (``"handle"``) at a size, drawn once for every bar."""
    key = (kind, width, height, ratio)
    image = _PICTURES.get(key)
    if image is None:
        image = QImage(max(1, round(width * ratio)), max(1, round(height * ratio)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        if kind == "track":
            image.fill(TRACK_COLOR)
        else:
            image.fill(Qt.GlobalColor.transparent)
            q = QPainter(image)
            q.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            q.setPen(Qt.PenStyle.NoPen)
            q.setBrush(HANDLE_COLOR)
            q.drawRoundedRect(QRectF(0, 0, width, height), HANDLE_RADIUS, HANDLE_RADIUS)
            q.end()
            image = image.copy()  # the copy drops the raster paint engine the image keeps after painting
        if len(_PICTURES) > 256:  # sizes come and go with layouts and stack lengths
            _PICTURES.clear()
        _PICTURES[key] = image
    return image


class StackScrollBar(QScrollBar):
    """A vertical scroll bar over a stack: a dark track and a grey handle (see the module's note)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFixedWidth(SCROLLBAR_WIDTH)
        self.setStyleSheet(SCROLLBAR_STYLE)
        # What is blitted: (pixel ratio, the track, where the handle goes and its picture); None after a
        # change (range, page step, value, size): asking the bar and the style at every paint costs more.
        self._pieces: tuple[float, QImage, QPointF, QImage | None] | None = None
        self.sliderMoved.connect(self._forget_pieces)  # a drag without tracking moves the handle only

    def _forget_pieces(self, _position: int = 0) -> None:
        self._pieces = None

    def sliderChange(self, change: QAbstractSlider.SliderChange) -> None:  # noqa: N802 - Qt's name
        self._pieces = None
        super().sliderChange(change)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        self._pieces = None
        super().resizeEvent(event)

    def handle_rect(self) -> QRectF:
        """Where the handle is drawn: the rectangle the style hit-tests the mouse against."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        return QRectF(self.style().subControlRect(QStyle.ComplexControl.CC_ScrollBar, option,
                                                  QStyle.SubControl.SC_ScrollBarSlider, self))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        ratio = self.devicePixelRatioF()
        pieces = self._pieces
        if pieces is None or pieces[0] != ratio:
            handle = self.handle_rect()
            grip = _picture("handle", round(handle.width()), round(handle.height()), ratio) \
                if handle.isValid() else None
            pieces = self._pieces = (ratio, _picture("track", self.width(), self.height(), ratio), handle.topLeft(),
                                     grip)
        p = QPainter(self)
        p.drawImage(QPointF(0, 0), pieces[1])
        if pieces[3] is not None:
            p.drawImage(pieces[2], pieces[3])
        p.end()
