"""Who is working and on which machine: the user and workstation of every audit event."""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping


@dataclass(frozen=True)
class Identity:
    """The reader (OS login unless the settings name one) and this workstation (AE title, host)."""

    user_id: str
    user_name: str = ""
    ae_title: str = "LIGHTBOX"
    host: str = ""

    @classmethod
    def current(cls, ae_title: str = "LIGHTBOX", extra: Mapping[str, Any] | None = None) -> Identity:
        """From the OS login, overridden by the reporting settings' radiologist name/ID where set."""
        try:
            login = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name (a container without passwd entry)
            login = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
        reporting = (extra or {}).get("reporting") or {}
        name = str(reporting.get("radiologist_name") or "") if isinstance(reporting, dict) else ""
        rid = str(reporting.get("radiologist_id") or "") if isinstance(reporting, dict) else ""
        return cls(user_id=rid or login, user_name=name, ae_title=ae_title or "LIGHTBOX", host=socket.gethostname())
