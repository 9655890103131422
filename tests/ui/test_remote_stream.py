"""A C-FIND answered by 1,000 studies streams into the Remote tab without blocking the GUI; Cancel stops it."""

from __future__ import annotations

import time

from pydicom.dataset import Dataset
from PySide6.QtCore import QTimer

from workstation.config import Node, Settings
from workstation.net import find as find_module
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


def test_a_thousand_studies_stream_while_a_20ms_timer_keeps_ticking(qtbot, cache, monkeypatch):
    asked = []

    def fake_find(node, calling_ae, level, keys, cancel=None, **_kw):
        asked.append((level, dict(keys)))
        for k in range(1000):
            time.sleep(0.001)  # responses arriving over about a second
            yield _study(k)
            if k % 100 == 0:
                yield _study(k)  # archives that answer a study more than once

    monkeypatch.setattr(find_module, "find", fake_find)
    tab = _tab(qtbot, cache)
    ticks: list[float] = []
    partial: list[int] = []

    def tick() -> None:
        ticks.append(time.monotonic())
        partial.append(tab.table.rowCount())

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(tick)
    timer.start()
    tab.filter_bar.name_edit.setText("Stream")
    started = time.monotonic()
    assert tab.search()
    qtbot.waitUntil(lambda: not tab.searching(), timeout=WAIT_MS)
    elapsed = time.monotonic() - started
    timer.stop()
    assert asked == [("STUDY", {"PatientName": "Stream*"})]
    assert tab.table.rowCount() == 1000 and len(tab.rows) == 1000
    assert tab.status.text() == "1000 studies on pacs"
    # The GUI thread kept running its timer during the search, and saw rows arrive in several batches.
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    print(f"1000 studies in {elapsed:.2f} s; 20 ms timer ticked {len(ticks)} times, longest gap {max(gaps) * 1000:.0f} ms")
    assert len(ticks) >= 10
    assert any(0 < n < 1000 for n in partial)
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
