"""The audit trail (IHE ATNA): DICOM Audit Messages (PS3.15 A.5) of who saw and changed what.

Every place that reads, sends, changes or removes patient data makes one call::

    from workstation import audit
    audit.study_opened(study_row)          # or audit.record(audit.events.<builder>, ...)

The event goes to the home's tamper-evident store and, when ``audit.repository`` is set, to the
Audit Record Repository by syslog through a durable queue.  Qt-free; imports no UI, CLI or session.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any
from collections.abc import Callable

from workstation.audit import codes, events
from workstation.audit.hooks import (
    application, deleted, export_requested, exported, files_read, patient_changed, qc_applied, queried,
    report_signed, retrieved, security_alert, sent, signature_checked, studies_read, study_opened, transferred,
    user, worklist_queried,
)
from workstation.audit.identity import Identity
from workstation.audit.message import AuditEvent
from workstation.audit.recorder import Auditor
from workstation.audit.store import AuditStore

__all__ = [
    "codes", "events", "Identity", "AuditEvent", "Auditor", "AuditStore", "configure", "current", "record",
    "application_started", "application_stopped", "application", "deleted", "export_requested", "exported",
    "files_read", "patient_changed", "qc_applied", "queried", "report_signed", "retrieved", "security_alert",
    "sent", "signature_checked", "studies_read", "study_opened", "transferred", "user", "worklist_queried",
    "session_started", "session_ended", "login_failed",
]

#: How long the window's close waits for the audit records still queued to be written (each is fsynced).
DRAIN_S = 120.0

_lock = threading.Lock()
_auditor: Auditor | None = None
_configured_env: str | None = None  # LIGHTBOX_HOME when configured: a new one (each test's home) reconfigures
_configured_home: Any = None


def auditor_for(home: Any, background: bool = False) -> Auditor:
    """An :class:`Auditor` for ``home`` (a :class:`workstation.home.Home`): its settings' identity and repository."""
    from workstation import config as config_mod
    from workstation.audit.syslog import Repository

    try:
        # The station's settings name the repository (a reader's own settings cannot turn the trail away).
        settings = config_mod.load(getattr(home, "station_config_file", home.config_file))
        ae, extra = settings.ae_title, settings.extra
    except Exception:  # noqa: BLE001 - unreadable settings: the OS login and no repository
        ae, extra = "LIGHTBOX", {}
    try:
        repo = Repository.from_settings(extra)
    except (TypeError, ValueError):
        repo = None
    return Auditor(home.data_dir / "audit", Identity.current(ae, extra), repo, background=background)


def configure(home: Any, background: bool = False) -> Auditor:
    """Make ``home``'s auditor the one :func:`record` uses (the command line and the window call this once).

    Parameters
    ----------
    home : workstation.home.Home
        Where the trail lives (``<data>/audit``) and whose settings name the reader and the repository.
    background : bool
        Send to the repository on a background thread (the window) rather than at once (commands).

    Returns
    -------
    Auditor
    """
    global _auditor, _configured_env, _configured_home
    with _lock:
        _auditor = auditor_for(home, background=background)
        _configured_env = os.environ.get("LIGHTBOX_HOME")
        _configured_home = home
        return _auditor


def current() -> Auditor:
    """The configured auditor (for a process that did not configure one: the default home's)."""
    global _auditor, _configured_env, _configured_home
    with _lock:
        env = os.environ.get("LIGHTBOX_HOME")
        if _auditor is None or env != _configured_env:
            from workstation.home import Home

            # The identity is refreshed from this home's settings later (a site login, a logout), not
            # from the home configured before.
            _configured_home = Home.resolve()
            _auditor, _configured_env = auditor_for(_configured_home), env
        return _auditor


def application_started(home: Any) -> Auditor:
    """The window opened: its events are appended and sent on background threads (never holding up the GUI
    thread, whose study opens each record one); Application Start."""
    auditor = configure(home, background=True)
    auditor.deferred = True
    atexit.register(auditor.drain, 10.0)  # a process leaving without the window's close still writes its queue
    application(True)
    return auditor


def application_stopped(wait_s: float = 5.0) -> None:
    """The window closed: Application Stop, every queued record written, and a moment for the queue to reach
    the repository.  Later events of this process (a command after the window) are appended at once again."""
    application(False)
    auditor = current()
    auditor.deferred = False  # after the Stop: what is recorded from now on waits for nothing but its own write
    if not auditor.drain(DRAIN_S):
        logging.getLogger(__name__).error("audit records still unwritten after %.0f s at close", DRAIN_S)
    auditor.wait(wait_s)


def session_started(login: str, display_name: str = "", description: str = "site login") -> None:
    """A site login succeeded: ``login`` is the user of every event from now on (User Authentication, Login).

    Parameters
    ----------
    login : str
        The login name the directory accepted.
    display_name : str
        The directory's name for the user (the status bar, reports and QC records show it).
    description : str
        Said in the event (``"site login"``, ``"screen unlocked"``).
    """
    from workstation.audit.identity import set_session_user

    set_session_user(login, display_name)
    _refresh_identity()
    user(True, description=description)


def session_ended(description: str = "logout") -> None:
    """The site-login user logged out (User Authentication, Logout); the OS login is the user again."""
    from workstation.audit.identity import clear_session_user, session_user

    if session_user() is None:
        return
    user(False, description=description)
    clear_session_user()
    _refresh_identity()


def login_failed(login: str, description: str) -> None:
    """A site login (or an unlock) refused: User Authentication, Login, minor failure, naming the login typed.

    ``description`` says why (wrong password, server unreachable) and never carries the password.
    """
    now = current().identity
    attempted = Identity(user_id=login.strip() or now.user_id, ae_title=now.ae_title, host=now.host)
    current().record(events.user_authentication(attempted, True, ok=False, description=description))  # never raises


def _refresh_identity() -> None:
    auditor = current()
    extra: Any = {}
    home = _configured_home
    if home is not None:
        from workstation import config as config_mod

        try:
            extra = config_mod.load(home.config_file).extra
        except Exception:  # noqa: BLE001 - unreadable settings: the session user or the OS login
            extra = {}
    auditor.identity = Identity.current(auditor.identity.ae_title, extra)


def record(event: AuditEvent | Callable[..., AuditEvent], *args: Any, **kwargs: Any) -> dict[str, Any] | None:
    """Record one event in the configured home's trail and queue it for the repository.

    Parameters
    ----------
    event : AuditEvent or callable
        The event, or a builder from :mod:`workstation.audit.events` (called with the current
        :class:`Identity` first, then ``args`` and ``kwargs``).

    Returns
    -------
    dict or None
        The stored record (with ``seq`` and ``hash``), or None when it could not be written (logged;
        auditing never stops the work).
    """
    return current().record(event, *args, **kwargs)
