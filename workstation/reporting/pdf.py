"""The report for referring physicians: a PDF of the SR, and that PDF as an Encapsulated PDF in the study.

The PDF is laid out with fpdf2, a pure-Python PDF engine that embeds (subsets
of) real Unicode fonts, so a patient's name prints in whatever script it is
written: Japanese, Korean, Chinese, Greek, Hebrew, Arabic, Cyrillic.
Right-to-left text is reordered and Arabic letters joined by its text shaping
(uharfbuzz).  fpdf2 rather than Qt's QPdfWriter because ``reporting`` runs
without Qt (``lightbox report pdf`` on a server, the import-linter contract
keeps Qt in ``ui``); rather than reportlab because fpdf2 takes OpenType/CFF
collections (Noto Sans CJK), font fallback per character and bidirectional
text out of the box.  Fonts are found by :mod:`workstation.reporting.pdf_fonts`.

Layout: title, the preliminary mark, patient and study, report status, then
the report's headings as :func:`workstation.reporting.sr_text.headings` gives
them, the signature status at the end; every page has a footer.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from workstation import __version__
from workstation.dicom.person_name import format_person_name
from workstation.reporting.pdf_fonts import PdfFontError, body_fonts, fallback_faces
from workstation.reporting.sr_text import headings, render_lines, summarize

if TYPE_CHECKING:  # fpdf2 and the store are loaded only when a PDF is made or kept
    from fpdf import FPDF

    from workstation.store.cache import StudyCache
    from workstation.store.writer import CommitResult

__all__ = ["ENCAPSULATED_PDF_STORAGE", "PDF_SERIES_NUMBER", "PdfFontError", "report_pdf", "encapsulated_pdf",
           "store_pdf"]

log = logging.getLogger(__name__)

ENCAPSULATED_PDF_STORAGE = UID("1.2.840.10008.5.1.4.1.1.104.1")
PDF_SERIES_NUMBER = 9002

_MARGIN = 20  # mm
_SIZE = 10
_LINE = 5.2  # mm per line of body text
_TECHNICAL = ("SOP Class:", "[modifier] Language of Content", "[context] Observer Type:")


def _date(da: str) -> str:
    da = (da or "").strip()
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) == 8 and da.isdigit() else da


def _header_lines(ds: Dataset, preliminary: bool) -> list[tuple[str, str]]:
    """(style, text) lines above the content: patient, study, report status."""
    s = summarize(ds)
    out: list[tuple[str, str]] = []
    if preliminary:
        out.append(("B", "PRELIMINARY REPORT - NOT VERIFIED"))
    name = format_person_name(str(ds.get("PatientName", "") or "")) or "(no name)"
    # The name on a line of its own: a right-to-left name and the fields after it would be reordered together.
    out.append(("B", f"Patient: {name}"))
    patient = [f"ID: {ds.get('PatientID', '') or '-'}"]
    issuer = str(ds.get("IssuerOfPatientID", "") or "")
    if issuer:
        patient[-1] += f" ({issuer})"
    if ds.get("PatientBirthDate"):
        patient.append(f"born {_date(str(ds.PatientBirthDate))}")
    if ds.get("PatientSex"):
        patient.append(f"sex {ds.PatientSex}")
    out.append(("", "   ".join(patient)))
    study = [str(ds.get("StudyDescription", "") or ""), _date(str(ds.get("StudyDate", "") or ""))]
    if ds.get("AccessionNumber"):
        study.append(f"accession {ds.AccessionNumber}")
    out.append(("", "Study: " + "   ".join(p for p in study if p)))
    out.append(("", f"Completion: {s.completion or '-'}   Verification: {s.verification or '-'}   "
                    f"Content date/time: {s.content_datetime or '-'}"))
    out += [("", f"Verified by: {format_person_name(o) or o}") for o in s.observers]
    out += [("", f"Replaces: {p}") for p in s.predecessors]
    return out


def _content(ds: Dataset) -> list[tuple[int, str, str]]:
    """(depth, style, text) of the content: headings bold, their lines indented under them."""
    found = headings(ds)
    if not found:  # no CONTAINER headings: the content tree as text
        lines = [line for line in render_lines(ds, header=False) if not line.lstrip().startswith(_TECHNICAL)]
        return [(0, "", line) for line in lines]
    out: list[tuple[int, str, str]] = []
    for heading in found:
        out.append((heading.depth, "B", heading.title))
        out += [(heading.depth, "", line) for line in heading.lines]
    return out


def report_pdf(ds: Dataset, signature_status: str = "", *, now: dt.datetime | None = None) -> bytes:
    """A PDF of the SR ``ds`` (title, patient and study, status, content), with ``signature_status`` at the end.

    Raises
    ------
    PdfFontError
        Some character of the report has no font on this system (the message
        names the package to install); no PDF with missing glyphs is made.
    """
    from fpdf import FPDF

    s = summarize(ds)
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    header = _header_lines(ds, s.state == "preliminary")
    content = _content(ds)
    tail = [("", f"Digital signature: {signature_status}")] if signature_status else []
    footer_base = f"Lightbox {__version__} - printed {stamp} - page {{page}} of {{nb}} - {s.sop_instance_uid}"
    every_text = "".join([s.title, footer_base] + [t for _st, t in header + tail] + [t for _d, _st, t in content])

    regular, bold = body_fonts()
    extra = fallback_faces(every_text)

    class _Report(FPDF):
        def footer(self) -> None:  # noqa: D102 - fpdf2 calls it on every page
            self.set_y(-12)
            self.set_font("body", "", 7.5)
            self.cell(0, 4, footer_base.format(page=self.page_no(), nb="{nb}"), align="L")

    pdf = _Report(format="A4", unit="mm")
    pdf.set_title(s.title)
    pdf.set_creator(f"Lightbox {__version__}")
    pdf.set_producer("Lightbox")
    pdf.alias_nb_pages("{nb}")
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("body", "", str(regular.path))
    pdf.add_font("body", "B", str(bold.path))
    for face in extra:
        pdf.add_font(face.family, "", str(face.path), collection_font_number=face.index)
    pdf.set_fallback_fonts([f.family for f in extra], exact_match=False)
    _require_glyphs(pdf, every_text, ["body"] + [f.family for f in extra])
    if _can_shape():
        pdf.set_text_shaping(True)
    pdf.add_page()
    width = pdf.w - 2 * _MARGIN

    def write(text: str, style: str = "", size: float = _SIZE, indent: float = 0.0) -> None:
        pdf.set_font("body", style, size)
        pdf.set_x(_MARGIN + indent)
        pdf.multi_cell(width - indent, size * 0.52, text or " ", align="L", new_x="LMARGIN", new_y="NEXT")

    write(s.title, "B", 15)
    pdf.ln(1)
    for style, text in header:
        write(text, style)
    pdf.ln(3)
    for depth, style, text in content:
        indent = 4.0 * max(depth - 1, 0) + (0 if style == "B" else 2.0 if depth else 0)
        if style == "B":
            pdf.ln(1.5)
            write(text, "B", 12 if depth <= 1 else 10.5, indent)
        else:
            write(text, "", _SIZE, indent)
    if tail:
        pdf.ln(3)
        for style, text in tail:
            write(text, style)
    return bytes(pdf.output())


def _require_glyphs(pdf: FPDF, text: str, families: list[str]) -> None:
    """Refuse a report with a character none of the fonts holds (it would print as an empty box)."""
    from fpdf.fonts import TTFFont

    # Only the added TrueType fonts have a character map (the families asked for are all such fonts).
    cmaps = [font.cmap for key, font in pdf.fonts.items()
             if isinstance(font, TTFFont) and any(key.startswith(f) for f in families)]
    missing = sorted({ch for ch in text if ch.isprintable() and not ch.isspace()
                      and not any(ord(ch) in cmap for cmap in cmaps)})
    if missing:
        points = " ".join(f"U+{ord(ch):04X}" for ch in missing[:8])
        raise PdfFontError(f"no installed font can print character(s) {points} of this report: install "
                           "fonts-noto-core and fonts-noto-cjk, or set LIGHTBOX_FONT_DIR")


def _can_shape() -> bool:
    """True when uharfbuzz is there: right-to-left runs reordered, Arabic letters joined."""
    try:
        import uharfbuzz  # noqa: F401
    except ImportError:
        log.warning("uharfbuzz is not installed: Hebrew and Arabic text in PDF reports is not reordered or shaped")
        return False
    return True


_COPIED = ("PatientName", "PatientID", "IssuerOfPatientID", "OtherPatientIDsSequence", "PatientBirthDate",
           "PatientSex", "StudyInstanceUID",
           "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber", "StudyDescription",
           "SpecificCharacterSet")


def encapsulated_pdf(pdf: bytes, sr: Dataset, *, instance_number: int = 1, now: dt.datetime | None = None) -> Dataset:
    """An Encapsulated PDF instance of ``pdf`` in the study of ``sr``, referencing the SR it shows."""
    now = now or dt.datetime.now()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.SOPInstanceUID = generate_uid(prefix="2.25.")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.ImplementationVersionName = f"LIGHTBOX_{__version__}"[:16]
    for kw in _COPIED:
        if kw in sr:
            ds[kw] = sr[kw]
    for kw in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
               "ReferringPhysicianName", "StudyID", "AccessionNumber"):
        if kw not in ds:
            setattr(ds, kw, "")  # Type 2: present, may be empty
    ds.SOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = generate_uid(prefix="2.25.", entropy_srcs=[str(sr.StudyInstanceUID), "lightbox-pdf-series"])
    ds.SeriesNumber = PDF_SERIES_NUMBER
    ds.SeriesDescription = "Lightbox report PDF"
    ds.Manufacturer = "Lightbox"
    ds.SoftwareVersions = __version__
    ds.ConversionType = "WSD"
    ds.InstanceNumber = instance_number
    ds.ContentDate = ds.InstanceCreationDate = now.strftime("%Y%m%d")
    ds.ContentTime = ds.InstanceCreationTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.BurnedInAnnotation = "YES"
    summary = summarize(sr)
    ds.DocumentTitle = summary.title[:64]
    if "ConceptNameCodeSequence" in sr:
        ds.ConceptNameCodeSequence = sr.ConceptNameCodeSequence
    else:
        ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocumentLength = len(pdf)
    ds.EncapsulatedDocument = pdf + (b"\x00" if len(pdf) % 2 else b"")
    source = Dataset()
    source.ReferencedSOPClassUID = sr.SOPClassUID
    source.ReferencedSOPInstanceUID = sr.SOPInstanceUID
    ds.SourceInstanceSequence = Sequence([source])
    return ds


def store_pdf(cache: StudyCache, ds: Dataset, destination: str | None = None) -> CommitResult:
    """Store an Encapsulated PDF in the cache and, with a destination, queue it; returns the commit result."""
    from workstation.dicom.charset import encode_dataset
    from workstation.dicom.header import parse_header
    from workstation.store import outbox

    data = encode_dataset(ds)  # the patient's name exactly, in the SR's character set or UTF-8
    _parsed, record = parse_header(data)
    result = cache.store_bytes(data, record, source="report pdf")
    if destination:
        outbox.enqueue(cache, record.sop_instance_uid, destination)
    return result
