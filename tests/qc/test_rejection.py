"""Rejection notes: made as IOCM asks, read back, and what they hide (ours and the archive's)."""

from __future__ import annotations

import pydicom
import pytest

from tests.qc.conftest import write_ct
from workstation.qc import rejected_sop_uids, rejection_note_uids, state
from workstation.qc.codes import QUALITY_REASONS, REJECTION_TITLES
from workstation.qc.instances import KOS_SOP_CLASS, QcError, read
from workstation.qc.notes import read_rejection_note
from workstation.qc.rejection import build_rejection_note, reject_instances
from workstation.store.importer import import_paths


def _note(cache, result):
    return pydicom.dcmread(result.notes[0].path)


def test_reject_makes_one_note_that_hides_the_instances(cache, ct_series):
    uids = ct_series.sop_uids[2:4]
    result = reject_instances(cache, uids, "quality", description="patient moved", operator="tech1",
                              quality="motion-blur")
    assert result.rejected == uids and len(result.notes) == 1
    note = _note(cache, result)
    assert note.SOPClassUID == KOS_SOP_CLASS and note.Modality == "KO"
    assert note.StudyInstanceUID == ct_series.study_uid and note.PatientID == "PAT001"
    title = note.ConceptNameCodeSequence[0]
    assert (title.CodeValue, title.CodingSchemeDesignator, title.CodeMeaning) == (
        "113001", "DCM", "Rejected for Quality Reasons")
    evidence = note.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == ct_series.study_uid
    referenced = [s.ReferencedSOPInstanceUID for s in evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence]
    assert sorted(referenced) == sorted(uids)
    items = note.ContentSequence
    modifier = items[0]
    assert modifier.RelationshipType == "HAS CONCEPT MOD"
    assert modifier.ConceptNameCodeSequence[0].CodeValue == "113011"
    assert modifier.ConceptCodeSequence[0].CodeValue == QUALITY_REASONS["motion-blur"].value == "111210"
    texts = [i.TextValue for i in items if i.ValueType == "TEXT"]
    assert texts == ["patient moved"]
    observers = [str(i.PersonName) for i in items if i.ValueType == "PNAME"]
    assert observers == ["tech1^"]
    images = [i.ReferencedSOPSequence[0].ReferencedSOPInstanceUID for i in items if i.ValueType == "IMAGE"]
    assert sorted(images) == sorted(uids)
    assert rejected_sop_uids(cache, ct_series.study_uid) == set(uids)
    assert rejection_note_uids(cache, ct_series.study_uid) == {str(note.SOPInstanceUID)}
    audit = state.audit_entries(cache, ct_series.study_uid)
    assert audit[-1].action == "reject" and audit[-1].operator == "tech1" and audit[-1].reason == "patient moved"


@pytest.mark.parametrize("reason,code", [("worklist", "113038"), ("safety", "113037"), ("retention", "113039")])
def test_other_iocm_titles(cache, ct_series, reason, code):
    result = reject_instances(cache, ct_series.sop_uids[:1], reason)
    assert _note(cache, result).ConceptNameCodeSequence[0].CodeValue == code == REJECTION_TITLES[reason].value


def test_originals_are_untouched(cache, ct_series):
    before = {u: cache.path_of(cache.instance(u)).read_bytes() for u in ct_series.sop_uids}
    reject_instances(cache, ct_series.sop_uids[:3], "quality")
    assert {u: cache.path_of(cache.instance(u)).read_bytes() for u in ct_series.sop_uids} == before


def test_rejecting_again_makes_no_second_note(cache, ct_series):
    first = reject_instances(cache, ct_series.sop_uids[:2], "quality")
    again = reject_instances(cache, ct_series.sop_uids[:3], "quality")
    assert again.already_rejected == ct_series.sop_uids[:2] and again.rejected == ct_series.sop_uids[2:3]
    assert len(rejection_note_uids(cache, ct_series.study_uid)) == 2
    assert first.notes[0].sop_instance_uid in rejection_note_uids(cache, ct_series.study_uid)


