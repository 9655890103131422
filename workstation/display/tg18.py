"""AAPM TG18 display test patterns, generated (12-bit values, 1k or 2k).

AAPM On-line Report No. 03 (2005), "Assessment of display performance for
medical imaging systems", section 3 and appendix III describe the patterns;
its disclaimer allows generating patterns like them when the report is
acknowledged, the TG18 label is not copied and the pattern says it is
synthetic, so each pattern here carries "LIGHTBOX SYNTHETIC, BASED ON AAPM TG18".
Pixel values are 12-bit (0..4095) as in the report's DICOM patterns, shown
with WL/WW 2048/4096, except TG18-LN with 2040/4080 (the report's rule).

* **TG18-QC** (1k: 1024², pitch 102 px; 2k: 2048², pitch 204 px): mid-grey
  background (2048) crossed by a 75 % grid (3072, 1 px); around the centre a
  6 × 6 block whose outer ring holds 16 grey steps (128 to 3968, step 256;
  8-bit 8 to 248) each with four low-contrast corner squares (±64 = ±4 8-bit
  levels: upper-left and lower-right darker, the other two brighter), plus a
  0 cell holding a 5 % square (205) and a 4095 cell holding a 95 % square
  (3890), both half the cell's size; ramps either side; "QUALITY CONTROL"
  on black, grey and white panels, letter contrast 14 down to 1 (8-bit
  levels); black/white bands for video response; high- and low-contrast bar
  patterns (line pairs of 1 and 2 px, 0/4095 and 2048/2080) at the centre and
  the four corners.  The layout follows the pacsDisplay implementation of the
  TG18 design (its TG18-OIQ pattern: TG18-QC without the Cx elements); the Cx
  elements are represented by the bar patterns.
* **TG18-LN** 01..18: background 20 % (819), a centre square of 10 % of the
  area at ``240 · (n - 1)`` (0 to 4080): the 18 luminance measurements.
* **TG18-UN10 / UN80**: uniform 10 % (410) and 80 % (3276) of the maximum.
* **TG18-CT**: 16 squares of the 16 grey steps on the mid-grey background,
  each with a half-moon target (one half +32, the other -32) and four small
  corner squares at ±16, to judge contrast over the whole grey scale.
* **TG18-AD**: black background with 7 × 7 squares of horizontal line pairs
  whose contrast rises from 16 to 784 (1 to 49 8-bit levels), to find the
  faintest one visible with the room lights on and off (diffuse reflection).

TG18-CT's and TG18-AD's sizes and contrasts are chosen here after the
report's description of them, not copied from its files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np

__all__ = ["Pattern", "LABEL", "qc_geometry", "tg18_qc", "tg18_ln", "tg18_un", "tg18_ct", "tg18_ad",
           "all_patterns", "LN_VALUES", "QC_STEPS"]

MAX = 4095
LABEL = "LIGHTBOX SYNTHETIC, BASED ON AAPM TG18"
#: TG18-LN's 18 centre values (report: 0 to 4080 in 17 equal steps).
LN_VALUES = tuple(240 * k for k in range(18))
#: TG18-QC's grey steps, ring order: from the bottom-left cell up the left side, along the top, down the right.
QC_STEPS = tuple(128 + 256 * k for k in range(16))

#: A measurement region ``(x0, y0, x1, y1)``, half-open.
Region = tuple[int, int, int, int]


class QcGeometry(TypedDict):
    """Where TG18-QC's elements are (see :func:`qc_geometry`)."""

    centre: int
    pitch: int
    corner: int
    cells: list[tuple[int, int, int, int, int]]


@dataclass(frozen=True, eq=False)
class Pattern:
    """One test pattern.

    Attributes
    ----------
    name : str
        e.g. "TG18-QC", "TG18-LN12-05".
    pixels : numpy.ndarray
        uint16 ``(rows, cols)`` 12-bit values.
    window : (float, float)
        Window centre and width it must be shown with.
    description : str
        What it is for (goes into the DICOM Series/Image comments).
    regions : dict
        Named measurement regions ``name -> (x0, y0, x1, y1)`` (half-open).
    """

    name: str
    pixels: np.ndarray
    window: tuple[float, float]
    description: str
    regions: dict[str, Region] = field(default_factory=dict)


def _check_size(size: int) -> int:
    if size not in (1024, 2048):
        raise ValueError("TG18 patterns are 1024 (1k) or 2048 (2k) pixels square")
    return size


