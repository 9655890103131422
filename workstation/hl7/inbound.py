"""Messages from the RIS: orders enrich the worklist, status changes and results say who reads a study, ADT
corrects and merges patients; each answered with an ACK.

:func:`apply_message` is the whole of it, headless; :func:`start_listener` runs
it behind an MLLP listener (hl7apy's server) on a thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from collections.abc import Callable

from workstation import audit
from workstation.hl7.messages import (
    HL7Error,
    build_ack,
    message_type,
    order_from_message,
    parse,
    patient_merge,
    patient_update,
)
from workstation.hl7.mllp import MllpListener
from workstation.hl7.order_status import reading_status_of
from workstation.hl7.settings import HL7Settings
from workstation.store.cache import StudyCache
from workstation.store.queries import StudyFilter
from workstation.worklist.orders import save_orders
from workstation.worklist.patients import merge_patients, update_patient
from workstation.worklist.reading import apply_reading_status

log = logging.getLogger(__name__)

#: Message types the listener accepts (MSH-9.1^MSH-9.2).
ACCEPTED = ("ORM^O01", "OMI^O23", "ADT^A08", "ADT^A40", "ADT^A31", "ORU^R01")
#: hl7apy's server routes on the whole of MSH-9: with the message structure too, when the sender gives it.
_ROUTES = ACCEPTED + ("ORM^O01^ORM_O01", "OMI^O23^OMI_O23", "ADT^A08^ADT_A01", "ADT^A40^ADT_A39", "ADT^A31^ADT_A05",
                      "ORU^R01^ORU_R01")


@dataclass(frozen=True)
class Applied:
    """What a message did: its type, the ACK code sent back and a line in plain words (no patient data)."""

    message_type: str
    ack_code: str
    summary: str
    ack: str


def apply_message(cache: StudyCache, er7: str, hs: HL7Settings, *,
                  on_applied: Callable[[Applied], None] | None = None) -> Applied:
    """Apply one inbound message and return the ACK to send.

    AA when applied, AE for a message that cannot be used (the reason in MSA-3),
    AR for a message type not taken here.
    """
    kind = ""
    try:
        msg = parse(er7)
        kind = message_type(msg)
        status = reading_status_of(msg) if kind in ("ORM^O01", "OMI^O23", "ORU^R01") else None
        if status is not None:
            # A status change or a result: who reads the study now (a colleague's station, through the RIS).
            done = apply_reading_status(cache, status)
            summary = f"reading status: {done.status or 'released'}"
        elif kind == "ORU^R01":
            summary = "result without a reading status (OBR-25) left aside"
        elif kind in ("ORM^O01", "OMI^O23"):
            order = order_from_message(msg)
            save_orders(cache, [order])
            summary = f"order {order.accession} ({order.priority}) kept for the worklist"
        elif kind in ("ADT^A08", "ADT^A31"):
            upd = patient_update(msg)
            changes = update_patient(cache, upd.patient_id, upd.issuer, name=upd.name, birth_date=upd.birth_date,
                                     sex=upd.sex, source=f"hl7 {kind}")
            if changes:
                audit.patient_changed([(upd.patient_id, upd.name or _cached_name(cache, upd.patient_id))],
                                      f"patient demographics corrected by the RIS ({kind})")
            summary = f"patient update: {len(changes)} value(s) corrected"
        elif kind == "ADT^A40":
            merge = patient_merge(msg)
            s = merge.surviving
            changes = merge_patients(cache, s.patient_id, merge.prior_id, surviving_issuer=s.issuer,
                                     prior_issuer=merge.prior_issuer, name=s.name, birth_date=s.birth_date, sex=s.sex,
                                     source="hl7 ADT^A40")
            if changes:
                audit.patient_changed([(s.patient_id, s.name or _cached_name(cache, s.patient_id)),
                                       (merge.prior_id, "")], "patients merged by the RIS (ADT^A40)",
                                      study_uids=sorted({c.study_uid for c in changes}))
            summary = f"patient merge: {len(changes)} stud{'y' if len(changes) == 1 else 'ies'} moved"
        else:
            result = Applied(kind, "AR", f"message type {kind or 'unknown'} not accepted",
                             build_ack(msg, "AR", f"message type {kind} not accepted here", hs))
            _tell(result, on_applied)
            return result
        result = Applied(kind, "AA", summary, build_ack(msg, "AA", "", hs))
    except HL7Error as exc:
        result = Applied(kind, "AE", f"not applied: {exc}", build_ack(er7, "AE", str(exc), hs))
    except Exception as exc:  # noqa: BLE001 - the RIS gets an answer and the listener keeps running
        log.exception("HL7 %s could not be applied", kind or "message")
        result = Applied(kind, "AE", f"not applied: {type(exc).__name__}",
                         build_ack(er7, "AE", f"internal error ({type(exc).__name__})", hs))
    _tell(result, on_applied)
    return result


def _cached_name(cache: StudyCache, patient_id: str) -> str:
    """The name the index holds for ``patient_id`` (the audit record names whose record changed)."""
    for study in cache.studies(StudyFilter(patient_id=patient_id)):
        if study.patient_id == patient_id:
            return study.patient_name
    return ""


def _tell(result: Applied, on_applied: Callable[[Applied], None] | None) -> None:
    # the summary may name an accession: the log keeps the type and the answer only
    log.info("HL7 %s applied, answered %s", result.message_type or "message", result.ack_code)
    if on_applied is not None:
        try:
            on_applied(result)
        except Exception:  # noqa: BLE001 - a watcher must not break the listener
            log.exception("HL7 watcher failed")


def start_listener(cache: StudyCache, hs: HL7Settings, *, port: int | None = None,
                   on_applied: Callable[[Applied], None] | None = None) -> MllpListener:
    """Start the inbound MLLP listener (``port`` 0 picks a free one); stop it with ``.stop()``."""

    def handle(er7: str) -> str:
        return apply_message(cache, er7, hs, on_applied=on_applied).ack

    def handle_error(exc: Exception, er7: str) -> str:
        # hl7apy routes unknown types and unreadable messages here
        code = "AR" if type(exc).__name__ == "UnsupportedMessageType" else "AE"
        return apply_message(cache, er7, hs, on_applied=on_applied).ack if code == "AR" else build_ack(
            er7, "AE", "not a readable HL7 message", hs)

    listener = MllpListener(hs.listen_address, hs.listen_port if port is None else port, list(_ROUTES), handle,
                            handle_error, encoding=hs.encoding)
    return listener.start()
