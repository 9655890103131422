"""Keeping the cache's study row true to a corrected study.

The index files a study under the patient of its first instance and keeps the
study attributes it saw first.  After a correction that keeps the Study
Instance UID, the originals are rejected and the corrected copies are what the
study is: the row must name the corrected patient and show the corrected
study attributes, or the study list would go on showing the mistake.
"""

from __future__ import annotations

from typing import Any

import pydicom
from pydicom.dataset import Dataset

from workstation.dicom.header import InstanceRecord, record_from_dataset
from workstation.imaging.patient_module import PATIENT_MODULE_KEYWORDS, apply_shown_patient
from workstation.qc.instances import QcError
from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.store.merges import ShownPatient


def _patient_key(rec: InstanceRecord) -> tuple[str, str, str]:
    # Mirrors the store's patient key (workstation.store.writer): ID and issuer, or name and
    # birth date when there is no Patient ID.
    if rec.patient_id:
        return rec.patient_id, rec.issuer_of_patient_id, ""
    return "", rec.issuer_of_patient_id, f"{rec.patient_name}|{rec.patient_birth_date}"


def adopt_study_attributes(cache: StudyCache, study_uid: str, sop_uid: str) -> None:
    """Make the study row show the patient and study attributes of cached instance ``sop_uid``.

    The study's mixed-patients flag is cleared: the instances that named
    another patient are rejected (readers hide them); QC's own check looks at
    the instances that are not rejected.
    """
    row = cache.instance(sop_uid)
    if row is None:
        raise QcError(f"instance {sop_uid} is not in the cache")
    rec = record_from_dataset(pydicom.dcmread(cache.path_of(row), stop_before_pixels=True))
    with cache.lock, transaction(cache.connection) as con:
        found = con.execute("SELECT pk FROM patients WHERE patient_id=? AND issuer=? AND key_extra=?",
                            _patient_key(rec)).fetchone()
        if found is None:
            raise QcError(f"the index has no patient for instance {sop_uid}")
        con.execute("UPDATE patients SET name=?, birth_date=?, sex=? WHERE pk=?",
                    (rec.patient_name, rec.patient_birth_date, rec.patient_sex, found["pk"]))
        con.execute(
            """UPDATE studies SET patient_pk=?, study_date=?, study_time=?, description=?, accession=?, study_id=?,
                   referring_physician=?, institution=?, mixed_patients=0 WHERE study_uid=?""",
            (found["pk"], rec.study_date, rec.study_time, rec.study_description, rec.accession_number, rec.study_id,
             rec.referring_physician, rec.institution_name, study_uid),
        )


def merged_patient_values(shown: ShownPatient | None, original: Dataset,
                          corrected: Any = ()) -> dict[str, Any]:
    """The Patient module values a copy of ``original`` takes so that it names the study's surviving patient.

    A copy of an image of a merged study (correction, split, merge) is a new
    object: it carries the survivor the index shows, like every object made
    from the study (:func:`workstation.imaging.patient_module.apply_shown_patient`),
    and the copy's Original Attributes Sequence records the merged-away values.

    Parameters
    ----------
    shown : ShownPatient or None
        ``workstation.store.merges.shown_patient`` of the study (None: not merged).
    original : pydicom.dataset.Dataset
        The instance copied.
    corrected : collection of str
        Keywords the operator sets explicitly: a correction that gives a Patient ID
        decides the patient itself (nothing is added), any other value it gives wins.

    Returns
    -------
    dict
        Keyword -> new value (None removes the attribute); empty when nothing changes.
    """
    if shown is None or "PatientID" in corrected:
        return {}
    probe = Dataset()
    if "SpecificCharacterSet" in original:  # by value: the probe may switch it, the original must not
        probe.SpecificCharacterSet = original.SpecificCharacterSet
    for keyword in PATIENT_MODULE_KEYWORDS:
        if keyword in original:
            probe[keyword] = original[keyword]  # shared, not changed: apply_shown_patient puts new elements
    if not apply_shown_patient(probe, shown):
        return {}
    out: dict[str, Any] = {}
    # Not the character set: the copy's other values are still raw in the original's; writing the copy
    # (qc.instances.encode) converts them first and switches to UTF-8 when the survivor's name needs it.
    for keyword in PATIENT_MODULE_KEYWORDS:
        if keyword in corrected:
            continue
        new = probe.get(keyword)
        if keyword not in probe:
            if keyword in original:
                out[keyword] = None
        elif keyword not in original or original[keyword].value != new:
            out[keyword] = new
    return out
