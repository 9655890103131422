"""Searching the studies of an archive configured as Patient Root (``Node.query_model == "patient"``).

PS3.4 C.4.1.2.2.1: a hierarchical C-FIND below PATIENT level carries the
Patient ID, and the patient's name is a PATIENT-level key.  The search asks
the patients first, then each one's studies by Patient ID
(:mod:`workstation.net.patient_root_find`), against archives started here that
support the Patient Root models only: the strict pynetdicom archive
(:mod:`tests.interop.patient_root_peer`, which refuses an identifier without
the Patient ID) and dcmqrscp (``-QS -QO -XM -XF``).  Names and IDs are
Chinese, Cyrillic and Latin-1 (pydicom's charset files).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from pydicom import dcmread

from tests.interop.conftest import CALLING_AE
from tests.interop.patient_root_archives import (
    charset_name,
    files_of,
    loaded_dcmqrscp,
    STRICT_PATIENT_ROOT,
    PatientStudy,
    PeerProcess,
    patient_root_peer,
    write_patient_study,
)
from tests.interop.peers import ArchiveProcess
from workstation.net import study_patients
from workstation.net.association import ServiceFailed, peer_of
from workstation.net.find import find
from workstation.net.patient_root_find import PatientRootStudies, find_studies, split_keys
from workstation.store.queries import StudyFilter
from workstation.ui.remote_query import search_studies, stream_studies

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300), pytest.mark.usefixtures("no_remembered_patients")]


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, PatientStudy]:
    """Three patients: Chinese and Cyrillic names and IDs, and a Latin-1 one; the Chinese patient has two studies."""
    folder = tmp_path_factory.mktemp("patient-root-query")
    made = {
        "wang": write_patient_study(folder / "wang", charset_name("chrX1.dcm"), "王小東-0001", [2]),
        "wang2": write_patient_study(folder / "wang2", charset_name("chrX1.dcm"), "王小東-0001", [1]),
        "russ": write_patient_study(folder / "russ", charset_name("chrRuss.dcm"), "ЛЮК-0002", [2]),
        "latin": write_patient_study(folder / "latin", "Quercia^Ottavio", "LBX-PR-1", [1], charset="ISO_IR 100"),
    }
    for key, study in made.items():  # PATIENT-level facts a STUDY-level answer does not carry
        for path in study.files:
            ds = dcmread(path)
            ds.PatientBirthDate, ds.PatientSex = BIRTH[key]
            ds.save_as(path, enforce_file_format=True)
    return made


BIRTH = {"wang": ("19500102", "M"), "wang2": ("19500102", "M"), "russ": ("19610203", "F"),
         "latin": ("19720304", "O")}


@pytest.fixture(scope="module")
def patroot(tmp_path_factory, storage_port, studies) -> Iterator[PeerProcess]:
    with patient_root_peer(tmp_path_factory.mktemp("patroot-q"), files_of(studies), storage_port) as peer:
        yield peer
    assert not peer.running


@pytest.fixture(scope="module")
def dcmqrscp_strict(tmp_path_factory, storage_port, studies) -> Iterator[ArchiveProcess]:
    with loaded_dcmqrscp(tmp_path_factory.mktemp("dcmqrscp-prq"), storage_port, files_of(studies), "PRQRSCP",
                         STRICT_PATIENT_ROOT) as arc:
        yield arc


ARCHIVES = ("patroot", "dcmqrscp_strict")


def test_split_keys():
    patient, study = split_keys({"PatientName": "A*", "PatientID": "1", "PatientBirthDate": "19700101",
                                 "StudyDate": "2024-", "Modality": "CT", "AccessionNumber": "X"})
    assert patient == {"PatientName": "A*", "PatientID": "1", "PatientBirthDate": "19700101"}
    assert study == {"StudyDate": "2024-", "Modality": "CT", "AccessionNumber": "X"}


def test_a_study_level_name_search_is_refused_by_the_strict_archive(patroot):
    """What a single STUDY-level query did on a Patient Root node: the strict archive refuses it (0xA900)."""
    node = patroot.node(query_model="patient")
    with pytest.raises(ServiceFailed) as raised:
        list(find(node, CALLING_AE, "STUDY", {"PatientName": "Quercia*"}))
    assert raised.value.status == 0xA900


@pytest.mark.parametrize("archive", ARCHIVES)
@pytest.mark.parametrize(("who", "typed"), [("wang", "Wang*"), ("russ", "Люк*"), ("latin", "Quercia")])
def test_search_by_name_finds_the_patients_studies_with_their_names(request, studies, archive, who, typed):
    arc = request.getfixturevalue(archive)
    if isinstance(arc, PeerProcess):
        arc.forget_requests()
    node = arc.node(query_model="patient")
    notes: list[str] = []
    rows = list(stream_studies(node, CALLING_AE, StudyFilter(patient_name=typed), notes=notes))
    wanted = [s for key, s in studies.items() if key.startswith(who)]
    assert sorted(r.study_uid for r in rows) == sorted(s.study_uid for s in wanted)
    for row in rows:
        assert row.patient_name == wanted[0].name
        assert row.patient_id == wanted[0].patient_id
        assert (row.birth_date, row.sex) == BIRTH[who]  # carried from the patient's PATIENT-level answer
        # A retrieve of the study later takes its Patient ID from this search.
        assert study_patients.recall(peer_of(node), row.study_uid) == wanted[0].patient_id
    if isinstance(arc, PeerProcess):
        asked = arc.requests()
        assert [r["answer"] for r in asked] == ["ok"] * len(asked), asked
        assert asked[0]["level"] == "PATIENT"
        studies_asked = [r for r in asked if r["level"] == "STUDY"]
        assert studies_asked and all(r["patient_id"] for r in studies_asked)
        # The strict archive matches unique keys only: the other patients it answered are left out here.
        assert len(studies_asked) == 1
        assert notes and "PatientName" in notes[0]


@pytest.mark.parametrize("archive", ARCHIVES)
def test_study_keys_are_asked_per_patient(request, studies, archive):
    """No patient key: every patient is followed, and the study keys (date, modality) go to each study query."""
    arc = request.getfixturevalue(archive)
    node = arc.node(query_model="patient")
    flt = StudyFilter(modality="CT", date_from="19000101", date_to="21001231")
    rows = search_studies(node, CALLING_AE, flt)
    assert sorted(r.study_uid for r in rows) == sorted(s.study_uid for s in studies.values())
    by_uid = {r.study_uid: r for r in rows}
    for s in studies.values():
        assert (by_uid[s.study_uid].patient_name, by_uid[s.study_uid].patient_id) == (s.name, s.patient_id)
    assert search_studies(node, CALLING_AE, StudyFilter(date_from="19000101", date_to="19001231")) == []
    if archive == "dcmqrscp_strict":  # the pynetdicom archive echoes the Modalities in Study asked for
        # dcmqrscp leaves Modalities in Study out: each study's series are asked (with the Patient ID) instead.
        assert search_studies(node, CALLING_AE, StudyFilter(modality="MR")) == []


@pytest.mark.parametrize("archive", ARCHIVES)
def test_the_patients_followed_are_capped_and_the_note_says_so(request, archive):
    arc = request.getfixturevalue(archive)
    node = arc.node(query_model="patient")
    answers = find_studies(node, CALLING_AE, {}, patient_limit=2)
    assert isinstance(answers, PatientRootStudies)
    rows = list(answers)
    assert answers.capped and answers.patients == 2
    assert len({str(r.PatientID) for r in rows}) == 2
    assert "more than 2 patients" in (answers.note() or "")
    uncapped = find_studies(node, CALLING_AE, {}, patient_limit=3)
    assert isinstance(uncapped, PatientRootStudies)
    assert len(list(uncapped)) == 4 and not uncapped.capped and uncapped.note() is None


def test_a_bad_key_fails_before_any_association(patroot):
    node = patroot.node(query_model="patient")
    patroot.forget_requests()
    with pytest.raises(ValueError):
        find_studies(node, CALLING_AE, {"StudyDate": "yesterday"})
    assert patroot.requests() == []


def test_study_root_nodes_keep_one_query(patroot):
    """A node left as Study Root is asked one STUDY-level query (here refused at association: Patient Root only)."""
    answers = find_studies(patroot.node(), CALLING_AE, {"PatientName": "Quercia*"})
    assert not isinstance(answers, PatientRootStudies)


@pytest.mark.slow
def test_cli_query_on_a_patient_root_node(lightbox_cmd, lightbox_home, dcmqrscp_strict, studies):
    arc = dcmqrscp_strict

    def run(*args: object) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*lightbox_cmd, *map(str, args)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    run("nodes", "add", "PR", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port,
        "--query-model", "patient")
    rows = json.loads(run("query", "PR", "--patient-name", "Люк*", "--json").stdout)
    assert [(r["PatientName"], r["PatientID"], r["StudyInstanceUID"]) for r in rows] == [
        (studies["russ"].name, studies["russ"].patient_id, studies["russ"].study_uid)]
    shown = run("query", "PR", "--patient-name", "Wang*")
    assert shown.stdout.count("Wang^XiaoDong=王^小東") == 2
    assert "王小東-0001" in shown.stdout


@pytest.mark.parametrize("archive", ARCHIVES)
def test_opening_a_worklist_study_retrieves_it_with_its_patient_id(request, home, cache, studies, archive):
    """A worklist row of a study on a strict Patient Root archive, not cached, opens (its Patient ID goes along)."""
    from workstation.config import Settings
    from workstation.worklist.build import RemoteStudy as ListedStudy
    from workstation.worklist.build import build_worklist
    from workstation.worklist.opening import OpenRefused, open_item

    arc = request.getfixturevalue(archive)
    node = arc.node("pr", query_model="patient", retrieve="get")
    settings = Settings(nodes=[node])
    study = studies["russ"]

    def item(patient_id: str):
        listed = ListedStudy(node="pr", study_uid=study.study_uid, patient_id=patient_id, patient_name=study.name)
        return build_worklist([], [listed], [])[0]

    # Nothing remembered from a query (another process listed it): without the Patient ID the archive will not say.
    if archive == "patroot":
        with pytest.raises(OpenRefused, match="Patient ID"):
            open_item(item(""), settings, home, cache, hang=False)
        arc.forget_requests()
    opened = open_item(item(study.patient_id), settings, home, cache, hang=False)
    assert opened.retrieved == study.count
    held = cache.study(study.study_uid)
    assert held is not None and held.patient_id == study.patient_id and held.patient_name == study.name
    if isinstance(arc, PeerProcess):
        asked = arc.requests()
        assert asked and all(r["answer"] == "ok" and r["patient_id"] for r in asked), asked


def test_a_patient_id_two_patients_share_puts_no_name_on_its_studies(monkeypatch):
    """Two patients with one Patient ID (other issuers): the STUDY query cannot say whose a study is."""
    from pydicom.dataset import Dataset

    from workstation.config import Node
    from workstation.net import find as find_module
    from workstation.net.query_match import FilteredAnswers

    def answer(**values) -> Dataset:
        ds = Dataset()
        for k, v in values.items():
            setattr(ds, k, v)
        return ds

    asked: list[tuple[str, dict]] = []

    def fake_find(node, calling_ae, level, keys, cancel=None, **_kw):
        asked.append((level, dict(keys)))
        if level == "PATIENT":
            found = [answer(PatientID="7", IssuerOfPatientID="A", PatientName="Ana^A"),
                     answer(PatientID="7", IssuerOfPatientID="B", PatientName="Bea^B"),
                     answer(PatientID="8", PatientName="Cy^C")]
        else:
            found = [answer(StudyInstanceUID=f"1.2.{keys['PatientID']}", PatientID=keys["PatientID"])]
        return FilteredAnswers(iter(found), Dataset())  # what find() returns

    monkeypatch.setattr(find_module, "find", fake_find)
    node = Node(name="pr", ae_title="PR", host="127.0.0.1", port=11112, query_model="patient")
    answers = find_studies(node, CALLING_AE, {"StudyDate": "20240101-"})
    rows = [(str(ds.StudyInstanceUID), str(ds.get("PatientName", ""))) for ds in answers]
    assert rows == [("1.2.7", ""), ("1.2.8", "Cy^C")]
    assert [level for level, _ in asked] == ["PATIENT", "STUDY", "STUDY"]  # the shared ID asked once
    assert asked[1][1] == {"StudyDate": "20240101-", "PatientID": "7"}
    assert answers.note() == ("1 Patient ID belongs to several patients on the archive (other issuers): their "
                              "studies are listed without a name")
