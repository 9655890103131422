"""Reading status shared with colleagues through the RIS (Qt-free).

The RIS is where the stations of a department learn who reads what (the way a
RIS-integrated workstation works; a DICOM archive has no say in it here):

- :func:`start_reading` — this reader opened a study from the worklist: it is
  claimed here and the RIS is told (ORM^O01, ORC-1 ``SC``, ORC-5 ``IP``, the
  reader in OBR-32) through the durable outbox, like the reports;
- :func:`stop_reading` — the reader left it: without a report (nor a draft
  being written) the claim is released and the RIS told (ORC-5 back to ``CM``,
  or ``SC`` when the RIS had it scheduled); a signed report has told the RIS
  already (ORU^R01);
- :func:`apply_reading_status` — what the RIS says about a colleague (an order
  status change or a result from another station) becomes the study's claim,
  which the worklist shows ("being read by …") and asks about before opening.

Only the latest status of a study waits in the outbox: a status not yet
delivered is replaced by the next one (a RIS down for an hour is told once
where the reader ended up, not every step in between).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from workstation.config import Settings
from workstation.hl7.messages import new_control_id
from workstation.hl7.order_status import (
    LEFT_ACQUIRED,
    LEFT_SCHEDULED,
    OPENED,
    OrderStatus,
    ReadingStatus,
    build_order_status,
)
from workstation.hl7.settings import HL7Settings
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.queries import StudyFilter
from workstation.worklist import claims as claims_mod
from workstation.worklist.claims import IN_PROGRESS, RIS, Claim, accession_key
from workstation.worklist.orders import order_for_study, set_order_status
from workstation.worklist.settings import Reader, reader_of

log = logging.getLogger(__name__)

#: What :func:`stop_reading` did.
RELEASED, REPORTED, DRAFT_KEPT, NOT_CLAIMED = "released", "reported", "draft kept", "not claimed"


def start_reading(cache: StudyCache, settings: Settings, study_uid: str, *, reader: Reader | None = None) -> Claim:
    """Mark ``study_uid`` in progress for this reader and tell the RIS (when one is set)."""
    reader = reader or reader_of(settings)
    claim = claims_mod.claim(cache, study_uid, reader.name, reader.reader_id)
    tell_ris(cache, settings, study_uid, OPENED, reader)
    return claim


def stop_reading(cache: StudyCache, settings: Settings, study_uid: str, *, reader: Reader | None = None) -> str:
    """The reader left ``study_uid``: release it unless it was reported or a draft is being written.

    Returns
    -------
    str
        :data:`RELEASED` (claim removed, the RIS told), :data:`REPORTED` (claim
        removed; the report's ORU told the RIS), :data:`DRAFT_KEPT` (still in
        progress: a draft waits) or :data:`NOT_CLAIMED` (not this reader's).
    """
    reader = reader or reader_of(settings)
    claim = claims_mod.claim_of(cache, study_uid)
    if claim is None or claim.status != IN_PROGRESS or not claim.by(reader.name, reader.reader_id):
        return NOT_CLAIMED
    status = outbox.report_status(cache, [study_uid]).get(study_uid, "")
    if status == "draft":
        return DRAFT_KEPT
    claims_mod.release(cache, study_uid)
    if status:
        return REPORTED
    row = cache.study(study_uid)
    order = order_for_study(cache, study_uid, row.accession if row else "")
    scheduled = order is not None and order.order_status.upper() in ("SC", "SCHEDULED")
    tell_ris(cache, settings, study_uid, LEFT_SCHEDULED if scheduled else LEFT_ACQUIRED, reader)
    return RELEASED


def tell_ris(cache: StudyCache, settings: Settings, study_uid: str, order_status: str, reader: Reader) -> int | None:
    """Queue the order status message of ``study_uid`` for the RIS; the outbox item's key, or None.

    Nothing is queued without a RIS destination, or when neither the study nor its
    order has an accession (the RIS knows its orders by it).  A status of the same
    study still waiting in the outbox is replaced.
    """
    hs = HL7Settings.of(settings)
    if not hs.sends_reports:
        return None
    row = cache.study(study_uid)
    order = order_for_study(cache, study_uid, row.accession if row else "")
    accession = (order.accession if order else "") or (row.accession if row else "")
    if not accession:
        log.info("reading status not sent to the RIS: the study has no accession number")
        return None
    status = OrderStatus(
        accession=accession, order_status=order_status, reader_name=reader.name, reader_id=reader.reader_id,
        study_uid=study_uid,
        patient_id=(row.patient_id if row else "") or (order.patient_id if order else ""),
        patient_issuer=(row.issuer if row else "") or (order.patient_issuer if order else ""),
        patient_name=(row.patient_name if row else "") or (order.patient_name if order else ""),
        placer_order=order.placer_order if order else "", filler_order=order.filler_order if order else "",
        procedure_code=order.procedure_code if order else "",
        procedure=(order.requested_procedure if order else "") or (row.description if row else ""))
    control_id = new_control_id()
    message = build_order_status(status, hs, control_id=control_id)
    for item in outbox.list_outbox(cache, (outbox.QUEUED, outbox.FAILED)):
        if item.sop_class_uid == outbox.HL7_STATUS_CLASS and item.study_uid == study_uid:
            outbox.discard(cache, item.pk)
    return outbox.enqueue_hl7(cache, f"hl7-status:{control_id}", study_uid,
                              outbox.HL7Outbound(hs.destination, control_id, message))


@dataclass(frozen=True)
class StatusApplied:
    """What a status from the RIS did: the claim key and the reading status now ("" released)."""

    key: str
    status: str


def _study_of(cache: StudyCache, status: ReadingStatus) -> str:
    """The Study UID the status is about: its own, its order's, a cached study's with the accession, else ""."""
    if status.study_uid:
        return status.study_uid
    order = order_for_study(cache, "", status.accession)
    if order is not None and order.study_uid:
        return order.study_uid
    for row in cache.studies(StudyFilter(accession=status.accession)):
        if row.accession == status.accession:
            return row.study_uid
    return ""


def _release_theirs(cache: StudyCache, key: str, status: ReadingStatus) -> None:
    """Release the study's "in progress" claim when it is the releasing reader's (or the RIS names nobody).

    A colleague leaving a study does not release it for another reader who opened it since.
    """
    claim = claims_mod.claim_of(cache, key)
    if claim is None or claim.status != IN_PROGRESS:
        return
    named = bool(status.reader_name or status.reader_id)
    if not named or (claim.source == RIS and claim.by(status.reader_name, status.reader_id)):
        claims_mod.release(cache, key, only_in_progress=True)


def apply_reading_status(cache: StudyCache, status: ReadingStatus) -> StatusApplied:
    """Make what the RIS said the study's claim (or release it), and keep the order's status."""
    study_uid = _study_of(cache, status)
    key = study_uid or accession_key(status.accession)
    if status.order_status:
        set_order_status(cache, status.accession, status.order_status)
    if not status.status:
        _release_theirs(cache, key, status)
        if study_uid:  # a claim made before the study was known
            _release_theirs(cache, accession_key(status.accession), status)
        return StatusApplied(key, "")
    claims_mod.claim(cache, key, status.reader_name, status.reader_id, status=status.status, source=RIS)
    return StatusApplied(key, status.status)
