"""Reading a cached series into a volume: order, geometry and voxels equal SimpleITK's."""

from __future__ import annotations

import numpy as np
import pytest
import SimpleITK as sitk

from tests.factories import ct_dataset, uid
from workstation.model.series_volume import load_series_volume, series_stacks
from workstation.model.volume import VolumeError
from workstation.store.importer import import_paths


def _write(folder, n, *, orientation=(1, 0, 0, 0, 1, 0), intercept=-1024, signed=True, shuffle=True):
    folder.mkdir(parents=True)
    study, series = uid(), uid()
    rng = np.random.default_rng(3)
    numbers = rng.permutation(n) if shuffle else np.arange(n)
    row, col = np.array(orientation[:3], float), np.array(orientation[3:], float)
    normal = np.cross(row, col)
    for i in range(n):
        ds = ct_dataset(study_uid=study, series_uid=series, index=i, size=24)
        ds.ImageOrientationPatient = list(orientation)
        ds.ImagePositionPatient = list(np.array([-10.0, 20.0, 5.0]) + normal * (i * 2.5))
        ds.InstanceNumber = int(numbers[i]) + 1  # deliberately not the spatial order
        ds.RescaleIntercept = intercept
        ds.PixelRepresentation = int(signed)
        pixels = (rng.integers(0, 3000, size=(24, 24)) + i).astype("<i2" if signed else "<u2")
        ds.PixelData = pixels.tobytes()
        ds.save_as(folder / f"f{i:03d}.dcm", enforce_file_format=True)
    return series


@pytest.mark.parametrize(
    "orientation,signed",
    [((1, 0, 0, 0, 1, 0), True), ((1, 0, 0, 0, 0, -1), False), ((0.8660254, 0.5, 0, 0, 0, -1), True)],
    ids=["axial-signed", "coronal-unsigned", "oblique"],
)
def test_volume_equals_simpleitk(cache, tmp_path, orientation, signed):
    series = _write(tmp_path / "s", 12, orientation=orientation, signed=signed)
    import_paths(cache, [tmp_path / "s"])
    vol = load_series_volume(cache, series)
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(tmp_path / "s"), series))
    reader.SetOutputPixelType(sitk.sitkInt16)
    img = reader.Execute()
    assert vol.rescaled and vol.array.dtype == np.int16
    np.testing.assert_array_equal(vol.array, sitk.GetArrayViewFromImage(img))
    np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=1e-4)
    np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=1e-4)
    np.testing.assert_allclose(vol.direction.ravel(), img.GetDirection(), atol=1e-4)


def test_mixed_orientations_become_separate_stacks(cache, tmp_path):
    series = _write(tmp_path / "s", 4)
    extra = ct_dataset(study_uid=uid(), series_uid=series, index=9, size=24)
    extra.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    extra.save_as(tmp_path / "s" / "sag.dcm", enforce_file_format=True)
    import_paths(cache, [tmp_path / "s"])
    found = series_stacks(cache, series)
    assert [(s.orientation_name, s.shape[0]) for s in found.stacks] == [("axial", 4), ("sagittal", 1)]
    assert load_series_volume(cache, series).shape == (4, 24, 24)
    with pytest.raises(VolumeError, match="no stack 3"):
        load_series_volume(cache, series, stack=2)


def test_a_series_without_a_stack_says_why(cache, tmp_path):
    series = _write(tmp_path / "s", 1)
    import_paths(cache, [tmp_path / "s"])
    with pytest.raises(VolumeError, match="no stack of two or more parallel slices"):
        load_series_volume(cache, series)
    with pytest.raises(VolumeError, match="no series 1.2.3 in the cache"):
        load_series_volume(cache, "1.2.3")
