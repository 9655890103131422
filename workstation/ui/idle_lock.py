"""The idle lock: after a configurable time without mouse or keyboard the window hides every patient
datum (images, lists, text, its title and its other windows) behind a panel that asks for the reader's
password: checked by an LDAP bind when the station has a site login, else the site's lock password.
Locking, unlocking and a refused password are audit events (User Authentication).

The LDAP bind runs on a worker thread (:func:`workstation.audit.site_login.start_login`, as the login
dialog does): the lock stays up and answers while the directory thinks, Cancel ends the attempt, and a
directory that never answers is given up after a bounded time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QLabel, QLineEdit, QMainWindow, QPushButton, QVBoxLayout, QWidget)

from workstation import audit
from workstation.audit import login
from workstation.audit.site_login import (Authenticator, LoginAttempt, LoginError, SiteLoginSettings, SiteUser,
                                          deadline_s, site_authenticator)
from workstation.ui.login_watch import LoginWatch

log = logging.getLogger(__name__)

LOCKED_TITLE = "Locked"  # Qt adds " — Lightbox", the application's display name
_ACTIVITY = {QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel,
             QEvent.Type.TouchBegin}
_KEYS = {QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride, QEvent.Type.Shortcut}


class LockPanel(QWidget):
    """What the locked window shows: who locked it, a password field and the Unlock button."""

    def __init__(self, parent: QWidget, user: str, has_password: bool, can_switch: bool = False) -> None:
        super().__init__(parent)
        self.setObjectName("idleLockPanel")
        self.setAutoFillBackground(True)
        lay = QVBoxLayout(self)
        lay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Lightbox is locked")
        title.setStyleSheet("font-size: 20pt;")
        lay.addWidget(title, alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(QLabel(f"Locked after a time without use. Reader: {user}"),
                      alignment=Qt.AlignmentFlag.AlignCenter)
        self.password = QLineEdit()
        self.password.setObjectName("idleLockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password" if has_password else "No lock password set: press Unlock")
        self.password.setMinimumWidth(280)
        lay.addWidget(self.password, alignment=Qt.AlignmentFlag.AlignCenter)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("idleLockUnlock")
        lay.addWidget(self.unlock_button, alignment=Qt.AlignmentFlag.AlignCenter)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("idleLockCancel")
        self.cancel_button.setToolTip("Stop waiting for the directory")
        self.cancel_button.setVisible(False)  # only while the site login checks a password
        lay.addWidget(self.cancel_button, alignment=Qt.AlignmentFlag.AlignCenter)
        # On a shared station another reader logs the locked one out (their unsaved work stays theirs).
        self.switch_button = QPushButton("Log out and switch user")
        self.switch_button.setObjectName("idleLockSwitchUser")
        self.switch_button.setVisible(can_switch)
        lay.addWidget(self.switch_button, alignment=Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("")
        self.message.setObjectName("idleLockMessage")
        # Room for the site login's sentences (an unreachable server is named with its address).
        self.message.setWordWrap(True)
        self.message.setMinimumWidth(480)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(self.message, alignment=Qt.AlignmentFlag.AlignCenter)


class IdleLock(QObject):
    """Locks ``window`` after ``idle_ms`` without input; ``check`` says whether a password unlocks it.

    With ``site`` (the site login's check) the password is checked for reader ``site_login`` on a worker
    thread instead, ended by the panel's Cancel or after ``deadline`` seconds.
    """

    locked_changed = Signal(bool)

    def __init__(self, window: QMainWindow, idle_ms: int, check: Callable[[str], bool] | None,
                 idle_minutes: float = 0.0, switch_user: Callable[[], None] | None = None, *,
                 site: Authenticator | None = None, site_login: str = "", deadline: float = 16.0) -> None:
        super().__init__(window)
        self.window = window
        self.check = check
        self.site = site
        self.site_login = site_login
        self.deadline = deadline
        self.watch = LoginWatch(self, self._answered)  # the site login checking a password on the worker
        self.switch_user = switch_user
        self.idle_minutes = idle_minutes or idle_ms / 60000
        self.panel: LockPanel | None = None
        self._hidden: list[QWidget] = []
        self._title = ""
        self._state = QByteArray()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, int(idle_ms)))
        self._timer.timeout.connect(self.lock)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        window.installEventFilter(self)
        self._timer.start()

    @property
    def locked(self) -> bool:
        return self.panel is not None

    # Activity ------------------------------------------------------------------
    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        kind = event.type()
        if not self.locked:
            if kind in _ACTIVITY:
                self._timer.start()
            return False
        if obj is self.window and kind == QEvent.Type.Resize and self.panel is not None:
            self.panel.setGeometry(self.window.rect())
        elif kind == QEvent.Type.Show and isinstance(obj, QWidget) and obj.isWindow() and obj is not self.window:
            # A window opening while locked (a notice, a dialog) stays hidden until the unlock.
            self._hidden.append(obj)
            QTimer.singleShot(0, obj.hide)
        elif (kind in _KEYS and not self._inside_panel(obj)
              and (isinstance(obj, QWidget) or kind == QEvent.Type.Shortcut)):
            # No key and no shortcut reaches the hidden window (it could open patient data); the platform
            # window (not a widget) still passes keys on to the password field.
            return True
        return False

    def _inside_panel(self, obj: QObject) -> bool:
        return (isinstance(obj, QWidget) and self.panel is not None
                and (obj is self.panel or self.panel.isAncestorOf(obj)))

    # Lock and unlock --------------------------------------------------------------
    def lock(self) -> None:
        """Hide every patient datum now (also called by the idle timer)."""
        if self.locked:
            return
        self._title = self.window.windowTitle()
        self._state = self.window.saveState()  # dock sizes: hiding the central widget lets the docks spread
        self.window.setWindowTitle(LOCKED_TITLE)
        self._hidden = []
        for w in QApplication.topLevelWidgets():
            if w is not self.window and w.isVisible():
                w.hide()
                self._hidden.append(w)
        for child in self.window.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
            if child.isVisible():
                child.hide()
                self._hidden.append(child)
        who = audit.current().identity
        self.panel = LockPanel(self.window, who.user_name or who.user_id,
                               self.check is not None or self.site is not None,
                               can_switch=self.switch_user is not None)
        self.panel.setGeometry(self.window.rect())
        self.panel.unlock_button.clicked.connect(self._try_unlock)
        self.panel.cancel_button.clicked.connect(lambda _checked=False: self.cancel_unlock())
        self.panel.switch_button.clicked.connect(self._switch_user)
        self.panel.password.returnPressed.connect(self._try_unlock)
        self.panel.show()
        self.panel.raise_()
        self.panel.password.setFocus()
        audit.user(False, description=f"screen locked after {self.idle_minutes:g} min without input")
        log.info("window locked after %g min without input", self.idle_minutes)
        self.locked_changed.emit(True)

    @property
    def checking(self) -> bool:
        """True while the site login checks a password (the panel waits, Cancel is offered)."""
        return self.watch.busy

    @property
    def attempt(self) -> LoginAttempt | None:
        """The site login checking a password on the worker, if any."""
        return self.watch.attempt

    def _try_unlock(self) -> None:
        assert self.panel is not None
        if self.watch.busy:
            return  # one at a time: Enter pressed again while the directory thinks
        password = self.panel.password.text()
        self.panel.password.clear()
        if self.site is not None:
            self.panel.message.setText("Checking…")
            self.watch.start(self.site, self.site_login, password, self.deadline)
            self._set_checking(True)
            return
        who = audit.current().identity.user_id
        try:
            ok = self.check is None or self.check(password)
        except LoginError as exc:  # the site login's words: wrong password, server unreachable, TLS
            from workstation.ui.login_dialog import sentence

            self.panel.message.setText(sentence(str(exc)))
            audit.login_failed(who, f"unlock refused: {exc.reason}")
            return
        if not ok:
            self.panel.message.setText("Wrong password.")
            audit.login_failed(who, "unlock refused: wrong password")
            return
        self.unlock()

    def cancel_unlock(self) -> None:
        """Stop the site login checking a password (its connection is shut); the lock stays, ready again."""
        self.watch.cancel()

    def _answered(self, outcome: SiteUser | LoginError) -> None:
        if self.panel is None:  # released meanwhile (the window closed)
            return
        self._set_checking(False)
        if isinstance(outcome, LoginError):  # the site login's words: wrong password, unreachable, cancelled
            from workstation.ui.login_dialog import sentence

            self.panel.message.setText(sentence(str(outcome)))
            audit.login_failed(audit.current().identity.user_id, f"unlock refused: {outcome.reason}")
            self.panel.password.setFocus()
            return
        self.unlock()

    def _set_checking(self, checking: bool) -> None:
        if self.panel is None:
            return
        self.panel.password.setReadOnly(checking)
        self.panel.unlock_button.setEnabled(not checking)
        self.panel.cancel_button.setVisible(checking)
        if checking:
            self.panel.cancel_button.setFocus()

    def _switch_user(self) -> None:
        """Log the locked reader out; the window closes without showing anything and the login comes back."""
        if self.switch_user is None:
            return
        self.watch.drop()  # a password being checked for the reader leaving is of no use now
        self.switch_user()
        if not self.window.isVisible():
            self.release()

    def release(self) -> None:
        """Stop watching: the window has closed while locked (its reader logged out), so a window opening
        now (the next reader's login) is not hidden, and nothing that was hidden is shown again."""
        self._timer.stop()
        self.watch.drop()
        self._hidden = []
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.window.removeEventFilter(self)

    def unlock(self) -> None:
        """Show the window as it was (the password has been checked)."""
        if self.panel is None:
            return
        panel, self.panel = self.panel, None
        panel.hide()
        panel.deleteLater()
        for w in self._hidden:
            w.show()
        self._hidden = []
        self.window.restoreState(self._state)
        self.window.setWindowTitle(self._title)
        audit.user(True, description="screen unlocked")
        self.locked_changed.emit(False)
        self._timer.start()


def attach_idle_lock(window: QMainWindow, home, idle_ms: int | None = None,
                     switch_user: Callable[[], None] | None = None) -> IdleLock | None:
    """Lock ``window`` after the station's ``audit.idle_lock_minutes`` (0: never); the reader's site login
    (LDAP bind) unlocks it when one is configured and a reader is logged in, else the site's lock password.
    ``switch_user`` (a site login's logout) adds "Log out and switch user" to the lock panel."""
    from workstation import config
    from workstation.audit.identity import session_user

    try:
        # The station's settings: a reader's own copy cannot lengthen the idle time or drop the password.
        extra = config.load(getattr(home, "station_config_file", home.config_file)).extra
    except Exception:  # noqa: BLE001 - unreadable settings: the default idle time, no password
        extra = {}
    minutes = login.idle_minutes(extra)
    if idle_ms is None:
        if minutes <= 0:
            _show_reader(window)
            return None
        idle_ms = int(minutes * 60000)
    stored = login.lock_password_hash(extra)
    site = SiteLoginSettings.of(extra)
    reader = session_user()
    check: Callable[[str], bool] | None = None
    by_site = site.configured and reader is not None
    if not by_site and stored:
        def check(pw: str) -> bool:
            return login.check_password(stored, pw)
    lock = IdleLock(window, idle_ms, check, idle_minutes=idle_ms / 60000,
                    switch_user=switch_user if reader is not None else None,
                    site=site_authenticator(site) if by_site else None,
                    site_login=reader.login if reader is not None else "", deadline=deadline_s(site))
    setattr(window, "idle_lock", lock)  # noqa: B010 - the window class declares no such attribute
    _show_reader(window)
    return lock


def _show_reader(window: QMainWindow) -> None:
    """Who is working, at the right of the status bar (the user every audit event names)."""
    who = audit.current().identity
    label = QLabel(f"Reader: {who.user_name or who.user_id}")
    label.setObjectName("readerIdentity")
    label.setToolTip(f"Audit events name user {who.user_id} on {who.host} ({who.ae_title})")
    window.statusBar().addPermanentWidget(label)
