"""Run a function whose native code may abort the process in a forked child.

GDCM throws C++ exceptions that nothing catches: the process ends with
SIGABRT.  Where data is suspect (another decoder already refused it), the
decode runs here instead: in a child made with ``fork`` (cheap, works in a
frozen bundle, the data is already in memory), whose result comes back
pickled through a pipe.  A child killed by a signal, or taking longer than
its time limit, is reported as :class:`IsolatedFailure`; the parent goes on.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import pickle
import select
import signal
import time
from typing import Any, TypeVar
from collections.abc import Callable

__all__ = ["IsolatedFailure", "run_isolated", "isolation_available"]

_T = TypeVar("_T")


class IsolatedFailure(Exception):
    """The child died, hung or raised; the message is fit to show."""


def isolation_available() -> bool:
    """True where ``fork`` exists (POSIX)."""
    return hasattr(os, "fork")


def run_isolated(function: Callable[..., _T], *args: Any, timeout: float = 60.0,
                 what: str = "the decoder") -> _T:
    """Call ``function(*args)`` in a forked child and return its result.

    Parameters
    ----------
    function : callable
        Must return something picklable.
    *args
        Its arguments (inherited by the child, not pickled).
    timeout : float
        Seconds before the child is killed.
    what : str
        Names the work in messages ("the GDCM decoder").

    Returns
    -------
    object
        What ``function`` returned.

    Raises
    ------
    IsolatedFailure
        The child ended by a signal, exceeded ``timeout`` or raised (the
        exception's first line is kept).
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into the caller's stack
        code = 0
        try:
            # An abort here is the expected, reported outcome: no fault dump of the parent's stack.
            faulthandler.disable()
            os.close(read_fd)
            try:
                payload = pickle.dumps((True, function(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                payload = pickle.dumps((False, text))
            view = memoryview(payload)
            while view:
                written = os.write(write_fd, view)
                view = view[written:]
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 1.0))
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise IsolatedFailure(f"{what} took longer than {timeout:g} s and was stopped")
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        raise IsolatedFailure(f"{what} crashed on this image ({name})")
    try:
        ok, value = pickle.loads(b"".join(chunks))
    except Exception:
        raise IsolatedFailure(f"{what} ended without a result") from None
    if not ok:
        raise IsolatedFailure(str(value))
    result: _T = value  # what function returned, through a pickle
    return result
