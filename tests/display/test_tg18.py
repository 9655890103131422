"""TG18 patterns: TG18-QC's patches where and as the specification puts them, the LN levels, DICOM that
dciodvfy accepts, and the GSDF conformance check of 18 measured luminances."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import numpy as np
import pydicom
import pytest

from workstation.display.conformance import (
    QA_LOG_NAME,
    append_qa_log,
    check_conformance,
    read_luminances,
    read_qa_log,
)
from workstation.display.gsdf import gsdf_luminances
from workstation.display.pattern_files import SECONDARY_CAPTURE, write_patterns
from workstation.display.tg18 import LABEL, tg18_ad, tg18_ct, tg18_ln, tg18_qc, tg18_un
from workstation.imaging.pipeline import FramePipeline

# TG18-QC as specified.  Source: AAPM On-line Report No. 03 (2005), "Assessment of display performance
# for medical imaging systems", section 3 and appendix III (TG18-QC), in the 1k layout of pacsDisplay's
# published TG18 implementation (its TG18-OIQ: TG18-QC without the Cx elements): 12-bit values, background
# 2048 (50 %), grid lines 3072 (75 %) every 102 px from the centre; a 6 x 6 block of 102-px cells centred on
# the pattern, its outer ring holding 16 steps 128..3968 (8-bit 8..248, step 16) clockwise from the
# bottom-left cell, plus 0 (bottom row, 2nd cell) and 4095 (bottom row, 5th cell); each step has 10-px corner
# squares, upper-left and lower-right at step - 64, upper-right and lower-left at step + 64 (±4 8-bit levels);
# the 0 and 4095 cells hold a centred square half their size at 205 (5 %) and 3890 (95 %).
SPEC_1K = {
    "background": 2048, "grid": 3072, "pitch": 102, "corner": 10, "corner_contrast": 64,
    # (row, col) of the 6 x 6 block -> value
    "cells": {(5, 0): 128, (4, 0): 384, (3, 0): 640, (2, 0): 896, (1, 0): 1152, (0, 0): 1408,
              (0, 1): 1664, (0, 2): 1920, (0, 3): 2176, (0, 4): 2432, (0, 5): 2688,
              (1, 5): 2944, (2, 5): 3200, (3, 5): 3456, (4, 5): 3712, (5, 5): 3968,
              (5, 1): 0, (5, 4): 4095},
    "inner": {0: 205, 4095: 3890},
}


@pytest.mark.parametrize("size", [1024, 2048])
def test_tg18_qc_patches_are_where_and_what_the_specification_says(size):
    pattern = tg18_qc(size)
    img = pattern.pixels.astype(int)
    scale = size // 1024
    c, p, cs = size // 2, SPEC_1K["pitch"] * scale, SPEC_1K["corner"] * scale
    assert img.shape == (size, size) and img.max() <= 4095
    assert pattern.window == (2048.0, 4096.0)
    # Background and grid, away from every element (a cell of the grid left of the block).
    assert img[c - 3 * p + 40 * scale, c - 4 * p + 30 * scale] == SPEC_1K["background"]
    assert img[c - 3 * p + 40 * scale, c - 4 * p] == SPEC_1K["grid"]
    assert img[c + 5 * p, c - 4 * p + 30 * scale] == SPEC_1K["grid"]
    k = SPEC_1K["corner_contrast"]
    for (row, col), value in SPEC_1K["cells"].items():
        x0, y0 = c + (col - 3) * p, c + (row - 3) * p
        x1, y1 = x0 + p, y0 + p
        cell = img[y0:y1, x0:x1]
        if value in SPEC_1K["inner"]:
            # A centred square half the cell's side at the inner value; the rest is the cell's value.
            ys, xs = np.nonzero(cell == SPEC_1K["inner"][value])
            assert len(ys) == (p // 2) ** 2 and ys.max() - ys.min() + 1 == p // 2 == xs.max() - xs.min() + 1
            assert abs((ys.min() + ys.max()) / 2 - (p - 1) / 2) <= 1
            assert abs((xs.min() + xs.max()) / 2 - (p - 1) / 2) <= 1
            assert np.count_nonzero(cell == value) == p * p - (p // 2) ** 2, (row, col)
            continue
        # The cell's middle is the step; the corners are the low-contrast squares.
        assert np.all(cell[cs:p - cs, cs:p - cs] == value), (row, col)
        assert np.all(cell[:cs, :cs] == value - k) and np.all(cell[p - cs:, p - cs:] == value - k)
        assert np.all(cell[:cs, p - cs:] == value + k) and np.all(cell[p - cs:, :cs] == value + k)
    # The ramps run the whole grey scale, bright at the top on the left, dark at the top on the right.
    x0, y0, x1, y1 = pattern.regions["ramp left"]
    left = img[y0:y1, (x0 + x1) // 2]
    assert left[0] == 4095 and left[-1] == 0 and np.all(np.diff(left) <= 0)
    right = img[y0:y1, size - 1 - (x0 + x1) // 2]
    assert right[0] == 0 and right[-1] == 4095
    # QUALITY CONTROL panels: backgrounds 0, 2048, 4095 with letters at 16..224 (1..14 8-bit levels) off them.
    for bg in (0, 2048, 4095):
        x0, y0, x1, y1 = pattern.regions[f"panel {bg}"]
        values = set(np.unique(img[y0:y1, x0:x1]).tolist()) - {bg}
        sign = -1 if bg == 4095 else 1
        assert values and values <= {bg + sign * 16 * n for n in range(1, 15)}
    # Resolution bars at the centre: 1-px vertical line pairs, full contrast.
    row = img[c - p // 4, c - p + 4:c - p // 2 - 2]
    assert set(row.tolist()) == {0, 4095} and np.all(row[:-1] != row[1:])


def test_tg18_qc_shown_with_its_window_gives_8_bit_steps():
    pattern = tg18_qc()
    ds = pydicom.Dataset()
    ds.Rows = ds.Columns = 1024
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PhotometricInterpretation, ds.SamplesPerPixel = "MONOCHROME2", 1
    ds.WindowCenter, ds.WindowWidth = pattern.window
    p_values = FramePipeline.from_dataset(ds).to_display(pattern.pixels)
    c = 512

    def linear(v):  # PS3.3 C.11.2.1.2.1, WL/WW 2048/4096
        return int(np.floor(((v - 2047.5) / 4095 + 0.5) * 255))

    # The 12-bit steps reach the display as the 8-bit steps (8 -> 7.97, 168 -> 167.97: floored).
    assert p_values[c + 2 * 102 + 50, c - 3 * 102 + 50] == linear(128) == 7
    assert p_values[c - 3 * 102 + 50, c + 2 * 102 + 50] == linear(2688) == 167
    assert p_values[c - 3 * 102 + 40, c - 4 * 102 + 30] == linear(2048) == 127


def test_tg18_ln_levels_and_measurement_square():
    for index in (1, 9, 18):
        pattern = tg18_ln(index)
        x0, y0, x1, y1 = pattern.regions["measure"]
        assert (x1 - x0) * (y1 - y0) == pytest.approx(0.1 * 1024 * 1024, rel=0.01)  # 10 % of the area
        assert np.all(pattern.pixels[y0:y1, x0:x1] == 240 * (index - 1))
        assert pattern.pixels[10, 10] == 819  # 20 % background
        assert pattern.window == (2040.0, 4080.0)
    with pytest.raises(ValueError):
        tg18_ln(19)


def test_other_patterns():
    un = tg18_un(80)
    assert np.all(un.pixels == 3276) and len(un.regions) == 5
    assert np.all(tg18_un(10).pixels == 410)
    ct = tg18_ct()
    assert len(ct.regions) == 16
    x0, y0, x1, y1 = ct.regions["square 1152"]
    values = set(np.unique(ct.pixels[y0:y1, x0:x1]).tolist())
    assert values == {1152, 1152 + 32, 1152 - 32, 1152 + 16, 1152 - 16}
    ad = tg18_ad()
    x0, y0, x1, y1 = ad.regions["target 1"]
    assert set(np.unique(ad.pixels[y0:y1, x0:x1]).tolist()) == {0, 16}
    x0, y0, x1, y1 = ad.regions["target 49"]
    assert set(np.unique(ad.pixels[y0:y1, x0:x1]).tolist()) == {0, 49 * 16}


def test_patterns_as_dicom_pass_dciodvfy(tmp_path):
    files = write_patterns(tmp_path / "tg18")
    names = [f.stem for f in files]
    assert names[0] == "TG18-QC" and names[1:19] == [f"TG18-LN12-{i:02d}" for i in range(1, 19)]
    assert {"TG18-CT", "TG18-UN10", "TG18-UN80", "TG18-AD"} <= set(names)
    qc = pydicom.dcmread(files[0])
    assert qc.SOPClassUID == SECONDARY_CAPTURE and qc.ConversionType == "SYN"
    assert qc.DerivationDescription == LABEL
    assert np.array_equal(qc.pixel_array, tg18_qc().pixels)
    ln = pydicom.dcmread(files[5])
    assert (float(ln.WindowCenter), float(ln.WindowWidth)) == (2040.0, 4080.0)
    assert len({pydicom.dcmread(f, stop_before_pixels=True).StudyInstanceUID for f in files}) == 1
    if shutil.which("dciodvfy") is None:
        pytest.skip("dciodvfy (dicom3tools) is not installed")
    for f in files:
        run = subprocess.run(["dciodvfy", str(f)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and "Error" not in run.stderr + run.stdout, run.stderr


def test_conformance_of_a_gsdf_display_and_a_gamma_display():
    gsdf = gsdf_luminances(0.8, 400.0, 256)[::15]  # what a perfect GSDF display measures on LN 1..18
    good = check_conformance(gsdf)
    assert good.passed and good.max_deviation < 0.005 and good.summary().startswith("PASS")
    gamma = 0.8 + 399.2 * (np.arange(18) / 17) ** 2.2
    bad = check_conformance(gamma, display_class="secondary")
    assert not bad.passed and bad.max_deviation > 0.2 and "FAIL" in bad.summary()
    # A 5 % jump in the middle of the curve: about 15 % off the GSDF over that step.
    lum = np.array(gsdf)
    lum[9:] *= 1.05
    result = check_conformance(lum)
    assert result.max_deviation > 0.10 and not result.passed
    assert check_conformance(lum, display_class="secondary").passed
    # Ambient added to readings that exclude it.
    assert check_conformance(np.array(gsdf) - 0.5, ambient=0.5).max_deviation < 0.005


@pytest.mark.parametrize("values, message", [
    ([1.0] * 17, "need the 18"),
    (list(range(1, 19))[::-1], "must rise"),
    ([0.0] + list(range(1, 18)), "positive"),
])
def test_conformance_refuses_bad_readings(values, message):
    with pytest.raises(ValueError, match=message):
        check_conformance(values)


def test_luminances_from_text_and_csv():
    assert read_luminances("0.5, 0.9; 1.4\t2.0 3") == [0.5, 0.9, 1.4, 2.0, 3.0]
    assert read_luminances("level,cd/m2\n1,0.5\n2,0.9\n\n3,1.4\n") == [0.5, 0.9, 1.4]
    with pytest.raises(ValueError, match="row 3"):
        read_luminances("1,0.5\n2,0.9\n3,bright\n")
    # Spreadsheets set up for a decimal comma separate fields with semicolons.
    assert read_luminances("Muster;Leuchtdichte\nLN-01;0,52\nLN-02;1,3\n") == [0.52, 1.3]
    assert read_luminances("0,52; 1,3; 2") == [0.52, 1.3, 2.0]
    assert read_luminances('"LN-01","0.52"\n"LN-02","1.3"\n') == [0.52, 1.3]


def test_qa_log_keeps_dated_entries(tmp_path):
    log = tmp_path / QA_LOG_NAME
    result = check_conformance(gsdf_luminances(0.8, 400.0, 256)[::15])
    when = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)
    append_qa_log(log, result, monitor="DP-1@2560x2048", when=when, note="Ärztin Müller")
    append_qa_log(log, check_conformance(0.8 + 399.2 * (np.arange(18) / 17) ** 2.2), monitor="DP-2@1920x1080")
    entries = read_qa_log(log)
    assert [e["monitor"] for e in entries] == ["DP-1@2560x2048", "DP-2@1920x1080"]
    assert entries[0]["date"] == "2026-12-06T09:30:00+00:00" and entries[0]["passed"] is True
    assert entries[0]["note"] == "Ärztin Müller" and len(entries[0]["luminances"]) == 18
    assert entries[1]["passed"] is False
