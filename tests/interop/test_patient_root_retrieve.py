"""Retrieving from archives configured as Patient Root (``Node.query_model == "patient"``).

PS3.4 C.4.2.2.1 and C.4.3.2.1: a hierarchical (Patient Root) C-MOVE or C-GET
identifier carries the unique key of every level above its own, so the
Patient ID; a Patient Root C-FIND below PATIENT level too (C.4.1.2.2.1).  The
archives are started by the tests and support nothing but the Patient Root
models: dcmqrscp (``-QS -QO``, identifiers checked with ``-XM``/``-XF``),
a pynetdicom archive that refuses any identifier without the Patient ID
(:mod:`tests.interop.patient_root_peer`), and Orthanc asked in that model.
Patients have non-Latin names and Patient IDs (pydicom's charset files).
No log names them.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.interop.conftest import CALLING_AE, orthanc_holding_one_series
from tests.interop.patient_root_archives import (
    charset_name,
    files_of,
    loaded_dcmqrscp,
    PATIENT_ROOT_ONLY,
    STRICT_PATIENT_ROOT,
    PatientStudy,
    PeerProcess,
    patient_root_peer,
    write_patient_study,
)
from tests.interop.peers import ArchiveProcess
from workstation.dicom.header import UnusableInstance
from workstation.home import Home
from workstation.net import retrieve_units, study_patients
from workstation.net.association import NetworkError
from workstation.net.find import find
from workstation.net.received import Payload
from workstation.net.retrieve import retrieve
from workstation.net.retrieve_plan import PatientUnknown
from workstation.net.send import send_files
from workstation.store.cache import StudyCache
from workstation.store.maintenance import verify

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300), pytest.mark.usefixtures("no_remembered_patients")]


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, PatientStudy]:
    """Three patients, one multi-series study each: Chinese and Cyrillic names and IDs, and a Latin one."""
    folder = tmp_path_factory.mktemp("patient-root-studies")
    return {
        "wang": write_patient_study(folder / "wang", charset_name("chrX1.dcm"), "王小東-0001", [4, 3]),
        "russ": write_patient_study(folder / "russ", charset_name("chrRuss.dcm"), "ЛЮК-0002", [3, 2]),
        "latin": write_patient_study(folder / "latin", "Quercia^Ottavio", "LBX-PR-1", [2, 2], charset="ISO_IR 100"),
    }


def _loaded(arc: ArchiveProcess, studies: dict[str, PatientStudy]) -> ArchiveProcess:
    report = send_files(files_of(studies), arc.peer, CALLING_AE)
    assert report.ok, report.summary()
    return arc


def _dcmqrscp(tmp_path_factory, storage_port, studies, options) -> Iterator[ArchiveProcess]:
    with loaded_dcmqrscp(tmp_path_factory.mktemp("dcmqrscp-pr"), storage_port, files_of(studies), "PRQRSCP",
                         options) as arc:
        yield arc


@pytest.fixture(scope="module")
def dcmqrscp_patient_root(tmp_path_factory, storage_port, studies) -> Iterator[ArchiveProcess]:
    """dcmqrscp: Patient Root only, retrieve identifiers checked."""
    yield from _dcmqrscp(tmp_path_factory, storage_port, studies, PATIENT_ROOT_ONLY)


@pytest.fixture(scope="module")
def dcmqrscp_strict(tmp_path_factory, storage_port, studies) -> Iterator[ArchiveProcess]:
    """dcmqrscp: Patient Root only, query and retrieve identifiers checked."""
    yield from _dcmqrscp(tmp_path_factory, storage_port, studies, STRICT_PATIENT_ROOT)


@pytest.fixture(scope="module")
def dcmqrscp_study_root(tmp_path_factory, storage_port, studies) -> Iterator[ArchiveProcess]:
    """dcmqrscp: Study Root only (the other way round)."""
    yield from _dcmqrscp(tmp_path_factory, storage_port, studies, ("-QP", "-QO"))


@pytest.fixture(scope="module")
def orthanc_patient_root(orthanc, studies) -> ArchiveProcess:
    return _loaded(orthanc, studies)


@pytest.fixture(scope="module")
def patroot(tmp_path_factory, storage_port, studies) -> Iterator[PeerProcess]:
    with patient_root_peer(tmp_path_factory.mktemp("patroot"), files_of(studies), storage_port) as peer:
        yield peer
    assert not peer.running


#: Archives that say under which Patient ID they file a study (a STUDY-level query with an empty Patient ID).
LENIENT = ("orthanc_patient_root", "dcmqrscp_patient_root")
#: Archives that refuse that query: the Patient ID comes from the query result that found the study.
STRICT = ("dcmqrscp_strict", "patroot")


def _patient_id_from_query(arc: ArchiveProcess, study: PatientStudy) -> str:
    """What a reader's query brings: the patient found by name (PATIENT level), then the study by Patient ID."""
    node = arc.node(query_model="patient")
    surname = study.name.split("^")[0].split("=")[0]
    patients = list(find(node, CALLING_AE, "PATIENT", {"PatientName": f"{surname}*"}))
    ids = [str(p.PatientID) for p in patients]
    assert ids == [study.patient_id], ids
    found = list(find(node, CALLING_AE, "STUDY", {"PatientID": ids[0]}, model="patient"))
    assert [str(s.StudyInstanceUID) for s in found] == [study.study_uid]
    return ids[0]


