"""Memory ceilings for decoding and receiving, so that no header value can exhaust memory.

A DICOM header can claim any size: Rows = Columns = 65535 in a 7 KB RLE file
asks a decoder for 16 GiB.  Before anything is allocated from header values,
the size is checked against what the file's data can hold (see
:mod:`workstation.dicom.pixels`) and against these ceilings, which a site sets
in its configuration (``max_frame_mib``, ``max_object_mib``,
``max_received_object_mib``) or, for a single run, in the environment
(``LIGHTBOX_MAX_FRAME_MIB`` ...).
"""

from __future__ import annotations

import os
from typing import Any
from dataclasses import dataclass, replace

__all__ = ["MemoryLimits", "limits", "configure"]

_MIB = 1 << 20


@dataclass(frozen=True)
class MemoryLimits:
    """Ceilings in bytes.

    Attributes
    ----------
    max_frame_bytes : int
        Largest decoded frame (a 4096 x 5000 mammogram at 16 bits is 40 MiB).
    max_object_bytes : int
        Largest decoded object, all frames together, and largest inflated
        deflated data set.
    max_received_object_bytes : int
        Largest object the storage SCP accepts (it streams to disk, so this
        bounds disk, not memory).
    """

    max_frame_bytes: int = 1024 * _MIB
    max_object_bytes: int = 2048 * _MIB
    max_received_object_bytes: int = 4096 * _MIB


def _from_environment(base: MemoryLimits) -> MemoryLimits:
    values = {}
    for name, field in (("LIGHTBOX_MAX_FRAME_MIB", "max_frame_bytes"),
                        ("LIGHTBOX_MAX_OBJECT_MIB", "max_object_bytes"),
                        ("LIGHTBOX_MAX_RECEIVED_OBJECT_MIB", "max_received_object_bytes")):
        text = os.environ.get(name, "").strip()
        if text:
            try:
                number = float(text)
            except ValueError:
                continue
            if number > 0:
                values[field] = int(number * _MIB)
    return replace(base, **values)


_current = _from_environment(MemoryLimits())


def limits() -> MemoryLimits:
    """The ceilings in force."""
    return _current


def configure(settings_extra: dict[str, Any] | None = None, **overrides: int) -> MemoryLimits:
    """Set the ceilings from a site's settings (MiB) and explicit byte values.

    Parameters
    ----------
    settings_extra : dict, optional
        Settings keys ``max_frame_mib``, ``max_object_mib``,
        ``max_received_object_mib``; unreadable values are ignored.
    **overrides : int
        Byte values for :class:`MemoryLimits` fields (tests, the fuzz campaign).

    Returns
    -------
    MemoryLimits
        The ceilings now in force (the environment still wins over settings).
    """
    global _current
    values: dict[str, int] = {}
    for key, field in (("max_frame_mib", "max_frame_bytes"), ("max_object_mib", "max_object_bytes"),
                       ("max_received_object_mib", "max_received_object_bytes")):
        raw = (settings_extra or {}).get(key)
        try:
            number = float(raw) if raw is not None else 0.0
        except (TypeError, ValueError):
            continue
        if number > 0:
            values[field] = int(number * _MIB)
    values.update(overrides)
    _current = _from_environment(replace(MemoryLimits(), **values))
    if overrides:
        _current = replace(_current, **overrides)
    return _current


def describe_bytes(count: int) -> str:
    """``count`` bytes as a short figure for messages ("16.0 GiB", "512 KiB")."""
    for unit, size in (("GiB", 1 << 30), ("MiB", _MIB), ("KiB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"
