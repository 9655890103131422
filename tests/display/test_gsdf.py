"""The GSDF of DICOM PS3.14 and its P-value → DDL tables, checked against DCMTK's dcmdspfn."""

from __future__ import annotations

import glob
import shutil
import subprocess

import numpy as np
import pytest

from workstation.display.characteristic import CharacteristicError, from_range, parse_lut_text, read_lut_file
from workstation.display.function import gsdf_table
from workstation.display.gsdf import gsdf_luminances, jnd_index, luminance

DCMDSPFN = shutil.which("dcmdspfn")
MONITOR_LUTS = sorted(glob.glob("/usr/share/dcmtk*/monitor.lut"))
needs_dcmtk = pytest.mark.skipif(DCMDSPFN is None or not MONITOR_LUTS,
                                 reason="DCMTK (dcmdspfn, monitor.lut) is not installed")


def test_formula_ends_and_inverse():
    # PS3.14 section 7: j = 1 is 0.05 cd/m², j = 1023 is 3993.4 cd/m² (the standard's fit: within 0.01 %).
    assert luminance(1.0) == pytest.approx(0.05, rel=1e-3)
    assert luminance(1023.0) == pytest.approx(3993.4, rel=1e-4)
    j = np.arange(1.0, 1024.0)
    assert np.abs(jnd_index(luminance(j)) - j).max() < 0.1
    # Luminance rises with the JND index everywhere.
    assert np.all(np.diff(luminance(j)) > 0)


def test_gsdf_luminances_equal_jnd_steps():
    lum = gsdf_luminances(0.5, 350.0, 256)
    steps = np.diff(jnd_index(lum))
    # The two fits of PS3.14 (L(j) and j(L)) disagree by up to 0.1 % (DCMTK shows the same).
    assert lum[0] == pytest.approx(0.5, rel=2e-3) and lum[-1] == pytest.approx(350.0, rel=2e-3)
    assert np.allclose(steps, steps.mean(), atol=0.1)
    with pytest.raises(ValueError):
        gsdf_luminances(0.0, 100.0, 256)


def test_jnd_index_refuses_non_positive():
    with pytest.raises(ValueError, match="positive"):
        jnd_index(0.0)


def _dcmdspfn(tmp_path, *args: str) -> tuple[dict[str, str], np.ndarray]:
    out = tmp_path / "gsdf.txt"
    subprocess.run([DCMDSPFN, *args, "+Og", str(out)], check=True, capture_output=True, timeout=60)
    header: dict[str, str] = {}
    rows = []
    for line in out.read_text().splitlines():
        if line.startswith("#") and ":" in line:
            k, v = line[1:].split(":", 1)
            header[k.strip()] = v.strip()
        elif line[:1].isdigit():
            rows.append([float(x) for x in line.split("\t")])
    return header, np.array(rows)


def _dcmtk_ddls(rows: np.ndarray) -> np.ndarray:
    """DCMTK's DDL per input level: the DDL whose luminance (CC column) is the one it reached (PSC)."""
    cc, psc = rows[:, 1], rows[:, 3]
    return np.array([int(np.argmin(np.abs(cc - v))) for v in psc])


@needs_dcmtk
@pytest.mark.parametrize("ambient", [None, 0.0, 10.0])
def test_monitor_lut_matches_dcmdspfn_within_one_ddl(tmp_path, ambient):
    path = MONITOR_LUTS[0]
    args = ["+Im", path] + ([] if ambient is None else ["+Ca", str(ambient)])
    header, rows = _dcmdspfn(tmp_path, *args)
    characteristic = read_lut_file(path)
    table = gsdf_table(characteristic, ambient=ambient, p_values=len(rows))
    assert len(rows) == characteristic.max_ddl + 1 == 256
    # Same characteristic (CC = luminance + ambient) and same GSDF targets.
    assert np.allclose(characteristic.luminance + table.ambient, rows[:, 1], atol=1e-5)
    assert np.allclose(table.target, rows[:, 2], rtol=1e-5)
    jnd_low, jnd_high = (float(x) for x in header["Barten JND index range"].split("(")[0].split("-"))
    assert table.jnd_range == pytest.approx((jnd_low, jnd_high), abs=1e-3)
    # The acceptance: Lightbox's DDL equals DCMTK's within one at every input level.
    difference = np.abs(table.ddl.astype(int) - _dcmtk_ddls(rows))
    assert difference.max() <= 1
    assert np.count_nonzero(difference) == 0  # in fact the same table


@needs_dcmtk
def test_sparse_characteristic_filled_in_like_dcmtk(tmp_path):
    # A 10-bit monitor measured at six DDLs: both fill in the rest with a natural cubic spline.
    lut = tmp_path / "sparse.lut"
    lut.write_text("# measured with a photometer\nmax 1023\namb 0.5\n\n0 0.8\n100 2.5\n300 12.0\n"
                   "600 80\n900 250\n1023 350\n")
    _, rows = _dcmdspfn(tmp_path, "+Im", str(lut))
    characteristic = read_lut_file(lut)
    table = gsdf_table(characteristic, p_values=len(rows))
    assert np.allclose(characteristic.luminance + 0.5, rows[:, 1], atol=1e-5)
    assert np.abs(table.ddl.astype(int) - _dcmtk_ddls(rows)).max() <= 1


