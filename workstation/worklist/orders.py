"""Orders: what was asked of radiology, from the Modality Worklist or from the RIS (HL7 ORM/OMI).

An order is known by its Accession Number and the accession's issuer; it names
its study by Study Instance UID when the RIS assigned one.  Orders are kept in
the index (table ``orders``) so the worklist and the viewer's study header can
show the requested procedure, reason, clinical history, referring physician and
priority of a study without asking the RIS again.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass, fields
from typing import Any

from pydicom.dataset import Dataset

from workstation.store.cache import StudyCache
from workstation.store.database import transaction
from workstation.store.writer import now_iso

#: Priority words as the reader sees them, most urgent first (DICOM Requested Procedure
#: Priority and HL7 ORC-7/OBR-27 priority codes both map onto them).
PRIORITIES = ("STAT", "HIGH", "ROUTINE", "LOW")
_PRIORITY_WORDS = {
    "STAT": "STAT", "S": "STAT", "ASAP": "HIGH", "A": "HIGH", "HIGH": "HIGH", "T": "HIGH", "C": "HIGH",
    "MEDIUM": "ROUTINE", "ROUTINE": "ROUTINE", "R": "ROUTINE", "P": "ROUTINE", "LOW": "LOW",
}


def priority_word(value: str) -> str:
    """A DICOM or HL7 priority as one of :data:`PRIORITIES` (unknown or empty: ROUTINE)."""
    text = (value or "").strip().upper()
    # HL7 TQ/ORC-7 may carry "^^^^^S" components: the priority is the 6th component.
    if "^" in text:
        parts = text.split("^")
        text = parts[5] if len(parts) > 5 else parts[-1]
    return _PRIORITY_WORDS.get(text, "ROUTINE")


def priority_rank(value: str) -> int:
    """0 for STAT, growing with less urgency."""
    return PRIORITIES.index(priority_word(value))


@dataclass(frozen=True)
class Order:
    """One order (one requested procedure) and the context a reader wants beside the images."""

    accession: str
    accession_issuer: str = ""
    study_uid: str = ""
    patient_id: str = ""
    patient_issuer: str = ""
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""
    requested_procedure: str = ""
    procedure_code: str = ""
    reason: str = ""
    clinical_history: str = ""
    referring_physician: str = ""
    priority: str = "ROUTINE"
    modality: str = ""
    body_part: str = ""
    scheduled: str = ""  # YYYYMMDDHHMMSS (as much as known)
    placer_order: str = ""
    filler_order: str = ""
    order_status: str = ""
    source: str = ""  # "mwl:NODE" or "hl7"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> tuple[str, str]:
        return (self.accession, self.accession_issuer)


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def order_from_mwl(ds: Dataset, source: str = "") -> Order:
    """An order from one Modality Worklist C-FIND response (PS3.4 K.6).

    The Scheduled Procedure Step (first item) gives modality, start date/time and
    body part; the requested procedure its description, reason and priority.
    """
    sps = ds.get("ScheduledProcedureStepSequence") or [Dataset()]
    step = sps[0]
    issuer = ""
    seq = ds.get("IssuerOfAccessionNumberSequence")
    if seq:
        issuer = _text(seq[0], "LocalNamespaceEntityID") or _text(seq[0], "UniversalEntityID")
    code = ""
    codes = ds.get("RequestedProcedureCodeSequence")
    if codes:
        code = _text(codes[0], "CodeValue")
    body = _text(step, "BodyPartExamined") or _text(ds, "BodyPartExamined")
    history = _text(ds, "AdditionalPatientHistory") or _text(ds, "MedicalAlerts")
    return Order(
        accession=_text(ds, "AccessionNumber"),
        accession_issuer=issuer,
        study_uid=_text(ds, "StudyInstanceUID"),
        patient_id=_text(ds, "PatientID"),
        patient_issuer=_text(ds, "IssuerOfPatientID"),
        patient_name=_text(ds, "PatientName"),
        birth_date=_text(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex"),
        requested_procedure=(_text(ds, "RequestedProcedureDescription")
                             or _text(step, "ScheduledProcedureStepDescription")),
        procedure_code=code,
        reason=_text(ds, "ReasonForTheRequestedProcedure"),
        clinical_history=history,
        referring_physician=_text(ds, "ReferringPhysicianName"),
        priority=priority_word(_text(ds, "RequestedProcedurePriority")),
        modality=_text(step, "Modality"),
        body_part=body,
        scheduled=(_text(step, "ScheduledProcedureStepStartDate")
                   + _text(step, "ScheduledProcedureStepStartTime").split(".")[0]),
        placer_order=_text(ds, "PlacerOrderNumberImagingServiceRequest"),
        filler_order=_text(ds, "FillerOrderNumberImagingServiceRequest"),
        order_status=_text(step, "ScheduledProcedureStepStatus"),
        source=source,
    )


_COLUMNS = [f.name for f in fields(Order)]


def save_orders(cache: StudyCache, orders: list[Order]) -> int:
    """Insert or update ``orders`` (by accession and issuer) in one transaction; returns how many.

    A later message about the same order replaces what it says; fields it leaves
    empty keep what an earlier one said (an ORM update need not repeat the reason).
    """
    now = now_iso()
    count = 0
    with cache.lock, transaction(cache.connection) as con:
        for order in orders:
            if not order.accession and not order.study_uid:
                continue  # nothing to match a study with
            values = order.as_dict()
            marks = ",".join("?" * (len(_COLUMNS) + 2))
            updates = ", ".join(
                f"{c}=CASE WHEN excluded.{c} != '' THEN excluded.{c} ELSE orders.{c} END" for c in _COLUMNS
                if c not in ("accession", "accession_issuer"))
            con.execute(
                f"INSERT INTO orders ({', '.join(_COLUMNS)}, received, updated) VALUES ({marks}) "
                f"ON CONFLICT(accession, accession_issuer) DO UPDATE SET {updates}, updated=excluded.updated",
                [values[c] for c in _COLUMNS] + [now, now],
            )
            count += 1
    return count


def _order(row: sqlite3.Row) -> Order:
    return Order(**{c: row[c] for c in _COLUMNS})


def list_orders(cache: StudyCache) -> list[Order]:
    """Every order kept, oldest first."""
    with cache.lock:
        rows = list(cache.connection.execute("SELECT * FROM orders ORDER BY received, pk"))
    return [_order(r) for r in rows]


def order_for_study(cache: StudyCache, study_uid: str, accession: str = "", issuer: str = "") -> Order | None:
    """The order of a study: by Study Instance UID, else by accession (and issuer when known)."""
    with cache.lock:
        con = cache.connection
        row = con.execute("SELECT * FROM orders WHERE study_uid=? AND study_uid!='' ORDER BY updated DESC",
                          (study_uid,)).fetchone() if study_uid else None
        if row is None and accession:
            if issuer:
                row = con.execute("SELECT * FROM orders WHERE accession=? AND accession_issuer IN (?, '')",
                                  (accession, issuer)).fetchone()
            else:
                row = con.execute("SELECT * FROM orders WHERE accession=? ORDER BY updated DESC",
                                  (accession,)).fetchone()
    return _order(row) if row is not None else None


def match(order: Order, study_uid: str, accession: str, issuer: str = "") -> bool:
    """True when ``order`` is the order of the study (Study UID, else accession + issuer)."""
    if order.study_uid and study_uid:
        return order.study_uid == study_uid
    if not order.accession or order.accession != accession:
        return False
    return not (order.accession_issuer and issuer) or order.accession_issuer == issuer


def set_order_status(cache: StudyCache, accession: str, status: str, issuer: str = "") -> int:
    """Record the RIS's order status (ORC-5) of the order(s) with ``accession``; returns how many were known."""
    sql, args = "UPDATE orders SET order_status=?, updated=? WHERE accession=?", [status, now_iso(), accession]
    if issuer:
        sql += " AND accession_issuer IN (?, '')"
        args.append(issuer)
    with cache.lock, transaction(cache.connection) as con:
        return con.execute(sql, args).rowcount
