"""Technologist QC against Orthanc: correction and rejection round trip, completeness check and fetch.

Orthanc 1.10 stores rejection notes like any object (it does not act on IOCM),
so the archive ends up holding the originals, the corrected copies and the
notes; a second Lightbox that retrieves the study hides the rejected
instances because of the notes it received.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.interop.conftest import CALLING_AE
from tests.qc.conftest import write_ct
from workstation.cli import main
from workstation.config import Settings, save
from workstation.home import Home
from workstation.net.find import find
from workstation.net.retrieve import retrieve
from workstation.net.send import send_files
from workstation.qc import rejected_sop_uids, rejection_note_uids
from workstation.qc.checklist import build_checklist
from workstation.qc.completeness import check_completeness, fetch_missing
from workstation.qc.correction import apply_correction, plan_correction
from workstation.qc.rejection import reject_instances
from workstation.qc.sending import send
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.store.maintenance import verify

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


def _on_archive(orthanc, study_uid: str) -> dict[str, set[str]]:
    """SOP Instance UIDs the archive holds for a study, by modality of their series."""
    out: dict[str, set[str]] = {}
    for series in find(orthanc.peer, CALLING_AE, "SERIES", {"StudyInstanceUID": study_uid}):
        keys = {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series.SeriesInstanceUID}
        uids = {str(ds.SOPInstanceUID) for ds in find(orthanc.peer, CALLING_AE, "IMAGE", keys)}
        out.setdefault(str(series.Modality), set()).update(uids)
    return out


@pytest.fixture
def study_on_both(orthanc, cache, tmp_path):
    """A 6-slice CT study in the cache and on Orthanc."""
    made = write_ct(tmp_path / "ct", 6, patient_id="QC-RT", patient_name="Wrong^Patient")
    assert send_files(made.paths, orthanc.peer, CALLING_AE).ok
    assert import_paths(cache, made.paths, workers=1).imported == 6
    return made


def test_correction_and_rejection_round_trip(orthanc, study_on_both, cache, tmp_path, settings):
    made = study_on_both
    plan = plan_correction(cache, made.study_uid, {"PatientName": "Right^Patient", "PatientID": "QC-RT-2"},
                           reason="wrong worklist entry chosen", operator="tech")
    outcome = apply_correction(cache, plan)
    report = send(outcome.produced, orthanc.peer, CALLING_AE)
    assert report.ok, report.summary()
    # One more: a corrected copy rejected for quality, its note sent too.
    bad = outcome.copies[2].sop_instance_uid
    rejection = reject_instances(cache, [bad], "quality", quality="motion-blur")
    assert send(rejection.notes, orthanc.peer, CALLING_AE).ok

    held = _on_archive(orthanc, made.study_uid)
    copies = {p.sop_instance_uid for p in outcome.copies}
    notes = {outcome.notes[0].sop_instance_uid, rejection.notes[0].sop_instance_uid}
    assert copies <= held["CT"] and set(made.sop_uids) <= held["CT"]
    assert held["KO"] == notes
    found = list(find(orthanc.peer, CALLING_AE, "STUDY", {"PatientID": "QC-RT-2"}))
    assert [str(ds.StudyInstanceUID) for ds in found] == [made.study_uid]

    # A second workstation retrieves the study: the notes it receives hide what they reject.
    other_home = Home.single(tmp_path / "other-home").ensure()
    other_settings = Settings(storage_port=settings.storage_port, storage_bind_address="127.0.0.1",
                              accept_known_nodes_only=False)
    with StudyCache.open(other_home) as other:
        got = retrieve(orthanc.peer, other_settings, other_home, other, made.study_uid, method="get")
        assert got.ok, got.summary()
        assert rejected_sop_uids(other, made.study_uid) == set(made.sop_uids) | {bad}
        assert rejection_note_uids(other, made.study_uid) == notes
        visible = {r.sop_instance_uid for s in other.series(made.study_uid) for r in other.instances(s.series_uid)}
        visible -= rejected_sop_uids(other, made.study_uid) | notes
        assert visible == copies - {bad}


def test_completeness_finds_and_fetches_what_the_cache_lost(orthanc, study_on_both, cache, home, settings):
    made = study_on_both
    report = check_completeness(cache, orthanc.peer, CALLING_AE, made.study_uid)
    assert report.complete and report.archived == 6 and report.cached == 6
    for uid in made.sop_uids[1:3]:
        cache.path_of(cache.instance(uid)).unlink()
    verify(cache, repair=True)  # the index forgets the lost files
    report = check_completeness(cache, orthanc.peer, CALLING_AE, made.study_uid)
    assert not report.complete and sorted(report.missing) == sorted(made.sop_uids[1:3])
    assert report.series[0].listed and report.series[0].cached == 4 and report.series[0].archived == 6
    checklist = build_checklist(cache, made.study_uid, report)
    assert checklist.items[0].status == "fail" and checklist.overall == "fail"
    fetched = fetch_missing(cache, orthanc.peer, settings, home, report)
    assert fetched.ok and fetched.retrieved == 2, fetched.summary()
    assert check_completeness(cache, orthanc.peer, CALLING_AE, made.study_uid).complete
    # Objects made here and not sent yet are "not on the archive" (a warning, not missing).
    note = reject_instances(cache, made.sop_uids[:1], "quality").notes[0]
    report = check_completeness(cache, orthanc.peer, CALLING_AE, made.study_uid)
    assert report.complete and report.not_on_archive == [note.sop_instance_uid]


def test_cli_check_with_fetch(orthanc, study_on_both, cache, home, settings, capsys):
    made = study_on_both
    save(Settings(storage_port=settings.storage_port, storage_bind_address="127.0.0.1", accept_known_nodes_only=False,
                  nodes=[orthanc.node("PACS")]), home.config_file)
    cache.path_of(cache.instance(made.sop_uids[0])).unlink()
    verify(cache, repair=True)
    code = main(["qc", "check", made.study_uid, "--node", "PACS", "--fetch", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0, data
    assert data["fetched"]["retrieved"] == 1 and data["completeness"]["complete"]
    assert data["items"][0]["status"] == "pass"


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) is not installed")
def test_what_the_archive_returns_is_still_valid(orthanc, study_on_both, cache, tmp_path, settings):
    """Objects made here, stored by the archive and retrieved again pass dciodvfy."""
    made = study_on_both
    outcome = apply_correction(cache, plan_correction(cache, made.study_uid, {"AccessionNumber": "QC1"}, reason="x"))
    assert send(outcome.produced, orthanc.peer, CALLING_AE).ok
    other_home = Home.single(tmp_path / "again").ensure()
    with StudyCache.open(other_home) as other:
        got = retrieve(orthanc.peer, Settings(storage_port=settings.storage_port), other_home, other, made.study_uid,
                       method="get")
        assert got.ok, got.summary()
        for p in (outcome.copies[0], outcome.notes[0]):
            path = other.path_of(other.instance(p.sop_instance_uid))
            run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
            assert [line for line in run.stderr.splitlines() if "Error" in line] == []
