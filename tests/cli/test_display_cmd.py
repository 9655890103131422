"""``lightbox patterns`` and ``lightbox display ...`` as a user runs them: patterns on disk, a monitor's GSDF
set and printed equal to dcmdspfn's table, a conformance check kept in the QA log, bad input refused."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest

from workstation.cli import main
from workstation.config import load
from workstation.display.gsdf import gsdf_luminances

MONITOR_LUT = (sorted(glob.glob("/usr/share/dcmtk*/monitor.lut")) or [""])[0]


def call(args, home: Path, capsys) -> subprocess.CompletedProcess:
    capsys.readouterr()
    code = main(["--home", str(home), *args])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


def test_patterns_written_by_the_command_line(tmp_path):
    out = tmp_path / "Prüfbilder"
    run = subprocess.run([sys.executable, "-m", "workstation", "--home", str(tmp_path / "home"), "patterns",
                          "--out", str(out)], capture_output=True, text=True, timeout=300, env={**os.environ})
    assert run.returncode == 0, run.stderr
    assert "wrote 23 TG18 patterns (1024x1024, synthetic)" in run.stdout
    qc = pydicom.dcmread(out / "TG18-QC.dcm")
    assert qc.Rows == qc.Columns == 1024 and qc.BitsStored == 12


@pytest.mark.skipif(not MONITOR_LUT or shutil.which("dcmdspfn") is None, reason="DCMTK is not installed")
def test_set_a_monitor_and_print_its_table_like_dcmdspfn(tmp_path, capsys):
    home = tmp_path / "home"
    res = call(["display", "set", "DP-1@2560x2048", "--mode", "gsdf", "--lut", MONITOR_LUT, "--surface", "10"],
               home, capsys)
    assert res.returncode == 0, res.stderr
    display = load(home / "config.json").extra["display"]
    assert display["surface_bits"] == "10"
    assert display["monitors"]["DP-1@2560x2048"] == {"mode": "gsdf", "characteristic_file": MONITOR_LUT}
    res = call(["display", "show"], home, capsys)
    assert "DP-1@2560x2048" in res.stdout and "gsdf" in res.stdout and "surface: 10" in res.stdout
    res = call(["display", "table", "DP-1@2560x2048"], home, capsys)
    assert res.returncode == 0
    rows = [line.split("\t") for line in res.stdout.splitlines() if line[:1].isdigit()]
    ours = np.array([int(r[1]) for r in rows])
    subprocess.run(["dcmdspfn", "+Im", MONITOR_LUT, "+Og", str(tmp_path / "g.txt")], check=True, timeout=60)
    theirs = [line.split("\t") for line in (tmp_path / "g.txt").read_text().splitlines() if line[:1].isdigit()]
    cc = np.array([float(r[1]) for r in theirs])
    dcmtk = np.array([int(np.argmin(np.abs(cc - float(r[3])))) for r in theirs])
    assert len(ours) == 256 and np.abs(ours - dcmtk).max() <= 1


def test_bad_display_settings_are_refused(tmp_path, capsys):
    home = tmp_path / "home"
    res = call(["display", "set", "X@1x1", "--mode", "gsdf", "--lut", str(tmp_path / "none.lut")], home, capsys)
    assert res.returncode == 1 and "cannot read none.lut" in res.stderr
    res = call(["display", "set", "X@1x1", "--mode", "gsdf"], home, capsys)
    assert res.returncode == 1 and "Lmin and Lmax" in res.stderr
    res = call(["display", "set", "--mode", "gsdf"], home, capsys)
    assert res.returncode == 1 and "name the monitor" in res.stderr
    assert not (home / "config.json").exists()
    res = call(["display", "set", "X@1x1", "--mode", "gsdf", "--lmin", "0.5", "--lmax", "300"], home, capsys)
    assert res.returncode == 0
    monitors = load(home / "config.json").extra["display"]["monitors"]
    assert monitors["X@1x1"] == {"mode": "gsdf", "l_min": 0.5, "l_max": 300.0}


def test_conformance_check_from_csv_and_typed_values_goes_to_the_qa_log(tmp_path, capsys):
    home = tmp_path / "home"
    good = gsdf_luminances(0.8, 400.0, 256)[::15]
    csv = tmp_path / "ln.csv"
    csv.write_text("pattern,luminance\n" + "".join(f"TG18-LN12-{i + 1:02d},{v:.4f}\n" for i, v in enumerate(good)))
    res = call(["display", "check", "--csv", str(csv), "--monitor", "DP-1@2560x2048", "--note", "Photometer 7"],
               home, capsys)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("PASS") and "kept in the QA log" in res.stdout
    gamma = 0.8 + 399.2 * (np.arange(18) / 17) ** 2.2
    res = call(["display", "check", "--luminance", ",".join(f"{v:.3f}" for v in gamma), "--class", "secondary"],
               home, capsys)
    assert res.returncode == 1 and res.stdout.startswith("FAIL")
    res = call(["display", "log"], home, capsys)
    lines = res.stdout.splitlines()
    assert "PASS" in lines[2] and "DP-1@2560x2048" in lines[2] and "FAIL" in lines[3] and "secondary" in lines[3]
    res = call(["display", "check", "--luminance", "1,2,3"], home, capsys)
    assert res.returncode == 1 and "need the 18 TG18-LN luminances, got 3" in res.stderr
    res = call(["display", "check", "--csv", str(tmp_path / "missing.csv")], home, capsys)
    assert res.returncode == 1 and "cannot read" in res.stderr
