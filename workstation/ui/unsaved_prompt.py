"""The question before studies close or the application quits with work pending (Save / Discard / Cancel).

What is pending and what each answer does is decided in
:mod:`workstation.session.unsaved`; this module only asks.  ``LIGHTBOX_ASK_UNSAVED=0``
answers without asking, as Save would (the test suite sets it, so a window
closed at the end of a test never waits for a click; the tests of this
prompt set it back).
"""

from __future__ import annotations

import os

from PySide6.QtWidgets import QMessageBox, QWidget

from workstation.session.unsaved import CANCEL, CLOSE, DISCARD, SAVE, ClosingCheck

_BUTTONS = {
    SAVE: QMessageBox.StandardButton.Save,
    DISCARD: QMessageBox.StandardButton.Discard,
    CLOSE: QMessageBox.StandardButton.Close,
    CANCEL: QMessageBox.StandardButton.Cancel,
}


def asking_enabled() -> bool:
    return os.environ.get("LIGHTBOX_ASK_UNSAVED", "1") != "0"


def make_box(parent: QWidget | None, check: ClosingCheck) -> QMessageBox:
    """The message box for ``check`` (not shown)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(check.title)
    box.setText("Some work is not saved or not sent yet:" if check.choices[0] == SAVE
                else "Before you go:")
    box.setInformativeText(check.message)
    buttons = QMessageBox.StandardButton.NoButton
    for choice in check.choices:
        buttons |= _BUTTONS[choice]
    box.setStandardButtons(buttons)
    box.setDefaultButton(_BUTTONS[check.choices[0]])
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    box.setObjectName("unsavedWorkPrompt")
    return box


def ask(parent: QWidget | None, check: ClosingCheck) -> str:
    """Show the question and return the answer (one of ``check.choices``)."""
    if not asking_enabled():
        return check.choices[0]  # Save, or Close: nothing is dropped without a reader saying so
    box = make_box(parent, check)
    clicked = box.exec()
    for choice, button in _BUTTONS.items():
        if clicked == button and choice in check.choices:
            return choice
    return CANCEL
