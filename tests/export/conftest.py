"""The small demo set plus a report (SR), key images (KOS) and a presentation state (GSPS).

All three name and refer to the set's images.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest

from workstation.dicom.charset import encode_dataset
from workstation.demo.studies import generate_demo_studies


@pytest.fixture(scope="session")
def demo_set(tmp_path_factory) -> list[Path]:
    """Every small demo file, then an SR, a KOS and a GSPS for the MR study of the patient with a non-Latin name."""
    from workstation.imaging.key_images import build_key_object_selection
    from workstation.imaging.pipeline import Window
    from workstation.imaging.presentation import GraphicItem, ImageAnnotation, PresentationView, TextItem, build_gsps
    from workstation.reporting.inputs import ReportContent
    from workstation.reporting.sr_build import BuildRequest, Observer, ReportState, build_sr
    from workstation.reporting.templates import get_template

    out = tmp_path_factory.mktemp("demo-small")
    files = generate_demo_studies(out, size="small")
    mr = [p for p in files if "_MR_" in str(p)]
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in mr]
    study = str(headers[0].StudyInstanceUID)
    headers = [h for h in headers if str(h.StudyInstanceUID) == study]
    name = str(headers[0].PatientName).replace("^", " ")
    findings = f"Patient {name} ({headers[0].PatientID}): no change since the prior."
    content = ReportContent("general", {"findings": findings, "impression": "ok"})
    sr = build_sr(BuildRequest(get_template("general"), content,
                               headers[:3], Observer("Doe^Jane", "St. Elsewhere"), state=ReportState.FINAL))
    kos = build_key_object_selection(headers[:2], description="key images")
    marks = ImageAnnotation(graphics=(GraphicItem("POLYLINE", ((2.0, 2.0), (20.0, 12.0))),),
                            texts=(TextItem(f"{name} lesion", anchor=(0.0, 14.0)),))
    gsps = build_gsps(headers[:2], PresentationView(window=Window(300.0, 600.0), rotation=90, annotations=(marks,)),
                      content_description=f"view for {name}")
    extra = []
    for label, ds in (("sr", sr), ("kos", kos), ("gsps", gsps)):
        path = out / f"{label}.dcm"
        path.write_bytes(encode_dataset(ds))
        extra.append(path)
    return files + extra


def run_tool(*args: str) -> subprocess.CompletedProcess:
    """Run a DICOM tool from Debian's packages (skip the test when it is missing)."""
    if shutil.which(args[0]) is None:
        pytest.skip(f"{args[0]} is not installed")
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def dciodvfy_errors(path: Path) -> set[str]:
    """dciodvfy's Error lines for one file, as a set (what is new in a copy is what matters)."""
    import re

    out = run_tool("dciodvfy", str(path))
    # UIDs named in a message change with de-identification: the message is the same error.
    return {re.sub(r"\b\d+(\.\d+){2,}\b", "<UID>", line)
            for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")}
