"""Outlined overlay text: the font, each line drawn once as an image, a viewport's layer of lines.

Corner text and orientation markers must read on any pixel value, so each
line is light letters inside a dark outline.  Stroking an outline is slow and
a grid of viewports repaints dozens of lines a frame, so lines are drawn once
(from cached glyphs where they can be) and blitted; see :class:`TextLayer`.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen, QTransform

TEXT_COLOR = QColor("#e6e6e6")
OUTLINE_COLOR = QColor(0, 0, 0, 255)

_FONTS: dict[tuple[float, bool], QFont] = {}


def overlay_font(size: float = 11.0, bold: bool = False) -> QFont:
    """The overlays' font (made once per size: a grid repaints dozens of lines a frame)."""
    font = _FONTS.get((size, bold))
    if font is None:
        font = QFont("DejaVu Sans")
        font.setStyleHint(QFont.StyleHint.SansSerif)
        font.setPointSizeF(size)
        font.setBold(bold)
        _FONTS[(size, bold)] = font
    return QFont(font)  # a copy (implicitly shared): a caller may change it


def shadowed_text(p: QPainter, x: float, y: float, text: str, color: QColor = TEXT_COLOR) -> None:
    """Text readable on any image: light letters inside a solid dark outline (white bone or black air alike).

    Stroking the outline costs about a millisecond a line; a grid of viewports repaints dozens of
    lines a frame while scrolling, most of them unchanged, so each line is drawn once into an
    image (per text, font, colour and pixel ratio) and that image is blitted.
    """
    t = p.transform()
    if not t.isIdentity() and t.type().value > QTransform.TransformationType.TxTranslate.value:
        _outlined_path(p, x, y, text, color)  # scaled or rotated: draw the path itself
        return
    device = p.device()
    ratio = device.devicePixelRatioF() if device is not None else 1.0
    sprite, left, top = _text_sprite(p.font(), text, color, ratio)
    p.drawImage(QPointF(round(x + t.dx()) - t.dx() + left, round(y + t.dy()) - t.dy() + top), sprite)


