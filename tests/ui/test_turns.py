"""Steps queued by views coming up together take the event loop's turns one at a time."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QApplication

from workstation.ui import turns


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_two_views_steps_take_one_turn_each(qtbot):
    """Two chains of steps (as the MPR and the 3D view queue them): in order, never two in one turn."""
    ran: list[str] = []

    def chain(name: str, left: int):
        def step() -> None:
            _busy(0.002)
            ran.append(name)
            if left > 1:
                turns.next_turn(chain(name, left - 1))
        return step

    turns.next_turn(chain("mpr", 4))
    turns.next_turn(chain("3d", 4))
    per_turn = []
    deadline = time.monotonic() + 10
    while (len(ran) < 8 or turns.pending()) and time.monotonic() < deadline:
        before = len(ran)
        QApplication.processEvents()  # one turn of the event loop
        per_turn.append(len(ran) - before)
    assert ran == ["mpr", "3d"] * 4  # in the order asked, interleaved
    assert max(per_turn) == 1  # input, painting and timers get their turn between any two steps


def test_a_failing_step_does_not_stop_the_next(qtbot):
    ran: list[str] = []

    def bad() -> None:
        raise RuntimeError("broken step")

    with qtbot.capture_exceptions() as raised:
        turns.next_turn(bad)
        turns.next_turn(lambda: ran.append("next"))
        qtbot.waitUntil(lambda: ran == ["next"], timeout=10_000)
    assert [str(e[1]) for e in raised] == ["broken step"]  # reported as any slot's exception, and no more
