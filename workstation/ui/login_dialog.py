"""The site login dialog: at start (when the station's settings configure a site login) the reader types
their user name and password, checked by an LDAP bind (:mod:`workstation.audit.site_login`).

Every attempt is an audit event (User Authentication: a refused one names the login typed and why);
the password never leaves the field except to the directory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from workstation import audit
from workstation.audit.site_login import LoginError, SiteLoginSettings, SiteUser, authenticate

log = logging.getLogger(__name__)

Authenticator = Callable[[str, str], SiteUser]


def sentence(text: str) -> str:
    """``text`` as a sentence: capital first letter, full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


class LoginDialog(QDialog):
    """User name, password, Log in and Quit; ``user`` is the :class:`SiteUser` once accepted."""

    def __init__(self, check: Authenticator, server: str = "", parent: QWidget | None = None,
                 login: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("siteLoginDialog")
        self.setWindowTitle("Lightbox — log in")
        self.check = check
        self.user: SiteUser | None = None
        lay = QVBoxLayout(self)
        title = QLabel("Log in to Lightbox")
        title.setStyleSheet("font-size: 16pt;")
        lay.addWidget(title)
        lay.addWidget(QLabel(f"Your site account{f' ({server})' if server else ''}."))
        form = QFormLayout()
        self.login_field = QLineEdit(login)
        self.login_field.setObjectName("siteLoginUser")
        self.login_field.setMinimumWidth(260)
        self.password_field = QLineEdit()
        self.password_field.setObjectName("siteLoginPassword")
        self.password_field.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("User name:", self.login_field)
        form.addRow("Password:", self.password_field)
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setObjectName("siteLoginMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #e06c6c;")
        lay.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.login_button = QPushButton("Log in")
        self.login_button.setObjectName("siteLoginButton")
        self.login_button.setDefault(True)
        self.quit_button = QPushButton("Quit")
        self.quit_button.setObjectName("siteLoginQuit")
        buttons.addButton(self.login_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.quit_button, QDialogButtonBox.ButtonRole.RejectRole)
        lay.addWidget(buttons)
        self.login_button.clicked.connect(self.try_login)
        self.quit_button.clicked.connect(self.reject)
        self.password_field.returnPressed.connect(self.try_login)
        self.login_field.returnPressed.connect(self.password_field.setFocus)
        (self.password_field if login else self.login_field).setFocus()

    def try_login(self) -> None:
        """Check what was typed; accept on success, else say why (the password field is emptied)."""
        login, password = self.login_field.text().strip(), self.password_field.text()
        self.password_field.clear()
        self.message.setText("Checking…")
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            user = self.check(login, password)
        except LoginError as exc:
            self.message.setText(sentence(str(exc)))
            audit.login_failed(login, f"site login refused: {exc.reason}")
            self.password_field.setFocus()
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.user = user
        self.message.setText("")
        self.accept()


def site_authenticator(cfg: SiteLoginSettings) -> Authenticator:
    """The LDAP bind of ``cfg`` as the dialog's check."""
    return lambda login, password: authenticate(cfg, login, password)


def ask_site_login(cfg: SiteLoginSettings, parent: QWidget | None = None, login: str = "") -> SiteUser | None:
    """Show the login dialog until a login succeeds (the user) or the reader quits (None)."""
    dialog = LoginDialog(site_authenticator(cfg), server=cfg.uri, parent=parent, login=login)
    try:
        return dialog.user if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