def _no_patient_in(texts: list[str], studies: dict[str, PatientStudy]) -> None:
    for study in studies.values():
        parts = [study.patient_id, *re.split(r"[\^=]", study.name)]
        for text in texts:
            assert not any(p and p in text for p in parts), text


def _workstation_log(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("workstation")]


def _check_cached(cache: StudyCache, study: PatientStudy) -> None:
    row = cache.study(study.study_uid)
    assert row is not None and row.num_instances == study.count
    assert row.patient_id == study.patient_id and str(row.patient_name) == study.name
    assert {s.series_uid: s.num_instances for s in cache.series(study.study_uid)} == {
        uid: len(sops) for uid, sops in study.series.items()}
    assert verify(cache, check_hashes=True).consistent


@pytest.mark.parametrize("method,parallel", [("move", 1), ("get", 2)])
@pytest.mark.parametrize("archive_name", LENIENT + STRICT)
def test_a_multi_series_study_from_a_patient_root_archive(archive_name, method, parallel, request, studies, caplog,
                                                          home, settings, cache):
    arc = request.getfixturevalue(archive_name)
    study = studies["wang" if method == "move" else "russ"]
    if isinstance(arc, PeerProcess):
        arc.forget_requests()
    # The lenient ones are asked for the Patient ID; the strict ones get it from the query that found the study.
    given = _patient_id_from_query(arc, study) if archive_name in STRICT else None
    caplog.set_level(logging.DEBUG, logger="workstation")
    report = retrieve(arc.node(query_model="patient", max_associations=parallel), settings, home, cache,
                      study.study_uid, method=method, patient_id=given)
    assert report.ok, report.summary()
    assert (report.expected, report.retrieved, report.failed, report.method) == (study.count, study.count, 0, method)
    _check_cached(cache, study)
    _no_patient_in(_workstation_log(caplog) + [report.summary(), *report.notes], studies)
    if isinstance(arc, PeerProcess):
        asked = [r for r in arc.requests() if r["level"] != "PATIENT"]
        assert asked and all(r["patient_id"] and r["answer"] == "ok" for r in asked), asked
        assert any(r["service"] == ("C-MOVE" if method == "move" else "C-GET") for r in asked)


@pytest.mark.parametrize("archive_name", STRICT)
def test_without_a_patient_id_a_strict_archive_is_not_guessed_at(archive_name, request, studies, home, settings,
                                                                 cache):
    """The archive will not say, nothing is cached: a clear error naming no patient, nothing retrieved."""
    arc = request.getfixturevalue(archive_name)
    study = studies["latin"]
    with pytest.raises(PatientUnknown) as caught:
        retrieve(arc.node(query_model="patient"), settings, home, cache, study.study_uid, method="get")
    text = str(caught.value)
    assert "needs the study's Patient ID" in text and "query result" in text
    _no_patient_in([text], studies)
    assert cache.study(study.study_uid) is None


def test_a_study_found_by_a_query_is_retrieved_with_the_patient_id_of_its_answer(patroot, studies, home, settings,
                                                                                cache):
    """The Remote tab's search (here by Patient ID, as a strict archive needs) showed the study: its answer's
    Patient ID is used, the archive is not asked again, and nothing is refused."""
    study = studies["wang"]
    node = patroot.node(query_model="patient")
    answers = list(find(node, CALLING_AE, "STUDY", {"PatientID": study.patient_id}))
    assert [str(a.StudyInstanceUID) for a in answers] == [study.study_uid]
    patroot.forget_requests()
    report = retrieve(node, settings, home, cache, study.study_uid, method="get")  # no Patient ID given
    assert report.ok, report.summary()
    _check_cached(cache, study)
    asked = patroot.requests()
    assert asked and all(r["patient_id"] and r["answer"] == "ok" for r in asked), asked


