"""Any SR renders as text: ours, pydicom's test SRs and the radiation dose SRs shipped with pyskindose."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from tests.reporting.test_sr_build import OBSERVER, filled
from workstation.reporting.inputs import ReportContent
from workstation.reporting.sr_build import BuildRequest, ReportState, build_sr
from workstation.reporting.sr_text import render, summarize
from workstation.reporting.templates import get_template


def _rdsr_files() -> list[Path]:
    try:
        import pyskindose
    except ImportError:
        return []
    return sorted((Path(pyskindose.__file__).parent / "example_data" / "RDSR").glob("*.dcm"))


@pytest.mark.parametrize("name", ["test-SR.dcm", "reportsi.dcm", "reportsi_with_empty_number_tags.dcm"])
def test_pydicom_test_srs_render(name):
    ds = dcmread(get_testdata_file(name))
    text = render(ds)
    assert str(ds.SOPInstanceUID) in text
    assert len(text.splitlines()) > 10
    assert "unreadable content item" not in text


def test_rdsrs_from_pyskindose_render():
    files = _rdsr_files()
    if not files:
        pytest.skip("pyskindose (test extra) is not installed")
    assert len(files) == 4
    for path in files:
        ds = dcmread(path)
        text = render(ds)
        assert "X-Ray Radiation Dose Report" in text
        assert "Irradiation Event" in text
        assert len(text.splitlines()) > 700


def test_our_sr_reads_back(study):
    _cache, _uid, headers = study
    tpl = get_template("mammography_screening")
    content = filled(tpl)
    ds = build_sr(BuildRequest(tpl, content, headers, OBSERVER, state=ReportState.FINAL))
    text = render(ds)
    assert "Assessment Category: Known biopsy proven malignancy (111125, DCM)" in text
    assert "  Keine Lymphknoten." in text  # a second line of a text value stays indented under its item
    s = summarize(ds)
    assert s.state == "final" and not s.signed


def test_not_an_sr_is_a_clear_error():
    with pytest.raises(ValueError, match="not a structured report"):
        render(dcmread(get_testdata_file("CT_small.dcm")))


def test_cli_show(lightbox_cmd, tmp_path, study):
    _cache, _uid, headers = study
    tpl = get_template("general")
    ds = build_sr(BuildRequest(tpl, ReportContent("general", {"findings": "Ölfleck"}), headers, OBSERVER))
    ds.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    out = subprocess.run(lightbox_cmd + ["report", "show", str(tmp_path / "sr.dcm")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Finding: Ölfleck" in out.stdout and "Signature: unsigned" in out.stdout
    bad = subprocess.run(lightbox_cmd + ["report", "show", get_testdata_file("CT_small.dcm")], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 1 and "not a structured report" in bad.stderr
