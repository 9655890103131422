"""Draw Lightbox's icon in code: an SVG, PNGs (256, 128, 48, 32 px) and a Windows .ico.

A light box is a lit panel with a film on it: a rounded dark square, a bright
panel, and a stylised chest radiograph (two lung fields and a spine).  Run by
hand after changing the drawing; the outputs in ``resources/icons`` are committed.

Usage: ``python packaging/make_icon.py [OUT_DIR]``
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "resources" / "icons"
FRAME, PANEL, FILM, LUNG, BONE = "#1d2633", "#f3f6fa", "#2c3a4d", "#7f93ab", "#e8edf3"

SVG = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">
  <title>Lightbox</title>
  <rect x="8" y="8" width="240" height="240" rx="40" fill="{FRAME}"/>
  <rect x="36" y="36" width="184" height="184" rx="12" fill="{PANEL}"/>
  <rect x="52" y="52" width="152" height="152" rx="6" fill="{FILM}"/>
  <ellipse cx="98" cy="130" rx="30" ry="56" fill="{LUNG}"/>
  <ellipse cx="158" cy="130" rx="30" ry="56" fill="{LUNG}"/>
  <rect x="121" y="62" width="14" height="132" rx="6" fill="{BONE}"/>
</svg>
"""


def draw(size: int) -> Image.Image:
    """The icon at ``size`` pixels, drawn at 4x and scaled down (smooth edges)."""
    big = 256 * 4
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    s = 4
    d.rounded_rectangle((8 * s, 8 * s, 248 * s, 248 * s), radius=40 * s, fill=FRAME)
    d.rounded_rectangle((36 * s, 36 * s, 220 * s, 220 * s), radius=12 * s, fill=PANEL)
    d.rounded_rectangle((52 * s, 52 * s, 204 * s, 204 * s), radius=6 * s, fill=FILM)
    for cx in (98, 158):
        d.ellipse(((cx - 30) * s, 74 * s, (cx + 30) * s, 186 * s), fill=LUNG)
    d.rounded_rectangle((121 * s, 62 * s, 135 * s, 194 * s), radius=6 * s, fill=BONE)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "lightbox.svg").write_text(SVG, encoding="utf-8")
    for size in (256, 128, 48, 32):
        draw(size).save(out / f"lightbox-{size}.png")
    draw(256).save(out / "lightbox.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
