"""Person names in every script, ordered by their PN components, groups shown as the site chooses."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_charset_files

from workstation.dicom.person_name import NAME_STYLES, format_person_name, name_style, set_name_style


@pytest.mark.parametrize("value,expected", [
    ("Yamada^Tarou=山田^太郎=やまだ^たろう", "Yamada, Tarou (山田 太郎)"),
    ("ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう", "ﾔﾏﾀﾞ, ﾀﾛｳ (山田 太郎)"),
    ("Hong^Gildong=洪^吉洞=홍^길동", "Hong, Gildong (洪 吉洞)"),
    ("Wang^XiaoDong=王^小東", "Wang, XiaoDong (王 小東)"),
    ("=山田^太郎", "山田 太郎"),
    ("==やまだ^たろう", "やまだ たろう"),
    ("やまだ^たろう", "やまだ, たろう"),
    ("김희중", "김희중"),
    ("Διονυσιος", "Διονυσιος"),
    ("שרון^דבורה", "שרון, דבורה"),
    ("قباني^لنزار", "قباني, لنزار"),
    ("Люкceмбypг", "Люкceмбypг"),
    ("Buc^Jérôme", "Buc, Jérôme"),
    ("Doe^John^^Dr^Jr", "Doe, Dr John, Jr"),
    ("", ""),
])
def test_default_display(value, expected):
    assert format_person_name(value) == expected


@pytest.mark.parametrize("style,expected", [
    ("alphabetic", "Yamada, Tarou"),
    ("alphabetic+ideographic", "Yamada, Tarou (山田 太郎)"),
    ("ideographic+alphabetic", "山田 太郎 (Yamada, Tarou)"),
    ("all", "Yamada, Tarou = 山田 太郎 = やまだ たろう"),
])
def test_site_styles(style, expected):
    assert format_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう", style=style) == expected


def test_the_site_setting_applies_everywhere_and_is_checked():
    before = name_style()
    try:
        set_name_style("ideographic+alphabetic")
        assert format_person_name("Hong^Gildong=洪^吉洞") == "洪 吉洞 (Hong, Gildong)"
        with pytest.raises(ValueError, match="unknown name display"):
            set_name_style("kanji")
    finally:
        set_name_style(before)
    assert set(NAME_STYLES) >= {before}


def test_every_charset_file_name_shows_something():
    for path in get_charset_files("chr*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if "PatientName" in ds:
            shown = format_person_name(str(ds.PatientName), upper_family=True)
            assert shown and "?" not in shown and "^" not in shown and "=" not in shown
