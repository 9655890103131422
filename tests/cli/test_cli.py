"""The ``lightbox`` command as a user runs it: import, studies, series, cache, errors."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pydicom

from tests.factories import write_series


def run(args, home: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workstation", *args],
        env={**os.environ, "LIGHTBOX_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_import_pydicom_test_files_then_list(lightbox_home):
    folder = Path(pydicom.data.__file__).parent / "test_files"
    res = run(["import", str(folder)], lightbox_home)
    assert res.returncode == 0, res.stderr
    first = res.stdout.splitlines()[0]
    assert first.startswith("Imported ") and "skipped" in first and "studies" in first
    assert "Traceback" not in res.stderr
    studies = json.loads(run(["studies", "--json"], lightbox_home).stdout)
    assert len(studies) > 20
    assert {"study_uid", "patient_name", "modalities", "num_instances"} <= set(studies[0])
    series = json.loads(run(["series", studies[0]["study_uid"], "--json"], lightbox_home).stdout)
    assert series and series[0]["study_uid"] == studies[0]["study_uid"]
    verify = run(["cache", "verify", "--json"], lightbox_home)
    assert verify.returncode == 0 and json.loads(verify.stdout)["consistent"]


def test_studies_filters_and_table(lightbox_home, tmp_path):
    write_series(tmp_path / "a", 2, patient_name="Alpha^Ann", patient_id="A1")
    write_series(tmp_path / "b", 2, patient_name="Beta^Bob", patient_id="B2", modality="MR")
    assert run(["import", str(tmp_path / "a"), str(tmp_path / "b")], lightbox_home).returncode == 0
    rows = json.loads(run(["studies", "--json", "--modality", "MR"], lightbox_home).stdout)
    assert [r["patient_id"] for r in rows] == ["B2"]
    rows = json.loads(run(["studies", "--json", "--patient-name", "alp*"], lightbox_home).stdout)
    assert [r["patient_id"] for r in rows] == ["A1"]
    table = run(["studies"], lightbox_home).stdout
    assert "Alpha^Ann" in table and "Beta^Bob" in table


def test_home_option_overrides_environment(lightbox_home, tmp_path):
    other = tmp_path / "other-home"
    write_series(tmp_path / "s", 2)
    assert run(["--home", str(other), "import", str(tmp_path / "s")], lightbox_home).returncode == 0
    assert (other / "index.sqlite").exists()
    assert json.loads(run(["studies", "--json"], lightbox_home).stdout) == []


def test_errors_are_one_clear_line(lightbox_home):
    res = run(["series", "1.2.3.4"], lightbox_home)
    assert res.returncode != 0
    assert res.stderr.strip() == "lightbox: no study 1.2.3.4 in the cache (see 'lightbox studies')"
    res = run(["studies", "--date", "2024"], lightbox_home)
    assert res.returncode == 2 and "YYYYMMDD" in res.stderr and "Traceback" not in res.stderr
    res = run(["cache", "pin", "9.9.9"], lightbox_home)
    assert res.returncode == 1 and res.stderr.count("\n") == 1


def test_debug_shows_the_traceback(lightbox_home):
    (lightbox_home / "config.json").write_text("{not json")
    res = run(["--debug", "demo", "--help"], lightbox_home)
    assert res.returncode == 0  # help needs no settings
    from workstation.cli.common import Context  # noqa: F401  (import check only)


def test_sigkill_mid_import_leaves_a_consistent_cache(lightbox_home, tmp_path):
    """Kill -9 an import half way: no partial file is indexed; repair tidies the leftovers."""
    write_series(tmp_path / "big", 600, size=128)
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation", "import", str(tmp_path / "big")],
        env={**os.environ, "LIGHTBOX_HOME": str(lightbox_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its worker processes share the group: kill them all
    )
    index = lightbox_home / "index.sqlite"
    try:
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            if index.exists():
                try:
                    con = sqlite3.connect(index, timeout=1)
                    count = con.execute("SELECT count(*) FROM instances").fetchone()[0]
                    con.close()
                except sqlite3.Error:
                    count = 0
                if count >= 64:
                    break
        assert proc.poll() is None, "the import finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    res = run(["cache", "verify", "--json"], lightbox_home)
    report = json.loads(res.stdout)
    assert res.returncode == 0, res.stdout
    assert report["consistent"] and not report["missing"] and not report["hash_mismatch"]
    assert 64 <= report["checked"] < 600
    repaired = run(["cache", "verify", "--repair"], lightbox_home)
    assert repaired.returncode == 0, repaired.stdout
    again = run(["import", str(tmp_path / "big")], lightbox_home)
    assert again.returncode == 0
    final = json.loads(run(["cache", "verify", "--json"], lightbox_home).stdout)
    assert final["tidy"] and final["checked"] == 600, json.dumps(final)
