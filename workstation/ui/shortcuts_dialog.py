"""Help › Keyboard shortcuts: every key and mouse binding, read from the tables the controls use.

Nothing is written twice: the menu shortcuts come from the window's actions,
the tools' keys from :data:`~workstation.ui.viewer.toolbar.TOOL_SHORTCUTS`, the
viewport's keys and mouse bindings from :mod:`workstation.imaging.interaction`,
the stage keys from :mod:`workstation.ui.hanging_apply`.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QTextBrowser, QVBoxLayout, QWidget

from workstation.imaging.interaction import MOUSE_BINDINGS, VIEWPORT_KEYS
from workstation.ui.viewer.toolbar import TOOL_SHORTCUTS, VIEWER_KEYS


def _key_name(name: str, modifiers) -> str:
    names = {"PageDown": "Page Down", "PageUp": "Page Up"}
    return "+".join([m.capitalize() for m in sorted(modifiers)] + [names.get(name, name)])


def menu_shortcuts(window) -> list[tuple[str, str, str]]:
    """``(menu, action, key)`` for every action of the menu bar that has a shortcut."""
    rows = []

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = action.menu()  # typed QObject by the stubs: a QMenu here
            if isinstance(sub, QMenu):
                walk(sub, f"{path} › {sub.title().replace('&', '')}")
            elif isinstance(action, QAction) and not action.shortcut().isEmpty():
                rows.append((path, action.text().replace("&", ""),
                             action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)))

    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            walk(menu, top.text().replace("&", ""))
    return rows


def shortcut_sections(window) -> list[tuple[str, list[tuple[str, str]]]]:
    """The sheet's sections: a title and ``(key, what it does)`` rows."""
    from workstation.ui.hanging_apply import NEXT_STAGE_KEYS, PREVIOUS_STAGE_KEYS

    sections = [("Menus", [(key, f"{menu} › {text}") for menu, text, key in menu_shortcuts(window)])]
    sections.append(("Tools of the left button (in a viewport)",
                     [(key, tool.value) for tool, key in TOOL_SHORTCUTS.items()]))
    viewport = list(VIEWPORT_KEYS.items()) + list(VIEWER_KEYS.items())
    viewport += [(" or ".join(sorted(_key_name(n, m) for n, m in NEXT_STAGE_KEYS)),
                  "next stage of the hanging protocol"),
                 (" or ".join(sorted(_key_name(n, m) for n, m in PREVIOUS_STAGE_KEYS)), "previous stage")]
    sections.append(("In a viewport", viewport))
    sections.append(("Mouse", list(MOUSE_BINDINGS.items())))
    return sections


def sheet_html(window) -> str:
    parts = []
    for title, rows in shortcut_sections(window):
        parts.append(f"<h3>{html.escape(title)}</h3><table cellspacing='0' cellpadding='3'>")
        for key, what in rows:
            parts.append(f"<tr><td><b>{html.escape(key)}</b></td><td>{html.escape(what)}</td></tr>")
        parts.append("</table>")
    return "".join(parts)


class ShortcutsDialog(QDialog):
    """The keyboard shortcuts sheet (not modal: it can stay open beside the images)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.text = QTextBrowser()
        self.text.setHtml(sheet_html(window))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(560, 640)
