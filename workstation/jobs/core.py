"""Cancellation and throttled progress for long work (import, retrieve, volume build)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Cancelled(Exception):
    """Raised inside a job when its cancel token is set."""


class CancelToken:
    """Set from any thread; the job checks it between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


ProgressCallback = Callable[[int, int], None]


class ProgressThrottle:
    """Calls ``callback(done, total)`` at most every ``interval`` seconds, and always at the end.

    Reporting every unit made indexers several times slower elsewhere; 10 per
    second is what a person can see.
    """

    def __init__(self, callback: ProgressCallback | None, total: int, interval: float = 0.1) -> None:
        self._callback = callback
        self.total = total
        self._interval = interval
        self._last = 0.0
        self.done = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._callback is None:
            return
        now = time.monotonic()
        if now - self._last >= self._interval or self.done >= self.total:
            self._last = now
            self._callback(self.done, self.total)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback(self.done, self.total)
