"""Qt finds a font for every script a patient's name is written in (the set-up installs the Noto fonts)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics

NAMES = {  # pydicom's charset files, one per script
    "Japanese": "山田^太郎=やまだ^たろう", "Korean": "김희중", "Chinese": "王^小東", "Greek": "Διονυσιος",
    "Hebrew": "שרון^דבורה", "Russian": "Люкceмбypг", "Arabic": "قباني^لنزار",
}


@pytest.mark.parametrize("system", [QFontDatabase.WritingSystem.Japanese, QFontDatabase.WritingSystem.Korean,
                                    QFontDatabase.WritingSystem.SimplifiedChinese,
                                    QFontDatabase.WritingSystem.TraditionalChinese,
                                    QFontDatabase.WritingSystem.Greek, QFontDatabase.WritingSystem.Hebrew,
                                    QFontDatabase.WritingSystem.Cyrillic, QFontDatabase.WritingSystem.Arabic],
                         ids=lambda s: s.name)
def test_a_font_covers_the_script(qapp, system):
    assert QFontDatabase.families(system), f"no font for {system.name}: run packaging/setup-debian.sh"


@pytest.mark.parametrize("script", sorted(NAMES))
def test_every_character_of_the_names_has_a_glyph_somewhere(qapp, script):
    families = QFontDatabase.families()
    for ch in set(NAMES[script]) - set("^= "):
        assert any(QFontMetrics(QFont(f)).inFontUcs4(ord(ch)) for f in families), (script, hex(ord(ch)))
