"""The report panel's questions to the reader: signing passphrase, amendment reason, PDF file.

The panel calls them through replaceable attributes (``ask_passphrase`` …), so tests answer them headless.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QWidget


def ask_passphrase(parent: QWidget) -> str | None:
    """The signing key's passphrase, or None when the reader cancelled."""
    # Modal to the whole application and focused: what is typed goes nowhere else.
    dialog = QInputDialog(parent)
    dialog.setObjectName("passphraseDialog")
    dialog.setWindowTitle("Sign report")
    dialog.setLabelText("Passphrase of your signing key:")
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    ok = dialog.exec() == QInputDialog.DialogCode.Accepted
    text = dialog.textValue()
    dialog.deleteLater()
    return text if ok else None


def ask_reason(parent: QWidget) -> str | None:
    """The reason for an amendment (stripped), or None when the reader cancelled."""
    text, ok = QInputDialog.getText(parent, "Amend report", "Reason for the amendment:")
    return text.strip() if ok else None


def ask_pdf_path(parent: QWidget) -> str | None:
    """Where to export a report as PDF, or None when the reader cancelled."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export report as PDF", "report.pdf", "PDF (*.pdf)")
    return path or None
