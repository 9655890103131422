"""Which patient a reading session belongs to (patient safety: never mix two patients silently)."""

from __future__ import annotations

from workstation.dicom.patient_identity import compare_identities
from workstation.imaging.patient_module import same_identity
from workstation.store.queries import StudyRow

__all__ = ["OtherPatient", "other_patient_message", "same_identity", "same_patient"]


class OtherPatient(Exception):
    """The study belongs to another patient than the session's; add it only when confirmed."""


def same_patient(a: StudyRow, b: StudyRow) -> bool:
    """True when two studies are of one patient: same Patient ID and issuer, same name and birth date.

    Any difference counts: the same ID under another name is exactly the
    mix-up a reader must be told about.  The comparison is
    :func:`workstation.dicom.patient_identity.compare_identities`, the one
    every place where patients meet uses.
    """
    return compare_identities(a, b).same


def other_patient_message(current: StudyRow, other: StudyRow) -> str:
    """Both identities, for the refusal of (or the warning about) another patient's study."""
    return compare_identities(other, current).message("the study opened", "the patient being read")
