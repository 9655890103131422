"""The site login dialog: at start (when the station's settings configure a site login) the reader types
their user name and password, checked by an LDAP bind (:mod:`workstation.audit.site_login`).

Every attempt is an audit event (User Authentication: a refused one names the login typed and why);
the password never leaves the field except to the directory.  The bind runs on a worker thread
(:func:`workstation.audit.site_login.start_login`): the dialog stays responsive while the directory
thinks, Cancel ends the attempt, and a directory that never answers is given up after a bounded time.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout,
                               QWidget)

from workstation import audit
from workstation.ui.login_watch import LoginWatch
from workstation.audit.site_login import (Authenticator, LoginAttempt, LoginError, SiteLoginSettings, SiteUser,
                                          deadline_s, site_authenticator)

log = logging.getLogger(__name__)

__all__ = ["Authenticator", "LoginDialog", "ask_site_login", "sentence", "site_authenticator"]


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
                 login: str = "", deadline: float = 16.0) -> None:
        super().__init__(parent)
        self.setObjectName("siteLoginDialog")
        self.setWindowTitle("Log in")
        self.check = check
        self.deadline = deadline
        self.user: SiteUser | None = None
        self.watch = LoginWatch(self, self._answered)  # the login being checked on the worker thread
        self._attempt_login = ""
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
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("siteLoginCancel")
        self.cancel_button.setToolTip("Stop waiting for the directory")
        self.cancel_button.setVisible(False)  # only while a login is being checked
        self.quit_button = QPushButton("Quit")
        self.quit_button.setObjectName("siteLoginQuit")
        buttons.addButton(self.login_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.quit_button, QDialogButtonBox.ButtonRole.RejectRole)
        lay.addWidget(buttons)
        self.login_button.clicked.connect(lambda _checked=False: self.try_login())
        self.cancel_button.clicked.connect(lambda _checked=False: self.cancel_login())
        self.quit_button.clicked.connect(lambda _checked=False: self.reject())
        self.password_field.returnPressed.connect(self.try_login)
        self.login_field.returnPressed.connect(self.password_field.setFocus)
        (self.password_field if login else self.login_field).setFocus()

    @property
    def checking(self) -> bool:
        """True while a login is being checked (the fields wait, Cancel is offered)."""
        return self.watch.busy

    @property
    def attempt(self) -> LoginAttempt | None:
        """The login being checked on the worker thread, if any."""
        return self.watch.attempt

    def try_login(self) -> None:
        """Check what was typed on a worker thread; the answer is shown when it comes (password field emptied)."""
        if self.watch.busy:
            return  # one at a time: Enter pressed again while the directory thinks
        login, password = self.login_field.text().strip(), self.password_field.text()
        self.password_field.clear()
        self.message.setText("Checking…")
        self._attempt_login = login
        self.watch.start(self.check, login, password, self.deadline)
        self._set_checking(True)

    def cancel_login(self) -> None:
        """Stop the login being checked (its connection to the directory is shut); the fields come back."""
        self.watch.cancel()

    def _answered(self, outcome: SiteUser | LoginError) -> None:
        self._set_checking(False)
        if isinstance(outcome, LoginError):
            self.message.setText(sentence(str(outcome)))
            audit.login_failed(self._attempt_login, f"site login refused: {outcome.reason}")
            self.password_field.setFocus()
            return
        self.user = outcome
        self.message.setText("")
        self.accept()

    def _set_checking(self, checking: bool) -> None:
        self.login_field.setReadOnly(checking)
        self.password_field.setReadOnly(checking)
        self.login_button.setEnabled(not checking)
        self.cancel_button.setVisible(checking)
        if checking:
            self.cancel_button.setFocus()

    def reject(self) -> None:
        """Quit (or Escape): a login still being checked is cancelled first."""
        self.watch.drop()
        super().reject()


def ask_site_login(cfg: SiteLoginSettings, parent: QWidget | None = None, login: str = "") -> SiteUser | None:
    """Show the login dialog until a login succeeds (the user) or the reader quits (None)."""
    dialog = LoginDialog(site_authenticator(cfg), server=cfg.uri, parent=parent, login=login,
                         deadline=deadline_s(cfg))
    try:
        return dialog.user if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
