"""Where patient data is read, the audit trail records who read it: opening a study in the reading session."""

from __future__ import annotations

from tests.audit.schema import validate
from tests.viewer_phantom import phantom_study
from workstation import audit
from workstation.home import Home
from workstation.session.reading import ReadingSession
from workstation.store.cache import StudyCache


def test_opening_a_study_records_instances_accessed_with_patient_and_study(lightbox_home, tmp_path):
    home = Home.single(lightbox_home)
    cache = StudyCache.open(home)
    try:
        study_uid = phantom_study(cache, tmp_path / "ph", 3)
        row = cache.study(study_uid)
        session = ReadingSession(cache)
        try:
            session.open_study(study_uid)
        finally:
            session.close()
    finally:
        cache.close()
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110103"]
    assert rec["studies"] == [study_uid] and rec["patients"] == [row.patient_id] and rec["action"] == "R"
    assert rec["user"]
    validate(rec["xml"])
    assert audit.current().store.folder == home.data_dir / "audit"


def test_export_records_the_studies_patients_and_destination(lightbox_home, tmp_path):
    from workstation.cli import main

    home = Home.single(lightbox_home)
    cache = StudyCache.open(home)
    try:
        study_uid = phantom_study(cache, tmp_path / "ph", 2, patient_id="EXP-1", patient_name="Ýmir^Ása")
    finally:
        cache.close()
    out = tmp_path / "usb"
    assert main(["--home", str(lightbox_home), "export", study_uid, "--to", str(out), "--quiet"]) == 0
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110106"]
    assert rec["studies"] == [study_uid] and rec["patients"] == ["EXP-1"]
    assert str(out) in rec["xml"] and "Ýmir^Ása" in rec["xml"]
    validate(rec["xml"])
