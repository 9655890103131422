"""Painting what lies over the image: scale bar, annotations, cross-references, banners.

Every function paints in view coordinates with a painter whose transform is
the identity; what to paint comes from the Qt-free models.  The outlined text
is drawn by :mod:`~workstation.ui.viewer.overlay_text` and placed in the
corners by :mod:`~workstation.ui.viewer.corner_layout`; their public names are
also found here.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.imaging.viewport import ViewportModel
from workstation.ui.viewer.corner_layout import (MARKER_COLOR, MAX_ELIDED_SHARE, MIN_CORNER_TEXT_PX, CornerText,
                                                 layout_corners, layout_edge, marker_places, paint_corners,
                                                 paint_markers)
from workstation.ui.viewer.overlay_text import (OUTLINE_COLOR, TEXT_COLOR, TextLayer, metrics, overlay_font,
                                                shadowed_text)

__all__ = [
    "ACTIVE_BORDER", "ACTIVE_REFERENCE_COLOR", "ANNOTATION_COLOR", "BANNER_COLOR", "CURSOR_COLOR",
    "INACTIVE_BORDER", "MARKER_COLOR", "MAX_ELIDED_SHARE", "MIN_CORNER_TEXT_PX", "MIN_SCALE_BAR_PX",
    "OUTLINE_COLOR", "REFERENCE_COLOR", "SELECTED_COLOR", "SHADOW_COLOR", "TEXT_COLOR", "CornerText", "TextLayer",
    "banner_height", "layout_corners", "layout_edge", "marker_places", "metrics", "nice_length",
    "overlay_font", "paint_annotations", "paint_banner", "paint_corners", "paint_cursor", "paint_label",
    "paint_loading_strip", "paint_markers", "paint_reference_line", "paint_scale_bar", "scale_bar_place",
    "shadowed_text",
]

SHADOW_COLOR = QColor(0, 0, 0, 220)
ANNOTATION_COLOR = QColor("#5fd7ff")
SELECTED_COLOR = QColor("#ffb347")
REFERENCE_COLOR = QColor("#ffd866")
ACTIVE_REFERENCE_COLOR = QColor("#7cff7c")
CURSOR_COLOR = QColor("#ff5f5f")
BANNER_COLOR = QColor("#b00020")
ACTIVE_BORDER = QColor("#2a7fd4")
INACTIVE_BORDER = QColor("#303030")
MIN_SCALE_BAR_PX = 16  # shorter than this, a scale bar is not worth reading


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


def scale_bar_place(rect: QRectF, mm_per_view_px: float, label_unit: str = "mm",
                    bottom_lines: int = 0) -> tuple[QPointF, QPixmap] | None:
    """Where :func:`paint_scale_bar` draws its bar and the picture of it; None when it is not drawn."""
    if mm_per_view_px <= 0 or not math.isfinite(mm_per_view_px):
        return None
    corner_line, label_line, marker_ascent = _scale_bar_metrics()
    label = label_line + 8
    top = rect.center().y() + marker_ascent / 2 + 8
    bottom = rect.bottom() - 6 - bottom_lines * corner_line - 4
    room = min(rect.height() / 3, bottom - top - label)
    length_mm = nice_length(room * mm_per_view_px)
    if length_mm <= 0:
        return None
    length_px = int(round(length_mm / mm_per_view_px))
    if length_px < MIN_SCALE_BAR_PX:
        return None
    ticks = 10 if length_mm >= 10 and length_px / 10 >= 4 else 1
    pixmap = _scale_bar_pixmap(length_px, ticks, f"{length_mm:g} {label_unit}")
    return QPointF(rect.right() - 24 - pixmap.width(), top), pixmap


def paint_scale_bar(p: QPainter, rect: QRectF, mm_per_view_px: float, label_unit: str = "mm",
                    bottom_lines: int = 0) -> None:
    """A vertical scale bar near the right edge, 1-2-5 mm steps, at most a third of the height.

    It hangs below the right orientation marker (at the middle of the edge) and
    ends, with its label, above the ``bottom_lines`` lines of bottom-right
    corner text, so it covers neither; when that leaves too little room it is
    not drawn.
    """
    place = scale_bar_place(rect, mm_per_view_px, label_unit, bottom_lines)
    if place is not None:
        p.drawPixmap(*place)


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
