"""The grayscale and colour display pipeline on synthetic images with known values."""

from __future__ import annotations

import numpy as np
import pytest

from tests import factories
from workstation.imaging.pipeline import FramePipeline, Window, apply_display_lut, default_window


def _ct(**kw):
    return factories.ct_dataset(study_uid=factories.uid(), series_uid=factories.uid(), **kw)


def test_ct_units_and_rescale():
    ds = _ct()
    ds.RescaleIntercept = -1024
    pipeline = FramePipeline.from_dataset(ds)
    assert pipeline.units == "HU"
    assert not pipeline.is_color
    assert (pipeline.rows, pipeline.columns) == (16, 16)
    assert pipeline.modality_values(np.array([0, 1024])).tolist() == [-1024.0, 0.0]


def test_linear_window_matches_the_standard_formula():
    ds = _ct()
    pipeline = FramePipeline.from_dataset(ds)
    window = Window(40, 400)
    stored = np.arange(-300, 300, dtype=np.int16).reshape(20, 30)
    out = pipeline.to_display(stored, window)
    x = stored.astype(float)
    expected = np.clip(((x - 39.5) / 399 + 0.5) * 255, 0, 255)
    expected[x <= 39.5 - 199.5] = 0
    expected[x > 39.5 + 199.5] = 255
    assert np.array_equal(out, np.floor(expected).astype(np.uint8))


def test_display_lut_is_the_same_as_to_display_for_every_signed_value():
    pipeline = FramePipeline.from_dataset(_ct())
    lut, offset = pipeline.display_lut(Window(100, 1000))
    assert offset == -32768 and len(lut) == 65536 and lut.dtype == np.uint8
    stored = np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)
    assert np.array_equal(apply_display_lut(stored, lut, offset), lut[stored.astype(int) - offset])


def test_monochrome1_and_user_invert():
    ds = _ct()
    ds.PhotometricInterpretation = "MONOCHROME1"
    pipeline = FramePipeline.from_dataset(ds)
    stored = np.array([[-1000, 1000]], dtype=np.int16)
    assert pipeline.to_display(stored, Window(0, 100)).tolist() == [[255, 0]]
    assert pipeline.to_display(stored, Window(0, 100), invert=True).tolist() == [[0, 255]]


def test_default_window_is_the_first_window_else_min_max():
    ds = _ct()
    pipeline = FramePipeline.from_dataset(ds)
    stored = np.array([[10, 20], [30, 50]], dtype=np.int16)
    window = default_window(pipeline, stored)
    assert pipeline.to_display(stored, window).tolist() == [[0, 63], [127, 255]]
    ds.WindowCenter = [40, 300]
    ds.WindowWidth = [400, 1500]
    ds.WindowCenterWidthExplanation = ["SOFT", "BONE"]
    pipeline = FramePipeline.from_dataset(ds)
    assert [w.explanation for w in pipeline.windows] == ["SOFT", "BONE"]
    assert default_window(pipeline, stored) == Window(40, 400, "LINEAR", "SOFT")
    assert pipeline.resolve_window(voi_index=1).center == 300
    with pytest.raises(IndexError):
        pipeline.resolve_window(voi_index=2)
