"""The idle lock: after a configurable time without mouse or keyboard the window hides every patient
datum (images, lists, text, its title and its other windows) behind a panel that asks for the site's
lock password; locking, unlocking and a wrong password are audit events (User Authentication).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (QApplication, QLabel, QLineEdit, QMainWindow, QPushButton, QVBoxLayout, QWidget)

from workstation import audit
from workstation.audit import login

log = logging.getLogger(__name__)

LOCKED_TITLE = "Lightbox — locked"
_ACTIVITY = {QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel,
             QEvent.Type.TouchBegin}
_KEYS = {QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride, QEvent.Type.Shortcut}


class LockPanel(QWidget):
    """What the locked window shows: who locked it, a password field and the Unlock button."""

    def __init__(self, parent: QWidget, user: str, has_password: bool) -> None:
        super().__init__(parent)
        self.setObjectName("idleLockPanel")
        self.setAutoFillBackground(True)
        lay = QVBoxLayout(self)
        lay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title = QLabel("Lightbox is locked")
        title.setStyleSheet("font-size: 20pt;")
        lay.addWidget(title, alignment=Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(QLabel(f"Locked after a time without use. Reader: {user}"), alignment=Qt.AlignmentFlag.AlignCenter)
        self.password = QLineEdit()
        self.password.setObjectName("idleLockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password" if has_password else "No lock password set: press Unlock")
        self.password.setMinimumWidth(280)
        lay.addWidget(self.password, alignment=Qt.AlignmentFlag.AlignCenter)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setObjectName("idleLockUnlock")
        lay.addWidget(self.unlock_button, alignment=Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("")
        self.message.setObjectName("idleLockMessage")
        lay.addWidget(self.message, alignment=Qt.AlignmentFlag.AlignCenter)


class IdleLock(QObject):
    """Locks ``window`` after ``idle_ms`` without input; ``check`` says whether a password unlocks it."""

    locked_changed = Signal(bool)

    def __init__(self, window: QMainWindow, idle_ms: int, check: Callable[[str], bool] | None,
                 idle_minutes: float = 0.0) -> None:
        super().__init__(window)
        self.window = window
        self.check = check
        self.idle_minutes = idle_minutes or idle_ms / 60000
        self.panel: LockPanel | None = None
        self._hidden: list[QWidget] = []
        self._title = ""
        self._state = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, int(idle_ms)))
        self._timer.timeout.connect(self.lock)
        QApplication.instance().installEventFilter(self)
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
        if obj is self.window and kind == QEvent.Type.Resize:
            self.panel.setGeometry(self.window.rect())
        elif kind == QEvent.Type.Show and isinstance(obj, QWidget) and obj.isWindow() and obj is not self.window:
            # A window opening while locked (a notice, a dialog) stays hidden until the unlock.
            self._hidden.append(obj)
            QTimer.singleShot(0, obj.hide)
        elif kind in _KEYS and not self._inside_panel(obj) and (isinstance(obj, QWidget) or kind == QEvent.Type.Shortcut):
            # No key and no shortcut reaches the hidden window (it could open patient data); the platform
            # window (not a widget) still passes keys on to the password field.
            return True
        return False

    def _inside_panel(self, obj: QObject) -> bool:
        return isinstance(obj, QWidget) and self.panel is not None and (obj is self.panel or self.panel.isAncestorOf(obj))

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
        self.panel = LockPanel(self.window, who.user_name or who.user_id, self.check is not None)
        self.panel.setGeometry(self.window.rect())
        self.panel.unlock_button.clicked.connect(self._try_unlock)
        self.panel.password.returnPressed.connect(self._try_unlock)
        self.panel.show()
        self.panel.raise_()
        self.panel.password.setFocus()
        audit.user(False, description=f"screen locked after {self.idle_minutes:g} min without input")
        log.info("window locked after %g min without input", self.idle_minutes)
        self.locked_changed.emit(True)

    def _try_unlock(self) -> None:
        assert self.panel is not None
        password = self.panel.password.text()
        self.panel.password.clear()
        if self.check is not None and not self.check(password):
            self.panel.message.setText("Wrong password.")
            audit.user(True, ok=False, description="unlock refused: wrong password")
            return
        self.unlock()

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


def attach_idle_lock(window: QMainWindow, home, idle_ms: int | None = None) -> IdleLock | None:
    """Lock ``window`` after the settings' ``audit.idle_lock_minutes`` (0: never) behind the site's lock password."""
    from workstation import config

    try:
        extra = config.load(home.config_file).extra
    except Exception:  # noqa: BLE001 - unreadable settings: the default idle time, no password
        extra = {}
    minutes = login.idle_minutes(extra)
    if idle_ms is None:
        if minutes <= 0:
            _show_reader(window)
            return None
        idle_ms = int(minutes * 60000)
    stored = login.lock_password_hash(extra)
    check = (lambda pw: login.check_password(stored, pw)) if stored else None
    lock = IdleLock(window, idle_ms, check, idle_minutes=idle_ms / 60000)
    window.idle_lock = lock
    _show_reader(window)
    return lock


def _show_reader(window: QMainWindow) -> None:
    """Who is working, at the right of the status bar (the user every audit event names)."""
    who = audit.current().identity
    label = QLabel(f"Reader: {who.user_name or who.user_id}")
    label.setObjectName("readerIdentity")
    label.setToolTip(f"Audit events name user {who.user_id} on {who.host} ({who.ae_title})")
    window.statusBar().addPermanentWidget(label)
