"""Study correction: the plan says what changes; applying makes corrected copies and rejects the originals."""

from __future__ import annotations

import pydicom
import pytest

from workstation.qc import rejected_sop_uids, state
from workstation.qc.correction import apply_correction, parse_assignments, plan_correction
from workstation.qc.instances import QcError


def _plan(cache, study, **values):
    return plan_correction(cache, study, values, reason="wrong patient chosen at the modality", operator="tech2")


def test_plan_lists_every_change_and_touches_nothing(cache, ct_series):
    before = cache.study(ct_series.study_uid)
    plan = _plan(cache, ct_series.study_uid, PatientName="Doe^Jane", PatientID="PAT001", AccessionNumber="A-77")
    changes = {c.keyword: c for c in plan.changes}
    assert set(changes) == {"PatientName", "AccessionNumber"}  # the Patient ID is already right
    assert changes["PatientName"].old == ("Test^Patient",) and changes["PatientName"].instances == 8
    assert changes["AccessionNumber"].old == ("ACC1",) and changes["AccessionNumber"].new == "A-77"
    lines = plan.lines()
    assert lines[:2] == ["Patient's Name: 'Test^Patient' -> 'Doe^Jane' (8 instances)",
                         "Accession Number: 'ACC1' -> 'A-77' (8 instances)"]
    assert "8 instance(s) in 1 series copied" in lines[2]
    assert "Incorrect Modality Worklist Entry" in lines[3]
    assert cache.study(ct_series.study_uid) == before
    assert len(cache.instances(ct_series.series_uid)) == 8 and rejected_sop_uids(cache, ct_series.study_uid) == set()


def test_apply_makes_copies_with_new_uids_and_original_attributes(cache, ct_series):
    originals = {u: cache.path_of(cache.instance(u)).read_bytes() for u in ct_series.sop_uids}
    plan = _plan(cache, ct_series.study_uid, PatientName="Doe^Jane", PatientBirthDate="19800101")
    outcome = apply_correction(cache, plan)
    assert len(outcome.copies) == 8 and len(outcome.notes) == 1
    new_series = {p.series_uid for p in outcome.copies}
    assert len(new_series) == 1 and ct_series.series_uid not in new_series
    assert not {p.sop_instance_uid for p in outcome.copies} & set(ct_series.sop_uids)
    copy = pydicom.dcmread(outcome.copies[0].path)
    assert copy.PatientName == "Doe^Jane" and copy.PatientBirthDate == "19800101"
    assert copy.StudyInstanceUID == ct_series.study_uid
    assert copy.file_meta.MediaStorageSOPInstanceUID == copy.SOPInstanceUID
    item = copy.OriginalAttributesSequence[-1]
    old = item.ModifiedAttributesSequence[0]
    assert old.PatientName == "Test^Patient" and old.PatientBirthDate == "19700101"
    assert old.SOPInstanceUID in ct_series.sop_uids and old.SeriesInstanceUID == ct_series.series_uid
    assert item.ReasonForTheAttributeModification == "CORRECT"
    assert item.ModifyingSystem.startswith("Lightbox") and "tech2" in item.ModifyingSystem
    assert len(item.AttributeModificationDateTime) >= 14
    assert copy.pixel_array.shape == (16, 16)
    # Originals: byte for byte unchanged, rejected as an incorrect worklist entry.
    assert {u: cache.path_of(cache.instance(u)).read_bytes() for u in ct_series.sop_uids} == originals
    assert rejected_sop_uids(cache, ct_series.study_uid) == set(ct_series.sop_uids)
    note = pydicom.dcmread(outcome.notes[0].path)
    assert note.ConceptNameCodeSequence[0].CodeValue == "113038"
    assert note.PatientName == "Test^Patient"  # the note belongs with the originals
    # The study list shows the corrected study.
    row = cache.study(ct_series.study_uid)
    assert row.patient_name == "Doe^Jane" and row.birth_date == "19800101" and not row.mixed_patients
    entry = state.audit_entries(cache, ct_series.study_uid)[-1]
    assert entry.action == "correct" and entry.operator == "tech2" and entry.details["changes"][0]["new"]


