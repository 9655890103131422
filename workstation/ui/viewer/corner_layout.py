"""Where a viewport's corner text and orientation markers go, and a viewport's memory of it.

:func:`layout_corners` places the lines of the four corners so none overlap;
:class:`CornerText` keeps a viewport's placed lines per edge and lays an edge
out again only when its lines or the viewport's size changed (while a stack
scrolls, the bottom edge's image number and position change, the patient and
study lines at the top do not).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter

from workstation.ui.viewer.overlay_text import TextItem, TextLayer, _advance_of, metrics, overlay_font, shadowed_text

MARKER_COLOR = QColor("#ffd866")
# Below this width a corner line says too little to be worth drawing.
MIN_CORNER_TEXT_PX = 36.0
# Eliding may take at most this share of a line away; beyond it the less important line goes.
MAX_ELIDED_SHARE = 0.4
_MARGIN, _GAP, _SCROLLBAR = 6.0, 12.0, 14.0


def _rows(lines: Sequence[str], top: bool) -> dict[int, int]:
    """Drawn row (counted from the edge) -> index in the corner's list (its priority: first is most)."""
    return {(k if top else len(lines) - 1 - k): k for k in range(len(lines))}


_MARKER_SIZE: list[tuple[float, float]] = []


def _marker_size() -> tuple[float, float]:
    """Height of the orientation markers' font and width of its widest letter (measured once)."""
    if not _MARKER_SIZE:
        marker = metrics(overlay_font(13.0, bold=True))
        _MARKER_SIZE.append((marker.height(), marker.horizontalAdvance("W")))
    return _MARKER_SIZE[0]


def layout_corners(rect: QRectF, corners: Mapping[str, Sequence[str]], fm: QFontMetricsF,
                   top_offset: float = 0.0) -> list[tuple[float, float, str]]:
    """Where each corner line goes: ``(x, baseline y, text)``, no two overlapping.

    Each corner's lines are stacked from its corner inwards.  Where a left and a
    right line of one row cannot both fit, even each elided by at most
    :data:`MAX_ELIDED_SHARE`, the less important one (the later in its corner's
    list; on a tie the right one, as the left holds the patient's identity) is
    dropped and the lines after it move up.  Top and bottom stacks stop short of
    the middle of the side edges, where the orientation markers are.
    """
    placed = []
    for edge in ("top", "bottom"):
        placed += layout_edge(rect, fm, top_offset, edge == "top",
                              corners.get(f"{edge}_left") or [], corners.get(f"{edge}_right") or [])
    return placed


