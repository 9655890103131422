"""Measurements on phantoms with known geometry and values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests import factories
from workstation.imaging.measurements import (
    UNCALIBRATED,
    angle,
    calibration_for,
    cobb_angle,
    ellipse_statistics,
    freehand_statistics,
    length,
    polygon_mask,
    polyline_length,
    rectangle_statistics,
    value_at,
)
from workstation.imaging.pipeline import FramePipeline


def _ct(**kw):
    return factories.ct_dataset(study_uid=factories.uid(), series_uid=factories.uid(), **kw)


def _projection(pixel=None, imager=None, calibration_type=None):
    ds = Dataset()
    ds.Modality = "DX"
    ds.Rows = ds.Columns = 100
    if pixel:
        ds.PixelSpacing = pixel
    if imager:
        ds.ImagerPixelSpacing = imager
    if calibration_type:
        ds.PixelSpacingCalibrationType = calibration_type
    return ds


def test_length_between_points_10_mm_apart():
    cal = calibration_for(_ct(size=64))  # Pixel Spacing 0.5 mm
    assert cal.calibrated and cal.note == "" and cal.source == "Pixel Spacing"
    m = length((10.5, 10.5), (30.5, 10.5), cal)
    assert m.value == pytest.approx(10.0) and m.text == "10.0 mm"
    diagonal = length((0, 0), (12, 16), cal)
    assert diagonal.value == pytest.approx(10.0)


def test_non_square_pixels():
    ds = _ct(size=64)
    ds.PixelSpacing = [2.0, 0.5]  # rows 2 mm apart, columns 0.5 mm apart
    cal = calibration_for(ds)
    assert length((0, 0), (20, 0), cal).value == pytest.approx(10.0)
    assert length((0, 0), (0, 5), cal).value == pytest.approx(10.0)
    # 45 degrees on screen is not 45 degrees in the patient.
    assert angle((10, 0), (0, 0), (10, 10), cal).value == pytest.approx(math.degrees(math.atan(4)))


def test_imager_pixel_spacing_is_measured_at_detector():
    cal = calibration_for(_projection(imager=[0.2, 0.2]))
    assert cal.source == "Imager Pixel Spacing" and cal.note == "measured at detector"
    assert length((0, 0), (50, 0), cal).text == "10.0 mm (measured at detector)"
    same = calibration_for(_projection(pixel=[0.2, 0.2], imager=[0.2, 0.2]))
    assert same.note == "measured at detector"
    calibrated = calibration_for(_projection(pixel=[0.18, 0.18], imager=[0.2, 0.2], calibration_type="GEOMETRY"))
    assert calibrated.row_spacing == 0.18 and calibrated.note == "calibrated (GEOMETRY)"


def test_uncalibrated_images_measure_in_pixels():
    ds = Dataset()
    ds.Rows = ds.Columns = 10
    cal = calibration_for(ds)
    assert cal is UNCALIBRATED
    m = length((0, 0), (3, 4), cal)
    assert (m.value, m.unit, m.text) == (5.0, "px", "5.0 px (uncalibrated (px))")


def _us_region(x0, y0, x1, y1, delta_cm, units=3):
    item = Dataset()
    item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
    item.PhysicalUnitsXDirection = units
    item.PhysicalUnitsYDirection = units
    item.PhysicalDeltaX = delta_cm
    item.PhysicalDeltaY = delta_cm
    return item


def test_ultrasound_region_calibration():
    ds = Dataset()
    ds.Modality = "US"
    ds.Rows, ds.Columns = 480, 640
    # A B-mode region at 0.01 cm per pixel and a Doppler strip in cm/s (no length calibration).
    ds.SequenceOfUltrasoundRegions = [_us_region(0, 0, 399, 299, 0.01), _us_region(0, 300, 639, 479, 0.5, units=7)]
    cal = calibration_for(ds, points=[(10, 10), (110, 10)])
    assert cal.source == "Ultrasound Region"
    assert length((10, 10), (110, 10), cal).value == pytest.approx(10.0)
    # Outside the calibrated region, or across regions: uncalibrated.
    assert calibration_for(ds, points=[(10, 350), (100, 350)]) is UNCALIBRATED
    assert calibration_for(ds, points=[(10, 10), (10, 350)]) is UNCALIBRATED


def test_angles_and_cobb():
    assert angle((10, 0), (0, 0), (0, 10)).value == pytest.approx(90.0)
    assert angle((10, 0), (0, 0), (-10, 0.0)).value == pytest.approx(180.0)
    endplate1 = ((0, 0), (10, 0))
    endplate2 = ((0, 50), (10, 50 + 10 * math.tan(math.radians(35))))
    assert cobb_angle(endplate1, endplate2).value == pytest.approx(35.0)
    # The direction each line was drawn in does not matter.
    reversed2 = (endplate2[1], endplate2[0])
    assert cobb_angle(endplate1, reversed2).value == pytest.approx(35.0)
    assert polyline_length([(0, 0), (3, 4), (3, 10)]).value == pytest.approx(11.0)


def _phantom():
    """A CT with a 20 x 10 px block of 100 HU (stored 1124, intercept -1024) on -1000 HU."""
    ds = _ct(size=64)
    ds.RescaleIntercept = -1024
    stored = np.full((64, 64), 24, dtype=np.int16)
    stored[20:30, 10:30] = 1124
    return ds, stored


def test_rectangle_roi_statistics_in_hu():
    ds, stored = _phantom()
    pipeline = FramePipeline.from_dataset(ds)
    values = pipeline.modality_values(stored)
    stats = rectangle_statistics(values, (10, 20), (30, 30), calibration_for(ds), pipeline.units)
    assert stats.pixel_count == 200
    assert (stats.mean, stats.sd, stats.minimum, stats.maximum) == (100.0, 0.0, 100.0, 100.0)
    assert stats.area == pytest.approx(20 * 10 * 0.25) and stats.area_unit == "mm²"
    assert stats.units == "HU" and stats.lines()[0].startswith("mean 100 HU")
    half = rectangle_statistics(values, (20, 20), (40, 30), calibration_for(ds), "HU")
    assert half.pixel_count == 200 and half.mean == pytest.approx(-450.0)
    assert half.sd == pytest.approx(550.0) and (half.minimum, half.maximum) == (-1000.0, 100.0)


def test_ellipse_and_freehand_roi():
    values = np.zeros((100, 100))
    yy, xx = np.mgrid[0:100, 0:100] + 0.5
    values[(xx - 50) ** 2 + (yy - 50) ** 2 <= 20**2] = 1.0
    circle = ellipse_statistics(values, (30, 30), (70, 70), UNCALIBRATED)
    assert circle.area == pytest.approx(math.pi * 400)
    assert circle.mean == 1.0 and abs(circle.pixel_count - math.pi * 400) < 40
    triangle = freehand_statistics(values, [(0, 0), (10, 0), (0, 10)], UNCALIBRATED)
    assert triangle.area == pytest.approx(50.0)
    assert 40 <= triangle.pixel_count <= 60 and triangle.mean == 0.0
    assert polygon_mask((5, 5), [(0, 0), (5, 0)]).sum() == 0
    empty = rectangle_statistics(values, (10.6, 10.6), (10.9, 10.9))
    assert empty.pixel_count == 0 and math.isnan(empty.mean) and empty.lines()[1] == "no pixels inside"


def test_value_at_a_point():
    ds, stored = _phantom()
    values = FramePipeline.from_dataset(ds).modality_values(stored)
    assert value_at(values, 15.2, 25.9) == 100.0
    assert value_at(values, 0.1, 0.1) == -1000.0
    assert value_at(values, -0.1, 5) is None and value_at(values, 64.0, 5) is None
