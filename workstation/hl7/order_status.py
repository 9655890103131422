"""Reading status with the RIS: order status messages sent and read, results read for their status.

Sent (:func:`build_order_status`): an ORM^O01 status change (ORC-1 ``SC``) when
this workstation's reader opens a study from the worklist (ORC-5 ``IP``, in
process) and when the reader leaves it without a report (ORC-5 back to ``CM``,
exam complete and waiting to be read, or ``SC`` when the RIS had it scheduled).
The reader is named in OBR-32 (Principal Result Interpreter, ``ID&Family&Given``)
and ORC-19 (Action By); the order by its accession in OBR-18 and the study by
its Study Instance UID in ZDS-1 (IHE Radiology).

Read (:func:`reading_status_of`): the same messages from the RIS (a colleague's
station opened or left a study), OMI^O23 likewise, and ORU^R01 results whose
status (OBR-25 ``P``, ``F``, ``C``) says another reader reported the study.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message

from workstation.hl7.messages import (
    HL7Error,
    _msh,
    dicom_to_xpn,
    esc,
    first,
    message_type,
    new_control_id,
    segments,
    value,
    xpn_to_dicom,
)
from workstation.hl7.settings import HL7Settings

#: ORC-5 order status codes (HL7 table 0038) and the reading status each means here;
#: "" releases a study nobody reads any more, None leaves the reading status alone.
ORDER_STATUS_READING: dict[str, str | None] = {
    "IP": "in progress",  # in process: a reader has it open
    "A": "preliminary",  # some, not all, results available
    "CM": "",  # complete: acquired and waiting to be read (or reported: OBR-25 says which)
    "SC": "",  # scheduled
    "CA": "",  # cancelled
    "DC": "",  # discontinued
    "HD": "",  # on hold
}
#: OBR-25 result status and the reading status it means.
RESULT_READING = {"P": "preliminary", "F": "final", "C": "amended"}
#: ORC-5 when this reader opens a study, and when the reader leaves it unreported.
OPENED, LEFT_ACQUIRED, LEFT_SCHEDULED = "IP", "CM", "SC"


@dataclass(frozen=True)
class OrderStatus:
    """What an order status message says about one order.

    ``order_status`` is ORC-5; ``reader_name`` a DICOM PN (``Family^Given``).
    """

    accession: str
    order_status: str
    reader_name: str = ""
    reader_id: str = ""
    study_uid: str = ""
    patient_id: str = ""
    patient_issuer: str = ""
    patient_name: str = ""
    placer_order: str = ""
    filler_order: str = ""
    procedure_code: str = ""
    procedure: str = ""


def _join(parts: list[str], version: str, sep: str = "^") -> str:
    return sep.join(esc(p, version) for p in parts).rstrip(sep)


def build_order_status(status: OrderStatus, hs: HL7Settings, *, control_id: str | None = None,
                       now: dt.datetime | None = None) -> str:
    """The ORM^O01 status change (ORC-1 ``SC``) of ``status`` as ER7 text.

    Raises
    ------
    HL7Error
        No accession (the RIS knows its orders by it) or no order status.
    """
    if not status.accession or not status.order_status:
        raise HL7Error("an order status message needs the accession and the status")
    v = hs.version
    now = now or dt.datetime.now()
    m = Message("ORM_O01", version=v, validation_level=VALIDATION_LEVEL.TOLERANT)
    _msh(m, hs, "ORM^O01^ORM_O01", control_id or new_control_id(), now)
    pid = m.add_segment("PID")
    pid.pid_1 = "1"
    pid.pid_3 = _join([status.patient_id, "", "", status.patient_issuer], v)
    if status.patient_name:
        pid.pid_5 = _join(dicom_to_xpn(status.patient_name), v)
    family, given = (dicom_to_xpn(status.reader_name) + ["", ""])[:2]
    orc = m.add_segment("ORC")
    orc.orc_1 = "SC"
    if status.placer_order:
        orc.orc_2 = esc(status.placer_order, v)
    orc.orc_3 = esc(status.filler_order or status.accession, v)
    orc.orc_5 = status.order_status
    orc.orc_9 = now.strftime("%Y%m%d%H%M%S")
    if status.reader_name or status.reader_id:
        orc.orc_19 = _join([status.reader_id, family, given], v)
    obr = m.add_segment("OBR")
    obr.obr_1 = "1"
    if status.placer_order:
        obr.obr_2 = esc(status.placer_order, v)
    obr.obr_3 = esc(status.filler_order or status.accession, v)
    obr.obr_4 = _join([status.procedure_code or "STUDY", status.procedure], v)
    obr.obr_18 = esc(status.accession, v)
    if status.reader_name or status.reader_id:
        obr.obr_32 = _join([status.reader_id, family, given], v, "&")
    if status.study_uid:
        zds = m.add_segment("ZDS")
        zds.zds_1 = f"{status.study_uid}^{esc(hs.sending_application, v)}^Application^DICOM"
    er7: str = m.to_er7()
    return er7


@dataclass(frozen=True)
class ReadingStatus:
    """What a message from the RIS says about who reads a study.

    ``status``: in progress, preliminary, final, amended, or "" (nobody reads it now).
    """

    accession: str
    study_uid: str
    status: str
    reader_name: str = ""
    reader_id: str = ""
    order_status: str = ""


def _reader(msg: Message) -> tuple[str, str]:
    """(DICOM PN, ID) of the reader: OBR-32 (ID&Family&Given), else ORC-19, else ORC-10 (ID^Family^Given)."""
    obr, orc = first(msg, "OBR"), first(msg, "ORC")
    if value(obr, 32, 1, 1) or value(obr, 32, 1, 2):
        return xpn_to_dicom([value(obr, 32, 1, 2), value(obr, 32, 1, 3)]), value(obr, 32, 1, 1)
    for index in (19, 10):
        if value(orc, index, 1) or value(orc, index, 2):
            return xpn_to_dicom([value(orc, index, 2), value(orc, index, 3)]), value(orc, index, 1)
    return "", ""


def _study_uid(msg: Message) -> str:
    for obx in segments(msg, "OBX"):
        if value(obx, 3, 1) == "113014":  # DCM "Study Instance UID"
            return value(obx, 5)
    return value(first(msg, "IPC"), 3) or value(first(msg, "ZDS"), 1)


def reading_status_of(msg: Message) -> ReadingStatus | None:
    """The reading status an ORM^O01/OMI^O23 status change or an ORU^R01 result carries; None when none.

    An order message counts only with ORC-1 ``SC`` (status changed); a new order
    (``NW``) says nothing about reading.

    Raises
    ------
    HL7Error
        A status message without an accession (IPC-1, OBR-18 or OBR-3).
    """
    kind = message_type(msg)
    obr, orc = first(msg, "OBR"), first(msg, "ORC")
    result = value(obr, 25).upper()
    if kind == "ORU^R01":
        status = RESULT_READING.get(result)
        order_status = ""
    elif kind in ("ORM^O01", "OMI^O23") and value(orc, 1).upper() == "SC":
        order_status = value(orc, 5).upper()
        status = ORDER_STATUS_READING.get(order_status)
        if order_status == "CM" and result in RESULT_READING:
            status = RESULT_READING[result]
    else:
        return None
    if status is None:
        return None
    accession = value(first(msg, "IPC"), 1) or value(obr, 18) or value(obr, 3)
    if not accession:
        raise HL7Error("the status message has no accession number (IPC-1, OBR-18 or OBR-3)")
    name, reader_id = _reader(msg)
    return ReadingStatus(accession, _study_uid(msg), status, name, reader_id, order_status)
