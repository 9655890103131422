"""Fonts the Linux bundle carries, registered with Qt so every script a name is written in shows.

On a Debian machine set up by ``packaging/setup-debian.sh`` the Noto fonts are
installed and Qt finds them through fontconfig; the bundle (built by
``packaging/build-linux``) also carries them in ``fonts/`` beside the
executable for machines without them.  Qt falls back from the UI font to any
registered font that has a glyph, so registering is enough.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QFontDatabase

from workstation.reporting.pdf_fonts import font_dirs

log = logging.getLogger(__name__)

_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def register_bundled_fonts() -> int:
    """Register the fonts of the bundle's (or ``LIGHTBOX_FONT_DIR``'s) font folder with Qt; returns how many."""
    added = 0
    for folder in font_dirs(bundled_only=True):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in _FONT_SUFFIXES and QFontDatabase.addApplicationFont(str(path)) >= 0:
                added += 1
    if added:
        log.info("registered %d bundled font file(s)", added)
    return added
