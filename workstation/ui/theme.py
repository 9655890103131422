"""The dark reading-room theme: Fusion style with a low-glare grey palette.

Reading rooms are dim; a bright interface around the images lowers the contrast
a radiologist perceives in them.  Text is light grey rather than white (less
glare) yet keeps a contrast ratio well above WCAG AA against its background.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# Colour of each palette role, for the active and inactive states.
COLORS: dict[str, str] = {
    "Window": "#262626",
    "WindowText": "#d6d6d6",
    "Base": "#1b1b1b",
    "AlternateBase": "#222222",
    "ToolTipBase": "#333333",
    "ToolTipText": "#e0e0e0",
    "PlaceholderText": "#8a8a8a",
    "Text": "#d6d6d6",
    "Button": "#303030",
    "ButtonText": "#d6d6d6",
    "BrightText": "#ff6b6b",
    "Light": "#3c3c3c",
    "Midlight": "#343434",
    "Mid": "#2a2a2a",
    "Dark": "#151515",
    "Shadow": "#0a0a0a",
    "Highlight": "#2a5080",
    "HighlightedText": "#f2f2f2",
    "Link": "#7fb0e0",
    "LinkVisited": "#a99ad6",
}

# Roles greyed out when a widget is disabled.
DISABLED_COLORS: dict[str, str] = {
    "WindowText": "#6c6c6c",
    "Text": "#6c6c6c",
    "ButtonText": "#6c6c6c",
    "Highlight": "#3a3a3a",
    "HighlightedText": "#8a8a8a",
}

# Text of a study that needs the reader's attention (mixed patients): a soft red
# that stays readable on the dark base.
WARNING_TEXT = "#ff7b72"

# Background of the (for now empty) viewport area: darker than the chrome, as images will be.
VIEWPORT_BACKGROUND = "#0e0e0e"

_STYLESHEET = f"""
QToolTip {{ color: {COLORS['ToolTipText']}; background-color: {COLORS['ToolTipBase']};
            border: 1px solid #4a4a4a; padding: 3px; }}
QHeaderView::section {{ background-color: #2e2e2e; color: {COLORS['WindowText']};
                        padding: 3px 6px; border: 0; border-right: 1px solid #1f1f1f;
                        border-bottom: 1px solid #1f1f1f; }}
QTableView {{ gridline-color: #2c2c2c; }}
"""


def _luminance(hex_color: str) -> float:
    c = QColor(hex_color)
    def channel(v: int) -> float:
        s = v / 255.0
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(c.red()) + 0.7152 * channel(c.green()) + 0.0722 * channel(c.blue())


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21).

    Parameters
    ----------
    foreground, background : str
        Colours as ``#rrggbb``.
    """
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def dark_palette() -> QPalette:
    """The reading-room palette."""
    pal = QPalette()
    for name, value in COLORS.items():
        role = getattr(QPalette.ColorRole, name)
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            pal.setColor(group, role, QColor(value))
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_COLORS.get(name, value)))
    return pal


def apply_theme(app: QApplication) -> None:
    """Give ``app`` the Fusion style, the dark palette and the few style rules it needs."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(_STYLESHEET)
