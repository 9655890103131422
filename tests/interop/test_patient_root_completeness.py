"""QC completeness against an archive configured as Patient Root (``Node.query_model == "patient"``).

The STUDY, SERIES and IMAGE queries of the check carry the study's Patient ID
(PS3.4 C.4.1.2.2.1), so strictly hierarchical archives answer them: the strict
pynetdicom archive (:mod:`tests.interop.patient_root_peer`, which refuses any
identifier without it) and dcmqrscp with ``-QS -QO -XM -XF``.  The patient's
name and ID are Cyrillic (pydicom's charset files).
"""

from __future__ import annotations

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
from workstation.qc.completeness import check_completeness, fetch_missing
from workstation.store.importer import import_paths

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300), pytest.mark.usefixtures("no_remembered_patients")]


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, PatientStudy]:
    """A Cyrillic patient's study of two series (4 and 2 images) and a Chinese patient's of one."""
    folder = tmp_path_factory.mktemp("patient-root-qc")
    russ, wang = charset_name("chrRuss.dcm"), charset_name("chrX1.dcm")
    return {"russ": write_patient_study(folder / "russ", russ, "ЛЮК-0002", [4, 2]),
            "wang": write_patient_study(folder / "wang", wang, "王小東-0001", [1])}


@pytest.fixture(scope="module")
def patroot(tmp_path_factory, storage_port, studies) -> Iterator[PeerProcess]:
    with patient_root_peer(tmp_path_factory.mktemp("patroot-qc"), files_of(studies), storage_port) as peer:
        yield peer
    assert not peer.running


@pytest.fixture(scope="module")
def dcmqrscp_strict(tmp_path_factory, storage_port, studies) -> Iterator[ArchiveProcess]:
    with loaded_dcmqrscp(tmp_path_factory.mktemp("dcmqrscp-prqc"), storage_port, files_of(studies), "PRQCSCP",
                         STRICT_PATIENT_ROOT) as arc:
        yield arc


ARCHIVES = ("patroot", "dcmqrscp_strict")


def _all_asked_with_patient_id(arc: object) -> None:
    if isinstance(arc, PeerProcess):
        asked = arc.requests()
        assert asked and all(r["answer"] == "ok" and (r["patient_id"] or r["level"] == "PATIENT") for r in asked), \
            asked


@pytest.mark.parametrize("archive", ARCHIVES)
def test_completeness_on_a_strict_patient_root_archive_finds_and_fetches_what_is_missing(
        request, cache, home, settings, studies, archive):
    arc = request.getfixturevalue(archive)
    if isinstance(arc, PeerProcess):
        arc.forget_requests()
    node = arc.node("pr", query_model="patient", retrieve="get")
    study = studies["russ"]
    first, second = study.series.values()
    lost = set(first[1:3])
    kept = [f for f in study.files if f.stem not in lost]
    assert import_paths(cache, kept, workers=1).imported == study.count - 2
    held = cache.study(study.study_uid)
    assert held is not None and held.patient_id == study.patient_id  # what the check asks the archive with

    report = check_completeness(cache, node, CALLING_AE, study.study_uid)
    assert report.error == ""
    counts = isinstance(arc, PeerProcess)  # dcmqrscp does not answer the Number of ... Related Instances
    assert (report.archived, report.cached) == (6 if counts else None, 4)
    assert sorted(report.missing) == sorted(lost)
    # Where the counts agree the series is not listed; without counts every series is.
    assert [(s.archived, s.cached, s.listed) for s in report.series] == [(4, 2, True), (2, 2, not counts)]
    _all_asked_with_patient_id(arc)

    fetched = fetch_missing(cache, node, settings, home, report)
    assert fetched is not None and fetched.ok and fetched.retrieved == 2, fetched and fetched.summary()
    again = check_completeness(cache, node, CALLING_AE, study.study_uid, thorough=True)
    assert again.complete and again.cached == 6 and again.archived == (6 if counts else None)
    assert all(s.listed for s in again.series)
    _all_asked_with_patient_id(arc)


@pytest.mark.parametrize("archive", ARCHIVES)
def test_a_study_the_archive_files_under_another_patient_id_is_not_found_and_says_so(
        request, cache, studies, tmp_path, archive):
    """The cached study's Patient ID (say, corrected here) is not the archive's: no wrong answer, a plain error."""
    arc = request.getfixturevalue(archive)
    study = studies["wang"]
    ds = dcmread(study.files[0])
    ds.PatientID = "ANDERS-1"
    ds.save_as(tmp_path / "other.dcm", enforce_file_format=True)
    assert import_paths(cache, [tmp_path / "other.dcm"], workers=1).imported == 1
    report = check_completeness(cache, arc.node("pr", query_model="patient"), CALLING_AE, study.study_uid)
    assert not report.complete
    assert report.error == f"pr has no study {study.study_uid}"
    assert study.patient_id not in report.error