def qc_geometry(size: int = 1024) -> QcGeometry:
    """Where TG18-QC's elements are: centre, pitch, the 18 cells with their values, corner-square size.

    Returns
    -------
    dict
        ``centre`` (px), ``pitch`` (px), ``corner`` (px), and ``cells``: a list of
        ``(value, x0, y0, x1, y1)`` for the 16 steps and the 0 and 4095 cells.
    """
    _check_size(size)
    scale = size / 1024
    c, p = size // 2, round(102 * scale)
    # The 6 x 6 block, row by row from the top (8-bit values x 16; 0 and 255 become 0 and 4095;
    # 128 is the background: the block's inside has no steps).
    ring8: list[list[int | None]] = [[88, 104, 120, 136, 152, 168],
             [72, None, None, None, None, 184],
             [56, None, None, None, None, 200],
             [40, None, None, None, None, 216],
             [24, None, None, None, None, 232],
             [8, 0, None, None, 255, 248]]
    cells: list[tuple[int, int, int, int, int]] = []
    for row in range(6):
        for col in range(6):
            v8 = ring8[row][col]
            if v8 is None:
                continue
            value = MAX if v8 == 255 else v8 * 16
            cells.append((value, c + (col - 3) * p, c + (row - 3) * p, c + (col - 2) * p, c + (row - 2) * p))
    return {"centre": c, "pitch": p, "corner": max(1, round(10 * scale)), "cells": cells}