def test_a_refused_move_falls_back_to_get_with_the_patient_id(patroot, studies, home, settings, cache):
    """0xA801 (the archive does not know our AE title as a destination): the rest comes by C-GET, same identifiers."""
    study = studies["russ"]
    patroot.forget_requests()
    stranger = replace(settings, ae_title="STRANGER")
    report = retrieve(patroot.node(query_model="patient", max_associations=2), stranger, home, cache,
                      study.study_uid, method="move", patient_id=study.patient_id)
    assert report.ok and report.method == "get", report.summary()
    assert "retrieved with C-GET instead" in " ".join(report.notes)
    _check_cached(cache, study)
    asked = [r for r in patroot.requests() if r["level"] != "PATIENT"]
    moves = {r["answer"] for r in asked if r["service"] == "C-MOVE"}  # one per association that had started
    assert moves == {"unknown destination"}
    assert any(r["service"] == "C-GET" for r in asked)
    assert all(r["patient_id"] and r["answer"] in ("ok", "unknown destination") for r in asked), asked


@pytest.mark.parametrize("method", ["move", "get"])
def test_a_node_set_to_the_model_the_archive_lacks_is_told_which_to_set(dcmqrscp_patient_root, dcmqrscp_study_root,
                                                                       studies, method, home, settings, cache):
    """A study-root node on a Patient Root archive, and the other way round: a clear error, nothing cached."""
    study = studies["latin"]
    report = retrieve(dcmqrscp_patient_root.node(), settings, home, cache, study.study_uid, method=method)
    assert not report.ok and report.retrieved == 0
    verb = "C-GET" if method == "get" else "C-MOVE"
    assert report.error.endswith(f"does not accept Study Root {verb}; if it supports Patient Root, set the node's "
                                 "query model to patient"), report.error
    with pytest.raises(NetworkError, match="does not accept Patient Root queries; if it supports Study Root, set the "
                                           "node's query model to study"):
        retrieve(dcmqrscp_study_root.node(query_model="patient"), settings, home, cache, study.study_uid,
                 method=method)
    # Given the Patient ID, the retrieve itself is refused the same way.
    given = retrieve(dcmqrscp_study_root.node(query_model="patient"), settings, home, cache, study.study_uid,
                     method=method, patient_id=study.patient_id)
    assert not given.ok and "does not accept Patient Root" in given.error and "query model to study" in given.error
    assert cache.study(study.study_uid) is None


def test_an_unknown_study_on_a_patient_root_archive(dcmqrscp_patient_root, studies, home, settings, cache):
    node = dcmqrscp_patient_root.node(query_model="patient")
    report = retrieve(node, settings, home, cache, "1.2.3.4.5.6.7", method="get")
    assert not report.ok and report.error.endswith("has no study 1.2.3.4.5.6.7")
    # A study asked for under another patient's ID is not there either: nothing of it is fetched.
    study, other = studies["wang"], studies["latin"]
    wrong = retrieve(node, settings, home, cache, study.study_uid, method="get", patient_id=other.patient_id)
    assert not wrong.ok and wrong.error.endswith(f"has no study {study.study_uid} under the Patient ID given")
    assert (wrong.retrieved, cache.study(study.study_uid)) == (0, None)
    _no_patient_in([wrong.summary()], studies)


@pytest.fixture
def patroot_without_uid_lists(tmp_path, storage_port, studies) -> Iterator[PeerProcess]:
    """The strict peer, failing (0xC000) any retrieve naming several SOP Instance UIDs."""
    with patient_root_peer(tmp_path / "patroot-lists", files_of(studies), storage_port, no_uid_lists=True) as peer:
        yield peer
    assert not peer.running


