"""Packaging files are consistent (no bundle is built here: packaging/build-linux does that by hand)."""

from __future__ import annotations

import configparser
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"


def _entry():
    spec = importlib.util.spec_from_file_location("lightbox_entry", PACKAGING / "lightbox_entry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frozen_entry_understands_the_python_module_form():
    parse = _entry()._python_style_module
    assert parse(["-W", "ignore::DeprecationWarning", "-m", "workstation.net.archive", "cfg.ini"]) == (
        "workstation.net.archive", ["cfg.ini"])
    assert parse(["import", "-m", "x"]) is None
    assert parse(["-m", "os"]) is None  # only our own modules


def test_entry_calls_freeze_support_first():
    text = (PACKAGING / "lightbox_entry.py").read_text(encoding="utf-8")
    main = text[text.index("def main()"):]
    assert main.index("multiprocessing.freeze_support()") < main.index("bundle_check()")


def test_spec_has_no_platform_specific_paths():
    spec = (PACKAGING / "lightbox.spec").read_text(encoding="utf-8")
    code = "\n".join(line.split("#")[0] for line in spec.splitlines())
    assert not re.search(r"['\"](/usr|/opt|/tmp|/home|/lib|[A-Za-z]:\\\\)", code)
    assert ".so" not in code and "site-packages" not in code
    for needed in ("pynetdicom.apps.qrscp", "resources", "SimpleITK", "_gdcm", "pylibjpeg", "jpeg_ls", "EXE"):
        assert needed in code


def test_desktop_entry_and_icons():
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str
    desktop.read(PACKAGING / "linux" / "lightbox.desktop", encoding="utf-8")
    entry = desktop["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Exec"].startswith("lightbox") and entry["Icon"] == "lightbox"
    icons = ROOT / "resources" / "icons"
    for name in ("lightbox.svg", "lightbox.ico", "lightbox-256.png", "lightbox-48.png"):
        assert (icons / name).stat().st_size > 0
    assert (icons / "lightbox-256.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_windows_installer_script():
    iss = (PACKAGING / "windows" / "lightbox.iss").read_text(encoding="utf-8")
    assert "PrivilegesRequired=admin" in iss and "{autopf}" in iss and "[Icons]" in iss
    assert "REMOVEUSERDATA" in iss and "firewall-note.txt" in iss and "{commonappdata}\\Lightbox" in iss
    assert "11112" in (PACKAGING / "windows" / "firewall-note.txt").read_text(encoding="utf-8")


def test_fonts_for_every_script_are_installed_and_bundled():
    """Set-up installs the Noto fonts (names in every script); the Linux bundle carries them in fonts/."""
    root = Path(__file__).resolve().parents[1]
    setup = (root / "packaging" / "setup-debian.sh").read_text(encoding="utf-8")
    packages = setup.split("APT_PACKAGES=(", 1)[1].split("\n)\n", 1)[0]
    assert {"fonts-noto-core", "fonts-noto-cjk", "fonts-dejavu-core"} <= set(packages.split())
    build = (root / "packaging" / "build-linux").read_text(encoding="utf-8")
    assert 'mkdir -p "$APP/fonts"' in build and "NotoSansCJK-Regular.ttc" in build
