"""The site's name display setting (Settings.extra["name_display"]) is applied when the GUI starts."""

from __future__ import annotations

from workstation import config
from workstation.dicom.person_name import DEFAULT_NAME_STYLE, format_person_name, name_style, set_name_style
from workstation.home import Home
from workstation.ui.app import _apply_name_display


def test_site_setting_applies_and_a_bad_one_is_ignored(lightbox_home):
    home = Home.single(lightbox_home).ensure()
    try:
        config.save(config.Settings(extra={"name_display": "ideographic+alphabetic"}), home.config_file)
        _apply_name_display(home)
        assert format_person_name("Yamada^Tarou=山田^太郎") == "山田 太郎 (Yamada, Tarou)"
        config.save(config.Settings(extra={"name_display": "kanji-first"}), home.config_file)
        _apply_name_display(home)  # logged and ignored
        assert name_style() == "ideographic+alphabetic"
    finally:
        set_name_style(DEFAULT_NAME_STYLE)


def test_command_line_applies_the_setting_too(lightbox_home, capsys):
    from workstation.cli.common import Context

    home = Home.single(lightbox_home).ensure()
    try:
        config.save(config.Settings(extra={"name_display": "all"}), home.config_file)
        _ = Context(home=home).settings  # reading the settings applies the site's name style
        assert format_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう") == "Yamada, Tarou = 山田 太郎 = やまだ たろう"
    finally:
        set_name_style(DEFAULT_NAME_STYLE)
