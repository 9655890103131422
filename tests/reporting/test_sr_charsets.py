"""A report can be written for a study in any character set; the SR names the patient exactly (in UTF-8)."""

from __future__ import annotations

import io

import pydicom
import pytest
from pydicom.data import get_charset_files

from tests.reporting.test_sr_build import OBSERVER
from workstation.reporting.inputs import ReportContent
from workstation.reporting.sr_build import BuildRequest, ReportState, build_sr
from workstation.reporting.templates import get_template

FILES = [f for f in sorted(get_charset_files("chr*.dcm"))
         if {"PatientName", "SOPClassUID"} <= set(pydicom.dcmread(f, stop_before_pixels=True).dir())]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.split("/")[-1])
def test_report_of_any_character_set(path):
    header = pydicom.dcmread(path, stop_before_pixels=True)
    sr = build_sr(BuildRequest(get_template("general"), ReportContent("general", {"findings": "x", "impression": "y"}),
                               [header], OBSERVER, state=ReportState.FINAL))
    buf = io.BytesIO()
    sr.save_as(buf, enforce_file_format=True)
    back = pydicom.dcmread(io.BytesIO(buf.getvalue()))
    assert back.SpecificCharacterSet == "ISO_IR 192" and str(back.PatientName) == str(header.PatientName)
