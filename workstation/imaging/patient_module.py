"""The Patient module of a new object made from images (presentation states, key object selections).

highdicom copies Patient's Name, ID, Birth Date and Sex from the referenced
images but not always the Issuer of Patient ID (its Key Object Selection
Document leaves it out).  The index files an object under (Patient ID,
Issuer), so an object without the images' issuer would make its own study
look as if it held two patients.  The builders copy the whole module here.
"""

from __future__ import annotations


from pydicom.dataset import Dataset

from workstation.dicom.patient_identity import PatientIdentity, compare_identities, fold

__all__ = ["PATIENT_MODULE_KEYWORDS", "copy_patient_module", "fold_identity", "same_identity"]

#: Patient module attributes repeated from the images into objects that refer to them.
PATIENT_MODULE_KEYWORDS = (
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence",
    "PatientBirthDate",
    "PatientSex",
    "OtherPatientIDsSequence",
)


def copy_patient_module(target: Dataset, image: Dataset) -> None:
    """Give ``target`` the Patient module attributes ``image`` carries (and its character set)."""
    for keyword in PATIENT_MODULE_KEYWORDS:
        if keyword in image:
            target[keyword] = image[keyword]
    if "SpecificCharacterSet" in image and "SpecificCharacterSet" not in target:
        target.SpecificCharacterSet = image.SpecificCharacterSet


def fold_identity(text: str) -> str:
    """A name or ID as compared for identity: Unicode-normalised (NFKC), case-folded, trimmed."""
    return fold(text)


def same_identity(name_a: str, id_a: str, name_b: str, id_b: str) -> bool:
    """True when two (Patient's Name, Patient ID) pairs name one patient (case and spacing aside).

    :func:`workstation.dicom.patient_identity.compare_identities` with the name and ID only.
    """
    return compare_identities(PatientIdentity(id_a, "", name_a), PatientIdentity(id_b, "", name_b)).same
