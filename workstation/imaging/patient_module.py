"""The Patient module of a new object made from images (presentation states, key object selections).

highdicom copies Patient's Name, ID, Birth Date and Sex from the referenced
images but not always the Issuer of Patient ID (its Key Object Selection
Document leaves it out).  The index files an object under (Patient ID,
Issuer), so an object without the images' issuer would make its own study
look as if it held two patients.  The builders copy the whole module here.

Of a study the RIS merged into another patient (ADT^A40), the images still
carry the merged-away identity; an object made from them is written with the
surviving patient the index shows (:func:`workstation.store.merges.shown_patient`),
the prior Patient ID kept in Other Patient IDs Sequence
(:func:`apply_shown_patient`).
"""

from __future__ import annotations


from pydicom.dataset import Dataset

from workstation.dicom.charset import can_encode, fit_character_set
from workstation.dicom.patient_identity import PatientIdentity, compare_identities, fold
from workstation.store.merges import ShownPatient

__all__ = ["PATIENT_MODULE_KEYWORDS", "apply_shown_patient", "copy_patient_module", "fold_identity",
           "same_identity"]

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


def copy_patient_module(target: Dataset, image: Dataset, shown: ShownPatient | None = None) -> None:
    """Give ``target`` the Patient module attributes ``image`` carries (and its character set).

    Parameters
    ----------
    target : pydicom.dataset.Dataset
        The new object.
    image : pydicom.dataset.Dataset
        An image it refers to.
    shown : ShownPatient, optional
        The study's surviving patient when the RIS merged it (``shown_patient``):
        an image carrying a merged-away identity gives ``target`` the survivor's.
    """
    for keyword in PATIENT_MODULE_KEYWORDS:
        if keyword in image:
            target[keyword] = image[keyword]
    if "SpecificCharacterSet" in image and "SpecificCharacterSet" not in target:
        target.SpecificCharacterSet = image.SpecificCharacterSet
    if shown is not None:
        apply_shown_patient(target, shown)


def apply_shown_patient(target: Dataset, shown: ShownPatient) -> bool:
    """Write the surviving patient into ``target`` when it carries one of ``shown``'s merged-away identities.

    Patient ID, Issuer of Patient ID, Patient's Name (and Birth Date and Sex
    when the index has them) become the survivor's; each prior Patient ID is
    added to Other Patient IDs Sequence (with the issuer ``target`` carried
    for it).  The character set switches to UTF-8 when the survivor's name
    needs it.  A ``target`` naming someone else under the prior ID (a genuine
    mismatch) is left as it is.

    Returns
    -------
    bool
        True when ``target`` was rewritten.
    """
    prior_id = str(target.get("PatientID", "") or "")
    prior_issuer = str(target.get("IssuerOfPatientID", "") or "")
    if not shown.carried_by(prior_id, str(target.get("PatientName", "") or "")):
        return False
    others = [item for item in target.get("OtherPatientIDsSequence") or []
              if str(item.get("PatientID", "")) not in shown.prior_ids]
    for patient_id in shown.prior_ids:
        item = Dataset()
        item.PatientID = patient_id
        if patient_id == prior_id and prior_issuer:
            item.IssuerOfPatientID = prior_issuer
        item.TypeOfPatientID = "TEXT"
        others.append(item)
    _replace(target, "OtherPatientIDsSequence", others)
    _replace(target, "PatientID", shown.patient_id)
    if shown.issuer != prior_issuer:
        # The index files an object under (ID, issuer): exactly the survivor's, its qualifiers unknown here.
        for keyword in ("IssuerOfPatientID", "IssuerOfPatientIDQualifiersSequence"):
            if keyword in target:
                delattr(target, keyword)
        if shown.issuer:
            target.IssuerOfPatientID = shown.issuer
    _replace(target, "PatientName", shown.name)
    if shown.birth_date:
        _replace(target, "PatientBirthDate", shown.birth_date)
    if shown.sex:
        _replace(target, "PatientSex", shown.sex)
    if not can_encode(shown.name, target.get("SpecificCharacterSet", "")):
        fit_character_set(target)
    return True


def _replace(target: Dataset, keyword: str, value: object) -> None:
    # A new element, not the old one's value changed: copy_patient_module shares the image's elements,
    # and the image's header (kept by the viewer) must go on saying what its file says.
    if keyword in target:
        delattr(target, keyword)
    setattr(target, keyword, value)


def fold_identity(text: str) -> str:
    """A name or ID as compared for identity: Unicode-normalised (NFKC), case-folded, trimmed."""
    return fold(text)


def same_identity(name_a: str, id_a: str, name_b: str, id_b: str) -> bool:
    """True when two (Patient's Name, Patient ID) pairs name one patient (case and spacing aside).

    :func:`workstation.dicom.patient_identity.compare_identities` with the name and ID only.
    """
    return compare_identities(PatientIdentity(id_a, "", name_a), PatientIdentity(id_b, "", name_b)).same
