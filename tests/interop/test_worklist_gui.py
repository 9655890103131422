"""The Worklist tab against a real archive: refreshed over the network, a double-click retrieves (C-GET) and opens."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pydicom.uid import generate_uid

from tests.interop.conftest import CALLING_AE
from tests.net.helpers import make_ct
from workstation import config
from workstation.net.send import send_files
from workstation.store.queries import StudyFilter
from workstation.ui.app import compose_main_window
from workstation.worklist.orders import Order, save_orders

pytestmark = [pytest.mark.gui, pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300)]


def test_double_click_retrieves_from_the_archive_and_opens(qtbot, qrscp, home, cache, tmp_path):
    study_uid, series_uid = generate_uid(), generate_uid()
    paths = []
    for n in (1, 2, 3):
        ds = make_ct(("Remote^Rosa", "WG-1"), study_uid, series_uid, n, study_date="20240301")
        ds.AccessionNumber = "WG-ACC"
        path = tmp_path / f"im{n}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    assert send_files(paths, qrscp.peer, CALLING_AE).ok
    s = config.Settings(nodes=[qrscp.node("ARCHIVE", retrieve="get")])
    s.extra["worklist"] = {"days": 3650}
    config.save(s, home.config_file)
    save_orders(cache, [Order("WG-ACC", priority="STAT", reason="Chest pain", requested_procedure="CT chest")])

    window = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    tab = window.worklist
    window.study_tabs.setCurrentWidget(tab)
    tab.network = True  # this window asks the archive
    try:
        qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not tab.fetcher.is_running() and any(i.study_uid == study_uid for i in tab.items),
                        timeout=60_000)
        item = [i for i in tab.items if i.study_uid == study_uid][0]
        assert (item.location, item.priority, item.reason) == ("ARCHIVE", "STAT", "Chest pain")
        row = tab.items.index(item)
        rect = tab.table.visualItemRect(tab.table.item(row, 2))
        qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        try:
            qtbot.waitUntil(lambda: any(st.study_uid == study_uid for st in window.viewer.session.studies),
                            timeout=120_000)
        except qtbot.TimeoutError:
            raise AssertionError(f"not opened; the tab says: {tab.note.text()!r}") from None
        assert cache.study(study_uid).num_instances == 3
        assert "Retrieved 3 images" in tab.note.text()
        assert [i.location for i in tab.items if i.study_uid == study_uid] == ["local"]
        assert "Chest pain" in window.order_header.text()
    finally:
        window.close()
        window.viewer.shutdown()
        qtbot.wait(50)
    assert {st.study_uid for st in cache.studies(StudyFilter())} == {study_uid}