@pytest.mark.parametrize("method", ["get", "move"])
def test_missing_instances_are_named_and_fetched_again_one_by_one(patroot_without_uid_lists, method, studies,
                                                                  monkeypatch, caplog, home, settings, cache):
    """Refused on arrival, two instances are missing; the archive is asked which (IMAGE level, with the
    Patient ID).  The next retrieve, with no Patient ID given, takes the cached study's, asks for the two by
    UID list, and when the archive fails the list, one by one: every request carries the Patient ID."""
    arc = patroot_without_uid_lists
    study = studies["wang"]
    series = max(study.series, key=lambda s: len(study.series[s]))
    victims = set(study.series[series][1:3])
    real = Payload.record

    def record(self):
        rec = real(self)
        if rec.sop_instance_uid in victims:
            raise UnusableInstance("refused by the test")
        return rec

    monkeypatch.setattr(Payload, "record", record)
    caplog.set_level(logging.DEBUG, logger="workstation")
    node = arc.node(query_model="patient", max_associations=1)
    first = retrieve(node, settings, home, cache, study.study_uid, method=method, patient_id=study.patient_id)
    assert not first.ok
    assert (first.expected, first.retrieved, first.failed) == (study.count, study.count - 2, 2)
    assert set(first.missing) == victims
    assert any(r["service"] == "C-FIND" and r["level"] == "IMAGE" for r in arc.requests())  # the re-ask

    monkeypatch.setattr(Payload, "record", real)
    arc.forget_requests()
    study_patients.forget()  # as in a new process: only the cache knows the Patient ID
    again = retrieve(node, settings, home, cache, study.study_uid, method=method)  # no Patient ID given
    assert again.ok, again.summary()
    assert (again.retrieved, again.already_cached, again.failed) == (2, study.count - 2, 0)
    _check_cached(cache, study)
    service = "C-GET" if method == "get" else "C-MOVE"
    asked = arc.requests()
    refused = [r for r in asked if r["answer"] == "refused"]
    # Only the question "under which Patient ID?" (empty Patient ID) was refused: the cached study's was used.
    assert refused == [{"service": "C-FIND", "level": "STUDY", "patient_id": False, "answer": "refused", "uids": 0}]
    retrieves = [(r["uids"], r["answer"]) for r in asked if r["service"] == service]
    assert retrieves == [(2, "failed"), (1, "ok"), (1, "ok")]
    assert all(r["patient_id"] for r in asked if r not in refused)
    _no_patient_in(_workstation_log(caplog), studies)


N_ONE_SERIES = 80


@pytest.fixture(scope="module")
def orthanc_one_series(tmp_path_factory, storage_port):
    yield from orthanc_holding_one_series(tmp_path_factory, storage_port, "pr-ends", ("Ends^Root", "LBX-PR-E1"),
                                          N_ONE_SERIES, 32)


@pytest.fixture
def identifiers(monkeypatch) -> list:
    """Every C-MOVE/C-GET identifier the retrieve sends."""
    sent: list = []
    real = retrieve_units._identifier

    def spy(unit, charset=None):
        ds = real(unit, charset)
        sent.append(ds)
        return ds

    monkeypatch.setattr(retrieve_units, "_identifier", spy)
    return sent


def test_one_series_from_both_ends_of_a_patient_root_archive(orthanc_one_series, identifiers, monkeypatch, caplog,
                                                             home, settings, cache):
    """Two associations on one series (the second by SOP Instance UID lists): all with the Patient ID."""
    from workstation.net import two_ended

    arc, study = orthanc_one_series
    real = two_ended.Arrivals.first

    def first(self, sop_uid):  # the first association waits (at most 20 s) for the second to bring one
        real(self, sop_uid)
        if len(self.first_arrivals()) == 5:
            deadline = time.monotonic() + 20
            while (self.second_count == 0 and not self.crossed.is_set() and not self.abandoned.is_set()
                   and time.monotonic() < deadline):
                time.sleep(0.01)

    monkeypatch.setattr(two_ended.Arrivals, "first", first)
    caplog.set_level(logging.INFO, logger="workstation.net.retrieve")
    report = retrieve(arc.node(query_model="patient", max_associations=2), settings, home, cache, study,
                      method="get")
    assert report.ok, report.summary()
    assert (report.expected, report.retrieved, report.failed) == (N_ONE_SERIES, N_ONE_SERIES, 0)
    assert any("retrieve from both ends" in m for m in _workstation_log(caplog))
    levels = [str(ds.QueryRetrieveLevel) for ds in identifiers]
    assert levels[0] == "STUDY" and "IMAGE" in levels, levels
    assert all(str(ds.PatientID) == "LBX-PR-E1" for ds in identifiers)
    assert not any("LBX-PR-E1" in m or "Ends^Root" in m for m in _workstation_log(caplog))


# The lightbox command ---------------------------------------------------------------------------------------


