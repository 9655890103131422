"""Help > About: version, the libraries the build carries, where this user's data lives."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QMessageBox, QWidget

from workstation import __version__
from workstation.config_layers import system_config_file

ICON = Path(__file__).resolve().parents[2] / "resources" / "icons" / "lightbox-128.png"
#: Distributions named in the About box, as (label, distribution name).
COMPONENTS = (("pydicom", "pydicom"), ("pynetdicom", "pynetdicom"), ("PySide6", "PySide6-Essentials"),
              ("VTK", "vtk"), ("SimpleITK", "SimpleITK"), ("GDCM", "python-gdcm"), ("highdicom", "highdicom"))


def component_versions() -> list[tuple[str, str]]:
    """``(label, version)`` of each component; "not found" when its metadata is missing."""
    out = []
    for label, dist in COMPONENTS:
        try:
            out.append((label, metadata.version(dist)))
        except metadata.PackageNotFoundError:
            out.append((label, "not found"))
    return out


def about_text(home_dir: str = "", display: str = "") -> str:
    """The About box's text (rich text); ``display`` says how grey levels reach the monitor."""
    rows = "".join(f"<tr><td>{label}</td><td>{version}</td></tr>" for label, version in component_versions())
    where = f"<p>Settings, cache and logs: {home_dir}</p>" if home_dir else ""
    frozen = " (installed build)" if getattr(sys, "frozen", False) else ""
    return (f"<h3>Lightbox {__version__}{frozen}</h3>"
            "<p>Diagnostic reading workstation for DICOM studies. Open source, Apache License 2.0.</p>"
            f"<p>Python {platform.python_version()} on {platform.system()} {platform.machine()}</p>"
            f"<table>{rows}</table>{where}"
            + (f"<p>Display: {display}</p>" if display else "") +
            f"<p>Site-wide settings: {system_config_file()}</p>"
            "<p>Not a substitute for the site's approved diagnostic display validation.</p>")


def show_about(parent: QWidget | None = None, home_dir: str = "") -> QMessageBox:
    """Open the About box (non-modal) and return it."""
    box = QMessageBox(parent)
    box.setWindowTitle("About Lightbox")
    calibration = getattr(parent, "display_calibration", None)  # ui.display_calibration, when attached
    box.setText(about_text(home_dir, calibration.description if calibration is not None else ""))
    if ICON.is_file():
        box.setIconPixmap(QPixmap(str(ICON)))
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    box.open()
    return box
