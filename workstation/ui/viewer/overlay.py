"""Painting what lies over the image: corner text, markers, scale bar, annotations, cross-references.

Every function paints in view coordinates with a painter whose transform is
the identity; what to paint comes from the Qt-free models.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen, QPixmap,
                           QPolygonF, QTransform)

from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.imaging.viewport import ViewportModel

TEXT_COLOR = QColor("#e6e6e6")
SHADOW_COLOR = QColor(0, 0, 0, 220)
OUTLINE_COLOR = QColor(0, 0, 0, 255)
MARKER_COLOR = QColor("#ffd866")
ANNOTATION_COLOR = QColor("#5fd7ff")
SELECTED_COLOR = QColor("#ffb347")
REFERENCE_COLOR = QColor("#ffd866")
ACTIVE_REFERENCE_COLOR = QColor("#7cff7c")
CURSOR_COLOR = QColor("#ff5f5f")
BANNER_COLOR = QColor("#b00020")
ACTIVE_BORDER = QColor("#2a7fd4")
INACTIVE_BORDER = QColor("#303030")
MIN_SCALE_BAR_PX = 16  # shorter than this, a scale bar is not worth reading


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


def _text_sprite(font: QFont, text: str, color: QColor, ratio: float) -> tuple[QImage, float, float]:
    """``text`` outlined as :func:`_outlined_path` draws it at baseline (0, 0): (image, left, top)."""
    key = (font.key(), text, color.rgba(), ratio)
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
    key = (font.key(), char, color.rgba(), ratio, phase)
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
        placed.append((whole, _glyph(font, char, color, ratio, phase)))
    # A glyph's baseline lies at margin + ceil(ascent) in its image, as at -top in the line's.
    q = QPainter(image)
    for layer in (0, 1):
        for whole, glyph in placed:
            q.drawImage(QPointF(whole, 0), glyph[layer])
    q.end()
    return image, float(left), float(top)


class TextLayer:
    """A viewport's outlined text, the lines unchanged since its last paint blitted as one image per band.

    While a stack scrolls only a line or two of the corner text change (image
    number, position); the dozen others and the orientation markers stay.
    Blitting each line's sprite costs a call and a blend per line and per
    viewport: here the lines that were also drawn last time are composed once
    into an image for the top and one for the bottom half, and only the lines
    that changed are drawn one by one.  Lines are added with :meth:`add`
    during a paint and drawn by :meth:`paint`.
    """

    def __init__(self) -> None:
        self._items: list[tuple[float, float, str, QFont, QColor]] = []
        self._last: set[tuple] = set()
        self._key: frozenset | None = None
        self._bands: list[tuple[QImage, QPointF]] = []

    def add(self, x: float, y: float, text: str, font: QFont, color: QColor = TEXT_COLOR) -> None:
        """Draw ``text`` at baseline ``(x, y)`` (view pixels, integral) with ``font`` at the next :meth:`paint`."""
        self._items.append((float(round(x)), float(round(y)), text, font, color))

    def paint(self, p: QPainter, rect: QRectF) -> None:
        """Draw the lines added since the last paint (the painter's transform is the identity)."""
        items, self._items = self._items, []
        device = p.device()
        ratio = device.devicePixelRatioF() if device is not None else 1.0
        font_keys: dict[int, str] = {}  # a paint adds many lines in two or three fonts
        keyed = {}
        for x, y, text, font, color in items:
            fk = font_keys.get(id(font))
            if fk is None:
                fk = font_keys[id(font)] = font.key()
            keyed[(x, y, text, fk, color.rgba(), ratio)] = (x, y, text, font, color)
        stable = frozenset(k for k in keyed if k in self._last)
        self._last = set(keyed)
        if stable != self._key:
            self._key = stable
            self._bands = self._compose([keyed[k] for k in stable], rect, ratio)
        for image, at in self._bands:
            p.drawImage(at, image)
        for k, (x, y, text, font, color) in keyed.items():
            if k not in stable:
                sprite, left, top = _text_sprite(font, text, color, ratio)
                p.drawImage(QPointF(x + left, y + top), sprite)

    @staticmethod
    def _compose(items: list, rect: QRectF, ratio: float) -> list[tuple[QImage, QPointF]]:
        bands = []
        middle = rect.center().y()
        for upper in (True, False):
            sprites = []
            for x, y, text, font, color in items:
                if (y <= middle) == upper:
                    sprite, left, top = _text_sprite(font, text, color, ratio)
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


# Below this width a corner line says too little to be worth drawing.
MIN_CORNER_TEXT_PX = 36.0
# Eliding may take at most this share of a line away; beyond it the less important line goes.
MAX_ELIDED_SHARE = 0.4


def _rows(lines: list[str], top: bool) -> dict[int, int]:
    """Drawn row (counted from the edge) -> index in the corner's list (its priority: first is most)."""
    return {(k if top else len(lines) - 1 - k): k for k in range(len(lines))}


def layout_corners(rect: QRectF, corners: dict[str, list[str]], fm: QFontMetricsF,
                   top_offset: float = 0.0) -> list[tuple[float, float, str]]:
    """Where each corner line goes: ``(x, baseline y, text)``, no two overlapping.

    Each corner's lines are stacked from its corner inwards.  Where a left and a
    right line of one row cannot both fit, even each elided by at most
    :data:`MAX_ELIDED_SHARE`, the less important one (the later in its corner's
    list; on a tie the right one, as the left holds the patient's identity) is
    dropped and the lines after it move up.  Top and bottom stacks stop short of
    the middle of the side edges, where the orientation markers are.
    """
    line = fm.height()
    margin, gap, scrollbar = 6.0, 12.0, 14.0
    usable = rect.width() - 2 * margin - scrollbar - gap
    # Each edge's text takes at most a third of the height: in a 4 x 4 layout the image stays visible.
    third = (rect.height() - top_offset) / 3 - margin
    max_rows = max(0, int(third // line))
    stacks = {c: list(corners.get(c) or [])[:max_rows]
              for c in ("top_left", "top_right", "bottom_left", "bottom_right")}
    width = _advance_of(fm)

    def collision() -> tuple[str, int] | None:
        for edge in ("top", "bottom"):
            left, right = stacks[f"{edge}_left"], stacks[f"{edge}_right"]
            rows_l, rows_r = _rows(left, edge == "top"), _rows(right, edge == "top")
            for row in set(rows_l) & set(rows_r):
                il, ir = rows_l[row], rows_r[row]
                wl, wr = width(left[il]), width(right[ir])
                keep = 1 - MAX_ELIDED_SHARE
                too_wide = keep * (wl + wr) > usable if row >= marker_rows else \
                    (keep * wl > side_room["left"] or keep * wr > side_room["right"])
                if too_wide:
                    return (f"{edge}_left", il) if il > ir else (f"{edge}_right", ir)
        return None

    # The orientation markers sit at the middle of the top and bottom edges: the edge rows leave them room.
    marker = metrics(overlay_font(13.0, bold=True))
    marker_half = marker.horizontalAdvance("W") / 2 + 6
    marker_rows = max(1, math.ceil((marker.height() + 6 - margin) / line))  # rows beside the marker
    side_room = {"left": rect.width() / 2 - marker_half - margin,
                 "right": rect.width() / 2 - marker_half - margin - scrollbar}

    def room_of(corner: str, row: int) -> float:
        return side_room["left" if corner.endswith("left") else "right"] if row < marker_rows else usable

    for _ in range(sum(map(len, stacks.values()))):
        victim = collision()
        if victim is None:
            break
        stacks[victim[0]].pop(victim[1])
    placed = []
    for corner, lines in stacks.items():
        top, is_left = corner.startswith("top"), corner.endswith("left")
        other = stacks[corner.replace("left", "right") if is_left else corner.replace("right", "left")]
        other_rows = {row: other[k] for row, k in _rows(other, top).items()}
        for row, k in _rows(lines, top).items():
            text, partner = lines[k], other_rows.get(row, "")
            room = room_of(corner, row)
            if row >= marker_rows and partner and width(text) + width(partner) > usable:
                room = width(text) * usable / (width(text) + width(partner))  # both give up the same share
            if width(text) > room:
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, room)
            if not text or width(text) < min(MIN_CORNER_TEXT_PX, width(lines[k])):
                continue
            y = (rect.top() + top_offset + margin + fm.ascent() + row * line if top
                 else rect.bottom() - margin - fm.descent() - row * line)
            x = rect.left() + margin if is_left else rect.right() - margin - scrollbar - width(text)
            placed.append((x, y, text))
    return placed


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


def paint_corners(p: QPainter, rect: QRectF, corners: dict[str, list[str]], top_offset: float = 0.0,
                  layer: TextLayer | None = None) -> None:
    """The four-corner text (see :func:`layout_corners`), outlined so it reads on any pixel value.

    With a ``layer`` the lines are added to it (drawn by its :meth:`TextLayer.paint`).
    """
    font = overlay_font(10.0)
    p.setFont(font)
    fm = metrics(font)
    for x, y, text in layout_corners(rect, corners, fm, top_offset):
        if layer is not None:
            layer.add(x, y, text, font)
        else:
            shadowed_text(p, x, y, text)


_MARKER_METRICS: dict[str, QFontMetricsF] = {}


def paint_markers(p: QPainter, rect: QRectF, markers: dict[str, str], top_offset: float = 0.0,
                  layer: TextLayer | None = None) -> None:
    """Orientation letters at the middle of each edge (added to ``layer`` when one is given)."""
    font = overlay_font(13.0, bold=True)
    p.setFont(font)
    fm = _MARKER_METRICS.get(font.key())
    if fm is None:
        fm = _MARKER_METRICS[font.key()] = QFontMetricsF(font)
    cx, cy = rect.center().x(), rect.center().y()
    for edge, text in markers.items():
        if not text:
            continue
        w = fm.horizontalAdvance(text)
        if edge == "left":
            x, y = rect.left() + 6, cy + fm.ascent() / 2
        elif edge == "right":
            x, y = rect.right() - 26 - w, cy + fm.ascent() / 2
        elif edge == "top":
            x, y = cx - w / 2, rect.top() + top_offset + 6 + fm.ascent()
        else:
            x, y = cx - w / 2, rect.bottom() - 6 - fm.descent()
        if layer is not None:
            layer.add(x, y, text, font, MARKER_COLOR)
        else:
            shadowed_text(p, x, y, text, MARKER_COLOR)


def nice_length(max_mm: float) -> float:
    """The largest of 1, 2, 5 x 10^k mm not above ``max_mm``."""
    if max_mm <= 0:
        return 0.0
    k = math.floor(math.log10(max_mm))
    for m in (5, 2, 1):
        if m * 10 ** k <= max_mm:
            return m * 10 ** k
    return 10 ** k


_SCALE_BARS: dict[tuple, QPixmap] = {}


def _scale_bar_pixmap(length_px: int, ticks: int, text: str) -> QPixmap:
    """The scale bar drawn once per length (scrolling repaints it every frame)."""
    key = (length_px, ticks, text)
    pixmap = _SCALE_BARS.get(key)
    if pixmap is not None:
        return pixmap
    font = overlay_font(9.0)
    fm = QFontMetricsF(font)
    width = int(max(fm.horizontalAdvance(text) + 6, 12))
    pixmap = QPixmap(width, length_px + int(fm.height()) + 8)
    pixmap.fill(Qt.GlobalColor.transparent)
    q = QPainter(pixmap)
    x = width - 2
    for color, grow in ((SHADOW_COLOR, 1), (TEXT_COLOR, 0)):
        q.fillRect(QRectF(x - 1 - grow, 1 - grow, 1 + 2 * grow, length_px + 2 * grow), color)
        for k in range(ticks + 1):
            tick = 6 if k in (0, ticks) else 3
            y = 1 + round(k * length_px / ticks)
            q.fillRect(QRectF(x - tick - grow, y - grow, tick + 2 * grow, 1 + 2 * grow), color)
    q.setFont(font)
    shadowed_text(q, x - fm.horizontalAdvance(text), length_px + 2 + fm.ascent() + 2, text)
    q.end()
    if len(_SCALE_BARS) > 64:
        _SCALE_BARS.clear()
    _SCALE_BARS[key] = pixmap
    return pixmap


_SCALE_BAR_METRICS: list[tuple[float, float, float]] = []


def _scale_bar_metrics() -> tuple[float, float, float]:
    """Corner line height, scale label height, orientation marker ascent (measured once)."""
    if not _SCALE_BAR_METRICS:
        _SCALE_BAR_METRICS.append((QFontMetricsF(overlay_font(10.0)).height(),
                                   QFontMetricsF(overlay_font(9.0)).height(),
                                   QFontMetricsF(overlay_font(13.0, bold=True)).ascent()))
    return _SCALE_BAR_METRICS[0]


def paint_scale_bar(p: QPainter, rect: QRectF, mm_per_view_px: float, label_unit: str = "mm",
                    bottom_lines: int = 0) -> None:
    """A vertical scale bar near the right edge, 1-2-5 mm steps, at most a third of the height.

    It hangs below the right orientation marker (at the middle of the edge) and
    ends, with its label, above the ``bottom_lines`` lines of bottom-right
    corner text, so it covers neither; when that leaves too little room it is
    not drawn.
    """
    if mm_per_view_px <= 0 or not math.isfinite(mm_per_view_px):
        return
    corner_line, label_line, marker_ascent = _scale_bar_metrics()
    label = label_line + 8
    top = rect.center().y() + marker_ascent / 2 + 8
    bottom = rect.bottom() - 6 - bottom_lines * corner_line - 4
    room = min(rect.height() / 3, bottom - top - label)
    length_mm = nice_length(room * mm_per_view_px)
    if length_mm <= 0:
        return
    length_px = int(round(length_mm / mm_per_view_px))
    if length_px < MIN_SCALE_BAR_PX:
        return
    ticks = 10 if length_mm >= 10 and length_px / 10 >= 4 else 1
    pixmap = _scale_bar_pixmap(length_px, ticks, f"{length_mm:g} {label_unit}")
    x = rect.right() - 24 - pixmap.width()
    p.drawPixmap(QPointF(x, top), pixmap)


def _view_points(vp: ViewportModel, points) -> list[QPointF]:
    m = vp.view.matrix()
    out = []
    for x, y in points:
        u, v, _ = m @ np.array([x, y, 1.0])
        out.append(QPointF(float(u), float(v)))
    return out


def paint_annotations(p: QPainter, vp: ViewportModel, items: list[Annotation], selected: Annotation | None) -> None:
    """Measurements and annotations of the current frame, with their values."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setFont(overlay_font(10.0))
    fm = QFontMetricsF(p.font())
    for a in items:
        color = SELECTED_COLOR if a is selected else ANNOTATION_COLOR
        pts = _view_points(vp, a.points)
        if not pts:
            continue
        for pen_color, width in ((SHADOW_COLOR, 3.0), (color, 1.5)):
            p.setPen(QPen(pen_color, width))
            p.setBrush(Qt.BrushStyle.NoBrush)
            _paint_shape(p, vp, a, pts)
        if a is selected:
            p.setPen(QPen(color, 1.0))
            p.setBrush(QBrush(color))
            for h in _view_points(vp, a.handles()):
                p.drawRect(QRectF(h.x() - 3, h.y() - 3, 6, 6))
            p.setBrush(Qt.BrushStyle.NoBrush)
        if a.lines:
            anchor = max(pts, key=lambda q: (q.x(), -q.y()))
            x = anchor.x() + 10
            width = max(fm.horizontalAdvance(t) for t in a.lines) + 8
            # Near the right edge (scroll bar, scale bar) the values go left of the shape instead.
            if x + width > vp.view.viewport_size[0] - 40:
                x = min(pts, key=lambda q: q.x()).x() - 10 - width
            paint_label(p, fm, max(x, 4.0), anchor.y() - fm.height() / 2, a.lines, color)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)


def paint_label(p: QPainter, fm: QFontMetricsF, x: float, y: float, lines: list[str], color: QColor) -> None:
    """Value lines in a dim box, so they stay legible over bright anatomy."""
    width = max(fm.horizontalAdvance(t) for t in lines) + 8
    height = fm.height() * len(lines) + 4
    p.fillRect(QRectF(x - 4, y - 2, width, height), QColor(0, 0, 0, 150))
    p.setPen(color)
    for k, text in enumerate(lines):
        p.drawText(QPointF(x, y + fm.ascent() + k * fm.height()), text)


def _paint_shape(p: QPainter, vp: ViewportModel, a: Annotation, pts: list[QPointF]) -> None:
    if a.kind in (Kind.LENGTH, Kind.ANGLE):
        p.drawPolyline(QPolygonF(pts))
        for q in pts:
            p.drawLine(QPointF(q.x() - 3, q.y()), QPointF(q.x() + 3, q.y()))
    elif a.kind is Kind.COBB:
        for i in (0, 2):
            if i + 1 < len(pts):
                p.drawLine(pts[i], pts[i + 1])
    elif a.kind in (Kind.RECTANGLE, Kind.ELLIPSE, Kind.FREEHAND):
        p.drawPolygon(QPolygonF(_view_points(vp, a.outline())))
    elif a.kind is Kind.POINT:
        q = pts[0]
        p.drawLine(QPointF(q.x() - 6, q.y()), QPointF(q.x() + 6, q.y()))
        p.drawLine(QPointF(q.x(), q.y() - 6), QPointF(q.x(), q.y() + 6))
    elif a.kind is Kind.ARROW and len(pts) == 2:
        tail, head = pts
        p.drawLine(tail, head)
        angle = math.atan2(head.y() - tail.y(), head.x() - tail.x())
        path = QPainterPath(head)
        for side in (-1, 1):
            a2 = angle + math.pi - side * 0.45
            path.moveTo(head)
            path.lineTo(QPointF(head.x() + 12 * math.cos(a2), head.y() + 12 * math.sin(a2)))
        p.drawPath(path)
    elif a.kind is Kind.TEXT:
        q = pts[0]
        p.drawEllipse(q, 2.0, 2.0)


def paint_reference_line(p: QPainter, a: QPointF, b: QPointF, active: bool) -> None:
    color = ACTIVE_REFERENCE_COLOR if active else REFERENCE_COLOR
    for pen_color, width in ((SHADOW_COLOR, 3.0), (color, 1.0)):
        pen = QPen(pen_color, width)
        if not active:
            pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(a, b)


def paint_cursor(p: QPainter, q: QPointF) -> None:
    """The 3D cursor: a cross with a gap in the middle, so the point itself stays visible."""
    for pen_color, width in ((SHADOW_COLOR, 3.0), (CURSOR_COLOR, 1.5)):
        p.setPen(QPen(pen_color, width))
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            p.drawLine(QPointF(q.x() + 4 * dx, q.y() + 4 * dy), QPointF(q.x() + 14 * dx, q.y() + 14 * dy))


def banner_height(p: QPainter) -> float:
    """The height of :func:`paint_banner`'s banner (leaves the painter's font set for it)."""
    p.setFont(overlay_font(10.0, bold=True))
    return QFontMetricsF(p.font()).height() + 8


def paint_banner(p: QPainter, rect: QRectF, text: str) -> float:
    """A red warning banner across the top; returns its height."""
    h = banner_height(p)
    p.fillRect(QRectF(rect.left(), rect.top(), rect.width(), h), BANNER_COLOR)
    p.setPen(QColor("#ffffff"))
    p.drawText(QRectF(rect.left() + 6, rect.top(), rect.width() - 12, h),
               int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)
    return h


def paint_loading_strip(p: QPainter, rect: QRectF, loaded: np.ndarray, index: int) -> None:
    """A thin strip on the right edge: frames read (dim) or still loading (dark), current frame marked."""
    n = len(loaded)
    if n < 2:
        return
    x, w = rect.right() - 18, 3.0  # just left of the scroll bar
    top, height = rect.top() + 30, rect.height() - 60
    p.fillRect(QRectF(x, top, w, height), QColor(60, 60, 60))
    # Draw runs of loaded frames rather than one rectangle per frame.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], loaded.astype(np.int8), [0]])))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):  # runs come in start/stop pairs
        p.fillRect(QRectF(x, top + height * start / n, w, max(1.0, height * (stop - start) / n)),
                   QColor(120, 160, 120))
    y = top + height * (index + 0.5) / n
    p.fillRect(QRectF(x - 3, y - 1.5, w + 3, 3), QColor("#e6e6e6"))
