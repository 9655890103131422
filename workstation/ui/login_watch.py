"""One site login at a time on the worker thread, its answer handed to the window on the GUI thread.

The login dialog, the idle lock's unlock and the settings page's trial login
all check a password by an LDAP bind that may take seconds (or never answer):
:func:`workstation.audit.site_login.start_login` runs it on a worker, and this
watcher looks for its outcome on a short timer, so the window stays
responsive, Cancel ends the attempt, and the outcome arrives in a slot.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from workstation.audit.site_login import Authenticator, LoginAttempt, LoginError, SiteUser, start_login

#: How often the watcher looks whether the worker has an answer (a person sees nothing faster).
POLL_MS = 30


class LoginWatch(QObject):
    """Starts a login on the worker and calls ``done(outcome)`` once it ends (a :class:`SiteUser` or a
    :class:`LoginError`, including the one a cancel or the time bound gives)."""

    def __init__(self, parent: QObject, done: Callable[[SiteUser | LoginError], None]) -> None:
        super().__init__(parent)
        self.attempt: LoginAttempt | None = None
        self._done = done
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._look)

    @property
    def busy(self) -> bool:
        """True while a password is being checked."""
        return self.attempt is not None

    def start(self, check: Authenticator, login: str, password: str, deadline: float) -> None:
        """Check ``login``/``password`` on the worker (nothing is started while one runs)."""
        if self.attempt is None:
            self.attempt = start_login(check, login, password, deadline)
            self._poll.start()

    def cancel(self) -> None:
        """End the attempt (its connection is shut); ``done`` gets its "cancelled" outcome at once."""
        if self.attempt is not None:
            self.attempt.cancel()
            self._look()

    def drop(self) -> None:
        """End the attempt without an answer (the reader it was for has gone)."""
        if self.attempt is not None:
            self.attempt.cancel()
            self.attempt = None
        self._poll.stop()

    def _look(self) -> None:
        attempt = self.attempt
        outcome = attempt.outcome if attempt is not None else None
        if attempt is not None and outcome is None:
            return
        self._poll.stop()
        self.attempt = None
        if outcome is not None:
            self._done(outcome)
