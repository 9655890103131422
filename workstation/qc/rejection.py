"""Rejecting instances the IHE IOCM way: making rejection notes.

A rejection note is a Key Object Selection document (TID 2010) titled with one
of the rejection titles (:mod:`workstation.qc.codes`) that lists the rejected
instances in its Current Requested Procedure Evidence Sequence and as IMAGE or
COMPOSITE content items.  One note per study; the note belongs to the study of
the instances it rejects (so archives file it with them).  Reading notes and
:func:`~workstation.qc.notes.rejected_sop_uids` live in :mod:`workstation.qc.notes`.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
from highdicom.sr import CodedConcept, CodeContentItem, ObserverContext, PersonObserverIdentifyingAttributes
from highdicom.sr.enum import RelationshipTypeValues
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from workstation.dicom.charset import highdicom_ready
from workstation.dicom.uids import new_uid
from workstation.imaging.patient_module import apply_shown_patient
from workstation.qc import state
from workstation.qc.codes import DOCUMENT_TITLE_MODIFIER, REJECTION_CODE_KEYS, REJECTION_TITLES, quality_reason
from workstation.qc.instances import Produced, QcError, operator_name, read, store
from workstation.qc.notes import read_rejection_note, rejected_sop_uids, remember
from workstation.store.cache import StudyCache
from workstation.store.merges import ShownPatient, shown_patient
from workstation.store.queries import InstanceRow

log = logging.getLogger(__name__)

#: Manufacturer written into the notes (General Equipment module).
MANUFACTURER = "Lightbox"


def build_rejection_note(
    originals: Sequence[Dataset],
    title: Code,
    *,
    description: str = "",
    operator: str = "",
    modifier: Code | None = None,
    series_number: int = 999,
    shown: ShownPatient | None = None,
) -> Dataset:
    """A rejection note for instances of one study.

    Parameters
    ----------
    originals : sequence of pydicom.dataset.Dataset
        Headers of the rejected instances (pixel data not needed), one study.
    title : pydicom.sr.coding.Code
        A rejection title, e.g. ``REJECTION_TITLES["quality"]``.
    description : str
        Free text: why (Key Object Description).
    operator : str
        Who rejected them (Person Observer Name).
    modifier : pydicom.sr.coding.Code, optional
        A CID 7011 reason, written as Document Title Modifier (only with
        "Rejected for Quality Reasons").
    series_number : int
        The note's Series Number.
    shown : ShownPatient, optional
        The study's surviving patient when the RIS merged it
        (:func:`workstation.store.merges.shown_patient`): the note names it.

    Returns
    -------
    pydicom.dataset.Dataset
        The Key Object Selection document with new series and instance UIDs.
    """
    if not originals:
        raise QcError("nothing to reject")
    studies = {str(ds.StudyInstanceUID) for ds in originals}
    if len(studies) != 1:
        raise QcError("a rejection note covers one study: make one note per study")
    if (title.value, title.scheme_designator) not in REJECTION_CODE_KEYS:
        raise QcError(f"({title.value}, {title.scheme_designator}) is not a rejection title")
    if modifier is not None and title != REJECTION_TITLES["quality"]:
        raise QcError("a quality reason (CID 7011) goes only with 'Rejected for Quality Reasons'")
    observer = None
    if operator:
        observer = ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=PersonObserverIdentifyingAttributes(name=_person_name(operator)),
        )
    # highdicom copies the evidence's character set (and cannot take every term) and reads Type 2 attributes
    # an original may lack: it is given headers it can build from.
    originals = [highdicom_ready(ds) for ds in originals]
    content = KeyObjectSelection(
        document_title=title,
        referenced_objects=list(originals),
        observer_person_context=observer,
        description=description or None,
    )
    note = KeyObjectSelectionDocument(
        evidence=list(originals),
        content=content,
        series_instance_uid=new_uid(),
        series_number=series_number,
        sop_instance_uid=new_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
    )
    # highdicom copies only some of the Patient and General Study modules; archives and our own
    # index match patients by Patient ID *and* Issuer, so the note carries what the originals carry.
    first = originals[0]
    for keyword in _COPIED_FROM_ORIGINALS:
        if keyword in first and keyword not in note:
            note[keyword] = copy.deepcopy(first[keyword])
    if shown is not None:
        apply_shown_patient(note, shown)
    if modifier is not None:
        item = CodeContentItem(
            name=CodedConcept.from_code(DOCUMENT_TITLE_MODIFIER),
            value=CodedConcept.from_code(modifier),
            relationship_type=RelationshipTypeValues.HAS_CONCEPT_MOD,
        )
        # TID 2010 row 2: the modifier comes before the observer context and the references.
        note.ContentSequence.insert(0, item)
    return note


#: Patient and General Study attributes a note copies from the instances it rejects.
_COPIED_FROM_ORIGINALS = (
    "IssuerOfPatientID", "IssuerOfPatientIDQualifiersSequence", "OtherPatientIDsSequence", "PatientBirthTime",
    "StudyDescription", "IssuerOfAccessionNumberSequence",
)


def _person_name(operator: str) -> str:
    """A login name as a Person Name: the whole of it as the family name component."""
    name = operator.replace("\\", " ").strip()[:63]
    return name if "^" in name else name + "^"


@dataclass
class RejectionResult:
    """What :func:`reject_instances` did."""

    notes: list[Produced] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    already_rejected: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"notes": [p.as_dict() for p in self.notes], "rejected": self.rejected,
                "already_rejected": self.already_rejected}


def reject_instances(
    cache: StudyCache,
    sop_uids: Iterable[str],
    reason: str = "quality",
    *,
    description: str = "",
    operator: str | None = None,
    quality: str | None = None,
) -> RejectionResult:
    """Reject cached instances: make a rejection note per study and store it in the cache.

    Parameters
    ----------
    cache : StudyCache
    sop_uids : iterable of str
    reason : {"quality", "worklist", "safety", "retention"}
    description : str
        Free text why.
    operator : str, optional
        Who (default: the login name).
    quality : str, optional
        A CID 7011 reason name (:data:`workstation.qc.codes.QUALITY_REASONS`), with ``reason="quality"``.

    Returns
    -------
    RejectionResult
        Instances that were already rejected are listed apart and get no new note.

    Raises
    ------
    QcError
        Unknown UIDs, a rejection note among them, or bad reasons: nothing is rejected then.
    """
    title = REJECTION_TITLES.get(reason)
    if title is None:
        raise QcError(f"unknown rejection reason {reason!r}: one of {', '.join(REJECTION_TITLES)}")
    try:
        modifier = quality_reason(quality) if quality else None
    except ValueError as exc:
        raise QcError(str(exc)) from None
    uids = list(dict.fromkeys(u.strip() for u in sop_uids if u.strip()))
    if not uids:
        raise QcError("no SOP Instance UID to reject")
    rows: list[InstanceRow] = []
    unknown = []
    for uid in uids:
        row = cache.instance(uid)
        (rows.append(row) if row is not None else unknown.append(uid))
    if unknown:
        raise QcError(f"not in the cache: {', '.join(unknown[:5])}" + (" …" if len(unknown) > 5 else ""))
    by_study: dict[str, list[InstanceRow]] = {}
    for row in rows:
        by_study.setdefault(row.study_uid, []).append(row)
    who = operator_name(operator)
    result = RejectionResult()
    headers: dict[str, list[Dataset]] = {}
    for study_uid, members in by_study.items():
        done = rejected_sop_uids(cache, study_uid)
        todo = []
        for row in members:
            if row.sop_instance_uid in done:
                result.already_rejected.append(row.sop_instance_uid)
                continue
            ds = read(cache, row, pixels=False)
            if read_rejection_note(ds) is not None:
                raise QcError(f"{row.sop_instance_uid} is a rejection note itself, not an instance to reject")
            todo.append(ds)
        if todo:
            headers[study_uid] = todo
    for study_uid, todo in headers.items():
        produced = reject_datasets(cache, todo, title, description=description, operator=who, modifier=modifier)
        result.notes.append(produced)
        result.rejected.extend(str(ds.SOPInstanceUID) for ds in todo)
        state.record_audit(cache, "reject", study_uid, who, description,
                           {"title": title.meaning, "quality_reason": modifier.meaning if modifier else "",
                            "rejected": [str(ds.SOPInstanceUID) for ds in todo], "note": produced.sop_instance_uid})
    return result


def reject_datasets(cache: StudyCache, originals: Sequence[Dataset], title: Code, *, description: str = "",
                    operator: str = "", modifier: Code | None = None) -> Produced:
    """Make, cache and take into account the rejection note for ``originals`` (one study)."""
    study_uid = str(originals[0].StudyInstanceUID)
    note = build_rejection_note(originals, title, description=description, operator=operator, modifier=modifier,
                                series_number=next_series_number(cache, study_uid),
                                shown=shown_patient(cache, study_uid))
    (produced,) = store(cache, [("note", note)])
    remember(cache, [produced])
    log.info("rejection note %s (%s) rejects %d instance(s) of study %s", produced.sop_instance_uid, title.value,
             len(originals), study_uid)
    return produced


def next_series_number(cache: StudyCache, study_uid: str) -> int:
    """One more than the highest Series Number of the study (at least 1)."""
    numbers = [s.series_number for s in cache.series(study_uid) if s.series_number is not None]
    return max(numbers, default=0) + 1
