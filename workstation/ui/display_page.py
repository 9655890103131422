"""Settings › Display: each monitor's calibration (GSDF from a characteristic, calibrated in the display, or
none), the ambient light and target range, the surface depth and dither.  A page of
:class:`workstation.ui.settings_dialog.SettingsDialog`; the tables come from :mod:`workstation.display`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from workstation.config import Settings
from workstation.display.settings import MODES, DisplaySettings, MonitorCalibration
from workstation.ui.display_calibration import monitor_keys
from workstation.ui.qvariant import combo_value

SURFACES = (("auto", "Automatic (10 bits where the monitor has them)"), ("8", "8 bits"), ("10", "10 bits"))


def _spin(maximum: float, suffix: str, tip: str, none_text: str = "") -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(0.0, maximum)
    spin.setDecimals(2)
    spin.setSuffix(suffix)
    spin.setToolTip(tip)
    if none_text:
        spin.setSpecialValueText(none_text)  # shown at 0: "not set"
    return spin


class DisplayPage(QWidget):
    """The Display page: read with :meth:`load`, checked with :meth:`checked`, written with :meth:`apply_to`."""

    def __init__(self, current_monitor: Callable[[], str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.current_monitor = current_monitor or (lambda: "")
        self.ask_open_file: Callable[[str, str], str | None] = self._ask_open_file
        self._settings = DisplaySettings()
        self._shown = ""
        form = QFormLayout(self)
        self.monitor = QComboBox()
        self.monitor.setObjectName("displayMonitor")
        self.monitor.setToolTip("The monitor these values are for (name and resolution)")
        self.mode = QComboBox()
        self.mode.setObjectName("displayMode")
        for key, label in MODES.items():
            self.mode.addItem(label, key)
        self.lut_file = QLineEdit()
        self.lut_file.setPlaceholderText("DCMTK monitor characteristic file (.lut)")
        self.lut_file.setToolTip("Measured luminance per DDL; without one, Lmin, Lmax and gamma below describe the "
                                 "monitor")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.lut_file, 1)
        row.addWidget(self.browse)
        self.l_min = _spin(1000.0, " cd/m²", "Luminance at the darkest level, measured (no ambient light)")
        self.l_max = _spin(5000.0, " cd/m²", "Luminance at the brightest level, measured")
        self.gamma = QDoubleSpinBox()
        self.gamma.setRange(0.1, 10.0)
        self.gamma.setValue(2.2)
        self.gamma.setToolTip("The monitor's gamma when no characteristic file is given")
        self.ambient = _spin(100.0, " cd/m²", "Ambient light reflected by the screen (from the file when not set)",
                             "from the file, else 0")
        self.target_min = _spin(1000.0, " cd/m²", "Darkest luminance wanted (ambient included)", "the monitor's")
        self.target_max = _spin(5000.0, " cd/m²", "Brightest luminance wanted (ambient included)", "the monitor's")
        self.surface = QComboBox()
        for key, label in SURFACES:
            self.surface.addItem(label, key)
        self.dither = QCheckBox("Dither on 8-bit surfaces (keeps the 256 grey levels apart)")
        self.summary = QLabel()
        self.summary.setObjectName("displaySummary")
        self.summary.setWordWrap(True)
        form.addRow("Monitor", self.monitor)
        form.addRow("Display function", self.mode)
        form.addRow("Characteristic", row)
        form.addRow("Lmin", self.l_min)
        form.addRow("Lmax", self.l_max)
        form.addRow("Gamma", self.gamma)
        form.addRow("Ambient light", self.ambient)
        form.addRow("Target Lmin", self.target_min)
        form.addRow("Target Lmax", self.target_max)
        form.addRow("Surface", self.surface)
        form.addRow("", self.dither)
        form.addRow("", self.summary)
        self.monitor.currentIndexChanged.connect(self._monitor_changed)
        for w in (self.mode, self.surface):
            w.currentIndexChanged.connect(self._preview)
        for s in (self.l_min, self.l_max, self.gamma, self.ambient, self.target_min, self.target_max):
            s.valueChanged.connect(self._preview)
        self.lut_file.editingFinished.connect(self._preview)
        self.lut_file.textChanged.connect(self._preview)

    # Settings -> widgets -----------------------------------------------------------------------
    def load(self, s: Settings) -> None:
        """Fill the page from the saved settings (a bad section shows as not set)."""
        try:
            self._settings = DisplaySettings.from_extra(s.extra)
        except ValueError as exc:
            self._settings = DisplaySettings()
            self.summary.setText(f"The saved display settings are not usable ({exc}); saving replaces them")
        keys = monitor_keys()
        keys += [k for k, _ in self._settings.monitors if k not in keys]
        current = self.current_monitor() or (keys[0] if keys else "")
        self.monitor.blockSignals(True)
        self.monitor.clear()
        for k in keys:
            self.monitor.addItem(k + ("  (this window)" if k == current else ""), k)
        self.monitor.setCurrentIndex(max(0, self.monitor.findData(current)))
        self.monitor.blockSignals(False)
        self.surface.setCurrentIndex(max(0, self.surface.findData(self._settings.surface_bits)))
        self.dither.setChecked(self._settings.dither)
        self._show(combo_value(self.monitor, str) or "")

    def _show(self, key: str) -> None:
        c = self._settings.for_monitor(key)
        self._shown = key
        self.mode.setCurrentIndex(max(0, self.mode.findData(c.mode)))
        self.lut_file.setText(c.characteristic_file)
        self.l_min.setValue(c.l_min or 0.0)
        self.l_max.setValue(c.l_max or 0.0)
        self.gamma.setValue(c.gamma or 2.2)
        self.ambient.setValue(c.ambient or 0.0)
        self.target_min.setValue(c.target_min or 0.0)
        self.target_max.setValue(c.target_max or 0.0)
        self._preview()

    def _monitor_changed(self, _index: int) -> None:
        # Keep what was typed for the monitor shown before, then show the other one's.
        with contextlib.suppress(ValueError):
            self._settings = self._settings.with_monitor(self._shown, self._calibration())
        self._show(combo_value(self.monitor, str) or "")

    # Widgets -> settings -----------------------------------------------------------------------
    def _calibration(self) -> MonitorCalibration:
        def opt(spin: QDoubleSpinBox) -> float | None:
            return spin.value() or None

        uses_range = not self.lut_file.text().strip()
        return MonitorCalibration(
            mode=combo_value(self.mode, str) or "none", characteristic_file=self.lut_file.text().strip(),
            l_min=self.l_min.value() if uses_range and self.l_max.value() else None,
            l_max=opt(self.l_max) if uses_range else None,
            gamma=self.gamma.value() if uses_range and self.l_max.value() else None,
            ambient=opt(self.ambient), target_min=opt(self.target_min), target_max=opt(self.target_max))

    def checked(self) -> DisplaySettings:
        """The page's settings, checked: a ValueError says what is wrong (nothing is saved then)."""
        calibration = self._calibration()
        if calibration.mode == "gsdf":
            calibration.table()  # raises with the reason: unreadable file, empty range
        settings = self._settings.with_monitor(combo_value(self.monitor, str) or "", calibration)
        return DisplaySettings(combo_value(self.surface, str) or "auto", self.dither.isChecked(), settings.monitors)

    def apply_to(self, s: Settings, display: DisplaySettings) -> None:
        """Write ``display`` into the settings ``s``."""
        s.extra = display.to_extra(s.extra)
        self._settings = display

    def _preview(self, *_args) -> None:
        gsdf = combo_value(self.mode, str) == "gsdf"
        by_range = gsdf and not self.lut_file.text().strip()
        for w in (self.lut_file, self.browse, self.ambient, self.target_min, self.target_max):
            w.setEnabled(gsdf)
        for w in (self.l_min, self.l_max, self.gamma):
            w.setEnabled(by_range)  # a characteristic file gives the curve itself
        try:
            calibration = self._calibration()
        except ValueError as exc:
            self.summary.setText(str(exc))
            return
        if calibration.mode != "gsdf":
            self.summary.setText("P-values drive the monitor as they are"
                                 + (": its own hardware applies the GSDF" if calibration.mode == "calibrated" else ""))
            return
        try:
            table = calibration.table()
        except ValueError as exc:
            self.summary.setText(f"GSDF cannot be computed: {exc}")
            return
        j0, j1 = table.jnd_range
        distinct = len(set(table.ddl.tolist()))
        self.summary.setText(
            f"GSDF from {table.l_min:.2f} to {table.l_max:.1f} cd/m² (ambient {table.ambient:g}), "
            f"{j1 - j0:.0f} JNDs; at 8 bits the 256 P-values get {distinct} distinct levels")

    def _browse(self) -> None:
        path = self.ask_open_file("Monitor characteristic file", "Characteristic files (*.lut *.txt);;All files (*)")
        if path:
            self.lut_file.setText(path)
            self._preview()

    def _ask_open_file(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        return path or None
