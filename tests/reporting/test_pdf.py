"""The report as PDF for referring physicians, and as Encapsulated PDF in the study."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from pydicom import dcmread

from tests.reporting.conftest import dciodvfy_errors
from tests.reporting.test_sr_build import OBSERVER
from workstation.reporting.inputs import ReportContent
from workstation.reporting.pdf import ENCAPSULATED_PDF_STORAGE, encapsulated_pdf, report_pdf, store_pdf
from workstation.reporting.sr_build import BuildRequest, ReportState, build_sr
from workstation.reporting.templates import get_template

LONG = " ".join(["Größenprogredienter Rundherd (rechter Oberlappen) mit glatter Begrenzung."] * 12)


def pdf_text(path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout


@pytest.fixture
def sr(study):
    _cache, _uid, headers = study
    tpl = get_template("general")
    values = {"findings": "\n".join([LONG] * 8), "impression": "Kontrolle in 3 Monaten."}
    return build_sr(BuildRequest(tpl, ReportContent("general", values), headers, OBSERVER, state=ReportState.FINAL))


def test_pdf_holds_the_report(sr, tmp_path):
    pdf = report_pdf(sr, "valid")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    assert "Impression" in text and "Kontrolle in 3 Monaten." in text
    assert "Größenprogredienter Rundherd" in text
    assert "Digital signature: valid" in text and "page 2 of" in text  # long reports go on
    assert "SOP Class:" not in text and "Observer Type" not in text  # no technical lines


def test_preliminary_is_marked(study, tmp_path):
    _cache, _uid, headers = study
    sr = build_sr(BuildRequest(get_template("general"), ReportContent("general", {"findings": "x"}), headers, OBSERVER))
    path = tmp_path / "p.pdf"
    path.write_bytes(report_pdf(sr))
    assert "PRELIMINARY REPORT - NOT VERIFIED" in pdf_text(path)


def test_encapsulated_pdf_is_valid_and_stored_in_the_study(sr, study, tmp_path):
    cache, study_uid, _ = study
    pdf = report_pdf(sr)
    ds = encapsulated_pdf(pdf, sr)
    ds.save_as(tmp_path / "e.dcm", enforce_file_format=True)
    assert dciodvfy_errors(tmp_path / "e.dcm") == []
    assert ds.StudyInstanceUID == study_uid and ds.SOPClassUID == ENCAPSULATED_PDF_STORAGE
    assert ds.SourceInstanceSequence[0].ReferencedSOPInstanceUID == sr.SOPInstanceUID
    assert bytes(ds.EncapsulatedDocument)[: ds.EncapsulatedDocumentLength] == pdf
    result = store_pdf(cache, ds)
    assert result.outcome.value == "stored"
    assert dcmread(cache.path_of(cache.instance(str(ds.SOPInstanceUID)))).PatientName == "Müller^Anna"


#: Bidirectional control characters pdftotext puts around right-to-left runs.
_BIDI_MARKS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))


def _charset_names() -> list[str]:
    from pydicom.data import get_charset_files

    names = []
    for path in sorted(get_charset_files("chr*.dcm")):
        ds = dcmread(path, stop_before_pixels=True)
        if "PatientName" in ds and str(ds.PatientName) not in names:
            names.append(str(ds.PatientName))
    return names


@pytest.mark.parametrize("name", _charset_names())
def test_every_name_prints(name, tmp_path, home):
    """Each name of pydicom's charset files reads back from the PDF exactly as the study list shows it."""
    from tests.factories import write_series
    from workstation.dicom.person_name import format_person_name

    paths = write_series(tmp_path / "ct", 1, patient_name=name)
    headers = [dcmread(p, stop_before_pixels=True) for p in paths]
    for h in headers:
        h.SpecificCharacterSet = "ISO_IR 192"
    content = ReportContent("general", {"findings": f"Seen: {name}", "impression": "ok"})
    sr = build_sr(BuildRequest(get_template("general"), content, headers, OBSERVER, state=ReportState.FINAL))
    pdf = report_pdf(sr, "valid")
    path = tmp_path / "n.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path).translate(_BIDI_MARKS)
    shown = format_person_name(name)
    line = text.split("Patient:")[1].split("\n")[0].strip()
    if any(0x0590 <= ord(ch) < 0x0800 for ch in name):
        # Right to left: pdftotext gives the glyphs in visual order; every word is there, whole.
        assert sorted(line.replace(",", " ").split()) == sorted(shown.replace(",", " ").split()), (shown, line)
    else:
        assert line == shown, (shown, line)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert "Helvetica" not in fonts and fonts.count(" yes ") >= 1  # embedded (subset) fonts only


def test_encapsulated_pdf_keeps_a_japanese_name(study, tmp_path):
    cache, _study_uid, headers = study
    for h in headers:
        h.PatientName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    content = ReportContent("general", {"findings": "x", "impression": "y"})
    sr = build_sr(BuildRequest(get_template("general"), content, headers, OBSERVER, state=ReportState.FINAL))
    ds = encapsulated_pdf(report_pdf(sr), sr)
    assert store_pdf(cache, ds).outcome.value == "stored"
    stored = dcmread(cache.path_of(cache.instance(str(ds.SOPInstanceUID))))
    assert str(stored.PatientName) == "Yamada^Tarou=山田^太郎=やまだ^たろう"
    path = tmp_path / "e.pdf"
    path.write_bytes(bytes(stored.EncapsulatedDocument)[: stored.EncapsulatedDocumentLength])
    assert "Yamada, Tarou (山田 太郎)" in pdf_text(path)