@needs_dcmtk
def test_luminance_range_matches_dcmdspfn(tmp_path):
    # DCMTK's --lum-range is a linear characteristic: gamma 1.
    header, rows = _dcmdspfn(tmp_path, "+Il", "0.5", "300", "+Cd", "1024", "+Ca", "2")
    table = gsdf_table(from_range(0.5, 300.0, 1024, 1.0), ambient=2.0, p_values=1024)
    assert np.allclose(table.target, rows[:, 1], rtol=1e-5)
    # dcmdspfn prints no DDLs here: take the DDL nearest its target on the same linear curve.
    curve = np.linspace(0.5, 300.0, 1024) + 2.0
    theirs = np.array([int(np.argmin(np.abs(curve - v))) for v in rows[:, 1]])
    assert np.abs(table.ddl.astype(int) - theirs).max() <= 1


def test_lut_file_format_details():
    c = parse_lut_text("# c\n  max   7   # the largest DDL\namb 0.25\nord 0\n"
                       "3 4.0\n0 1.0\n1 2.0\n2 3.0\n7 8.0\n5 6.0\n6 7.0\n4 5.0\n4 5.5\n9 1.0\n", "t.lut")
    assert c.max_ddl == 7 and c.ambient == 0.25
    assert c.luminance.tolist() == [1.0, 2.0, 3.0, 4.0, 5.5, 6.0, 7.0, 8.0]  # sorted, last 4 wins
    assert any("above max" in w for w in c.warnings)
    poly = parse_lut_text("max 4\nord 1\n0 1\n4 5\n", "p.lut")
    assert np.allclose(poly.luminance, [1, 2, 3, 4, 5])


@pytest.mark.parametrize("text, message", [
    ("", "first entry must be 'max'"),
    ("0 1.0\n", "first entry must be 'max'"),
    ("max x\n", "'max' needs a number"),
    ("max 0\n", "whole number from 1"),
    ("max 255\namb\n", "'amb' needs a number"),
    ("max 255\n", "no luminance values"),
    ("max 255\n1.5 3\n", "not a whole number"),
])
def test_bad_lut_files_say_why(text, message):
    with pytest.raises(CharacteristicError, match=message):
        parse_lut_text(text, "bad.lut")


def test_unreadable_file_says_so(tmp_path):
    with pytest.raises(CharacteristicError, match="cannot read"):
        read_lut_file(tmp_path / "missing.lut")


def test_range_limits_and_target():
    with pytest.raises(CharacteristicError):
        from_range(10, 5)
    c = from_range(0.5, 400.0, 256, 2.2)
    table = gsdf_table(c, ambient=0.5, target_min=1.5, target_max=300.0)
    assert table.l_min == pytest.approx(1.5) and table.l_max == pytest.approx(300.0)
    assert np.all(np.diff(table.ddl.astype(int)) >= 0)
    with pytest.raises(ValueError, match="no luminance range"):
        gsdf_table(c, target_min=500.0)


ALL_LUTS = sorted(glob.glob("/usr/share/dcmtk*/*.lut"))


@needs_dcmtk
@pytest.mark.parametrize("path", ALL_LUTS, ids=lambda p: p.rsplit("/", 1)[-1])
def test_every_dcmtk_lut_file_read_as_dcmtk_reads_it(tmp_path, path):
    """Each of DCMTK's sample files read as a monitor file: the same curve (filled in by cubic spline or
    polynomial as its 'ord' says), the same GSDF range (from the measured points) and the same table;
    a file DCMTK refuses (philips.lut is a presentation LUT, not a characteristic) is refused too."""
    out = tmp_path / "gsdf.txt"
    run = subprocess.run([DCMDSPFN, "+Im", path, "+Og", str(out)], capture_output=True, text=True, timeout=60)
    if not out.exists():
        assert run.returncode != 0
        with pytest.raises(CharacteristicError, match="'max'"):
            read_lut_file(path)
        return
    rows = np.array([[float(x) for x in line.split("\t")] for line in out.read_text().splitlines()
                     if line[:1].isdigit()])
    characteristic = read_lut_file(path)
    table = gsdf_table(characteristic, p_values=len(rows))
    assert np.allclose(characteristic.luminance + table.ambient, rows[:, 1], atol=1e-5)
    assert np.allclose(table.target, rows[:, 2], rtol=1e-5)
    assert np.allclose(table.achieved, rows[:, 3], atol=1e-5)  # the luminance each input level reaches
    if np.all(np.diff(rows[:, 1]) > 0):  # DDLs are unambiguous where the curve rises
        assert np.abs(table.ddl.astype(int) - _dcmtk_ddls(rows)).max() <= 1
