"""HL7 v2 messages built and read with hl7apy: ORU^R01 reports, ACKs, orders (ORM^O01, OMI^O23), ADT^A08/A40.

Free text goes into fields through hl7apy's textual data types, which escape
the delimiters (a ``|`` or ``^`` in a report is sent as ``\\F\\``, ``\\S\\``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Field, Message
from hl7apy.factories import datatype_factory
from hl7apy.parser import parse_message

from workstation.hl7.settings import HL7Settings
from workstation.worklist.orders import Order, priority_word

TOLERANT = VALIDATION_LEVEL.TOLERANT
#: OBR-25 / OBX-11 result status of each report state.
RESULT_STATUS = {"preliminary": "P", "final": "F", "amended": "C"}
ACK_WORDS = {
    "AA": "accepted",
    "CA": "accepted",
    "AE": "the RIS could not process it (application error)",
    "CE": "the RIS could not process it (application error)",
    "AR": "the RIS rejected it",
    "CR": "the RIS rejected it",
}


class HL7Error(ValueError):
    """A message that cannot be read, or lacks what it must carry (the text says what)."""


def new_control_id() -> str:
    return uuid.uuid4().hex[:20]


def _ts(when: dt.datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


def esc(text: str, version: str) -> str:
    """``text`` escaped by hl7apy's ST type (delimiters as \\F\\, \\S\\ …), to go into one component."""
    return datatype_factory("ST", text, version=version).to_er7() if text else ""


def _composite(*parts: str, version: str, sep: str = "^") -> str:
    return sep.join(esc(p, version) for p in parts).rstrip(sep)


def _text_field(name: str, value: str, version: str, datatype: str = "ST") -> Field:
    f = Field(name, datatype=datatype, version=version, validation_level=TOLERANT)
    f.value = datatype_factory(datatype, value, version=version)
    return f


def _msh(message: Message, hs: HL7Settings, message_type: str, control_id: str, when: dt.datetime) -> None:
    msh = message.msh
    msh.msh_3 = hs.sending_application
    msh.msh_4 = hs.sending_facility
    msh.msh_5 = hs.receiving_application
    msh.msh_6 = hs.receiving_facility
    msh.msh_7 = _ts(when)
    msh.msh_9 = message_type
    msh.msh_10 = control_id
    msh.msh_11 = "P"
    msh.msh_12 = hs.version
    if hs.charset != "ASCII":
        msh.msh_18 = hs.charset


# Names --------------------------------------------------------------------------------------

def dicom_to_xpn(name: str) -> list[str]:
    """DICOM PN (alphabetic group) ``Family^Given^Middle^Prefix^Suffix`` as XPN components."""
    parts = (name.split("=")[0].split("^") + [""] * 5)[:5]
    family, given, middle, prefix, suffix = parts
    return [family, given, middle, suffix, prefix]


def xpn_to_dicom(components: list[str]) -> str:
    """XPN ``Family^Given^Middle^Suffix^Prefix`` as DICOM PN (trailing empty parts dropped)."""
    c = (list(components) + [""] * 5)[:5]
    return "^".join([c[0], c[1], c[2], c[4], c[3]]).rstrip("^")


# ORU^R01 --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OruReport:
    """What an ORU^R01 carries about one report."""

    patient_id: str
    patient_name: str
    accession: str
    status: str  # preliminary, final, amended
    lines: list[str]
    signer_name: str = ""
    signer_id: str = ""
    patient_issuer: str = ""
    birth_date: str = ""
    sex: str = ""
    placer_order: str = ""
    filler_order: str = ""
    procedure_code: str = ""
    procedure: str = ""
    study_uid: str = ""
    report_uid: str = ""
    observed: dt.datetime | None = None


