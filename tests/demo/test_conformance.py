"""dicom3tools' dciodvfy finds no errors in one file of each IOD the demo writes."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest

pytestmark = pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools' dciodvfy is not installed")


def _one_per_series(small_demo, small_headers):
    seen = {}
    for path, ds in zip(small_demo[1], small_headers, strict=True):
        seen.setdefault(ds.SeriesInstanceUID, (path, ds))
    return list(seen.values())


def test_every_iod_verifies_without_errors(small_demo, small_headers):
    checked = set()
    for path, ds in _one_per_series(small_demo, small_headers):
        result = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        report = result.stdout + result.stderr
        errors = [line for line in report.splitlines() if line.startswith("Error")]
        assert not errors, f"{path}:\n" + "\n".join(errors)
        checked.add(pydicom.uid.UID(ds.SOPClassUID).name)
    assert checked == {
        "CT Image Storage",
        "MR Image Storage",
        "Digital X-Ray Image Storage - For Presentation",
        "Digital Mammography X-Ray Image Storage - For Presentation",
        "Ultrasound Multi-frame Image Storage",
        "Positron Emission Tomography Image Storage",
    }
