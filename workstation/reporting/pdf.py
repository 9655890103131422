"""The report for referring physicians: a PDF of the SR, and that PDF as an Encapsulated PDF in the study.

The PDF is written here (plain text pages, the standard Helvetica fonts,
WinAnsi encoding), so no extra dependency is needed: what the SR says, laid
out for reading and printing, with the signature status at the end.
"""

from __future__ import annotations

import datetime as dt
import textwrap
import zlib

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from workstation import __version__
from workstation.reporting.sr_text import render_lines, summarize

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"
PDF_SERIES_NUMBER = 9002

_PAGE_W, _PAGE_H = 595, 842  # A4 in points
_MARGIN = 56
_SIZE, _LEADING = 9.5, 12.5
_TECHNICAL = ("SOP Class:", "[modifier] Language of Content", "[context] Observer Type:")
_WRAP = 100  # characters of Helvetica 9.5 pt across the text width, conservatively


def _pdf_text(s: str) -> bytes:
    data = s.encode("cp1252", "replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _wrapped(lines: list[str]) -> list[tuple[str, str]]:
    """(font, text) lines: the title bold, long lines wrapped under their indentation."""
    out: list[tuple[str, str]] = []
    for n, line in enumerate(lines):
        font = "F2" if n == 0 else "F1"
        indent = len(line) - len(line.lstrip(" "))
        pieces = textwrap.wrap(line.strip(), _WRAP - indent, break_long_words=True) or [""]
        for k, piece in enumerate(pieces):
            out.append((font, " " * (indent + (4 if k else 0)) + piece))
    return out


def report_pdf(ds: Dataset, signature_status: str = "", *, now: dt.datetime | None = None) -> bytes:
    """A PDF of the SR ``ds`` (title, patient and study, flags, content), with ``signature_status`` at the end."""
    s = summarize(ds)
    # The technical lines (SOP Class, language, observer type) mean nothing to a referring physician.
    lines = [line for line in render_lines(ds) if not line.lstrip().startswith(_TECHNICAL)]
    if s.state == "preliminary":
        lines.insert(1, "PRELIMINARY REPORT - NOT VERIFIED")
    if signature_status:
        lines += ["", f"Digital signature: {signature_status}"]
    stamp = (now or dt.datetime.now()).strftime("%Y-%m-%d %H:%M")
    rows = _wrapped(lines)
    per_page = int((_PAGE_H - 2 * _MARGIN) // _LEADING)
    pages = [rows[i:i + per_page] for i in range(0, len(rows), per_page)] or [[]]
    objects: list[bytes] = []

    def add(obj: bytes) -> int:
        objects.append(obj)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    f1 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    f2 = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for number, page in enumerate(pages, 1):
        ops = [b"BT", f"{_MARGIN} {_PAGE_H - _MARGIN} Td".encode(), f"{_LEADING} TL".encode()]
        font = ""
        for fname, text in page:
            if fname != font:
                ops.append(f"/{fname} {_SIZE + (2 if fname == 'F2' else 0)} Tf".encode())
                font = fname
            ops.append(b"(" + _pdf_text(text) + b") Tj T*")
        ops += [b"ET", b"BT", f"/F1 8 Tf {_MARGIN} 30 Td".encode(),
                b"(" + _pdf_text(f"Lightbox {__version__} - printed {stamp} - page {number} of {len(pages)} - "
                                 f"{s.sop_instance_uid}") + b") Tj", b"ET"]
        stream = zlib.compress(b"\n".join(ops))
        content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(
            f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {_PAGE_W} {_PAGE_H}] "
            f"/Resources << /Font << /F1 {f1} 0 R /F2 {f2} 0 R >> >> /Contents {content} 0 R >>".encode()))
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    objects[pages_obj - 1] = (f"<< /Type /Pages /Count {len(kids)} /Kids [" +
                              " ".join(f"{k} 0 R" for k in kids) + "] >>").encode()
    info = add(b"<< /Title (" + _pdf_text(s.title) + b") /Producer (Lightbox) >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


_COPIED = ("PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID",
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


def store_pdf(cache, ds: Dataset, destination: str | None = None):
    """Store an Encapsulated PDF in the cache and, with a destination, queue it; returns the commit result."""
    import io

    from workstation.dicom.header import parse_header
    from workstation.store import outbox

    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    _parsed, record = parse_header(buf.getvalue())
    result = cache.store_bytes(buf.getvalue(), record, source="report pdf")
    if destination:
        outbox.enqueue(cache, record.sop_instance_uid, destination)
    return result
