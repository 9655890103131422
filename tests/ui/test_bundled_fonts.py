"""Fonts the bundle carries are registered with Qt at start (a machine without Noto still shows every name)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NOTO = Path("/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf")


@pytest.mark.skipif(not NOTO.exists(), reason="fonts-noto-core is not installed")
def test_fonts_of_the_font_dir_are_registered(qapp, tmp_path, monkeypatch):
    from PySide6.QtGui import QFontDatabase

    from workstation.ui.bundled_fonts import register_bundled_fonts

    shutil.copy(NOTO, tmp_path / NOTO.name)
    (tmp_path / "README.txt").write_text("not a font")
    monkeypatch.setenv("LIGHTBOX_FONT_DIR", str(tmp_path))
    assert register_bundled_fonts() == 1
    assert "Noto Sans Hebrew" in QFontDatabase.families()
