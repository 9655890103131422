"""Steps queued by views coming up together take the event loop's turns one at a time."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from workstation.ui import turns


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_two_views_steps_alternate_with_other_events_between(qtbot):
    """Two chains of steps (as the MPR and the 3D view queue them): one step per turn, a timer ticks between."""
    ran: list[str] = []
    ticks: list[int] = []  # how many steps had run at each tick of a 0 ms timer
    meter = QTimer()
    meter.setInterval(0)
    meter.timeout.connect(lambda: ticks.append(len(ran)))

    def chain(name: str, left: int):
        def step() -> None:
            _busy(0.005)
            ran.append(name)
            if left > 1:
                turns.next_turn(chain(name, left - 1))
        return step

    meter.start()
    turns.next_turn(chain("mpr", 4))
    turns.next_turn(chain("3d", 4))
    qtbot.waitUntil(lambda: len(ran) == 8 and turns.pending() == 0, timeout=10_000)
    meter.stop()
    assert ran == ["mpr", "3d"] * 4  # in the order asked, interleaved
    # Between any two steps the event loop turned: the timer saw every count from 0 to 8.
    assert set(range(9)) <= set(ticks)


def test_a_failing_step_does_not_stop_the_next(qtbot):
    ran: list[str] = []

    def bad() -> None:
        raise RuntimeError("broken step")

    with qtbot.capture_exceptions() as raised:
        turns.next_turn(bad)
        turns.next_turn(lambda: ran.append("next"))
        qtbot.waitUntil(lambda: ran == ["next"], timeout=10_000)
    assert [str(e[1]) for e in raised] == ["broken step"]  # reported as any slot's exception, and no more
