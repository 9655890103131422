"""Against Orthanc, dcmqrscp and pynetdicom's qrscp: echo, find at every level, move, get, partial re-retrieve, send."""

from __future__ import annotations

from collections import defaultdict

import pytest
from pydicom import dcmread

from tests.interop.conftest import CALLING_AE
from workstation.config import Settings
from workstation.net.echo import echo
from workstation.net.find import find
from workstation.net.retrieve import retrieve
from workstation.net.send import send_files
from workstation.store.importer import import_paths

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


def _layout(files):
    """{study: {series: [sop uids]}} of the interop files, and their patient IDs."""
    studies: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    patients = set()
    by_uid = {}
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        studies[str(ds.StudyInstanceUID)][str(ds.SeriesInstanceUID)].append(str(ds.SOPInstanceUID))
        patients.add(str(ds.PatientID))
        by_uid[str(ds.SOPInstanceUID)] = f
    return studies, patients, by_uid


@pytest.fixture(scope="module")
def layout(interop_files):
    return _layout(interop_files)


def _big_study(layout):
    studies, _p, _u = layout
    return max(studies, key=lambda s: sum(len(v) for v in studies[s].values()))


def test_echo(any_archive):
    assert echo(any_archive.peer, CALLING_AE).ok


def test_find_at_every_level(any_archive, layout):
    studies, patients, _ = layout
    peer = any_archive.peer
    found_patients = {str(ds.PatientID) for ds in find(peer, CALLING_AE, "PATIENT", {"PatientID": "LBX-T*"})}
    assert found_patients == patients
    found_studies = {str(ds.StudyInstanceUID) for ds in find(peer, CALLING_AE, "STUDY", {"PatientID": "LBX-T*"})}
    assert found_studies == set(studies)
    dated = [ds for ds in find(peer, CALLING_AE, "STUDY", {"StudyDate": "20240101-20240131"})]
    assert [str(ds.PatientID) for ds in dated] == ["LBX-T1"]
    named = [ds for ds in find(peer, CALLING_AE, "STUDY", {"PatientName": "Test^B*"})]
    assert [str(ds.PatientName) for ds in named] == ["Test^Beta"]
    for study, series in studies.items():
        got = {str(ds.SeriesInstanceUID) for ds in find(peer, CALLING_AE, "SERIES", {"StudyInstanceUID": study})}
        assert got == set(series)
        for series_uid, sops in series.items():
            keys = {"StudyInstanceUID": study, "SeriesInstanceUID": series_uid}
            images = {str(ds.SOPInstanceUID) for ds in find(peer, CALLING_AE, "IMAGE", keys)}
            assert images == set(sops)


@pytest.mark.parametrize("method", ["move", "get"])
def test_retrieve_study_then_only_what_is_missing(any_archive, layout, method, home, settings, cache):
    studies, _p, by_uid = layout
    study = _big_study(layout)
    series = sorted(studies[study], key=lambda s: len(studies[study][s]))
    node = any_archive.node(max_associations=2)
    # A partial study: one instance of the first series is already cached (imported).
    first = studies[study][series[0]]
    assert import_paths(cache, [by_uid[first[0]]]).imported == 1
    seen = []
    one = retrieve(node, settings, home, cache, study, [series[0]], method=method, progress=seen.append)
    assert one.ok, one.summary()
    assert (one.expected, one.already_cached, one.retrieved) == (len(first), 1, len(first) - 1)
    assert seen and seen[-1].completed >= len(first) - 1 and seen[-1].failed == 0
    whole = retrieve(node, settings, home, cache, study, method=method)
    total = sum(len(v) for v in studies[study].values())
    assert whole.ok, whole.summary()
    assert (whole.expected, whole.already_cached, whole.retrieved, whole.failed) == \
        (total, len(first), total - len(first), 0)
    again = retrieve(node, settings, home, cache, study, method=method)
    assert (again.retrieved, again.already_cached, again.failed) == (0, total, 0)
    # Byte for byte what the archive sent; a test file's pixel data survived.
    row = cache.instance(series and studies[study][series[-1]][0])
    assert dcmread(cache.path_of(row)).pixel_array.shape == (8, 8)
    assert cache.study(study).num_instances == total


def test_unknown_study_is_a_clear_failure(any_archive, home, settings, cache):
    report = retrieve(any_archive.node(), settings, home, cache, "1.2.3.4.5.6.7.8.9")
    assert not report.ok and "has no study" in report.error and report.retrieved == 0


def test_send_to_archive(any_archive, interop_files):
    report = send_files(interop_files[:3], any_archive.peer, CALLING_AE)
    assert report.ok and report.sent == 3


@pytest.mark.parametrize("archive_name", ["dcmqrscp", "qrscp"])
def test_move_destination_unknown_falls_back_to_get(archive_name, request, interop_files, layout, home, storage_port,
                                                    cache):
    arc = request.getfixturevalue(archive_name)
    send_files(interop_files, arc.peer, CALLING_AE)
    stranger = Settings(ae_title="STRANGER", storage_port=storage_port, storage_bind_address="127.0.0.1",
                        accept_known_nodes_only=False)
    study = _big_study(layout)
    report = retrieve(arc.node(), stranger, home, cache, study, method="move")
    assert report.ok, report.summary()
    assert report.method == "get"
    assert any("0xA801" in n and "C-GET instead" in n and "add STRANGER" in n for n in report.notes)
    refused = retrieve(arc.node(get_fallback=False), stranger, home, cache, study, method="move")
    assert refused.failed == 0 and refused.retrieved == 0  # all cached by now: nothing to move
