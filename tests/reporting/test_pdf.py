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
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    text = pdf_text(path)
    assert "Impression: Kontrolle in 3 Monaten." in text
    assert "Größenprogredienter Rundherd" in text  # WinAnsi keeps German letters
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
