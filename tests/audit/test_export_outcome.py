"""The Export audit event is recorded when the export has ended, with its real outcome (PS3.15 A.5.3.5's
EventOutcomeIndicator): 0 written, 4 cancelled by the user midway, 8 failed."""

from __future__ import annotations

import pytest

from tests.audit.schema import validate
from tests.viewer_phantom import phantom_study
from workstation import audit
from workstation.export.job import ExportRequest, run_export, study_files
from workstation.home import Home
from workstation.jobs.core import Cancelled, CancelToken
from workstation.store.cache import StudyCache

EXPORT = "110106"


@pytest.fixture
def study(lightbox_home, tmp_path):
    cache = StudyCache.open(Home.single(lightbox_home))
    try:
        uid = phantom_study(cache, tmp_path / "ph", 4, patient_id="EXP-OUT-1", patient_name="Ωμέγα^Ελένη")
        files = tuple(study_files(cache, [uid]))
    finally:
        cache.close()
    return uid, files


def exports() -> list[dict]:
    return [r for r in audit.current().store.records() if r["event_code"] == EXPORT]


def test_a_written_export_is_recorded_once_after_it_ended_as_a_success(study, tmp_path):
    uid, files = study
    seen_during: list[int] = []
    lines = run_export(ExportRequest(files=files, to_folder=tmp_path / "usb"),
                       progress=lambda done, total: seen_during.append(len(exports())))
    assert lines and seen_during and set(seen_during) == {0}  # nothing recorded while it ran
    (rec,) = exports()
    assert rec["outcome"] == "0" and rec["studies"] == [uid] and rec["patients"] == ["EXP-OUT-1"]
    validate(rec["xml"])


def test_an_export_cancelled_midway_is_recorded_as_a_minor_failure(study, tmp_path):
    _uid, files = study
    cancel = CancelToken()

    def progress(done: int, total: int) -> None:
        if done >= 1:
            cancel.cancel()  # the reader presses Cancel after the first object

    with pytest.raises(Cancelled):
        run_export(ExportRequest(files=files, to_folder=tmp_path / "usb"), progress=progress, cancel=cancel)
    (rec,) = exports()
    assert rec["outcome"] == "4"
    assert "<EventOutcomeDescription>export cancelled</EventOutcomeDescription>" in rec["xml"]
    assert 'EventOutcomeIndicator="4"' in rec["xml"]
    validate(rec["xml"])


def test_an_export_that_fails_is_recorded_as_a_serious_failure(study, tmp_path):
    uid, files = study
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the export's folder should go\n")
    with pytest.raises(OSError):
        run_export(ExportRequest(files=files, to_folder=blocker / "usb"))
    (rec,) = exports()
    assert rec["outcome"] == "8" and rec["studies"] == [uid]
    assert 'EventOutcomeIndicator="8"' in rec["xml"] and "export failed (" in rec["xml"]
    validate(rec["xml"])


def test_a_refused_request_writes_nothing_and_records_nothing(study, tmp_path):
    _uid, files = study
    with pytest.raises(ValueError):
        run_export(ExportRequest(files=files, to_folder=tmp_path / "a", to_iso=tmp_path / "b.iso"))
    assert exports() == []


def test_the_command_line_records_a_failed_export_as_failed(lightbox_home, study, tmp_path):
    from workstation.cli import main

    uid, _files = study
    out = tmp_path / "full"
    out.mkdir()
    (out / "something.txt").write_text("the folder is not empty\n")
    assert main(["--home", str(lightbox_home), "export", uid, "--to", str(out), "--quiet"]) != 0
    (rec,) = exports()
    assert rec["outcome"] == "8"
