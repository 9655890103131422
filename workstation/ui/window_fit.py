"""The reading window on real screens: docks that scroll instead of widening it, a minimum size that fits
1024 x 720, text fields that take focus only when clicked, the window kept inside its screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QDockWidget, QFrame, QScrollArea, QWidget

if TYPE_CHECKING:  # the window imports this module
    from workstation.ui.main_window import MainWindow

# The window must fit the smallest screens a reading room has (1024 x 768 with a task bar).
MINIMUM_SIZE = (1024, 720)
# A dock never forces the window wider than this; wider content scrolls inside it.
DOCK_MINIMUM_WIDTH = 280


def fit_dock(dock: QDockWidget, minimum_width: int = DOCK_MINIMUM_WIDTH) -> QDockWidget:
    """Let ``dock`` be narrower than its content: the content scrolls instead of widening the window.

    The dock stays movable, floatable, closable and can be tabbed with the others;
    its content (``dock.widget()`` before the call) is kept as ``dock.content``.
    """
    content = dock.widget()
    if content is None or isinstance(content, QScrollArea):
        return dock
    area = QScrollArea()
    area.setObjectName(f"{dock.objectName() or 'dock'}Scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    content.setMinimumWidth(0)
    area.setWidget(content)
    dock.setWidget(area)
    dock.setMinimumWidth(minimum_width)
    dock.content = content  # type: ignore[attr-defined]  # documented above: callers find the content there
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    return dock


def click_focus_text_fields(root: QWidget) -> None:
    """Text fields under ``root`` take the keyboard only when clicked, never by Tab or a hidden widget.

    When a focused viewport is hidden for a moment (a stage or layout change), Qt
    passes the focus along the Tab chain: without this, into the report's text.
    """
    from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QPlainTextEdit, QTextEdit

    for kind in (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox):
        for field in root.findChildren(kind):
            field.setFocusPolicy(Qt.FocusPolicy.ClickFocus)


def fit_to_screen(window: MainWindow) -> None:
    """Keep ``window`` inside the available area of the screen it is on (after everything is attached).

    The minimum size is at most :data:`MINIMUM_SIZE`; a window larger than its
    screen's available area is shrunk and moved onto it.
    """
    window.keep_on_screen = True
    window.setMinimumSize(min(window.minimumSizeHint().width(), MINIMUM_SIZE[0]),
                          min(window.minimumSizeHint().height(), MINIMUM_SIZE[1]))
    screen: QScreen | None = window.screen()  # None before the window has a screen (the stubs say never)
    if screen is None:
        return
    from workstation.ui.window_placement import clamp_to_screen

    clamp_to_screen(window, screen)
