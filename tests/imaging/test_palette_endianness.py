"""A big endian segmented palette colour image renders exactly as its little endian twin (and as pydicom)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_color_lut

from workstation.imaging.render import render_file


def _file(name: str) -> str:
    path = get_testdata_file(name)
    if path is None:
        pytest.skip("pydicom-data is not installed")
    return path


def test_big_endian_segmented_palette_renders_as_its_little_endian_twin():
    little, big = _file("gdcm-US-ALOKA-16.dcm"), _file("gdcm-US-ALOKA-16_big.dcm")
    a, b = render_file(little, 0).pixels, render_file(big, 0).pixels
    assert a.shape == b.shape and a.ndim == 3
    assert np.array_equal(a, b)
    # ... and both are pydicom's palette, 16-bit entries cut to their 8 high bits
    ds = pydicom.dcmread(little)
    expected = (apply_color_lut(ds.pixel_array, ds) >> 8).astype(np.uint8)
    assert np.array_equal(a, expected)
    assert len(np.unique(a.reshape(-1, 3), axis=0)) > 50  # colours, not a grey fallback
