"""Fonts for PDF reports: Unicode fonts found on the system, by script, embedded by the PDF engine.

A report names a patient in any script (Japanese, Korean, Chinese, Greek,
Hebrew, Arabic, Cyrillic…), so the PDF embeds real fonts instead of the
standard Helvetica (which holds only WinAnsi).  The body font is Noto Sans
(DejaVu Sans when Noto is missing); other scripts come from fallback fonts
chosen only for the characters the report holds, so a Latin report does not
pay for loading a 20 MB CJK font.

Where fonts are looked for, in order: the folder named by ``LIGHTBOX_FONT_DIR``,
the Linux bundle's ``fonts/`` beside its executable, ``<prefix>/share/lightbox/fonts``,
the Debian paths of fonts-noto-core, fonts-noto-cjk and fonts-dejavu-core, then
fontconfig's ``fc-match``.  When a character has no font, :class:`PdfFontError`
says which package to install; nothing is printed as ``?``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["FontFace", "PdfFontError", "body_fonts", "fallback_faces", "font_dirs", "script_of", "PACKAGES"]

#: Debian packages that provide the fonts (what the set-up script installs).
PACKAGES = ("fonts-noto-core", "fonts-noto-cjk", "fonts-dejavu-core")

_DEBIAN_DIRS = ("/usr/share/fonts/truetype/noto", "/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/dejavu")


class PdfFontError(RuntimeError):
    """No font on this system can print some characters of the report (the message says what to install)."""


@dataclass(frozen=True)
class FontFace:
    """One font file for the PDF engine: a family name, a style ("" or "B"), the file, the face in a collection."""

    family: str
    style: str
    path: Path
    index: int = 0


#: Body font candidates (regular, bold), first found wins.
_BODY = (("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"), ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"))
#: Fallback font files by script: (files tried in order, the fontconfig pattern, the Debian package).
_SCRIPTS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "hebrew": (("NotoSansHebrew-Regular.ttf", "DejaVuSans.ttf"), "sans-serif:lang=he", "fonts-noto-core"),
    "arabic": (("NotoSansArabic-Regular.ttf", "NotoNaskhArabic-Regular.ttf", "DejaVuSans.ttf"), "sans-serif:lang=ar",
               "fonts-noto-core"),
    "cjk": (("NotoSansCJK-Regular.ttc", "NotoSansCJKjp-Regular.otf", "NotoSansCJK-Regular.otf"),
            "Noto Sans CJK JP", "fonts-noto-cjk"),
    "other": (("NotoSans-Regular.ttf", "DejaVuSans.ttf"), "sans-serif", "fonts-noto-core"),
}


def font_dirs(*, bundled_only: bool = False) -> list[Path]:
    """Where fonts are looked for: ``LIGHTBOX_FONT_DIR``, the bundle's ``fonts/``, ``<prefix>/share/lightbox/fonts``,
    then (unless ``bundled_only``) the Debian font folders."""
    out = []
    env = os.environ.get("LIGHTBOX_FONT_DIR", "")
    if env:
        out += [Path(p) for p in env.split(os.pathsep) if p]
    if getattr(sys, "frozen", False):  # the PyInstaller bundle: fonts/ beside the executable
        out.append(Path(sys.executable).resolve().parent / "fonts")
    out.append(Path(sys.prefix) / "share" / "lightbox" / "fonts")
    if not bundled_only:
        out += [Path(d) for d in _DEBIAN_DIRS]
    return out


@lru_cache(maxsize=64)
def _find(name: str) -> Path | None:
    for folder in font_dirs():
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=16)
def _fc_match(pattern: str) -> Path | None:
    """fontconfig's best file for ``pattern``, when fontconfig is there and answers a TrueType/OpenType file."""
    if shutil.which("fc-match") is None:
        return None
    try:
        done = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    path = Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None
    return path if path and path.suffix.lower() in (".ttf", ".otf", ".ttc") and path.is_file() else None


def body_fonts() -> tuple[FontFace, FontFace]:
    """(regular, bold) of the body font.

    Raises
    ------
    PdfFontError
        No Unicode font at all (install fonts-noto-core or fonts-dejavu-core).
    """
    for regular, bold in _BODY:
        r, b = _find(regular), _find(bold)
        if r is not None:
            return FontFace("body", "", r), FontFace("body", "B", b or r)
    found = _fc_match("sans-serif")
    if found is not None:
        return FontFace("body", "", found), FontFace("body", "B", found)
    raise PdfFontError("no Unicode font for PDF reports was found: install fonts-noto-core (or fonts-dejavu-core), "
                       "or set LIGHTBOX_FONT_DIR to a folder of TrueType fonts")


def script_of(ch: str) -> str | None:
    """Which fallback font a character needs (None: the body font's scripts, Latin, Greek, Cyrillic)."""
    code = ord(ch)
    if code < 0x0590 or 0x1D00 <= code < 0x2E80 and not 0x2460 <= code < 0x2500:
        return None
    if 0x0590 <= code < 0x0600 or 0xFB1D <= code < 0xFB50:
        return "hebrew"
    if 0x0600 <= code < 0x0780 or 0x08A0 <= code < 0x0900 or 0xFB50 <= code < 0xFE00 or 0xFE70 <= code < 0xFF00:
        return "arabic"
    if (0x1100 <= code < 0x1200 or 0x2E80 <= code < 0xA000 or 0xAC00 <= code < 0xD7B0 or 0xF900 <= code < 0xFB00
            or 0xFF00 <= code < 0xFFF0 or 0x20000 <= code < 0x31350 or 0x3130 <= code < 0x3190
            or 0x2460 <= code < 0x2500):
        return "cjk"
    if unicodedata.category(ch).startswith(("Z", "C")):
        return None
    return "other"


def fallback_faces(text: str) -> list[FontFace]:
    """The fallback fonts ``text`` needs beyond the body font, each found on this system.

    Raises
    ------
    PdfFontError
        A script whose font is not installed (the message names the package).
    """
    scripts = sorted({s for s in map(script_of, set(text)) if s is not None})
    out = []
    for script in scripts:
        files, pattern, package = _SCRIPTS[script]
        path = next((p for p in map(_find, files) if p is not None), None) or _fc_match(pattern)
        if path is None:
            raise PdfFontError(f"no font for {script} text was found: install {package} "
                               "(or set LIGHTBOX_FONT_DIR to a folder holding one)")
        out.append(FontFace(script, "", path))
    return out
