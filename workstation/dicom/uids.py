"""UID checks and generation.

A UID becomes part of a cache path, so it is checked before use: digits and
dots only, at most 64 characters, no empty or leading-zero components
(PS3.5 9.1).  Anything else is refused, which also keeps a hostile file from
writing outside the cache (``../../x`` is not a UID).
"""

from __future__ import annotations

import re

# Lightbox's UID root (a UUID-derived 2.25 root keeps generated UIDs unique
# without a registered organisation root).
UID_PREFIX = "2.25."

_UID_RE = re.compile(r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$")


class InvalidUID(ValueError):
    """A value that is not a valid DICOM UID."""


def is_valid_uid(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64 and _UID_RE.match(value) is not None


def is_safe_uid(value: object) -> bool:
    """True when ``value`` may be used as a path component: digits and dots, <= 64 chars.

    Looser than :func:`is_valid_uid` (real archives hold UIDs with leading
    zeros in a component); still never a path separator, ``..`` or empty.
    """
    return (
        isinstance(value, str)
        and 0 < len(value) <= 64
        and re.fullmatch(r"[0-9]+(\.[0-9]+)*", value) is not None
    )


def checked_uid(value: object, what: str = "UID") -> str:
    """Return ``value`` as a str if it can be used as a path component, else raise."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    text = str(value).strip().rstrip("\x00") if value is not None else ""
    if not text:
        raise InvalidUID(f"no {what}")
    if not is_safe_uid(text):
        # The value is not echoed: a damaged file can hold anything there, a name included.
        raise InvalidUID(f"{what} is not a valid UID ({len(text)} characters; a UID is digits and dots, "
                         f"at most 64 characters)")
    return text


def new_uid() -> str:
    """A new globally unique UID."""
    from pydicom.uid import generate_uid  # pydicom takes ~0.4 s to import; the store's paths need only checks

    return generate_uid(prefix=UID_PREFIX)
