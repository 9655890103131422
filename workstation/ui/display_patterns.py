"""View › Display test patterns: the TG18 patterns full screen on a chosen monitor, and the TG18-LN
conformance check (18 luminances typed in or read from a CSV, kept in the station's QA log).

The patterns are shown one image pixel to one screen pixel (TG18 asks for it),
through the display pipeline and the chosen monitor's output stage (its GSDF or
identity table, 8 or 10 bits), exactly as images are.  Keys: → / Space / Page
Down next pattern, ← / Page Up previous, H hides the caption, Esc closes.
The patterns and the check are made by the Qt-free :mod:`workstation.display`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QColor, QFont, QGuiApplication, QImage, QKeyEvent, QPainter, QScreen
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workstation.config import SettingsSource
from workstation.display.conformance import (
    QA_LOG_NAME,
    Conformance,
    append_qa_log,
    check_conformance,
    read_luminances,
)
from workstation.display.output import ScreenOutput
from workstation.display.pattern_files import pattern_p_values
from workstation.display.tg18 import Pattern, all_patterns
from workstation.ui.qvariant import combo_value
from workstation.home import Home
from workstation.ui.display_calibration import monitor_key, output_for

log = logging.getLogger(__name__)


class PatternWindow(QWidget):
    """A frameless full-screen window on one monitor showing TG18 patterns 1:1."""

    def __init__(self, screen: QScreen, output: ScreenOutput, monitor: str, size: int = 1024,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.FramelessWindowHint)
        self.setObjectName("displayPatterns")
        self.setWindowTitle("Display test patterns")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.output, self.monitor = output, monitor
        self.patterns: list[Pattern] = all_patterns(size)
        self.index = 0
        self.caption = True
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None
        self.setScreen(screen)
        self.setGeometry(screen.geometry())
        self._render()

    @property
    def pattern(self) -> Pattern:
        return self.patterns[self.index]

    def show_pattern(self, index: int) -> None:
        """Show pattern ``index`` (wraps around)."""
        self.index = index % len(self.patterns)
        self._render()
        self.update()

    def _render(self) -> None:
        pixels = self.output.grey(pattern_p_values(self.pattern))
        self._pixels = np.ascontiguousarray(pixels)
        h, w = self._pixels.shape
        fmt = QImage.Format.Format_RGB30 if self.output.bits == 10 else QImage.Format.Format_RGB32
        self._image = QImage(self._pixels.data, w, h, 4 * w, fmt)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0))
        image = self._image
        if image is None:  # made by _render, from __init__ on
            p.end()
            return
        # One pattern pixel per device pixel: undo the screen's scale factor, centre, never resample.
        ratio = self.devicePixelRatioF()
        image.setDevicePixelRatio(ratio)
        w, h = image.width() / ratio, image.height() / ratio
        left, top = (self.width() - w) / 2, (self.height() - h) / 2
        p.drawImage(QPointF(left, top), image)
        box = self.caption_rect()
        if self.caption and box is not None:
            p.setFont(QFont(p.font().family(), 9))
            p.setPen(QColor(140, 140, 140))
            text = (f"{self.pattern.name} ({self.index + 1}/{len(self.patterns)}) · {self.monitor} · "
                    f"{self.output.description} · ←/→ pattern, H caption, Esc close")
            p.drawText(box, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap),
                       text)
        p.end()

    def caption_rect(self) -> QRectF | None:
        """Where the caption goes: in the black margin below or beside the pattern, never over it (None: no room)."""
        if self._image is None:
            return None
        ratio = self.devicePixelRatioF()
        w, h = self._image.width() / ratio, self._image.height() / ratio
        below = (self.height() - h) / 2
        if below >= 22:
            return QRectF(8, self.height() - below + 2, self.width() - 16, below - 4)
        beside = (self.width() - w) / 2
        if beside >= 110:
            return QRectF(6, 0, beside - 12, self.height() - 6)
        return None

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key = event.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_Space, Qt.Key.Key_PageDown):
            self.show_pattern(self.index + 1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp):
            self.show_pattern(self.index - 1)
        elif key == Qt.Key.Key_H:
            self.caption = not self.caption
            self.update()
        elif key == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)


class ConformanceDialog(QDialog):
    """The 18 TG18-LN luminances in, the GSDF conformance out; each check is added to the QA log."""

    def __init__(self, log_path: Path, monitor: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conformanceDialog")
        self.setWindowTitle("Display conformance check (TG18-LN)")
        self.log_path = log_path
        self.ask_open_file: Callable[[str, str], str | None] = self._ask_open_file
        # Not "result": that would hide QDialog.result() (the dialog's accepted/rejected code).
        self.conformance: Conformance | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Luminance of each TG18-LN pattern (cd/m²), measured at the centre square:"))
        grid = QGridLayout()
        self.inputs: list[QDoubleSpinBox] = []
        for i in range(18):
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 5000.0)
            spin.setDecimals(3)
            spin.setObjectName(f"ln{i + 1:02d}")
            self.inputs.append(spin)
            grid.addWidget(QLabel(f"LN-{i + 1:02d}"), i % 9, 2 * (i // 9))
            grid.addWidget(spin, i % 9, 2 * (i // 9) + 1)
        layout.addLayout(grid)
        form = QFormLayout()
        self.ambient = QDoubleSpinBox()
        self.ambient.setRange(0.0, 100.0)
        self.ambient.setDecimals(3)
        self.ambient.setToolTip("Added to every reading when the meter excluded the ambient light")
        self.display_class = QComboBox()
        self.display_class.addItem("Primary (diagnostic): ±10 %", "primary")
        self.display_class.addItem("Secondary: ±20 %", "secondary")
        self.monitor = QLineEdit(monitor)
        self.note = QLineEdit()
        self.note.setPlaceholderText("Meter, who measured")
        form.addRow("Ambient light", self.ambient)
        form.addRow("Display class", self.display_class)
        form.addRow("Monitor", self.monitor)
        form.addRow("Note", self.note)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.csv_button = QPushButton("Load CSV…")
        self.csv_button.clicked.connect(self.load_csv)
        self.check_button = QPushButton("Check and log")
        self.check_button.setDefault(True)
        self.check_button.clicked.connect(self.check)
        row.addWidget(self.csv_button)
        row.addStretch(1)
        row.addWidget(self.check_button)
        layout.addLayout(row)
        self.verdict = QLabel()
        self.verdict.setObjectName("conformanceVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.verdict)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def values(self) -> list[float]:
        return [s.value() for s in self.inputs]

    def set_values(self, values: list[float]) -> None:
        for spin, v in zip(self.inputs, values, strict=False):
            spin.setValue(v)

    def load_csv(self) -> None:
        path = self.ask_open_file("TG18-LN luminances", "CSV files (*.csv *.txt);;All files (*)")
        if not path:
            return
        try:
            values = read_luminances(Path(path).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            self.verdict.setText(f"Cannot use {Path(path).name}: {getattr(exc, 'strerror', None) or exc}")
            return
        if len(values) != 18:
            self.verdict.setText(f"{Path(path).name} holds {len(values)} luminances; 18 are needed")
            return
        self.set_values(values)
        self.verdict.setText(f"Read 18 luminances from {Path(path).name}: press Check and log")

    def check(self) -> None:
        try:
            result = check_conformance(self.values(), ambient=self.ambient.value(),
                                       display_class=combo_value(self.display_class, str) or "primary")
        except ValueError as exc:
            self.verdict.setText(f"Not checked: {exc}")
            return
        try:
            append_qa_log(self.log_path, result, monitor=self.monitor.text().strip(), note=self.note.text().strip())
            kept = " Kept in the QA log."
        except OSError as exc:
            kept = f" The QA log cannot be written ({exc.strerror or exc})."
        self.conformance = result
        steps = " ".join(f"{d:+.0%}" for d in result.deviations)
        self.verdict.setText(f"{result.summary()}.{kept}\nDeviation per step: {steps}")
        colour = "#3fb950" if result.passed else "#ff7b72"
        self.verdict.setStyleSheet(f"color: {colour};")

    def _ask_open_file(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        return path or None


def pattern_size_for(screen: QScreen) -> int:
    """2048 (the 2k patterns) on a monitor of at least 2048 device pixels both ways, else 1024."""
    g = screen.geometry()
    ratio = screen.devicePixelRatio()
    return 2048 if min(g.width(), g.height()) * ratio >= 2048 else 1024


def _ask_monitor(parent: QWidget, keys: list[str], current: int) -> int | None:
    item, ok = QInputDialog.getItem(parent, "Display test patterns", "Show the patterns on:", keys, current, False)
    return keys.index(item) if ok else None


def attach_display_patterns(window, home: Home, source: SettingsSource) -> tuple[QAction, QAction]:
    """View › Display test patterns… and View › Display conformance check… on ``window``."""
    window.ask_pattern_monitor = _ask_monitor

    def show_patterns() -> PatternWindow | None:
        screens = QGuiApplication.screens()
        here = window.screen()
        current = screens.index(here) if here in screens else 0
        if len(screens) > 1:
            chosen = window.ask_pattern_monitor(window, [monitor_key(s) for s in screens], current)
            if chosen is None:
                return None
            current = chosen
        screen = screens[current]
        output, key, problem = output_for(screen, source, window)
        if problem:
            window.statusBar().showMessage(problem, 15_000)
        patterns = PatternWindow(screen, output, key, pattern_size_for(screen))
        patterns.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        window.pattern_window = patterns
        patterns.showFullScreen()
        patterns.activateWindow()
        patterns.setFocus()
        return patterns

    def show_check() -> ConformanceDialog:
        dialog = ConformanceDialog(home.data_dir / QA_LOG_NAME, monitor_key(window.screen()), window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        window.conformance_dialog = dialog
        dialog.show()
        return dialog

    patterns_action = QAction("Display &test patterns…", window)
    patterns_action.setToolTip("AAPM TG18 patterns full screen on a monitor, through its calibration")
    patterns_action.triggered.connect(lambda _=False: show_patterns())
    check_action = QAction("Display &conformance check (TG18-LN)…", window)
    check_action.triggered.connect(lambda _=False: show_check())
    menu = next((a.menu() for a in window.menuBar().actions() if a.menu() and a.text().replace("&", "") == "View"),
                None)
    if menu is not None:
        menu.addSeparator()
        menu.addAction(patterns_action)
        menu.addAction(check_action)
    window.display_patterns_action, window.display_check_action = patterns_action, check_action
    return patterns_action, check_action