def _text(img: np.ndarray, text: str, x: float, y: float, height: int, values: int | Sequence[int]) -> None:
    """Write ``text`` centred on (x, y); ``values`` is one value or one per letter (Pillow's default font)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=height)
    letters = list(text)
    per_letter = [values] * len(letters) if isinstance(values, int) else list(values)
    widths = [font.getlength(ch) for ch in letters]
    total = sum(widths)
    left = x - total / 2
    for ch, w, v in zip(letters, widths, per_letter, strict=True):
        if ch.strip():
            box = (int(left), int(y - height), int(left + w) + 2, int(y + height))
            mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
            ImageDraw.Draw(mask).text((0, height // 2), ch, fill=255, font=font, anchor="lm")
            m = np.asarray(mask) > 127
            y0, x0 = max(0, box[1]), max(0, box[0])
            y1, x1 = min(img.shape[0], box[3]), min(img.shape[1], box[2])
            region = m[y0 - box[1]:y1 - box[1], x0 - box[0]:x1 - box[0]]
            img[y0:y1, x0:x1][region] = v
        left += w


def _bars(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, vertical: bool, width: int, low: int, high: int) -> None:
    """Line pairs: bars ``width`` px wide alternating ``high``/``low``."""
    if vertical:
        k = (np.arange(x1 - x0) // width) % 2
        img[y0:y1, x0:x1] = np.where(k == 0, high, low)[None, :]
    else:
        k = (np.arange(y1 - y0) // width) % 2
        img[y0:y1, x0:x1] = np.where(k == 0, high, low)[:, None]


def _resolution(img: np.ndarray, x0: int, y0: int, p: int) -> None:
    """A 2 × 1 cell resolution element: high-contrast bars on the left half, low-contrast on the right."""
    x0, y0 = int(round(x0)), int(round(y0))
    img[y0:y0 + p, x0:x0 + 2 * p] = 1024  # 25 % surround
    my, half = y0 + p // 2, p
    for left, (low, high) in ((x0, (0, MAX)), (x0 + half, (2048, 2080))):
        mx = left + half // 2
        _bars(img, left + 2, y0 + 2, mx, my, True, 1, low, high)
        _bars(img, mx, y0 + 2, left + half - 2, my, True, 2, low, high)
        _bars(img, left + 2, my, mx, y0 + p - 2, False, 1, low, high)
        _bars(img, mx, my, left + half - 2, y0 + p - 2, False, 2, low, high)


def tg18_qc(size: int = 1024) -> Pattern:
    """TG18-QC: the overall quality control pattern (see the module description)."""
    g = qc_geometry(size)
    c, p, cs = g["centre"], g["pitch"], g["corner"]
    img = np.full((size, size), 2048, dtype=np.uint16)
    # Grid first: the elements drawn after it keep their whole area.
    for k in range(-(c // p) - 1, (size - c) // p + 2):
        at = c + k * p
        if 0 <= at < size:
            img[:, at] = 3072
            img[at, :] = 3072
    regions = {}
    for value, x0, y0, x1, y1 in g["cells"]:
        img[y0:y1, x0:x1] = value
        regions[f"cell {value}"] = (x0, y0, x1, y1)
        w, h = x1 - x0, y1 - y0
        if value in (0, MAX):
            inner = 205 if value == 0 else 3890  # 5 % and 95 %
            sx0, sy0 = x0 + (w - w // 2) // 2, y0 + (h - h // 2) // 2
            img[sy0:sy0 + h // 2, sx0:sx0 + w // 2] = inner
            regions[f"inner {inner}"] = (sx0, sy0, sx0 + w // 2, sy0 + h // 2)
        else:
            low, high = max(0, value - 64), min(MAX, value + 64)
            img[y0:y0 + cs, x0:x0 + cs] = low
            img[y1 - cs:y1, x1 - cs:x1] = low
            img[y0:y0 + cs, x1 - cs:x1] = high
            img[y1 - cs:y1, x0:x0 + cs] = high
    # Ramps beside the block: 75 % of a cell wide, 5 cells tall.
    top, bottom, rw = c - 5 * p // 2, c + 5 * p // 2, round(0.75 * p)
    ramp = np.round(np.linspace(MAX, 0, bottom - top)).astype(np.uint16)
    for centre, values in ((c - 9 * p // 2, ramp), (c + 9 * p // 2, ramp[::-1])):
        img[top:bottom, centre - rw // 2:centre - rw // 2 + rw] = values[:, None]
    regions["ramp left"] = (c - 9 * p // 2 - rw // 2, top, c - 9 * p // 2 - rw // 2 + rw, bottom)
    # Video response bands above the block.
    q = p // 8
    img[c - 3 * p - 4 * q:c - 3 * p - 2 * q, c - 4 * p:c + 4 * p] = MAX
    img[c - 3 * p - 2 * q:c - 3 * p, c - 4 * p:c + 4 * p] = 0
    img[c - 3 * p - 3 * q:c - 3 * p - 2 * q, c - 2 * p:c + 2 * p] = 0
    img[c - 3 * p - 2 * q:c - 3 * p - q, c - 2 * p:c + 2 * p] = MAX
    # QUALITY CONTROL on black, grey and white panels, one contrast per letter (8-bit levels 14 .. 1).
    contrasts = [16 * k for k in range(14, 0, -1)]
    height = max(8, round(0.22 * p))
    for x0, x1, bg, sign in ((c - 3 * p, c - p, 0, 1), (c - p, c + p, 2048, 1), (c + p, c + 3 * p, MAX, -1)):
        img[c + 3 * p + 1:c + 4 * p, x0 + 1:x1] = bg
        cx = (x0 + x1) / 2
        _text(img, "QUALITY", cx, c + 3 * p + 0.33 * p, height, [bg + sign * v for v in contrasts[:7]])
        _text(img, "CONTROL", cx, c + 3 * p + 0.72 * p, height, [bg + sign * v for v in contrasts[7:]])
        regions[f"panel {bg}"] = (x0 + 1, c + 3 * p + 1, x1, c + 4 * p)
    # The label (the report asks synthetic patterns to say so), in the box below the centre.
    img[c + 2 * p + 1:c + 3 * p, c - p + 1:c + p] = 2048
    _text(img, "LIGHTBOX SYNTHETIC", c, c + 2 * p + 0.35 * p, max(7, round(0.13 * p)), 1648)
    _text(img, "BASED ON AAPM TG18-QC", c, c + 2 * p + 0.65 * p, max(7, round(0.13 * p)), 1648)
    # Resolution: centre and the four corners (the outermost grid cells, clear of the panels).
    for x0, y0 in ((c - p, c - p // 2), (c - 5 * p, c - 5 * p), (c + 3 * p, c - 5 * p), (c - 5 * p, c + 4 * p),
                   (c + 3 * p, c + 4 * p)):
        _resolution(img, x0, y0, p)
        regions.setdefault("resolution centre", (x0, y0, x0 + 2 * p, y0 + p))
    return Pattern("TG18-QC", img, (2048.0, 4096.0),
                   "Overall display quality: grey steps with low-contrast corners, 5 %/95 % squares, "
                   "ramps, QUALITY CONTROL letters, resolution bars, video bands", regions)


def tg18_ln(index: int, size: int = 1024) -> Pattern:
    """TG18-LN ``index`` (1..18): the centre square for the luminance response measurement."""
    if not 1 <= index <= 18:
        raise ValueError("TG18-LN patterns are numbered 1 to 18")
    _check_size(size)
    img = np.full((size, size), 819, dtype=np.uint16)  # 20 % of 4095
    side = int(round(size * np.sqrt(0.1)))
    x0 = (size - side) // 2
    img[x0:x0 + side, x0:x0 + side] = LN_VALUES[index - 1]
    _text(img, LABEL, size / 2, size - 0.03 * size, round(0.012 * size), 880)
    return Pattern(f"TG18-LN12-{index:02d}", img, (2040.0, 4080.0),
                   f"Luminance response, level {index} of 18 (centre square {LN_VALUES[index - 1]})",
                   {"measure": (x0, x0, x0 + side, x0 + side)})


def tg18_un(percent: int, size: int = 1024) -> Pattern:
    """TG18-UN10 or TG18-UN80: uniform at 10 % or 80 % of the maximum, for luminance uniformity."""
    if percent not in (10, 80):
        raise ValueError("TG18-UN patterns are at 10 % and 80 %")
    _check_size(size)
    value = int(round(MAX * percent / 100))
    img = np.full((size, size), value, dtype=np.uint16)
    s = size // 10
    regions = {name: (x, y, x + s, y + s) for name, (x, y) in {
        "centre": ((size - s) // 2, (size - s) // 2), "top left": (s // 2, s // 2),
        "top right": (size - s - s // 2, s // 2), "bottom left": (s // 2, size - s - s // 2),
        "bottom right": (size - s - s // 2, size - s - s // 2)}.items()}
    return Pattern(f"TG18-UN{percent}", img, (2048.0, 4096.0),
                   f"Luminance uniformity at {percent} %: measure the centre and the four corners", regions)


def tg18_ct(size: int = 1024) -> Pattern:
    """TG18-CT: contrast over the grey scale (16 steps, half-moon and corner targets)."""
    _check_size(size)
    img = np.full((size, size), 2048, dtype=np.uint16)
    cell = size // 5
    box = int(cell * 0.8)
    margin = (size - 4 * cell) // 2
    yy, xx = np.mgrid[0:box, 0:box]
    r = box * 0.18
    disc = (xx - box / 2) ** 2 + (yy - box / 2) ** 2 <= r * r
    left = xx < box / 2
    t = max(2, box // 12)
    regions = {}
    for k, value in enumerate(QC_STEPS):
        row, col = divmod(k, 4)
        x0 = margin + col * cell + (cell - box) // 2
        y0 = margin + row * cell + (cell - box) // 2
        square = np.full((box, box), value, dtype=np.int32)
        square[disc & left] = value + 32
        square[disc & ~left] = value - 32
        for sy, sx, d in ((box // 10, box // 10, 16), (box // 10, box - box // 10 - t, -16),
                          (box - box // 10 - t, box // 10, -16), (box - box // 10 - t, box - box // 10 - t, 16)):
            square[sy:sy + t, sx:sx + t] = value + d
        img[y0:y0 + box, x0:x0 + box] = np.clip(square, 0, MAX)
        regions[f"square {value}"] = (x0, y0, x0 + box, y0 + box)
    _text(img, LABEL, size / 2, size - 0.03 * size, round(0.012 * size), 1900)
    return Pattern("TG18-CT", img, (2048.0, 4096.0),
                   "Contrast response: a half-moon target (±32) and four corner squares (±16) in each of 16 steps",
                   regions)


def tg18_ad(size: int = 1024) -> Pattern:
    """TG18-AD: faint line-pair targets on black, for the effect of ambient light (diffuse reflection)."""
    _check_size(size)
    img = np.zeros((size, size), dtype=np.uint16)
    cell = size // 8
    box = int(cell * 0.7)
    margin = (size - 7 * cell) // 2
    regions = {}
    for k in range(49):
        row, col = divmod(k, 7)
        x0 = margin + col * cell + (cell - box) // 2
        y0 = margin + row * cell + (cell - box) // 2
        contrast = 16 * (k + 1)  # one 8-bit level more for each target
        _bars(img, x0, y0, x0 + box, y0 + box, False, 2, 0, contrast)
        regions[f"target {k + 1}"] = (x0, y0, x0 + box, y0 + box)
    _text(img, LABEL, size / 2, size - 0.02 * size, round(0.012 * size), 400)
    return Pattern("TG18-AD", img, (2048.0, 4096.0),
                   "Ambient light: the faintest line-pair target seen with the room lights off and on", regions)


def all_patterns(size: int = 1024) -> list[Pattern]:
    """Every pattern: QC, the 18 LN, CT, UN10, UN80, AD."""
    return ([tg18_qc(size)] + [tg18_ln(i, size) for i in range(1, 19)]
            + [tg18_ct(size), tg18_un(10, size), tg18_un(80, size), tg18_ad(size)])
