"""SUV of the demo PET: each lesion's SUVmax equals its known value (body weight, LBM, BSA)."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from pydicom.dataset import Dataset

from workstation.clinical.files import read_series_files
from workstation.clinical.suv import (
    PEAK_RADIUS_MM,
    SUVUnavailable,
    sphere_mask,
    suv_factor,
    suv_statistics,
    suv_volume,
)
from workstation.demo.pet_phantom import PET_ACQUISITION, PET_LESIONS

ACQ = PET_ACQUISITION


def _expected_size(method: str) -> float:
    """Body size written out independently of the module: g for bw/lbm, cm² for bsa."""
    w, h = ACQ.weight_kg, ACQ.height_m
    if method == "bw":
        return w * 1000.0
    if method == "lbm":  # Janmahasatian 2005, male
        return 9270.0 * w / (6680.0 + 216.0 * w / h**2) * 1000.0
    if method == "lbm-james":  # James 1976, male
        return (1.10 * w - 128.0 * (w / (h * 100.0)) ** 2) * 1000.0
    return 0.007184 * w**0.425 * (h * 100.0) ** 0.725 * 1e4  # Du Bois, cm²


def _lesion_mask(volume, lesion) -> np.ndarray:
    centre = volume.patient_to_index(lesion.centre_mm)[::-1]  # (z, y, x)
    spacing = volume.spacing[::-1]
    return sphere_mask(volume.shape, centre, lesion.radius_mm, spacing)


@pytest.fixture(scope="module")
def pet(pet_files):
    return read_series_files(pet_files)


def test_decayed_dose_follows_the_half_life():
    # 60 min of F-18: 370 MBq decays to 370 * 2^(-3600/6586.2) = 253.4 MBq.
    assert ACQ.decayed_dose_bq == pytest.approx(370e6 * 2 ** (-3600 / 6586.2))
    assert 253.0e6 < ACQ.decayed_dose_bq < 254.0e6


@pytest.mark.parametrize("method", ["bw", "lbm", "lbm-james", "bsa"])
def test_suvmax_of_every_lesion_within_one_percent(pet, method):
    volume, headers = pet
    suv, factor = suv_volume(volume, headers, method)
    assert factor.decayed_dose_bq == pytest.approx(ACQ.decayed_dose_bq, rel=1e-6)
    for lesion in PET_LESIONS:
        known = lesion.activity_bqml * _expected_size(method) / ACQ.decayed_dose_bq
        stats = suv_statistics(suv.array, suv.spacing[::-1], _lesion_mask(suv, lesion))
        assert stats.maximum == pytest.approx(known, rel=0.01), lesion.label
        assert stats.mean <= stats.maximum and stats.peak <= stats.maximum + 1e-6


def test_body_weight_suv_of_the_lesions_is_as_planned(pet):
    volume, headers = pet
    suv, _ = suv_volume(volume, headers, "bw")
    for lesion in PET_LESIONS:
        stats = suv_statistics(suv.array, suv.spacing[::-1], _lesion_mask(suv, lesion))
        assert stats.maximum == pytest.approx(lesion.suv_bw(), rel=1e-3)
    # The liver metastasis (30000 Bq/ml at 80 kg, 253 MBq): SUVbw 13.3.
    assert PET_LESIONS[2].suv_bw() == pytest.approx(42000 * 80000 / ACQ.decayed_dose_bq)


def test_peak_is_the_mean_of_a_one_millilitre_sphere():
    assert 4 / 3 * math.pi * PEAK_RADIUS_MM**3 == pytest.approx(1000.0)
    vol = np.zeros((40, 40, 40), np.float32)
    vol[10:30, 10:30, 10:30] = 5.0  # a 20 mm cube of 1 mm voxels: the sphere fits inside
    vol[20, 20, 20] = 50.0  # one hot voxel
    stats = suv_statistics(vol, (1.0, 1.0, 1.0))
    assert stats.maximum == 50.0 and stats.max_index == (20, 20, 20)
    n = int((sphere_mask((13, 13, 13), (6, 6, 6), PEAK_RADIUS_MM, (1, 1, 1))).sum())
    assert stats.peak == pytest.approx((5.0 * (n - 1) + 50.0) / n)


def test_refusal_names_the_missing_weight(pet_headers):
    headers = [copy.deepcopy(ds) for ds in pet_headers]
    for ds in headers:
        del ds.PatientWeight
    with pytest.raises(SUVUnavailable) as err:
        suv_factor(headers, "bw")
    assert "Patient's Weight (0010,1030)" in str(err.value)
    assert err.value.attribute == "Patient's Weight (0010,1030)"


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda ds: delattr(ds, "PatientSize"), "Patient's Size (0010,1020)"),
        (lambda ds: setattr(ds, "Units", "CNTS"), "Units (0054,1001)"),
        (lambda ds: delattr(ds, "DecayCorrection"), "Decay Correction (0054,1102)"),
        (lambda ds: delattr(ds.RadiopharmaceuticalInformationSequence[0], "RadionuclideTotalDose"),
         "Radionuclide Total Dose (0018,1074)"),
        (lambda ds: delattr(ds.RadiopharmaceuticalInformationSequence[0], "RadionuclideHalfLife"),
         "Radionuclide Half Life (0018,1075)"),
        (lambda ds: delattr(ds, "RadiopharmaceuticalInformationSequence"),
         "Radiopharmaceutical Information Sequence (0054,0016)"),
    ],
)  # fmt: skip
def test_refusal_names_each_missing_attribute(pet_headers, edit, named):
    ds = copy.deepcopy(pet_headers[0])
    edit(ds)
    with pytest.raises(SUVUnavailable, match=named.replace("(", r"\(").replace(")", r"\)")):
        suv_factor([ds], "lbm")


def test_start_time_without_date_and_admin_decay(pet_headers):
    ds = copy.deepcopy(pet_headers[0])
    rp = ds.RadiopharmaceuticalInformationSequence[0]
    del rp.RadiopharmaceuticalStartDateTime
    assert suv_factor([ds]).decayed_dose_bq == pytest.approx(ACQ.decayed_dose_bq, rel=1e-6)
    ds.DecayCorrection = "ADMIN"
    assert suv_factor([ds]).decayed_dose_bq == pytest.approx(ACQ.injected_dose_bq)


def test_series_time_after_acquisition_uses_ge_scan_time_then_earliest_acquisition(pet_headers):
    ds = copy.deepcopy(pet_headers[0])
    real_start = str(ds.SeriesTime)
    ds.SeriesTime = "235900"  # the series was re-created after the scan
    ds.AcquisitionTime = "235800"
    later = copy.deepcopy(ds)
    later.AcquisitionTime = "235830"
    # No GE scan time: the earliest acquisition is the start.
    injected = ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartTime
    elapsed = (23 * 3600 + 58 * 60) - (int(injected[:2]) * 3600 + int(injected[2:4]) * 60 + int(injected[4:6]))
    expected = ACQ.injected_dose_bq * 2 ** (-elapsed / ACQ.half_life_s)
    assert suv_factor([later, ds]).decayed_dose_bq == pytest.approx(expected, rel=1e-6)
    # GE's private scan date/time wins.
    for item in (ds, later):
        item.add_new(0x00090010, "LO", "GEMS_PETD_01")
        item.add_new(0x0009100D, "DT", str(item.SeriesDate) + real_start)
    assert suv_factor([ds, later]).decayed_dose_bq == pytest.approx(ACQ.decayed_dose_bq, rel=1e-6)


def test_philips_suv_scale_factor_and_activity_scale():
    ds = Dataset()
    ds.Modality, ds.Units = "PT", "CNTS"
    ds.add_new(0x70530010, "LO", "Philips PET Private Group")
    ds.add_new(0x70531000, "DS", "0.000123")
    assert suv_factor([ds], "bw").factor == pytest.approx(0.000123)
    assert suv_factor([ds], "bw").source == "Philips SUV scale factor"
    with pytest.raises(SUVUnavailable, match="Decay Correction"):
        ds.add_new(0x70531009, "DS", "2.5")
        suv_factor([ds], "bsa")
