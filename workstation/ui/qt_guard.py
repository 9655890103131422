"""A guard against a reference-counting defect of PySide6 6.12.0 on CPython 3.11.

With that combination every call of a Qt method that returns nothing (``setText``,
``update``, ``processEvents``, ``QTest.qWait``, …) drops one reference to
``None`` that it never took.  ``None`` starts with a few thousand references, so
after a few thousand such calls CPython aborts with "deallocating None": the
workstation would crash in the middle of a reading.  PySide6 6.11 does not do
this, and from CPython 3.12 on ``None`` is immortal, so the defect is harmless.

:func:`guard_none_refcount` detects the defect and, only then, gives ``None`` the
practically endless reference count that CPython 3.12 gives it.  It changes no
behaviour besides what ``sys.getrefcount(None)`` reports.  The real fix is a
PySide6 without the defect or a newer CPython; the guard then does nothing.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PROBE_CALLS = 64
_RESERVE = 1 << 40  # references; at a million void calls a second it lasts for weeks

_applied = False


def none_references_lost_per_call() -> float:
    """How many references to ``None`` one void Qt call drops (0 when the bindings are sound)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    return (before - sys.getrefcount(None)) / _PROBE_CALLS


def guard_none_refcount() -> bool:
    """Apply the guard if this interpreter and PySide6 need it; returns whether it is in force."""
    global _applied
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if none_references_lost_per_call() < 0.5:
        return False
    # ob_refcnt is the first field of every object in CPython's (non-debug) object layout.
    ctypes.c_ssize_t.from_address(id(None)).value += _RESERVE
    _applied = True
    import PySide6

    log.warning(
        "PySide6 %s drops references to None on CPython %d.%d; guard applied (use PySide6 < 6.12 or CPython >= 3.12)",
        PySide6.__version__, sys.version_info[0], sys.version_info[1],
    )
    return True
