"""The background task: a plain thread whose output arrives as signals on the GUI thread."""

from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject, QThread

from workstation.ui.background import BackgroundTask

WAIT_MS = 20_000


def test_items_stream_in_order_then_finished_on_the_gui_thread(qtbot):
    task = BackgroundTask(name="test")
    gui = QThread.currentThread()
    seen = []
    threads = []
    task.item.connect(lambda item: (seen.append(item), threads.append(QThread.currentThread())))
    first_seen = threading.Event()
    go_on = threading.Event()

    def work(emit, cancel):
        emit(1)
        first_seen.wait(WAIT_MS / 1000)  # the first item arrives while the work still runs
        for k in range(2, 501):
            emit(k)
        go_on.wait(WAIT_MS / 1000)
        return "result"

    assert task.start(work)
    assert not task.start(work)  # one run at a time
    qtbot.waitUntil(lambda: seen == [1], timeout=WAIT_MS)
    first_seen.set()
    assert task.is_running()
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as done:
        go_on.set()
    assert done.args == ["result"]
    assert seen == list(range(1, 501))  # every item before ``finished``
    assert all(t is gui for t in threads)
    assert not task.is_running() and not task.thread_alive()
    assert task.wait(0)


def test_a_failure_is_one_line_and_a_new_run_may_start_from_the_slot(qtbot):
    task = BackgroundTask(name="test")
    results = []

    def broken(emit, cancel):
        emit("partial")
        raise OSError("disk gone\nsecond line")

    items = []
    task.item.connect(items.append)
    task.failed.connect(lambda message: (results.append(message), task.start(lambda e, c: "again")))
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as again:
        assert task.start(broken)
    assert items == ["partial"] and results == ["disk gone"] and again.args == ["again"]


def test_cancel_reaches_the_work(qtbot):
    task = BackgroundTask(name="test")
    started = threading.Event()

    def work(emit, cancel):
        started.set()
        return cancel.wait(WAIT_MS / 1000)

    assert task.start(work)
    assert started.wait(WAIT_MS / 1000)
    with qtbot.waitSignal(task.finished, timeout=WAIT_MS) as done:
        task.cancel()
    assert done.args == [True]


def test_wait_joins_the_thread_and_drain_delivers_at_once(qtbot):
    task = BackgroundTask(name="test")
    ended = []
    task.finished.connect(ended.append)
    assert task.start(lambda emit, cancel: 7)
    assert task.wait(WAIT_MS / 1000)
    assert task.is_running()  # the end is not delivered yet
    task.drain()
    assert ended == [7] and not task.is_running()


def test_an_owner_dropped_while_its_thread_runs_is_harmless(qtbot):
    release = threading.Event()
    done = threading.Event()

    def work(emit, cancel):
        release.wait(WAIT_MS / 1000)
        for k in range(100):
            emit(k)
        done.set()
        return "nobody listens"

    owner = QObject()
    task = BackgroundTask(owner, name="test")
    task.item.connect(lambda _item: None)
    assert task.start(work)
    del task
    owner.deleteLater()
    del owner
    gc.collect()
    qtbot.wait(100)  # the owner and its timer are gone
    release.set()
    assert done.wait(WAIT_MS / 1000)
    qtbot.wait(100)  # the thread ends with its items in a queue nobody reads
    # A later task forgets the ended run (on the GUI thread) and works as usual.
    other = BackgroundTask(name="test")
    with qtbot.waitSignal(other.finished, timeout=WAIT_MS) as finished:
        other.start(lambda emit, cancel: "fine")
    assert finished.args == ["fine"]
