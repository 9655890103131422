"""Who is working and on which machine: the user and workstation of every audit event.

The reader is the OS login by default; a site login (LDAP, :mod:`workstation.audit.site_login`) that
succeeded makes the directory's user the *session user* until logout: the user of every audit event,
the status bar's reader, the report's observer and the QC operator where those name nobody else.
"""

from __future__ import annotations

import getpass
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_session_lock = threading.Lock()
_session: SessionUser | None = None


@dataclass(frozen=True)
class SessionUser:
    """The user logged in by the site login: login name and the directory's display name."""

    login: str
    display_name: str = ""


def set_session_user(login: str, display_name: str = "") -> SessionUser:
    """Make ``login`` the session user (after a successful site login)."""
    global _session
    user = SessionUser(login.strip(), display_name.strip())
    with _session_lock:
        _session = user
    return user


def clear_session_user() -> None:
    """Nobody is logged in by the site login any more (logout)."""
    global _session
    with _session_lock:
        _session = None


def session_user() -> SessionUser | None:
    """The site-login user, or None when none is logged in (the OS login applies)."""
    with _session_lock:
        return _session


def os_login() -> str:
    """The operating system's login name (a uid where the system has no name for it)."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container without passwd entry)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def reader_name(explicit: str = "") -> str:
    """Who to name as the person working (QC operator, report observer): ``explicit``, else the session
    user's display name (or login), else the OS login."""
    if explicit.strip():
        return explicit.strip()
    user = session_user()
    if user is not None:
        return user.display_name or user.login
    return os_login()


@dataclass(frozen=True)
class Identity:
    """The reader (site login, else the OS login unless the settings name one) and this workstation."""

    user_id: str
    user_name: str = ""
    ae_title: str = "LIGHTBOX"
    host: str = ""

    @property
    def shown(self) -> str:
        """What the status bar and the lock panel show."""
        return self.user_name or self.user_id

    @classmethod
    def current(cls, ae_title: str = "LIGHTBOX", extra: Mapping[str, Any] | None = None) -> Identity:
        """The session user when one is logged in; else the OS login, overridden by the reporting settings'
        radiologist name/ID where set."""
        user = session_user()
        if user is not None:
            return cls(user_id=user.login, user_name=user.display_name, ae_title=ae_title or "LIGHTBOX",
                       host=socket.gethostname())
        reporting = (extra or {}).get("reporting") or {}
        name = str(reporting.get("radiologist_name") or "") if isinstance(reporting, dict) else ""
        rid = str(reporting.get("radiologist_id") or "") if isinstance(reporting, dict) else ""
        return cls(user_id=rid or os_login(), user_name=name, ae_title=ae_title or "LIGHTBOX",
                   host=socket.gethostname())
