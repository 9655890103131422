"""Which patient a reading session belongs to (patient safety: never mix two patients silently)."""

from __future__ import annotations

from workstation.imaging.patient_module import fold_identity, same_identity
from workstation.store.queries import StudyRow

__all__ = ["OtherPatient", "same_identity", "same_patient"]


class OtherPatient(Exception):
    """The study belongs to another patient than the session's; add it only when confirmed."""


def same_patient(a: StudyRow, b: StudyRow) -> bool:
    """True when two studies are of one patient: same Patient ID (and issuer), and same name.

    Either difference counts: the same ID under another name is exactly the
    mix-up a reader must be told about.
    """
    return (
        fold_identity(a.patient_id) == fold_identity(b.patient_id)
        and fold_identity(a.issuer) == fold_identity(b.issuer)
        and fold_identity(a.patient_name).replace(" ", "") == fold_identity(b.patient_name).replace(" ", "")
    )