def test_bad_requests_say_why_and_change_nothing(cache, ct_series):
    with pytest.raises(QcError, match="unknown rejection reason 'bad'"):
        reject_instances(cache, ct_series.sop_uids[:1], "bad")
    with pytest.raises(QcError, match="unknown quality reason"):
        reject_instances(cache, ct_series.sop_uids[:1], "quality", quality="smudge")
    with pytest.raises(QcError, match="not in the cache: 1.2.3"):
        reject_instances(cache, [ct_series.sop_uids[0], "1.2.3"], "quality")
    with pytest.raises(QcError, match="no SOP Instance UID"):
        reject_instances(cache, [" "], "quality")
    with pytest.raises(QcError, match="only with 'Rejected for Quality Reasons'"):
        reject_instances(cache, ct_series.sop_uids[:1], "safety", quality="positioning")
    assert rejected_sop_uids(cache, ct_series.study_uid) == set()
    note = reject_instances(cache, ct_series.sop_uids[:1], "quality").notes[0]
    with pytest.raises(QcError, match="is a rejection note itself"):
        reject_instances(cache, [note.sop_instance_uid], "quality")


def test_one_note_per_study(cache, tmp_path, ct_series):
    other = write_ct(tmp_path / "other", 2)
    import_paths(cache, other.paths, workers=1)
    result = reject_instances(cache, [ct_series.sop_uids[0], other.sop_uids[0]], "quality")
    assert sorted(p.study_uid for p in result.notes) == sorted([ct_series.study_uid, other.study_uid])
    assert rejected_sop_uids(cache, other.study_uid) == {other.sop_uids[0]}


def test_a_note_from_the_archive_hides_its_instances_too(cache, tmp_path, ct_series):
    """A note that arrives like any other object (import, storage SCP, retrieve) is read on first use."""
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in ct_series.paths[5:7]]
    note = build_rejection_note(headers, REJECTION_TITLES["worklist"], description="from elsewhere")
    path = tmp_path / "note.dcm"
    note.save_as(path, enforce_file_format=True)
    assert import_paths(cache, [path], workers=1).imported == 1
    assert rejected_sop_uids(cache, ct_series.study_uid) == set(ct_series.sop_uids[5:7])
    # A Key Object Selection that is not a rejection note hides nothing.
    record = read_rejection_note(note)
    assert record is not None and record.title[0] == "113038"
    note.ConceptNameCodeSequence[0].CodeValue = "113000"  # Of Interest
    assert read_rejection_note(note) is None


def test_key_images_are_not_rejections(cache, tmp_path, ct_series):
    from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
    from pydicom.sr.codedict import codes

    from workstation.dicom.uids import new_uid

    headers = [pydicom.dcmread(ct_series.paths[0], stop_before_pixels=True)]
    kos = KeyObjectSelectionDocument(headers, KeyObjectSelection(codes.DCM.OfInterest, headers), new_uid(), 50,
                                     new_uid(), 1, manufacturer="Other")
    path = tmp_path / "key.dcm"
    kos.save_as(path, enforce_file_format=True)
    import_paths(cache, [path], workers=1)
    assert rejected_sop_uids(cache, ct_series.study_uid) == set()
    assert rejection_note_uids(cache, ct_series.study_uid) == set()


def test_a_note_leaving_the_cache_unhides(cache, ct_series):
    from workstation.store.maintenance import verify

    note = reject_instances(cache, ct_series.sop_uids[:1], "quality").notes[0]
    assert rejected_sop_uids(cache, ct_series.study_uid) == {ct_series.sop_uids[0]}
    note.path.unlink()
    verify(cache, repair=True)  # drops the row of the missing file
    assert rejected_sop_uids(cache, ct_series.study_uid) == set()


def test_rejected_is_cheap_once_read(cache, ct_series, monkeypatch):
    reject_instances(cache, ct_series.sop_uids[:1], "quality")
    rejected_sop_uids(cache, ct_series.study_uid)
    calls = []
    monkeypatch.setattr("workstation.qc.notes.read", lambda *a, **k: calls.append(a) or read(*a, **k))
    assert rejected_sop_uids(cache, ct_series.study_uid) == {ct_series.sop_uids[0]}
    assert calls == []


def test_hidden_is_rejected_plus_notes(cache, ct_series):
    from workstation.qc import hidden_sop_uids

    note = reject_instances(cache, ct_series.sop_uids[:1], "quality").notes[0]
    assert hidden_sop_uids(cache, ct_series.study_uid) == {ct_series.sop_uids[0], note.sop_instance_uid}
