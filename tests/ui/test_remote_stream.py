"""A C-FIND answered by 1,000 studies streams into the Remote tab without blocking the GUI; Cancel stops it."""

from __future__ import annotations

import threading
import time

from pydicom.dataset import Dataset
from PySide6.QtCore import QTimer

from workstation.config import Node, Settings
from workstation.net import find as find_module
from workstation.ui import remote_tab
from workstation.ui.remote_tab import RemoteTab

WAIT_MS = 30_000


def _study(k: int) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.1234.{k}"
    ds.PatientName = f"Stream^Patient{k:04d}"
    ds.PatientID = f"S{k:04d}"
    ds.StudyDate = f"2024{1 + k % 12:02d}{1 + k % 28:02d}"
    ds.ModalitiesInStudy = "CT"
    return ds


def _tab(qtbot, cache) -> RemoteTab:
    settings = Settings(nodes=[Node(name="pacs", ae_title="PACS", host="127.0.0.1", port=11999)])
    tab = RemoteTab(cache, lambda: settings, lambda *a: None)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def test_a_thousand_studies_stream_while_the_gui_keeps_running(qtbot, cache, monkeypatch):
    # Deterministic, no clock: the archive's answers stop halfway on an event the test holds; by then
    # the first half must be in the table (rows are shown while the search still runs) and the GUI
    # thread must run a posted call; then the rest comes.
    asked = []
    halfway, go_on = threading.Event(), threading.Event()
    find_threads = []

    def fake_find(node, calling_ae, level, keys, cancel=None, **_kw):
        asked.append((level, dict(keys)))
        find_threads.append(threading.current_thread())
        for k in range(1000):
            if k == 500:
                halfway.set()
                go_on.wait(WAIT_MS / 1000)  # bounded: a failing test still lets the search end
            yield _study(k)
            if k % 100 == 0:
                yield _study(k)  # archives that answer a study more than once

    monkeypatch.setattr(find_module, "find", fake_find)
    monkeypatch.setattr(remote_tab, "BATCH_INTERVAL_S", 0.0)  # each answer leaves at once: none waits on a clock
    tab = _tab(qtbot, cache)
    tab.filter_bar.name_edit.setText("Stream")
    try:
        assert tab.search()  # returns at once: the C-FIND runs on another thread
        qtbot.waitUntil(lambda: tab.table.rowCount() == 500, timeout=WAIT_MS)
        assert halfway.is_set() and tab.searching()
        assert find_threads[0] is not threading.main_thread()
        posted = []
        QTimer.singleShot(0, lambda: posted.append(threading.current_thread()))
        qtbot.waitUntil(lambda: bool(posted), timeout=WAIT_MS)
        assert posted == [threading.main_thread()]
        go_on.set()
    finally:
        go_on.set()
    qtbot.waitUntil(lambda: not tab.searching(), timeout=WAIT_MS)
    assert asked == [("STUDY", {"PatientName": "Stream*"})]
    assert tab.table.rowCount() == 1000 and len(tab.rows) == 1000
    assert tab.status.text() == "1000 studies on pacs"
    # Newest first once complete.
    dates = [r.study_date for r in tab.rows]
    assert dates == sorted(dates, reverse=True)


def test_cancel_stops_the_search(qtbot, cache, monkeypatch):
    yielded = []

    def slow_find(node, calling_ae, level, keys, cancel=None, **_kw):
        for k in range(100_000):
            if cancel is not None and cancel():
                return  # the real find sends C-CANCEL here
            time.sleep(0.002)
            yielded.append(k)
            yield _study(k)

    monkeypatch.setattr(find_module, "find", slow_find)
    tab = _tab(qtbot, cache)
    tab.search()
    qtbot.waitUntil(lambda: tab.table.rowCount() > 0, timeout=WAIT_MS)
    assert tab.cancel_button.isEnabled()
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: not tab.searching(), timeout=WAIT_MS)
    n = tab.table.rowCount()
    assert 0 < n < 100_000 and len(yielded) <= n + 1
    assert tab.status.text() == f"Cancelled: {n} studies on pacs"
    assert not tab.cancel_button.isEnabled() and tab.search_button.isEnabled()
