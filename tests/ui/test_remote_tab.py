"""The Remote tab: filters become query keys, answers become rows, retrieve brings studies in."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydicom.dataset import Dataset
from PySide6.QtCore import Qt

from tests.viewer_phantom import phantom_study
from workstation.config import Node, Settings
from workstation.store.queries import StudyFilter
from workstation.ui import remote_tab as remote_tab_module
from workstation.ui.remote_query import query_keys, remote_study
from workstation.ui.remote_tab import RemoteTab

WAIT_MS = 20_000


def test_query_keys_follow_archive_matching():
    keys = query_keys(StudyFilter(patient_name="Mül", patient_id="ID 7", modality="CT",
                                  date_from="20240101", date_to="20241231"))
    assert keys == {"PatientName": "Mül*", "PatientID": "ID 7", "Modality": "CT", "StudyDate": "20240101-20241231"}
    assert query_keys(StudyFilter(patient_name="M?ller*", date_from="20240101", date_to="20240101")) == {
        "PatientName": "M?ller*", "StudyDate": "20240101"}
    assert query_keys(StudyFilter()) == {}


def test_answers_become_rows():
    ds = Dataset()
    ds.StudyInstanceUID = "1.2.3"
    ds.PatientName = "Doe^Jane"
    ds.ModalitiesInStudy = ["CT", "SR"]
    ds.NumberOfStudyRelatedInstances = 12
    row = remote_study(ds)
    assert (row.study_uid, row.patient_name, row.modalities, row.num_instances) == ("1.2.3", "Doe^Jane",
                                                                                     "CT\\SR", "12")


@pytest.fixture
def settings():
    return Settings(nodes=[Node(name="pacs", ae_title="PACS", host="127.0.0.1", port=11999)])


def test_search_shows_rows_marks_cached_studies_and_retrieves(qtbot, cache, tmp_path, settings, monkeypatch):
    cached_uid = phantom_study(cache, tmp_path / "p", 2)
    answers = [
        remote_study(_answer(cached_uid, "Phantom^Paula", "20240102")),
        remote_study(_answer("1.2.826.0.1.3680043.10.1234.99", "Remote^Rita", "20240301")),
    ]
    asked = []

    def fake_stream(node, ae, flt, cancel, notes=None):
        asked.append((node.name, flt.patient_name))
        yield from answers + answers[:1]  # an archive answering one study twice

    monkeypatch.setattr(remote_tab_module, "stream_studies", fake_stream)
    retrieved = []

    def fake_retrieve(node, study_uid, progress, cancel):
        progress(SimpleNamespace(completed=1, remaining=0, failed=0, warning=0, total=1, bytes=0, mb_per_s=0.0))
        retrieved.append((node.name, study_uid))
        return SimpleNamespace(summary=lambda: "1 instance retrieved", ok=True, cancelled=False)

    tab = RemoteTab(cache, lambda: settings, fake_retrieve)
    qtbot.addWidget(tab)
    tab.show()
    assert tab.node_combo.currentText() == "pacs"
    qtbot.keyClicks(tab.filter_bar.name_edit, "Ph")
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.busy() and tab.table.rowCount() == 2, timeout=WAIT_MS)
    assert asked == [("pacs", "Ph")]
    assert tab.status.text() == "2 studies on pacs"
    # Newest first; the study already cached is marked.
    assert [tab.table.item(r, 0).text() for r in range(2)] == ["Remote, Rita", "Phantom, Paula"]
    assert [tab.table.item(r, 10).text() for r in range(2)] == ["", "in cache"]
    tab.table.selectRow(1)
    with qtbot.waitSignal(tab.retrieved, timeout=WAIT_MS) as signal:
        qtbot.mouseClick(tab.retrieve_button, Qt.MouseButton.LeftButton)
    assert signal.args == [cached_uid]
    qtbot.waitUntil(lambda: not tab.busy(), timeout=WAIT_MS)
    assert retrieved == [("pacs", cached_uid)]
    job_id = tab.queue_panel.selected_job_ids() or list(tab.queue.jobs)
    texts = tab.queue_panel.row_texts(job_id[0])
    assert texts[0] == "Phantom, Paula 2024-01-02" or texts[0].startswith("Phantom, Paula"), texts
    assert texts[1:3] == ["pacs", "Done"] and texts[4:7] == ["1", "0", "0"] and texts[-1] == "1 instance retrieved"


def test_no_archive_configured_says_so(qtbot, cache):
    tab = RemoteTab(cache, lambda: Settings(), lambda *a: None)
    qtbot.addWidget(tab)
    assert not tab.search_button.isEnabled()
    assert "No archive is configured" in tab.status.text()
    assert not tab.retrieve_selected()
    assert tab.status.text() == "Select one or more studies first"


def test_a_failing_archive_is_reported(qtbot, cache, settings, monkeypatch):
    def refuse(*_a, **_kw):
        raise ConnectionRefusedError("association refused by 127.0.0.1:11999")

    monkeypatch.setattr(remote_tab_module, "stream_studies", refuse)
    tab = RemoteTab(cache, lambda: settings, lambda *a: None)
    qtbot.addWidget(tab)
    tab.search()
    qtbot.waitUntil(lambda: not tab.busy(), timeout=WAIT_MS)
    assert tab.status.text() == "Failed: association refused by 127.0.0.1:11999"


def _answer(uid: str, name: str, date: str) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = uid
    ds.PatientName = name
    ds.PatientID = "X"
    ds.StudyDate = date
    return ds


@pytest.mark.interop
def test_search_and_retrieve_from_a_real_archive(qtbot, cache, tmp_path, lightbox_home):
    """Against the embedded demo archive (pynetdicom's qrscp): C-FIND, then C-GET into the cache."""
    from tests.net.helpers import CALLING_AE, free_port
    from tests.viewer_phantom import write_phantom
    from workstation.home import Home
    from workstation.net.archive import EmbeddedArchive
    from workstation.net.association import Peer
    from workstation.net.retrieve import retrieve
    from workstation.net.send import send_files

    files = write_phantom(tmp_path / "remote", 3, patient_name="Remote^Rita", patient_id="R-1")
    archive = EmbeddedArchive(tmp_path / "archive", port=free_port())
    archive.start(timeout=30)
    try:
        assert send_files(files, Peer("127.0.0.1", archive.port, archive.ae_title, timeout=10), CALLING_AE).ok
        node = Node(name="demo", ae_title=archive.ae_title, host="127.0.0.1", port=archive.port, retrieve="get")
        settings = Settings(ae_title=CALLING_AE, nodes=[node])
        home = Home.single(lightbox_home)

        def retrieve_study(node, study_uid, progress, cancel):
            return retrieve(node, settings, home, cache, study_uid, progress=progress, cancel=cancel)

        tab = RemoteTab(cache, lambda: settings, retrieve_study)
        qtbot.addWidget(tab)
        qtbot.keyClicks(tab.filter_bar.name_edit, "Remote")
        tab.search()
        qtbot.waitUntil(lambda: not tab.busy(), timeout=WAIT_MS)
        assert [r.patient_name for r in tab.rows] == ["Remote^Rita"], tab.status.text()
        assert tab.status.text() == "1 study on demo"
        tab.table.selectRow(0)
        with qtbot.waitSignal(tab.retrieved, timeout=WAIT_MS):
            tab.retrieve_selected()
        qtbot.waitUntil(lambda: not tab.busy(), timeout=WAIT_MS)
        assert cache.study(tab.rows[0].study_uid).num_instances == 3
    finally:
        archive.stop()
