"""Starting and quitting the GUI; the theme."""

from __future__ import annotations

import logging

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QApplication

from workstation.ui import theme
from workstation.ui.app import initial_geometry, run_gui
from workstation.ui.main_window import MainWindow


def _close_main_window_soon(seen: list) -> None:
    def close() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, MainWindow) and w.isVisible() and w.browser.proxy.rowCount():
                seen.append((w.windowTitle(), w.session_label.text(), w.browser.count_label.text()))
                w.close()
                return
        QTimer.singleShot(50, close)  # not shown or not loaded yet

    QTimer.singleShot(200, close)


def test_run_gui_opens_and_quits(qapp, home, filled_cache, caplog):
    caplog.set_level(logging.DEBUG)
    seen, quits = [], []
    # A watchdog so a failure to close cannot hang the run.
    QTimer.singleShot(20_000, qapp.quit)
    _close_main_window_soon(seen)
    code = run_gui(home, status_message="Demo archive DEMO running on 127.0.0.1:11114", on_quit=lambda: quits.append(1))
    assert code == 0
    assert quits == [1]
    assert seen == [("Lightbox", "Demo archive DEMO running on 127.0.0.1:11114", "4 studies")]
    assert qapp.palette().color(qapp.palette().ColorRole.Window).name() == theme.COLORS["Window"]
    # Patient safety: names and IDs of the cached studies never reach the log.
    for text in ("CompressedSamples", "1CT1", "4MR1"):
        assert text not in caplog.text


def test_initial_geometry_fits_the_screen():
    assert initial_geometry(QRect(0, 0, 1920, 1080)).size().toTuple() == (1600, 1000)
    small = initial_geometry(QRect(0, 30, 1366, 738))
    assert small.width() <= 1366 and small.height() <= 738 and small.top() >= 30


def test_theme_is_dark_and_readable(qapp):
    pal = theme.dark_palette()
    assert pal.color(pal.ColorRole.Window).lightness() < 60
    assert pal.color(pal.ColorRole.Base).lightness() < 60
    for fg, bg in (("Text", "Base"), ("Text", "AlternateBase"), ("WindowText", "Window"),
                   ("ButtonText", "Button"), ("HighlightedText", "Highlight"), ("ToolTipText", "ToolTipBase")):
        assert theme.contrast_ratio(theme.COLORS[fg], theme.COLORS[bg]) >= 7, (fg, bg)
    assert theme.contrast_ratio(theme.WARNING_TEXT, theme.COLORS["Base"]) >= 4.5
    # Low glare: body text is not pure white.
    assert theme.COLORS["Text"].lower() != "#ffffff"