def _outlined_path(p: QPainter, x: float, y: float, text: str, color: QColor) -> None:
    path = QPainterPath()
    path.addText(QPointF(x, y), p.font(), text)
    hints = p.renderHints()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.strokePath(path, QPen(OUTLINE_COLOR, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
    p.fillPath(path, color)
    p.setRenderHints(hints)


_TEXT_SPRITES: OrderedDict = OrderedDict()
# Lines that change at every frame (image number, position) are drawn once and pushed out; what stays
# is the lines of the viewports on screen.  Bounded in bytes: an outlined line takes tens of kilobytes.
_MAX_TEXT_SPRITE_BYTES = 8 * 2**20
_sprite_bytes = [0]


def _text_sprite(font: QFont, text: str, color: QColor, ratio: float,
                 font_key: str | None = None) -> tuple[QImage, float, float]:
    """``text`` outlined as :func:`_outlined_path` draws it at baseline (0, 0): (image, left, top).

    ``font_key`` is ``font.key()`` when the caller knows it already (asking the font costs more than the look-up).
    """
    key = (font.key() if font_key is None else font_key, text, color.rgba(), ratio)
    hit = _TEXT_SPRITES.get(key)
    if hit is not None:
        _TEXT_SPRITES.move_to_end(key)
        return hit
    if len(text) > 1 and text.isascii() and text.isprintable():
        hit = _composed_sprite(font, text, color, ratio)
    else:
        hit = _path_sprite(font, text, color, ratio)
    _TEXT_SPRITES[key] = hit
    _sprite_bytes[0] += hit[0].sizeInBytes()
    while _sprite_bytes[0] > _MAX_TEXT_SPRITE_BYTES and len(_TEXT_SPRITES) > 1:
        _key, (old, _l, _t) = _TEXT_SPRITES.popitem(last=False)
        _sprite_bytes[0] -= old.sizeInBytes()
    return hit


def _path_sprite(font: QFont, text: str, color: QColor, ratio: float) -> tuple[QImage, float, float]:
    path = QPainterPath()
    path.addText(QPointF(0, 0), font, text)
    box = path.boundingRect().adjusted(-3, -3, 3, 3)
    left, top = math.floor(box.left()), math.floor(box.top())
    width, height = max(1, math.ceil(box.right()) - left), max(1, math.ceil(box.bottom()) - top)
    image = QImage(max(1, round(width * ratio)), max(1, round(height * ratio)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    q = QPainter(image)
    q.setFont(font)
    _outlined_path(q, -left, -top, text, color)
    q.end()
    # A QImage keeps the raster paint engine it was painted with (about 100 kB); the copy kept has none.
    return image.copy(), float(left), float(top)


_GLYPHS: dict[tuple, tuple[QImage, QImage]] = {}
_GLYPH_PHASES = 4  # a glyph is drawn at quarter-pixel offsets, as the text layout places it
_GLYPH_MARGIN = 4


def _glyph(font: QFont, char: str, color: QColor, ratio: float, phase: int) -> tuple[QImage, QImage]:
    """One character's outline and its fill, each an image, baseline at (margin + phase / 4, margin + ascent)."""
    key = (font.key(), char, color.rgba(), ratio, phase)  # as _composed_sprite looks it up
    hit = _GLYPHS.get(key)
    if hit is not None:
        return hit
    fm = metrics(font)
    origin = QPointF(_GLYPH_MARGIN + phase / _GLYPH_PHASES, _GLYPH_MARGIN + math.ceil(fm.ascent()))
    path = QPainterPath()
    path.addText(origin, font, char)
    width = math.ceil(fm.horizontalAdvance(char) + 2 * _GLYPH_MARGIN + 1)
    height = math.ceil(fm.ascent()) + math.ceil(fm.descent()) + 2 * _GLYPH_MARGIN
    images = []
    for stroke in (True, False):
        image = QImage(max(1, round(width * ratio)), max(1, round(height * ratio)),
                       QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(Qt.GlobalColor.transparent)
        q = QPainter(image)
        q.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if stroke:
            q.strokePath(path, QPen(OUTLINE_COLOR, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                    Qt.PenJoinStyle.RoundJoin))
        else:
            q.fillPath(path, color)
        q.end()
        images.append(image.copy())
    if len(_GLYPHS) > 4096:
        _GLYPHS.clear()
    hit = _GLYPHS[key] = (images[0], images[1])
    return hit


def _composed_sprite(font: QFont, text: str, color: QColor, ratio: float) -> tuple[QImage, float, float]:
    """A Latin line made of cached glyphs: all outlines first, then all fills (as one path's stroke and fill).

    Lines that change at every frame (image number, position; a different one in
    every viewport of a linked grid) then cost a few blits instead of stroking
    the whole line's outline, about a millisecond.
    """
    fm = metrics(font)
    width = _advance_of(fm)
    font_key, rgba = font.key(), color.rgba()  # asked once: each costs more than a glyph's blit
    top = -math.ceil(fm.ascent()) - _GLYPH_MARGIN
    left = -_GLYPH_MARGIN
    line_width = math.ceil(width(text) + 2 * _GLYPH_MARGIN + 1)
    line_height = math.ceil(fm.ascent()) + math.ceil(fm.descent()) + 2 * _GLYPH_MARGIN
    image = QImage(max(1, round(line_width * ratio)), max(1, round(line_height * ratio)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    placed = []
    for i, char in enumerate(text):
        if char == " ":
            continue
        x = width(text[:i])
        whole = math.floor(x)
        phase = min(_GLYPH_PHASES - 1, round((x - whole) * _GLYPH_PHASES))
        glyph = _GLYPHS.get((font_key, char, rgba, ratio, phase))
        placed.append((whole, glyph if glyph is not None else _glyph(font, char, color, ratio, phase)))
    # A glyph's baseline lies at margin + ceil(ascent) in its image, as at -top in the line's.
    q = QPainter(image)
    for layer in (0, 1):
        for whole, glyph in placed:
            q.drawImage(whole, 0, glyph[layer])
    q.end()
    # The copy drops the raster paint engine (about 100 kB) the painted image would keep while it is cached.
    return image.copy(), float(left), float(top)



_ADVANCES: dict = {}  # font key -> {text: width}


def _advance_of(fm: QFontMetricsF):
    """``fm.horizontalAdvance``, remembered per text: the corner layout measures each line several times
    per paint and most lines do not change while scrolling."""
    if not isinstance(fm, _Metrics):
        return fm.horizontalAdvance
    widths = fm.widths

    def width(text: str) -> float:
        w = widths.get(text)
        if w is None:
            if len(widths) > 4096:
                widths.clear()
            w = widths[text] = fm.horizontalAdvance(text)
        return w

    return width


class _Metrics(QFontMetricsF):
    """Font metrics of one font that keep the widths they measured (see :func:`_advance_of`)."""

    def __init__(self, font: QFont) -> None:
        super().__init__(font)
        self.widths = _ADVANCES.setdefault(font.key(), {})


_METRICS: dict[str, _Metrics] = {}


def metrics(font: QFont) -> _Metrics:
    """The font's metrics, made once per font (each paint of a grid's viewports asks several times)."""
    key = font.key()
    fm = _METRICS.get(key)
    if fm is None:
        fm = _METRICS[key] = _Metrics(font)
    return fm


# A line of a TextLayer: what it looks like and where (x, baseline y, text, font key, colour), and the
# font and colour to draw it with.
TextItem = tuple[tuple[float, float, str, str, int], QFont, QColor]


class TextLayer:
    """A viewport's outlined text, the lines unchanged since its last paint blitted as one image per band.

    While a stack scrolls only a line or two of the corner text change (image
    number, position); the dozen others and the orientation markers stay.
    Blitting each line's sprite costs a call and a blend per line and per
    viewport: here the lines that were also drawn last time are composed once
    into an image for the top and one for the bottom half, and only the lines
    that changed are drawn one by one.  Lines are added with :meth:`add` (or
    made once with :meth:`items` and added with :meth:`extend`) during a paint
    and drawn by :meth:`paint`.
    """

    def __init__(self) -> None:
        self._items: list[TextItem] = []
        self._last: set[tuple[float, float, str, str, int]] = set()
        self._key: frozenset[tuple[float, float, str, str, int]] | None = None
        self._bands: list[tuple[QImage, QPointF]] = []
        self._ratio: float | None = None

    @staticmethod
    def items(lines: Iterable[tuple[float, float, str]], font: QFont, color: QColor = TEXT_COLOR) -> list[TextItem]:
        """``lines`` (x, baseline y, text; view pixels) in ``font`` and ``color`` as items for :meth:`extend`.

        Worth keeping while the lines do not change: making them asks the font its key.
        """
        font_key, rgba = font.key(), color.rgba()
        return [((float(round(x)), float(round(y)), text, font_key, rgba), font, color) for x, y, text in lines]

    def add(self, x: float, y: float, text: str, font: QFont, color: QColor = TEXT_COLOR) -> None:
        """Draw ``text`` at baseline ``(x, y)`` (view pixels, integral) with ``font`` at the next :meth:`paint`."""
        self._items.extend(self.items([(x, y, text)], font, color))

    def extend(self, items: Iterable[TextItem]) -> None:
        """Draw ``items`` (made by :meth:`items`) at the next :meth:`paint`."""
        self._items.extend(items)

    def paint(self, p: QPainter, rect: QRectF) -> None:
        """Draw the lines added since the last paint (the painter's transform is the identity)."""
        items, self._items = self._items, []
        device = p.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        if ratio != self._ratio:  # another screen: nothing drawn before is of use
            self._ratio, self._last, self._key = ratio, set(), None
        keyed = {key: (font, color) for key, font, color in items}
        last = self._last
        stable = frozenset(k for k in keyed if k in last)
        self._last = set(keyed)
        if stable != self._key:
            self._key = stable
            self._bands = self._compose([(k, *keyed[k]) for k in stable], rect, ratio)
        for image, at in self._bands:
            p.drawImage(at, image)
        for k, (font, color) in keyed.items():
            if k not in stable:
                sprite, left, top = _text_sprite(font, k[2], color, ratio, k[3])
                p.drawImage(QPointF(k[0] + left, k[1] + top), sprite)

    @staticmethod
    def _compose(items: list[TextItem], rect: QRectF, ratio: float) -> list[tuple[QImage, QPointF]]:
        bands = []
        middle = rect.center().y()
        for upper in (True, False):
            sprites = []
            for (x, y, text, font_key, _rgba), font, color in items:
                if (y <= middle) == upper:
                    sprite, left, top = _text_sprite(font, text, color, ratio, font_key)
                    sprites.append((sprite, x + left, y + top))
            if not sprites:
                continue
            x0 = math.floor(min(x for _s, x, _y in sprites))
            y0 = math.floor(min(y for _s, _x, y in sprites))
            x1 = math.ceil(max(x + s.width() / ratio for s, x, _y in sprites))
            y1 = math.ceil(max(y + s.height() / ratio for s, _x, y in sprites))
            band = QImage(max(1, round((x1 - x0) * ratio)), max(1, round((y1 - y0) * ratio)),
                          QImage.Format.Format_ARGB32_Premultiplied)
            band.setDevicePixelRatio(ratio)
            band.fill(Qt.GlobalColor.transparent)
            q = QPainter(band)
            for sprite, x, y in sprites:
                q.drawImage(QPointF(x - x0, y - y0), sprite)
            q.end()
            bands.append((band.copy(), QPointF(x0, y0)))  # the copy drops the paint engine (see _text_sprite)
        return bands
