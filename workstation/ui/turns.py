"""Work split into steps that take the event loop's turns one at a time, whoever asks.

A view that comes up in steps (an OpenGL set-up, a first reslice, a render; some
tens of milliseconds each) used to queue its next step with
``QTimer.singleShot(0, ...)``.  Every such call due at once runs in the same turn
of the event loop, so the MPR views and the 3D view coming up together held the
loop for the sum of their steps (four at once: 130 ms and more).  Steps queued
here run one per turn, in the order asked, with input, painting and timers
handled between any two of them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QTimer

_steps: deque[Callable[[], object]] = deque()
_timer: list[QTimer] = []  # made on first use, on the GUI thread


def next_turn(step: Callable[[], object]) -> None:
    """Run ``step`` on the GUI thread in a turn of the event loop of its own, after the steps queued before it."""
    _steps.append(step)
    timer = _the_timer()
    if not timer.isActive():
        timer.start()


def pending() -> int:
    """Steps waiting for their turn."""
    return len(_steps)


def _the_timer() -> QTimer:
    if not _timer:
        timer = QTimer()
        timer.setSingleShot(True)
        timer.setInterval(0)
        timer.timeout.connect(_run_one)
        _timer.append(timer)
    return _timer[0]


def _run_one() -> None:
    if not _steps:
        return
    step = _steps.popleft()
    try:
        step()
    finally:
        if _steps:
            _the_timer().start()