def build_oru(report: OruReport, hs: HL7Settings, *, control_id: str | None = None,
              now: dt.datetime | None = None) -> str:
    """The ORU^R01 of a report, as ER7 text (segments separated by CR).

    OBR-18 (Placer Field 1) and OBR-3 carry the accession (IHE Radiology), OBR-25
    and each OBX-11 the status (P, F, C), OBR-32 the signer, one OBX (TX) per
    line of the report text.
    """
    if report.status not in RESULT_STATUS:
        raise HL7Error(f"no HL7 result status for a {report.status!r} report")
    v = hs.version
    now = now or dt.datetime.now()
    status = RESULT_STATUS[report.status]
    m = Message("ORU_R01", version=v, validation_level=TOLERANT)
    _msh(m, hs, "ORU^R01^ORU_R01", control_id or new_control_id(), now)
    result = m.add_group("ORU_R01_PATIENT_RESULT")
    pid = result.add_group("ORU_R01_PATIENT").pid
    pid.pid_1 = "1"
    pid.pid_3 = _composite(report.patient_id, "", "", report.patient_issuer, version=v)
    pid.pid_5 = _composite(*dicom_to_xpn(report.patient_name), version=v)
    if report.birth_date:
        pid.pid_7 = report.birth_date
    if report.sex:
        pid.pid_8 = report.sex
    order = result.add_group("ORU_R01_ORDER_OBSERVATION")
    orc = order.add_segment("ORC")
    orc.orc_1 = "RE"
    if report.placer_order:
        orc.orc_2 = report.placer_order
    orc.orc_3 = report.filler_order or report.accession
    obr = order.obr
    obr.obr_1 = "1"
    if report.placer_order:
        obr.obr_2 = report.placer_order
    obr.obr_3 = report.filler_order or report.accession
    obr.obr_4 = _composite(report.procedure_code or "REPORT", report.procedure, version=v)
    obr.obr_7 = _ts(report.observed or now)
    obr.obr_18 = report.accession
    obr.obr_22 = _ts(now)
    obr.obr_25 = status
    if report.signer_name or report.signer_id:
        signer = dicom_to_xpn(report.signer_name)
        # NDL: the interpreter's ID & family & given (subcomponents of the first component)
        obr.obr_32 = _composite(report.signer_id, signer[0], signer[1], version=v, sep="&")
    lines = report.lines or [""]
    for i, line in enumerate(lines, start=1):
        obx = order.add_group("ORU_R01_OBSERVATION").obx
        obx.obx_1 = str(i)
        obx.obx_2 = "TX"
        obx.obx_3 = "GDT^Report text"
        if report.study_uid:
            obx.obx_4 = "1"
        obx.obx_5 = _text_field("OBX_5", line, v, "TX")
        obx.obx_11 = status
    if report.study_uid:
        uid = order.add_group("ORU_R01_OBSERVATION").obx
        uid.obx_1 = str(len(lines) + 1)
        uid.obx_2 = "ST"
        uid.obx_3 = "113014^Study Instance UID^DCM"
        uid.obx_5 = report.study_uid
        uid.obx_11 = status
    return str(m.to_er7())


# Reading --------------------------------------------------------------------------------------

def parse(er7: str) -> Message:
    """Parse an ER7 message (segments as direct children), tolerant of what is not required here."""
    text = er7.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    try:
        return parse_message(text, validation_level=TOLERANT, find_groups=False)
    except Exception as exc:  # noqa: BLE001 - hl7apy raises many kinds; the sender gets one reason
        raise HL7Error(f"not a readable HL7 message: {exc}") from None


def segments(message: Message, name: str) -> list[Any]:
    return [s for s in message.children if s.name == name]


def first(message: Message, name: str) -> Any:
    found = segments(message, name)
    return found[0] if found else None


def unescape(value: str, message: Message | None = None) -> str:
    """Undo HL7 escapes in a field's text (``\\F\\`` → ``|`` …)."""
    esc = "\\"
    for code, char in (("F", "|"), ("S", "^"), ("T", "&"), ("R", "~")):
        value = value.replace(f"{esc}{code}{esc}", char)
    return value.replace(f"{esc}E{esc}", esc)


def value(segment: Any, index: int, component: int = 1, sub: int = 1) -> str:
    """The text of a segment's field ``index``, component ``component`` (1-based), unescaped."""
    if segment is None:
        return ""
    try:
        fields = segment.to_er7().split("|")
    except Exception:  # noqa: BLE001
        return ""
    if segment.name == "MSH":
        index -= 1  # MSH-1 is the field separator itself
    if index >= len(fields):
        return ""
    text = fields[index].split("~")[0]
    comps = text.split("^")
    if component > len(comps):
        return ""
    subs = comps[component - 1].split("&")
    return unescape(subs[sub - 1]) if sub <= len(subs) else ""


def components(segment: Any, index: int) -> list[str]:
    if segment is None:
        return []
    fields = segment.to_er7().split("|")
    if index >= len(fields):
        return []
    return [unescape(c) for c in fields[index].split("~")[0].split("^")]


def message_type(message: Message) -> str:
    msh = first(message, "MSH")
    return f"{value(msh, 9, 1)}^{value(msh, 9, 2)}"


def control_id(message: Message) -> str:
    return value(first(message, "MSH"), 10)


def build_ack(incoming: str | Message, code: str, text: str, hs: HL7Settings, *,
              now: dt.datetime | None = None) -> str:
    """An ACK (MSA-1 ``code``: AA, AE, AR) to ``incoming``, with ``text`` in MSA-3 (and ERR when not AA)."""
    v = hs.version
    ctl = ""
    trigger = ""
    try:
        msg = parse(incoming) if isinstance(incoming, str) else incoming
        ctl = control_id(msg)
        trigger = value(first(msg, "MSH"), 9, 2)
    except HL7Error:
        pass
    m = Message("ACK", version=v, validation_level=TOLERANT)
    _msh(m, hs, f"ACK^{trigger}^ACK" if trigger else "ACK", new_control_id(), now or dt.datetime.now())
    msa = m.add_segment("MSA")
    msa.msa_1 = code
    msa.msa_2 = ctl
    if text:
        msa.msa_3 = _text_field("MSA_3", text[:80], v)
    if code != "AA" and v != "2.3.1":
        err = m.add_segment("ERR")
        err.err_3 = "207^Application internal error^HL70357" if code == "AE" else "200^Unsupported message type^HL70357"
        err.err_4 = "E"
        err.err_8 = _text_field("ERR_8", text[:250], v, "TX")
    return str(m.to_er7())