def _run(cmd, *args, check=True):
    done = subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def lb(lightbox_cmd, storage_port):
    _run(lightbox_cmd, "config", "set", "storage_port", storage_port)
    _run(lightbox_cmd, "config", "set", "storage_bind_address", "127.0.0.1")
    _run(lightbox_cmd, "config", "set", "accept_known_nodes_only", "false")
    return lightbox_cmd


def _home_logs(lightbox_home) -> list[str]:
    return [line for f in (lightbox_home / "logs").glob("*.log*") for line in f.read_text("utf-8", "replace")
            .splitlines()]


@pytest.mark.parametrize("archive_name,method", [("orthanc_patient_root", "move"), ("dcmqrscp_patient_root", "get"),
                                                 ("patroot", "move"), ("dcmqrscp_strict", "get")])
def test_lightbox_retrieve_from_a_patient_root_node(archive_name, method, request, lb, lightbox_home, studies):
    arc = request.getfixturevalue(archive_name)
    study = studies["wang"] if archive_name in LENIENT else studies["russ"]
    _run(lb, "nodes", "add", "PR", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port,
         "--query-model", "patient", "--retrieve", method)
    extra: list[str] = []
    if archive_name in STRICT:
        # As a reader would: the patient by name, then the Patient ID of the answer.
        surname = study.name.split("^")[0].split("=")[0]
        rows = json.loads(_run(lb, "query", "PR", "--level", "patient", "--patient-name", f"{surname}*",
                               "--json").stdout)
        assert [r["PatientID"] for r in rows] == [study.patient_id]
        refused = _run(lb, "retrieve", "PR", "--study", study.study_uid, check=False)
        assert refused.returncode == 1 and "needs the study's Patient ID" in refused.stderr
        extra = ["--patient-id", rows[0]["PatientID"]]
    # The connectivity test finds a patient, one of its studies and one instance, and retrieves it.  (After the
    # refusal above: the instance it brings may be of this study, whose cached Patient ID a retrieve then uses.)
    tested = json.loads(_run(lb, "nodes", "test", "PR", "--json").stdout)
    assert [c["state"] for c in tested] == ["ok", "ok", "ok"], tested
    got = _run(lb, "retrieve", "PR", "--study", study.study_uid, *extra, "--json")
    report = json.loads(got.stdout)
    # (The connectivity test may have brought one instance of it already.)
    assert (report["retrieved"] + report["already_cached"], report["failed"], report["method"], report["error"]) == (
        study.count, 0, method, "")
    with StudyCache.open(Home.single(lightbox_home)) as cache:
        _check_cached(cache, study)
    _no_patient_in(_home_logs(lightbox_home) + [got.stderr], studies)


# The Remote tab ---------------------------------------------------------------------------------------------


def test_the_remote_tab_retrieves_from_a_strict_patient_root_archive(patroot, studies, qtbot, home, cache):
    """Search by Patient ID (a strict Patient Root archive answers nothing else), click Retrieve: the
    retrieve takes the Patient ID from the search's answer, and no request is refused."""
    from PySide6.QtCore import Qt

    from workstation.config import Settings
    from workstation.ui.remote_tab import RemoteTab

    study = studies["russ"]
    node = patroot.node("strict", query_model="patient", retrieve="get")
    settings = Settings(ae_title=CALLING_AE, nodes=[node])

    def retrieve_study(node, study_uid, progress, cancel):  # as the window's: a cache of the worker's own
        with StudyCache.open(home) as worker_cache:
            return retrieve(node, settings, home, worker_cache, study_uid, progress=progress, cancel=cancel)

    tab = RemoteTab(cache, lambda: settings, retrieve_study)
    qtbot.addWidget(tab)
    tab.show()
    patroot.forget_requests()
    tab.filter_bar.id_edit.setText(study.patient_id)  # QTest cannot type non-ASCII keys
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.busy() and tab.table.rowCount() == 1, timeout=30_000)
    # (A patient-root STUDY-level answer carries the Patient ID only: the name is a PATIENT-level key.)
    assert [r.study_uid for r in tab.rows] == [study.study_uid], tab.status.text()
    tab.table.selectRow(0)
    with qtbot.waitSignal(tab.retrieved, timeout=60_000):
        qtbot.mouseClick(tab.retrieve_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.busy(), timeout=30_000)
    _check_cached(cache, study)
    asked = patroot.requests()
    assert any(r["service"] == "C-GET" for r in asked)
    assert all(r["patient_id"] and r["answer"] == "ok" for r in asked), asked
