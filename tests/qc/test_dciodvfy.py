"""Every object QC produces passes dciodvfy without an "Error" line (corrected copies and rejection notes)."""

from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.qc.conftest import import_demo_study
from workstation.qc.correction import apply_correction, plan_correction
from workstation.qc.rejection import reject_instances
from workstation.qc.restructure import apply_restructure, plan_merge, plan_split

pytestmark = pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) is not installed")


def _errors(path) -> list[str]:
    run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (run.stdout + run.stderr).splitlines() if "Error" in line]


def test_everything_produced_on_demo_studies_is_valid(cache, demo_files):
    produced = []
    mr = import_demo_study(cache, demo_files, "MR BRAIN WITHOUT CONTRAST")  # UTF-8 patient name
    series = {s.description: s.series_uid for s in cache.series(mr)}
    # merge two axial series, split the result by position, split a sagittal out by selection
    merged = apply_restructure(cache, plan_merge(cache, [series["T2 AX"], series["FLAIR AX"]]))
    produced += merged.produced
    produced += apply_restructure(cache, plan_split(cache, merged.copies[0].series_uid, "position")).produced
    t1 = [r.sop_instance_uid for r in cache.instances(series["T1 SAG"])]
    produced += apply_restructure(cache, plan_split(cache, series["T1 SAG"], "instances", t1[:2])).produced
    produced += reject_instances(cache, t1[5:6], "quality", description="motion", operator="tech",
                                 quality="motion-blur").notes
    plan = plan_correction(cache, mr, {"PatientName": "Müller^Anna^Maria", "PatientBirthDate": "19670903",
                                       "AccessionNumber": "LBX-FIX-1", "StudyDescription": "MR BRAIN"},
                           reason="registration typo", operator="tech")
    produced += apply_correction(cache, plan).produced
    for description in ("MG SCREENING BILATERAL", "US CAROTID RIGHT", "XR CHEST PA AND LATERAL"):
        study = import_demo_study(cache, demo_files, description)
        produced += apply_correction(cache, plan_correction(cache, study, {"PatientSex": "O"}, reason="x")).produced
    ct = import_demo_study(cache, demo_files, "CT CHEST WITH CONTRAST", n=6)
    rows = [r.sop_instance_uid for s in cache.series(ct) for r in cache.instances(s.series_uid)]
    for reason in ("worklist", "safety", "retention"):
        chosen = rows[:1] if reason == "worklist" else rows[1:2] if reason == "safety" else rows[2:3]
        produced += reject_instances(cache, chosen, reason).notes
    kinds = {p.kind for p in produced}
    assert kinds == {"copy", "note"} and len(produced) > 100
    with ThreadPoolExecutor(2) as pool:
        errors = list(pool.map(_errors, [p.path for p in produced]))
    failures = {p.path.name: e for p, e in zip(produced, errors, strict=True) if e}
    assert failures == {}