@dataclass(frozen=True)
class Ack:
    code: str
    control_id: str
    text: str

    @property
    def accepted(self) -> bool:
        return self.code in ("AA", "CA")

    def words(self) -> str:
        """The acknowledgement in plain words, with the RIS's own reason."""
        base = ACK_WORDS.get(self.code, f"unknown acknowledgement {self.code!r}")
        return f"{base}: {self.text}" if self.text and not self.accepted else base


def read_ack(er7: str) -> Ack:
    msg = parse(er7)
    msa = first(msg, "MSA")
    if msa is None:
        raise HL7Error("the answer has no MSA segment (not an acknowledgement)")
    text = value(msa, 3)
    err = first(msg, "ERR")
    if err is not None and not text:
        text = value(err, 8) or value(err, 3, 2) or value(err, 1, 4)
    return Ack(value(msa, 1), value(msa, 2), text)


# Orders -------------------------------------------------------------------------------------

def order_from_message(msg: Message) -> Order:
    """The order in an ORM^O01 or OMI^O23 (IHE Radiology conventions).

    Accession: IPC-1, else OBR-18 (Placer Field 1), else OBR-3; Study UID: IPC-3,
    else ZDS-1; priority: TQ1-9, else OBR-27.6, else ORC-7.6; reason: OBR-31;
    history: OBR-13; referring physician: OBR-16 (else PV1-8).
    """
    pid, orc, obr = first(msg, "PID"), first(msg, "ORC"), first(msg, "OBR")
    if obr is None:
        raise HL7Error("the order message has no OBR segment")
    ipc, tq1, zds, pv1 = first(msg, "IPC"), first(msg, "TQ1"), first(msg, "ZDS"), first(msg, "PV1")
    accession = value(ipc, 1) or value(obr, 18) or value(obr, 3)
    if not accession:
        raise HL7Error("the order has no accession number (IPC-1, OBR-18 or OBR-3)")
    priority = value(tq1, 9) or value(obr, 27, 6) or value(orc, 7, 6) or value(obr, 5)
    referring = components(obr, 16) or components(pv1, 8)
    reason = value(obr, 31, 2) or value(obr, 31, 1)
    control = value(orc, 1)
    return Order(
        accession=accession,
        accession_issuer=value(ipc, 1, 2),
        study_uid=value(ipc, 3) or value(zds, 1),
        patient_id=value(pid, 3),
        patient_issuer=value(pid, 3, 4),
        patient_name=xpn_to_dicom(components(pid, 5)),
        birth_date=value(pid, 7)[:8],
        sex=value(pid, 8),
        requested_procedure=value(obr, 4, 2) or value(obr, 4, 1),
        procedure_code=value(obr, 4, 1),
        reason=reason,
        clinical_history=value(obr, 13),
        referring_physician=xpn_to_dicom(referring[1:]) if len(referring) > 1 else "",
        priority=priority_word(priority),
        modality=value(ipc, 5) or value(obr, 24),
        body_part=value(obr, 15, 4) or value(obr, 15, 1),
        scheduled=(value(tq1, 7) or value(obr, 36) or value(obr, 7))[:14],
        placer_order=value(orc, 2) or value(obr, 2),
        filler_order=value(orc, 3) or value(obr, 3),
        order_status="cancelled" if control in ("CA", "OC", "DC") else (value(orc, 5) or control),
        source="hl7",
    )


@dataclass(frozen=True)
class PatientUpdate:
    """ADT^A08: the patient's corrected demographics (empty: not sent, left as it was)."""

    patient_id: str
    issuer: str = ""
    name: str = ""
    birth_date: str = ""
    sex: str = ""


def patient_update(msg: Message) -> PatientUpdate:
    pid = first(msg, "PID")
    if pid is None or not value(pid, 3):
        raise HL7Error("the patient update has no patient ID (PID-3)")
    return PatientUpdate(value(pid, 3), value(pid, 3, 4), xpn_to_dicom(components(pid, 5)), value(pid, 7)[:8],
                         value(pid, 8))


@dataclass(frozen=True)
class PatientMerge:
    """ADT^A40: the prior patient's records now belong to the surviving one."""

    surviving: PatientUpdate
    prior_id: str
    prior_issuer: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def patient_merge(msg: Message) -> PatientMerge:
    surviving = patient_update(msg)
    mrg = first(msg, "MRG")
    if mrg is None or not value(mrg, 1):
        raise HL7Error("the merge has no prior patient ID (MRG-1)")
    return PatientMerge(surviving, value(mrg, 1), value(mrg, 1, 4))
