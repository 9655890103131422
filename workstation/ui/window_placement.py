"""Qt side of :mod:`workstation.placement`: read Qt's screens, move the window, remember it."""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from workstation.placement import PlacementMemory, Rect, Screen

FILE_NAME = "window_placement.json"


def _rect(r: QRect) -> Rect:
    return Rect(r.x(), r.y(), r.width(), r.height())


def current_screens() -> list[Screen]:
    """The connected monitors as :class:`~workstation.placement.Screen`."""
    primary = QGuiApplication.primaryScreen()
    return [Screen(s.name(), _rect(s.geometry()), _rect(s.availableGeometry()), s is primary)
            for s in QGuiApplication.screens()]


def restore_placement(window: QWidget, path: Path, default_size: tuple[int, int]) -> PlacementMemory:
    """Put ``window`` where it was on its last monitor; return the memory to save it with later."""
    memory = PlacementMemory(path)
    screens = current_screens()
    if screens:
        _screen, rect, placement = memory.restore(screens, default_size)
        window.setGeometry(rect.x, rect.y, rect.width, rect.height)
        clamp_to_screen(window)  # the frame too, and a minimum size larger than the remembered one
        if placement.full_screen:
            window.showFullScreen()
        elif placement.maximized:
            window.showMaximized()
    return memory


def remember_placement(window: QWidget, memory: PlacementMemory) -> None:
    """Record the window's normal geometry and state on its monitor, and save."""
    screens = current_screens()
    if not screens:
        return
    normal = window.normalGeometry() if (window.isMaximized() or window.isFullScreen()) else window.geometry()
    if normal.width() <= 0 or normal.height() <= 0:
        normal = window.geometry()
    memory.remember(_rect(normal), screens, maximized=window.isMaximized(), full_screen=window.isFullScreen())
    with contextlib.suppress(OSError):  # never keep the window from closing over a placement file
        memory.save()


def frame_margins(window: QWidget) -> tuple[int, int, int, int]:
    """The window frame's extra width on each side (left, top, right, bottom); zero before it is mapped."""
    frame, inner = window.frameGeometry(), window.geometry()
    return (inner.x() - frame.x(), inner.y() - frame.y(),
            frame.right() - inner.right(), frame.bottom() - inner.bottom())


def clamp_to_screen(window: QWidget, screen=None) -> None:
    """Shrink and move ``window`` so that its frame lies inside the available area of ``screen``.

    ``screen`` defaults to the one showing most of the window.  Used at start
    and whenever a remembered placement comes from a larger monitor.
    """
    screen = screen or window.screen()
    if screen is None:
        return
    left, top, right, bottom = frame_margins(window)
    area = _rect(screen.availableGeometry())
    inner = Rect(area.x + left, area.y + top, area.width - left - right, area.height - top - bottom)
    g = window.geometry()
    fitted = Rect(g.x(), g.y(), g.width(), g.height()).clamped_into(inner)
    if (fitted.x, fitted.y, fitted.width, fitted.height) != (g.x(), g.y(), g.width(), g.height()):
        window.setGeometry(fitted.x, fitted.y, fitted.width, fitted.height)
