"""Instances arriving after a patient merge (ADT^A40) with the prior Patient ID follow the merge: a late series of
a merged study is not taken for a second patient, a new study of the prior ID is filed under the survivor with
the merge recorded (so the viewer treats it as merged), and an instance naming a third patient still flags the
study as mixed."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from tests.factories import write_series
from tests.hl7.peer import message
from workstation.hl7.inbound import apply_message
from workstation.hl7.settings import HL7Settings
from workstation.store.importer import import_paths
from workstation.store.queries import StudyFilter
from workstation.worklist.patients import recorded_identity

pytestmark = pytest.mark.timeout(120)


def _merge_b_into_a(cache) -> str:
    [moved] = [s for s in cache.studies(StudyFilter()) if s.patient_id == "HL7-B"]
    a40 = message("ADT_A39", {"EVN": {"evn_1": "A40"}, "PID": {"pid_3": "HL7-A", "pid_5": "Müller^Anna"},
                              "MRG": {"mrg_1": "HL7-B"}}, control_id="A40-LATE", event="ADT^A40")
    assert apply_message(cache, a40, HL7Settings()).ack_code == "AA"
    return moved.study_uid


def _study(cache, uid):
    [row] = [s for s in cache.studies(StudyFilter()) if s.study_uid == uid]
    return row


def test_late_series_of_a_merged_study_is_not_a_second_patient(cache, tmp_path: Path):
    moved = _merge_b_into_a(cache)
    late = write_series(tmp_path / "late", 2, study_uid=moved, patient_name="山田^花子", patient_id="HL7-B")
    import_paths(cache, [str(p) for p in late])
    row = _study(cache, moved)
    assert row.patient_id == "HL7-A" and row.num_instances == 4 and not row.mixed_patients

    stranger = write_series(tmp_path / "x", 1, study_uid=moved, patient_name="Fremd^Franz", patient_id="HL7-X")
    import_paths(cache, [str(p) for p in stranger])
    assert _study(cache, moved).mixed_patients  # a patient no merge names: flagged as before


def test_new_study_of_a_merged_away_id_is_filed_under_the_survivor(cache, tmp_path: Path):
    _merge_b_into_a(cache)
    new = write_series(tmp_path / "new", 2, patient_name="山田^花子", patient_id="HL7-B")
    import_paths(cache, [str(p) for p in new])
    row = _study(cache, _uid_of(new))
    assert (row.patient_id, row.patient_name) == ("HL7-A", "Müller^Anna") and not row.mixed_patients
    recorded = recorded_identity(cache, row.study_uid, row.patient_id, row.issuer)
    assert recorded.patient_ids == {"HL7-B"} and "山田^花子" in recorded.names
    # Nothing else is excused for it.
    assert recorded_identity(cache, "1.2.3.4", "HL7-A").patient_ids == frozenset()


def _uid_of(paths: list[Path]) -> str:
    return str(pydicom.dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID)