def layout_edge(rect: QRectF, fm: QFontMetricsF, top_offset: float, top: bool,
                left_lines: Sequence[str], right_lines: Sequence[str]) -> list[tuple[float, float, str]]:
    """:func:`layout_corners` of one edge (the top or the bottom): the edges do not share rows or room."""
    line = fm.height()
    usable = rect.width() - 2 * _MARGIN - _SCROLLBAR - _GAP
    # Each edge's text takes at most a third of the height: in a 4 x 4 layout the image stays visible.
    third = (rect.height() - top_offset) / 3 - _MARGIN
    max_rows = max(0, int(third // line))
    stacks = {"left": list(left_lines)[:max_rows], "right": list(right_lines)[:max_rows]}
    width = _advance_of(fm)
    # The orientation markers sit at the middle of the top and bottom edges: the edge rows leave them room.
    marker_height, marker_width = _marker_size()
    marker_half = marker_width / 2 + 6
    marker_rows = max(1, math.ceil((marker_height + 6 - _MARGIN) / line))  # rows beside the marker
    side_room = {"left": rect.width() / 2 - marker_half - _MARGIN,
                 "right": rect.width() / 2 - marker_half - _MARGIN - _SCROLLBAR}
    keep = 1 - MAX_ELIDED_SHARE

    def collision() -> tuple[str, int] | None:
        left, right = stacks["left"], stacks["right"]
        rows_l, rows_r = _rows(left, top), _rows(right, top)
        for row in set(rows_l) & set(rows_r):
            il, ir = rows_l[row], rows_r[row]
            wl, wr = width(left[il]), width(right[ir])
            too_wide = keep * (wl + wr) > usable if row >= marker_rows else \
                (keep * wl > side_room["left"] or keep * wr > side_room["right"])
            if too_wide:
                return ("left", il) if il > ir else ("right", ir)
        return None

    for _ in range(len(stacks["left"]) + len(stacks["right"])):
        victim = collision()
        if victim is None:
            break
        stacks[victim[0]].pop(victim[1])
    # What the loop below asks for every line, asked once (each is a call into Qt).
    ascent, descent = fm.ascent(), fm.descent()
    first_y = rect.top() + top_offset + _MARGIN + ascent if top else rect.bottom() - _MARGIN - descent
    step = line if top else -line
    left_x, right_x = rect.left() + _MARGIN, rect.right() - _MARGIN - _SCROLLBAR
    rows = {side: _rows(lines, top) for side, lines in stacks.items()}
    placed = []
    for side, other_side in (("left", "right"), ("right", "left")):
        lines, other = stacks[side], stacks[other_side]
        other_rows = {row: other[k] for row, k in rows[other_side].items()}
        for row, k in rows[side].items():
            text, partner = lines[k], other_rows.get(row, "")
            full = width(text)
            room = side_room[side] if row < marker_rows else usable
            if row >= marker_rows and partner and full + width(partner) > usable:
                room = full * usable / (full + width(partner))  # both give up the same share
            shown = full
            if full > room:
                text = fm.elidedText(text, Qt.TextElideMode.ElideRight, room)
                shown = width(text)
            if not text or shown < min(MIN_CORNER_TEXT_PX, full):
                continue
            placed.append((left_x if side == "left" else right_x - shown, first_y + row * step, text))
    return placed


def paint_corners(p: QPainter, rect: QRectF, corners: Mapping[str, Sequence[str]], top_offset: float = 0.0,
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


def marker_places(rect: QRectF, markers: Mapping[str, str], top_offset: float = 0.0) -> list[tuple[float, float, str]]:
    """Where the orientation letters go, ``(x, baseline y, text)``: the middle of each edge."""
    fm = metrics(overlay_font(13.0, bold=True))
    cx, cy = rect.center().x(), rect.center().y()
    placed = []
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
        placed.append((x, y, text))
    return placed


def paint_markers(p: QPainter, rect: QRectF, markers: Mapping[str, str], top_offset: float = 0.0,
                  layer: TextLayer | None = None) -> None:
    """Orientation letters at the middle of each edge (added to ``layer`` when one is given)."""
    font = overlay_font(13.0, bold=True)
    p.setFont(font)
    for x, y, text in marker_places(rect, markers, top_offset):
        if layer is not None:
            layer.add(x, y, text, font, MARKER_COLOR)
        else:
            shadowed_text(p, x, y, text, MARKER_COLOR)


class CornerText:
    """One viewport's corner text and orientation markers, laid out again only where they changed.

    Kept per viewport (each shows its own series, so its own lines): the top
    edge, the bottom edge and the markers are each remembered with the lines
    and the viewport geometry they were placed for.
    """

    def __init__(self) -> None:
        self._corner_font = overlay_font(10.0)
        self._marker_font = overlay_font(13.0, bold=True)
        self._memo: dict[str, tuple[tuple[object, ...], list[TextItem]]] = {}

    def add_to(self, layer: TextLayer, rect: QRectF, corners: Mapping[str, Sequence[str]],
               markers: Mapping[str, str], top_offset: float = 0.0) -> None:
        """Add the corner lines (:func:`layout_corners`) and the markers (:func:`paint_markers`) to ``layer``."""
        geometry = (rect.left(), rect.top(), rect.width(), rect.height(), top_offset)
        for edge in ("top", "bottom"):
            left, right = tuple(corners.get(f"{edge}_left") or ()), tuple(corners.get(f"{edge}_right") or ())
            key: tuple[object, ...] = (geometry, left, right)
            hit = self._memo.get(edge)
            if hit is None or hit[0] != key:
                font = self._corner_font
                placed = layout_edge(rect, metrics(font), top_offset, edge == "top", left, right)
                hit = self._memo[edge] = (key, TextLayer.items(placed, font))
            layer.extend(hit[1])
        key = (geometry, *markers.items())
        hit = self._memo.get("markers")
        if hit is None or hit[0] != key:
            placed = marker_places(rect, markers, top_offset)
            hit = self._memo["markers"] = (key, TextLayer.items(placed, self._marker_font, MARKER_COLOR))
        layer.extend(hit[1])