def test_new_study_uid_when_asked(cache, ct_series):
    plan = plan_correction(cache, ct_series.study_uid, {"AccessionNumber": "B1"}, reason="other order",
                           new_study=True)
    assert plan.new_study_uid != ct_series.study_uid
    outcome = apply_correction(cache, plan)
    copies = {p.study_uid for p in outcome.copies}
    assert copies == {plan.new_study_uid}
    assert cache.study(plan.new_study_uid).accession == "B1"
    assert rejected_sop_uids(cache, ct_series.study_uid) == set(ct_series.sop_uids)


def test_a_second_correction_corrects_the_copies(cache, ct_series):
    first = apply_correction(cache, _plan(cache, ct_series.study_uid, PatientName="Doe^Jane"))
    plan = _plan(cache, ct_series.study_uid, PatientName="Doe^Janet")
    assert set(plan.originals) == {p.sop_instance_uid for p in first.copies} and plan.skipped_rejected == 9
    second = apply_correction(cache, plan)
    copy = pydicom.dcmread(second.copies[0].path)
    assert [i.ModifiedAttributesSequence[0].PatientName for i in copy.OriginalAttributesSequence] == [
        "Test^Patient", "Doe^Jane"]
    assert cache.study(ct_series.study_uid).patient_name == "Doe^Janet"


def test_references_follow_the_copies(cache, tmp_path, ct_series):
    """A key-image note copied along points at the corrected copies, not the rejected originals."""
    from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
    from pydicom.sr.codedict import codes

    from workstation.dicom.uids import new_uid
    from workstation.store.importer import import_paths

    headers = [pydicom.dcmread(ct_series.paths[0], stop_before_pixels=True)]
    kos = KeyObjectSelectionDocument(headers, KeyObjectSelection(codes.DCM.OfInterest, headers), new_uid(), 50,
                                     new_uid(), 1, manufacturer="Other")
    kos.save_as(tmp_path / "key.dcm", enforce_file_format=True)
    import_paths(cache, [tmp_path / "key.dcm"], workers=1)
    outcome = apply_correction(cache, _plan(cache, ct_series.study_uid, PatientName="Doe^Jane"))
    key_copy = next(pydicom.dcmread(p.path) for p in outcome.copies if p.sop_class_uid == kos.SOPClassUID)
    ref = key_copy.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    first_copy = next(p for p in outcome.copies
                      if pydicom.dcmread(p.path).OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
                      .SOPInstanceUID == ct_series.sop_uids[0])
    assert ref.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == first_copy.sop_instance_uid
    assert ref.SeriesInstanceUID == first_copy.series_uid


@pytest.mark.parametrize("items,message", [
    (["PatientName"], "expected KEYWORD=VALUE"),
    (["Modality=MR"], "cannot be corrected here"),
    (["PatientBirthDate=1.1.1980"], "not a valid DA value"),
    (["PatientSex=X"], "one of M, F, O"),
    (["AccessionNumber=" + "9" * 17], "not a valid SH value"),
    ([], "nothing to correct"),
])
def test_bad_assignments_are_refused(items, message):
    with pytest.raises(QcError, match=message):
        parse_assignments(items)


def test_keywords_are_case_insensitive():
    assert parse_assignments(["patientname=Doe^J", "ACCESSIONNUMBER=1"]) == \
        {"PatientName": "Doe^J", "AccessionNumber": "1"}


def test_bad_plans_are_refused(cache, ct_series):
    with pytest.raises(QcError, match="no study 1.2.3"):
        _plan(cache, "1.2.3", PatientName="A^B")
    with pytest.raises(QcError, match="needs a reason"):
        plan_correction(cache, ct_series.study_uid, {"PatientName": "A^B"}, reason=" ")
    with pytest.raises(QcError, match="already has these values"):
        _plan(cache, ct_series.study_uid, PatientName="Test^Patient")
    with pytest.raises(QcError, match="unknown rejection reason"):
        plan_correction(cache, ct_series.study_uid, {"PatientName": "A^B"}, reason="x", rejection="oops")


def test_plan_goes_stale_when_an_original_leaves(cache, ct_series):
    from workstation.store.maintenance import verify

    plan = _plan(cache, ct_series.study_uid, PatientName="Doe^Jane")
    cache.path_of(cache.instance(ct_series.sop_uids[-1])).unlink()
    verify(cache, repair=True)
    with pytest.raises(QcError, match="plan again"):
        apply_correction(cache, plan)
    assert rejected_sop_uids(cache, ct_series.study_uid) == set()  # the originals stay in force
