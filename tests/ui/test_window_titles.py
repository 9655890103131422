"""Window titles name the application once: Qt appends the display name (" — Lightbox") itself."""

from __future__ import annotations

import ast
from pathlib import Path

import workstation.ui

UI = Path(workstation.ui.__file__).parent


def _literal_titles() -> list[tuple[str, int, str]]:
    """(file, line, text) of every constant or f-string title given to setWindowTitle, and of *_TITLE constants."""
    found = []
    for path in sorted(UI.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "setWindowTitle" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((path.name, node.lineno, arg.value))
                elif isinstance(arg, ast.JoinedStr):
                    found.append((path.name, node.lineno, ast.unparse(arg)))
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if any(n.endswith("_TITLE") for n in names) and isinstance(node.value.value, str):
                    found.append((path.name, node.lineno, node.value.value))
    return found


def test_no_title_repeats_the_application_name_qt_adds():
    titles = _literal_titles()
    assert len(titles) > 10  # the scan sees the window titles
    doubled = [t for t in titles if "Lightbox —" in t[2] or "WINDOW_TITLE} —" in t[2]]
    assert doubled == [], f"Qt appends ' — Lightbox' to these already: {doubled}"
