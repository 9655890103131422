"""The report for the RIS: an ORU^R01 built when a report is issued, queued with it in the outbox.

Built once, at signing, from the SR just made (its text, its state, its signer)
and the study's order (accession, placer/filler numbers, procedure), so every
retry sends the same message with the same control ID.
"""

from __future__ import annotations

import datetime as dt

from pydicom.dataset import Dataset

from workstation.config import Settings
from workstation.hl7.messages import OruReport, build_oru, new_control_id
from workstation.hl7.settings import HL7Settings
from workstation.reporting.sr_text import render_lines
from workstation.store.cache import StudyCache
from workstation.store.outbox import HL7Outbound
from workstation.worklist.orders import order_for_study


def report_message(cache: StudyCache, settings: Settings, sr: Dataset, state: str, *, signer_name: str,
                   signer_id: str, now: dt.datetime | None = None) -> HL7Outbound | None:
    """The ORU^R01 to queue for ``sr``, or None when no RIS is configured.

    ``state``: preliminary, final or amended (OBR-25/OBX-11 P, F, C).
    """
    hs = HL7Settings.of(settings)
    if not hs.sends_reports:
        return None
    study_uid = str(sr.get("StudyInstanceUID", ""))
    row = cache.study(study_uid)
    accession = str(sr.get("AccessionNumber", "") or (row.accession if row else ""))
    order = order_for_study(cache, study_uid, accession)
    lines = [line.rstrip() for line in render_lines(sr, header=False)]
    while lines and not lines[-1]:
        lines.pop()
    report = OruReport(
        patient_id=row.patient_id if row else str(sr.get("PatientID", "")),
        patient_issuer=row.issuer if row else "",
        patient_name=row.patient_name if row else str(sr.get("PatientName", "")),
        birth_date=row.birth_date if row else "",
        sex=row.sex if row else "",
        accession=accession or (order.accession if order else ""),
        status=state,
        lines=lines,
        signer_name=signer_name,
        signer_id=signer_id,
        placer_order=order.placer_order if order else "",
        filler_order=order.filler_order if order else "",
        procedure_code=order.procedure_code if order else "",
        procedure=(order.requested_procedure if order else "") or (row.description if row else ""),
        study_uid=study_uid,
        report_uid=str(sr.get("SOPInstanceUID", "")),
        observed=now,
    )
    control_id = new_control_id()
    return HL7Outbound(hs.destination, control_id, build_oru(report, hs, control_id=control_id, now=now))
