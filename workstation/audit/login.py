"""The site login that unlocks the idle lock: a password hash kept in the settings (``audit.lock_password``).

The hash is scrypt (``scrypt$n$r$p$salt$digest``, hex); the password itself is never stored.
PAM (the OS login) is not used: python-pam is not among the project's dependencies.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any
from collections.abc import Mapping

KEY = "lock_password"
DEFAULT_IDLE_MINUTES = 10.0


def hash_password(password: str, *, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """A salted scrypt hash of ``password`` for the settings."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def check_password(stored: str, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (a :func:`hash_password` value); a malformed hash matches nothing."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(bytes.fromhex(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


def _section(extra: Mapping[str, Any]) -> Mapping[str, Any]:
    raw = extra.get("audit") if isinstance(extra, Mapping) else None
    return raw if isinstance(raw, Mapping) else {}


def lock_password_hash(extra: Mapping[str, Any]) -> str:
    """The site's lock password hash, or "" when none is set."""
    return str(_section(extra).get(KEY) or "")


def idle_minutes(extra: Mapping[str, Any]) -> float:
    """Minutes without mouse or keyboard before the window locks (``audit.idle_lock_minutes``; 0 = never)."""
    try:
        return max(0.0, float(_section(extra).get("idle_lock_minutes", DEFAULT_IDLE_MINUTES)))
    except (TypeError, ValueError):
        return DEFAULT_IDLE_MINUTES


def set_lock_password(extra: dict[str, Any], password: str) -> None:
    """Store the hash of ``password`` as the site's lock password."""
    section = dict(_section(extra))
    section[KEY] = hash_password(password)
    extra["audit"] = section
