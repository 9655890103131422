"""Keeping the cache's study row true to a corrected study.

The index files a study under the patient of its first instance and keeps the
study attributes it saw first.  After a correction that keeps the Study
Instance UID, the originals are rejected and the corrected copies are what the
study is: the row must name the corrected patient and show the corrected
study attributes, or the study list would go on showing the mistake.
"""

from __future__ import annotations

import pydicom

from workstation.dicom.header import InstanceRecord, record_from_dataset
from workstation.qc.instances import QcError
from workstation.store.cache import StudyCache
from workstation.store.database import transaction


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
