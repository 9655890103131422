"""C-FIND against the demo archive: de-duplication, levels, matching, cancel."""

from __future__ import annotations

import threading

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind

from tests.net.helpers import CALLING_AE
from workstation.config import Node
from workstation.net.association import Peer, ServiceFailed
from workstation.net.find import find

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


def test_study_level_deduplicated(loaded_archive, archive_peer):
    studies = list(find(archive_peer, CALLING_AE, "STUDY"))
    assert len(studies) == 2
    assert len({s.StudyInstanceUID for s in studies}) == 2
    assert sorted(s.PatientID for s in studies) == ["LBX-T1", "LBX-T2"]


def test_series_and_image_levels(loaded_archive, archive_peer):
    assert len(list(find(archive_peer, CALLING_AE, "SERIES"))) == 3
    images = list(find(archive_peer, CALLING_AE, "IMAGE"))
    assert len(images) == 10
    assert len({i.SOPInstanceUID for i in images}) == 10


def test_patient_level_uses_patient_root(loaded_archive, archive_peer):
    patients = list(find(archive_peer, CALLING_AE, "PATIENT"))
    assert sorted(p.PatientID for p in patients) == ["LBX-T1", "LBX-T2"]


def test_matching_keys(loaded_archive, archive_peer):
    by_name = list(find(archive_peer, CALLING_AE, "STUDY", {"PatientName": "Test^Al*"}))
    assert [s.PatientID for s in by_name] == ["LBX-T1"]
    by_date = list(find(archive_peer, CALLING_AE, "STUDY", {"StudyDate": ("20240201", None)}))
    assert [s.PatientID for s in by_date] == ["LBX-T2"]
    study_uid = by_name[0].StudyInstanceUID
    series = list(find(archive_peer, CALLING_AE, "SERIES", {"StudyInstanceUID": study_uid}))
    assert len(series) == 2
    images = list(find(archive_peer, CALLING_AE, "IMAGE", {"SeriesInstanceUID": series[0].SeriesInstanceUID}))
    assert len(images) in (3, 4)


def test_node_with_patient_query_model(loaded_archive, archive_peer):
    node = Node(name="demo", ae_title=archive_peer.ae_title, host="127.0.0.1", port=archive_peer.port,
                query_model="patient", timeout=10)
    studies = list(find(node, CALLING_AE, "STUDY", {"PatientID": "LBX-T2"}))
    assert len(studies) == 1


def test_results_arrive_as_iterator_and_early_close_releases(loaded_archive, archive_peer):
    results = find(archive_peer, CALLING_AE, "IMAGE")
    first = next(results)
    assert "SOPInstanceUID" in first
    results.close()  # C-CANCEL, then release; the archive stays usable
    assert len(list(find(archive_peer, CALLING_AE, "STUDY"))) == 2


def test_cancel_stops_results(loaded_archive, archive_peer):
    stop = threading.Event()
    got = []
    for ds in find(archive_peer, CALLING_AE, "IMAGE", cancel=stop):
        got.append(ds)
        stop.set()
    assert 1 <= len(got) < 10


def test_cancel_before_start_opens_nothing():
    # No archive needed: nothing is contacted when already cancelled.
    assert list(find(Peer("127.0.0.1", 9, "NONE", timeout=1), CALLING_AE, "STUDY", cancel=lambda: True)) == []


def test_bad_keys_fail_before_any_network():
    with pytest.raises(ValueError):
        find(Peer("127.0.0.1", 9, "NONE", timeout=1), CALLING_AE, "STUDY", {"StudyDate": "2024-01-01"})


def test_failure_status_raises_service_failed():
    def refuse(event):
        yield 0xA700, None

    ae = AE("FINDSCP")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, refuse)])
    try:
        peer = Peer("127.0.0.1", server.server_address[1], "FINDSCP", timeout=5)
        with pytest.raises(ServiceFailed, match="refused the STUDY query: Failure 0xA700") as info:
            list(find(peer, CALLING_AE, "STUDY"))
        assert info.value.status == 0xA700
    finally:
        server.shutdown()


def test_duplicates_dropped_from_any_archive():
    def duplicate(event):
        for uid in ("1.2.3", "1.2.3", "1.2.4", "1.2.3"):
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.StudyInstanceUID = uid
            yield 0xFF00, ds

    ae = AE("FINDSCP")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_FIND, duplicate)])
    try:
        peer = Peer("127.0.0.1", server.server_address[1], "FINDSCP", timeout=5)
        assert [d.StudyInstanceUID for d in find(peer, CALLING_AE, "STUDY")] == ["1.2.3", "1.2.4"]
    finally:
        server.shutdown()


def test_damaged_sequence_in_a_response_is_detected():
    from pydicom.dataelem import RawDataElement
    from pydicom.dataset import Dataset
    from pydicom.tag import Tag

    from workstation.net.find import _decodable

    good = Dataset()
    good.PatientID = "X1"
    assert _decodable(good)
    damaged = Dataset()
    damaged.PatientID = "X1"
    # Referenced Series Sequence, defined length, whose content is not items
    # (implicit VR: VR unknown on the raw element).
    # Its one item holds a nested sequence of undefined length cut off mid-way.
    garbage = b"\xfe\xff\x00\xe0\xff\xff\xff\xff\x08\x00\x15\x11\xff\xff\xff\xff\xde\xad"
    damaged._dict[Tag(0x00081115)] = RawDataElement(Tag(0x00081115), None, len(garbage), garbage, 0, True, True)
    assert not _decodable(damaged)
