"""The viewer's calibrated display: which monitor the window is on, and that monitor's display function.

The Qt-free :mod:`workstation.display` computes the table; this module only
finds the monitor (keyed as the window placement memory keys it: name and
resolution), asks the settings for its calibration, hands the resulting
:class:`~workstation.display.output.ScreenOutput` to the viewer's frame
display, and follows the window when it moves to another monitor
(``QWindow.screenChanged``) or when the settings change.  The status bar
says what is in use ("Display: GSDF, 10-bit").

A 10-bit surface is used when the monitor reports 30 bits of colour depth
(or the window's surface has 10 bits per channel), or when the settings ask
for it (``surface_bits = 10``); else 8 bits, dithered when set.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QLabel, QWidget

from workstation.config import SettingsSource
from workstation.display.output import ScreenOutput
from workstation.display.settings import DisplaySettings, screen_output
from workstation.placement import Rect, Screen

log = logging.getLogger(__name__)


def monitor_key(screen: QScreen | None) -> str:
    """The monitor's key in the settings: its name and resolution (as the placement memory has it)."""
    if screen is None:
        return ""
    g = screen.geometry()
    rect = Rect(g.x(), g.y(), g.width(), g.height())
    return Screen(screen.name() or "screen", rect, rect).key


def monitor_keys() -> list[str]:
    """The keys of the connected monitors, the primary one first."""
    primary = QGuiApplication.primaryScreen()
    screens = sorted(QGuiApplication.screens(), key=lambda s: s is not primary)
    return [monitor_key(s) for s in screens]


def available_bits(window: QWidget, screen: QScreen | None = None) -> int:
    """10 when the window's surface or ``screen`` (default: the window's) has 10 bits per channel, else 8."""
    handle = window.windowHandle()
    if handle is not None and handle.format().redBufferSize() >= 10:
        return 10
    screen = screen or window.screen()
    return 10 if screen is not None and screen.depth() == 30 else 8


def output_for(screen: QScreen | None, source: SettingsSource, window: QWidget) -> tuple[ScreenOutput, str, str]:
    """The output stage for ``screen`` from the settings: ``(output, monitor key, problem or "")``."""
    key = monitor_key(screen)
    problem = ""
    try:
        settings = DisplaySettings.from_extra(source.current().extra)
    except ValueError as exc:
        settings, problem = DisplaySettings(), f"Display settings not used: {exc}"
    output, trouble = screen_output(settings.for_monitor(key), settings.wanted_bits(available_bits(window, screen)),
                                    settings.dither)
    return output, key, problem or trouble


class DisplayCalibration(QObject):
    """Keeps the viewer's output stage right for the monitor the window is on.

    Signals
    -------
    changed(str)
        What is in use now (e.g. "GSDF, 10-bit"), after a move or a settings change.
    """

    changed = Signal(str)

    def __init__(self, window: QWidget, source: SettingsSource, viewers=None) -> None:
        super().__init__(window)
        self.window = window
        self.source = source
        self._viewers = viewers or (lambda: [v for v in (getattr(window, "viewer", None),) if v is not None])
        self.output: ScreenOutput = ScreenOutput.identity(8)
        self.monitor = ""
        self.problem = ""
        self.label = QLabel()
        self.label.setObjectName("displayStatus")
        window.winId()  # the native window exists from now on: its screenChanged can be followed
        handle = window.windowHandle()
        if handle is not None:
            handle.screenChanged.connect(lambda _screen: self.update())
        self._unsubscribe = source.subscribe(self.update)
        window.destroyed.connect(lambda *_: self._unsubscribe())  # a closed second window stops listening
        self.update()

    @property
    def description(self) -> str:
        """What the viewer shows through, with the monitor (for About)."""
        return f"{self.output.description} on {self.monitor}" if self.monitor else self.output.description

    def update(self) -> None:
        """Recompute the output stage for the window's monitor and the current settings; repaint."""
        output, self.monitor, self.problem = output_for(self.window.screen(), self.source, self.window)
        self.output = output
        for viewer in self._viewers():
            viewer.session.display.set_output(output)
            for w in viewer.viewports:
                w.update()
        self.label.setText(f"Display: {output.description}")
        self.label.setToolTip(f"Monitor {self.monitor}" + (f"\n{self.problem}" if self.problem else ""))
        if self.problem:
            log.warning("%s", self.problem)
            bar = getattr(self.window, "statusBar", None)
            if bar is not None:
                bar().showMessage(self.problem, 15_000)
        self.changed.emit(output.description)


def calibrate_window(window, viewer, main_window) -> DisplayCalibration | None:
    """Give another reading window (the second monitor's) its own monitor's output, from ``main_window``'s settings."""
    main = getattr(main_window, "display_calibration", None)
    if main is None:
        return None
    window.display_calibration = DisplayCalibration(window, main.source, lambda: [viewer])
    return window.display_calibration


def attach_display_calibration(window, source: SettingsSource) -> DisplayCalibration:
    """Follow ``window``'s monitor for its viewer and show the display function in the status bar."""
    calibration = DisplayCalibration(window, source)
    window.statusBar().addPermanentWidget(calibration.label)
    window.display_calibration = calibration
    return calibration
