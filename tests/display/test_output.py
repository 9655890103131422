"""The last stage of the display pipeline: a ramp through a known characteristic lands on the GSDF (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset

from workstation.display.characteristic import from_range
from workstation.display.function import gsdf_table
from workstation.display.gsdf import jnd_index
from workstation.display.output import ScreenOutput
from workstation.display.settings import DisplaySettings, MonitorCalibration, screen_output
from workstation.imaging.frame_display import FrameDisplay
from workstation.imaging.pipeline import FramePipeline, Window


def _ramp_dataset(rows: int = 4) -> Dataset:
    ds = Dataset()
    ds.Rows, ds.Columns = rows, 256
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.Modality = "OT"
    return ds


def _ramp(rows: int = 4) -> np.ndarray:
    # Stored values 8, 24, ..., 4088: with the window below, P-values from 0 to 255.
    return np.tile(np.minimum(np.arange(256, dtype=np.uint16) * 16 + 8, 4095), (rows, 1))


WINDOW = Window(center=2048.0, width=4080.0, function="LINEAR_EXACT")
# A monitor measured as 0.8 to 420 cd/m² with gamma 2.2, 1 cd/m² of ambient light.
CHARACTERISTIC = from_range(0.8, 420.0, 256, 2.2)
AMBIENT = 1.0


@pytest.mark.parametrize("bits", [8, 10])
def test_ramp_through_the_pipeline_follows_the_gsdf(bits):
    pipeline = FramePipeline.from_dataset(_ramp_dataset())
    p_values = pipeline.to_display(_ramp(), WINDOW)[0]
    assert p_values[0] == 0 and p_values[-1] == 255 and np.all(np.diff(p_values.astype(int)) >= 0)
    table = gsdf_table(CHARACTERISTIC, ambient=AMBIENT, levels=1 << bits)
    display = FrameDisplay()
    display.set_output(ScreenOutput.from_table(table.ddl_exact, bits, ddl=table.ddl))
    pixels = display.render(pipeline, _ramp(), WINDOW).pixels
    assert pixels.dtype == np.uint32 and pixels.shape == (4, 256)
    ddl = display.output.unpack_grey(pixels[0])
    # The luminance each P-value reaches on this monitor, against the GSDF formula's.
    reached = CHARACTERISTIC.resampled(1 << bits)[ddl] + AMBIENT
    j0, j1 = jnd_index(0.8 + AMBIENT), jnd_index(420.0 + AMBIENT)
    expected_jnd = j0 + p_values * (j1 - j0) / 255.0
    error = np.abs(jnd_index(reached) - expected_jnd)
    # A DDL step is at most ~5.5 JND on this 8-bit monitor (dark end) and under 1.5 JND at 10 bits.
    steps = np.diff(jnd_index(CHARACTERISTIC.resampled(1 << bits) + AMBIENT))
    assert error.max() <= steps.max() / 2 + 0.15
    assert np.all(np.diff(ddl.astype(int)) >= 0)
    if bits == 10:
        assert len(np.unique(ddl)) == len(np.unique(p_values))  # every P-value keeps a luminance of its own
        assert np.all(pixels >> 30 == 3)  # Format_RGB30's opaque top bits
    else:
        assert len(np.unique(ddl)) < 256  # 8 bits through a gamma-2.2 curve lose levels (why 10 bits help)


def test_identity_output_is_the_old_8_bit_path():
    pipeline = FramePipeline.from_dataset(_ramp_dataset())
    display = FrameDisplay()
    assert display.output.is_identity
    pixels = display.render(pipeline, _ramp(), WINDOW).pixels
    assert np.array_equal(pixels[0] & 0xFF, pipeline.to_display(_ramp(), WINDOW)[0])
    assert np.all(pixels >> 24 == 0xFF)


def test_dither_mean_follows_the_exact_ddl():
    exact = np.linspace(0, 200.5, 256)
    out = ScreenOutput.from_table(exact, 8, dither=True)
    p = np.full((64, 64), 77, dtype=np.uint8)
    ddl = out.unpack_grey(out.grey(p)).astype(float)
    assert set(np.unique(ddl)) <= {np.floor(exact[77]), np.floor(exact[77]) + 1}
    assert ddl.mean() == pytest.approx(exact[77], abs=1 / 16)
    # Through FrameDisplay too (the P-value table path).
    display = FrameDisplay()
    display.set_output(out)
    pipeline = FramePipeline.from_dataset(_ramp_dataset(8))
    frame = display.render(pipeline, _ramp(8), WINDOW).pixels
    p100 = pipeline.to_display(_ramp(8), WINDOW)[0, 100]
    # One column meets two of the four thresholds of each dither row.
    assert abs(out.unpack_grey(frame[:, 100]).astype(float).mean() - exact[p100]) <= 0.25


def test_colour_is_packed_for_10_bits():
    out = ScreenOutput.identity(10)
    px = out.rgb(np.array([[[255, 0, 128]]], dtype=np.uint8))[0, 0]
    assert (px >> 20) & 1023 == 1023 and (px >> 10) & 1023 == 0 and px & 1023 == (128 << 2) | 2


def test_settings_round_trip_and_outputs(tmp_path):
    lut = tmp_path / "m.lut"
    lut.write_text("max 255\namb 0.7\n" + "".join(f"{d} {0.5 + 300 * (d / 255) ** 2.2}\n" for d in range(256)))
    settings = DisplaySettings.from_extra({})
    assert settings.for_monitor("DP-1@2560x2048").mode == "none"
    settings = settings.with_monitor("DP-1@2560x2048", MonitorCalibration(mode="gsdf", characteristic_file=str(lut)))
    settings = settings.with_monitor("HDMI-1@1920x1080", MonitorCalibration(mode="calibrated"))
    extra = settings.to_extra({"other": 1})
    again = DisplaySettings.from_extra(extra)
    assert again == settings and extra["other"] == 1
    out, problem = screen_output(again.for_monitor("DP-1@2560x2048"), 10)
    assert problem == "" and out.bits == 10 and out.description == "GSDF, 10-bit"
    assert not np.array_equal(out.ddl_exact, ScreenOutput.identity(10).ddl_exact)
    out, _ = screen_output(again.for_monitor("HDMI-1@1920x1080"), 8)
    assert out.is_identity and out.description.startswith("calibrated in the display")
    assert again.wanted_bits(10) == 10 and again.wanted_bits(8) == 8


def test_bad_settings_fall_back_with_a_reason(tmp_path):
    out, problem = screen_output(MonitorCalibration(mode="gsdf", characteristic_file=str(tmp_path / "gone.lut")))
    assert out.is_identity and "GSDF not applied" in problem and "cannot read" in problem
    out, problem = screen_output(MonitorCalibration(mode="gsdf"))
    assert "Lmin and Lmax" in problem
    with pytest.raises(ValueError, match="unknown display mode"):
        MonitorCalibration.from_dict({"mode": "sRGB"})
    with pytest.raises(ValueError, match="ambient must be a number"):
        MonitorCalibration.from_dict({"mode": "gsdf", "ambient": "bright"})
    with pytest.raises(ValueError, match="surface_bits"):
        DisplaySettings.from_extra({"display": {"surface_bits": 12}})
