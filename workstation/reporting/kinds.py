"""What kind of document an object is: a report, key images, a rejection note, a presentation state…

``report list`` and the report panel list reports only; the other objects a
reader makes (key object selections, presentation states, rejection notes) are
named by their own kind, and show their delivery state under that name.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from workstation.reporting.codes import Coded

KOS_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
PS_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.11."
ENCAPSULATED_PDF_CLASS = "1.2.840.10008.5.1.4.1.1.104.1"
DOSE_SR_CLASSES = {"1.2.840.10008.5.1.4.1.1.88.67", "1.2.840.10008.5.1.4.1.1.88.68",
                   "1.2.840.10008.5.1.4.1.1.88.73", "1.2.840.10008.5.1.4.1.1.88.76"}

REPORT, KEY_IMAGES, REJECTION_NOTE, PRESENTATION_STATE, PDF, DOSE_REPORT, OTHER_SR, OTHER = (
    "report", "key images", "rejection note", "presentation state", "PDF report", "dose report",
    "structured document", "object")
#: An outbox item that is the report's HL7 message to a RIS (its "SOP class" starts with "HL7 ").
RIS_REPORT = "report to the RIS (HL7)"
#: An outbox item that tells the RIS a reading started or was released (an HL7 order status message).
RIS_STATUS = "reading status to the RIS (HL7)"

#: Document titles of KOS that are rejection notes (CID 7011).
REJECTION_TITLES = {("113001", "DCM"), ("113037", "DCM"), ("113038", "DCM"), ("113039", "DCM")}
#: Titles of reports: Diagnostic Imaging Report and the LOINC report titles of CID 7000.
REPORT_TITLE_SCHEMES = {"LN"}
REPORT_TEMPLATE_IDS = {"2000", "2005", "2006"}


def _title(ds: Dataset | None) -> Coded | None:
    if ds is None:
        return None
    seq = ds.get("ConceptNameCodeSequence")
    if not seq:
        return None
    try:
        return Coded.from_item(seq[0])
    except Exception:  # noqa: BLE001 - a broken title reads as none
        return None


def _template_id(ds: Dataset | None) -> str:
    if ds is None:
        return ""
    seq = ds.get("ContentTemplateSequence")
    return str(seq[0].get("TemplateIdentifier", "")) if seq else ""


def kind_of(sop_class_uid: str, ds: Dataset | None = None) -> str:
    """The kind of an object, from its SOP Class and (for SR and KOS) its document title and template.

    Parameters
    ----------
    sop_class_uid : str
    ds : pydicom.dataset.Dataset, optional
        Its header (the document title tells a rejection note from key images,
        a report from other structured documents).  Without it, an SR counts as a report.
    """
    if sop_class_uid.startswith("HL7 ORM"):
        return RIS_STATUS
    if sop_class_uid.startswith("HL7 "):
        return RIS_REPORT
    if sop_class_uid == KOS_CLASS:
        title = _title(ds)
        if title is not None and (title.value, title.scheme) in REJECTION_TITLES:
            return REJECTION_NOTE
        return KEY_IMAGES
    if sop_class_uid.startswith(PS_CLASS_PREFIX):
        return PRESENTATION_STATE
    if sop_class_uid == ENCAPSULATED_PDF_CLASS:
        return PDF
    if sop_class_uid in DOSE_SR_CLASSES:
        return DOSE_REPORT
    if sop_class_uid.startswith(SR_CLASS_PREFIX):
        if ds is None:
            return REPORT
        title = _title(ds)
        if _template_id(ds) in REPORT_TEMPLATE_IDS:
            return REPORT
        if title is not None and (title.scheme in REPORT_TITLE_SCHEMES
                                  or (title.value, title.scheme) == ("18748-4", "LN")):
            return REPORT
        if title is not None and title.value == "113701":  # X-Ray Radiation Dose Report
            return DOSE_REPORT
        return OTHER_SR
    return OTHER


def is_report(sop_class_uid: str, ds: Dataset | None = None) -> bool:
    """True for SR documents that are reports (not key images, rejection notes, dose or measurement documents)."""
    return kind_of(sop_class_uid, ds) == REPORT
