"""Outlined overlay text drawn from cached pieces looks like the text drawn as one outlined path."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from workstation.ui.viewer import overlay, overlay_text


def _canvas(paint) -> np.ndarray:
    image = QImage(320, 60, QImage.Format.Format_RGB32)
    image.fill(QColor(90, 90, 90))
    p = QPainter(image)
    paint(p)
    p.end()
    ptr = image.constBits()
    rows = np.frombuffer(ptr, np.uint8).reshape(60, image.bytesPerLine())
    return rows[:, :320 * 4].reshape(60, 320, 4)[..., :3].copy()  # a copy: the image goes with this function


@pytest.mark.parametrize("text", ["Im 123/500", "Loc -123.50 mm", "W 400 L 40", "Zoom 51%", "Se 2 Im 7 (jpg)"])
def test_a_line_made_of_glyphs_looks_like_the_outlined_path(qapp, text):
    font = overlay.overlay_font(10.0)

    def draw(sprite):
        image, left, top = sprite
        return lambda p: p.drawImage(int(20 + left), int(35 + top), image)

    path = _canvas(draw(overlay_text._path_sprite(font, text, overlay.TEXT_COLOR, 1.0))).astype(int)
    glyphs = _canvas(draw(overlay_text._composed_sprite(font, text, overlay.TEXT_COLOR, 1.0))).astype(int)
    differ = np.abs(path - glyphs).max(axis=2)
    # Antialiased edges differ by a little where neighbouring outlines overlap; letters and outlines coincide.
    assert differ.mean() < 2.0
    assert (differ > 64).sum() <= 0.01 * (path.max(axis=2) > 200).sum() + 3
    assert (path.max(axis=2) > 200).sum() == pytest.approx((glyphs.max(axis=2) > 200).sum(), rel=0.2)


def test_text_layer_paints_what_each_line_drawn_alone_paints(qapp):
    font = overlay.overlay_font(10.0)
    rect = QRectF(0, 0, 320, 60)
    lines = [(6.0, 15.0, "PHANTOM, Paula"), (6.0, 52.0, "Im 3/10"), (200.0, 52.0, "W 400 L 40")]

    def alone(p):
        p.setFont(font)
        for x, y, text in lines:
            overlay.shadowed_text(p, x, y, text)

    expected = _canvas(alone)
    layer = overlay.TextLayer()
    for changed in ("Im 3/10", "Im 4/10", "Im 5/10"):  # the second and third paints blit the unchanged lines
        lines[1] = (6.0, 52.0, changed)

        def layered(p):
            for x, y, text in lines:
                layer.add(x, y, text, font)
            layer.paint(p, rect)

        expected = _canvas(alone)
        assert np.array_equal(_canvas(layered), expected), changed
