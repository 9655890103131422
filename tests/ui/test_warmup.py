"""Once-per-process warm-up while the window idles, and work run after a study's first image."""

from __future__ import annotations

import gc
import logging

import pytest
from PySide6.QtCore import Qt

from tests.viewer_phantom import phantom_study
from workstation.ui import warmup
from workstation.ui.main_window import MainWindow
from workstation.ui.viewer.viewer import ViewerWidget

WAIT_MS = 20_000


@pytest.fixture
def fresh_process(monkeypatch):
    """As if nothing had been warmed in this process yet."""
    monkeypatch.setattr(warmup, "_warmed", set())
    monkeypatch.setattr(warmup, "timings", {})
    monkeypatch.setattr(warmup, "_running", [0])


def test_steps_run_one_per_event_loop_turn_once_per_process_a_failure_is_logged(qtbot, cache, fresh_process,
                                                                                   caplog):
    window = MainWindow(cache)
    qtbot.addWidget(window)
    ran: list[str] = []

    def failing() -> None:
        ran.append("broken")
        raise ValueError("no font today")

    steps = [("a", lambda: ran.append("a")), ("broken", failing), ("b", lambda: ran.append("b"))]
    with caplog.at_level(logging.ERROR):
        assert warmup.schedule_warmup(window, steps) == ["a", "broken", "b"]
        assert ran == [] and warmup.warming()  # nothing runs inside the call: the window shows first
        qtbot.waitUntil(lambda: not warmup.warming(), timeout=WAIT_MS)
    assert ran == ["a", "broken", "b"]  # the failing step did not stop the others
    assert "warm-up step broken failed" in caplog.text
    assert set(warmup.timings) == {"a", "broken", "b"}
    # Once per process: a second window warms nothing again.
    other = MainWindow(cache)
    qtbot.addWidget(other)
    assert warmup.schedule_warmup(other, steps) == []
    window.browser.stop()
    other.browser.stop()


def test_the_shown_window_warms_its_parts_up_without_an_error(qtbot, cache, home, fresh_process, caplog):
    from workstation.ui.app import compose_main_window

    window = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(window)
    with caplog.at_level(logging.ERROR):
        window.show()  # the first show schedules the warm-up
        qtbot.waitUntil(lambda: bool(warmup.timings) and not warmup.warming(), timeout=WAIT_MS)
    assert {"numpy", "grey tables", "overlay text", "orientation markers", "hanging protocols",
            "report form", "garbage collector"} <= set(warmup.timings)
    assert gc.get_freeze_count() > 0  # the start-up's objects are left out of later full collections
    assert "warm-up step" not in caplog.text
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)


def test_work_after_images_waits_for_the_first_painted_image(qtbot, cache, tmp_path):
    uid = phantom_study(cache, tmp_path / "p", 4, patient_name="Ōkubo^Mīna")
    window = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(window)
    viewer = ViewerWidget(cache)
    window.attach_viewer(viewer)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    seen: list[tuple[str, int]] = []
    original = viewer.viewports[0].on_image_painted

    def painted(index: int) -> None:
        seen.append(("painted", index))
        original(index)

    viewer.viewports[0].on_image_painted = painted
    try:
        qtbot.waitUntil(lambda: uid in window.browser.shown_study_uids(), timeout=WAIT_MS)
        assert window.browser.select_study(uid)
        window.browser.table.setFocus()
        with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS):
            qtbot.keyClick(window.browser.table, Qt.Key.Key_Return)
        warmup.after_images(viewer, lambda: seen.append(("work", len(seen))))
        assert ("work", 0) not in seen
        qtbot.waitUntil(lambda: any(kind == "work" for kind, _n in seen), timeout=WAIT_MS)
        assert seen[0] == ("painted", 0)  # the image first, then the work
        qtbot.wait(50)
        assert [kind for kind, _n in seen].count("work") == 1
    finally:
        window.close()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
        viewer.shutdown()


def test_work_after_images_runs_even_when_no_image_is_painted(qtbot, cache):
    viewer = ViewerWidget(cache)
    qtbot.addWidget(viewer)
    ran: list[int] = []
    warmup.after_images(viewer, lambda: ran.append(1), fallback_ms=50)
    qtbot.waitUntil(lambda: ran == [1], timeout=WAIT_MS)
    qtbot.wait(100)
    assert ran == [1]
    viewer.shutdown()
