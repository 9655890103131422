"""The public corpus, with patient names and IDs planted, imported and rendered: no log names a patient.

Names and IDs go where the files keep them and where pydicom quotes values in
its warnings (a damaged UI value holding the name); the import's console and
JSON output are checked as well as the log files.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataelem import DataElement

from bench.fuzz import MARKERS, PLANTED_ID, PLANTED_NAME, seed_files
from workstation import logs
from workstation.imaging.render import RenderError, render_file
from workstation.log_privacy import PrivacyFilter, mask_values

pytestmark = pytest.mark.timeout(600)


def _planted_corpus(folder: Path) -> list[Path]:
    out = []
    for n, seed in enumerate(seed_files()):
        try:
            ds = dcmread(seed, force=True)
            ds.PatientName, ds.PatientID = PLANTED_NAME, PLANTED_ID
            ds.OtherPatientIDs = PLANTED_ID
            ds.ReferringPhysicianName = PLANTED_NAME
            ds[0x00200052] = DataElement(0x00200052, "UI", PLANTED_NAME.encode())  # Frame of Reference UID
            path = folder / f"{n:03d}-{Path(seed).name}"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds.save_as(path, enforce_file_format=False)
        except Exception:  # noqa: BLE001 - a seed pydicom cannot rewrite is left out
            continue
        out.append(path)
    return out


def test_import_and_render_of_the_planted_corpus_logs_no_patient(tmp_path, lightbox_cmd, lightbox_home):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = _planted_corpus(corpus)
    assert len(files) > 100
    done = subprocess.run([*lightbox_cmd, "--debug", "import", str(corpus), "--json"], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary["imported"] > 100
    assert not any(m in done.stdout for m in MARKERS), "a skip reason or summary names the patient"
    log_dir = lightbox_home / "logs"
    logs.configure(log_dir, debug=True)
    try:
        rendered = 0
        for path in files:
            try:
                render_file(path, 0)
                rendered += 1
            except RenderError as exc:
                assert not any(m in str(exc) for m in MARKERS), str(exc)
    finally:
        logs.configure(None)
    assert rendered > 50
    text = "\n".join(p.read_text("utf-8", "replace") for p in log_dir.glob("*.log*"))
    assert text, "the log is empty: nothing was checked"
    hits = [line for line in text.splitlines() if any(m in line for m in MARKERS)]
    print(f"{len(text.splitlines())} log lines, {text.count('<value withheld>')} values withheld")
    assert hits == []


def test_masking_of_library_messages():
    assert PLANTED_NAME not in mask_values(f"Invalid value for VR UI: '{PLANTED_NAME}'")
    assert PLANTED_ID not in mask_values(f"(0010,0020) LO [{PLANTED_ID}]")
    assert "Zyxplant" not in mask_values("name Zyxplant^Quortle unquoted")
    assert mask_values("Study 1.2.840.10008.1 'x'") .startswith("Study 1.2.840.10008.1")
    import logging

    record = logging.LogRecord("pydicom", logging.WARNING, __file__, 1, "Invalid value %r", (PLANTED_NAME,), None)
    assert PrivacyFilter().filter(record) and PLANTED_NAME not in record.getMessage()
