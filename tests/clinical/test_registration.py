"""Rigid prior registration recovers a known shift and rotation of the demo CT within 1 mm / 1 degree."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import SimpleITK as sitk

from tests.clinical.conftest import series_files
from workstation.clinical.files import read_series_files
from workstation.clinical.registration import RigidTransform, register_rigid, resample_like, to_sitk
from workstation.jobs import Cancelled, CancelToken

# The prior: the patient 3 degrees turned about the body axis, 2 about left-right, and moved.
TRUE_ANGLES_DEG = (2.0, 0.0, 3.0)
TRUE_SHIFT_MM = (7.0, -12.0, 9.0)


@pytest.fixture(scope="module")
def current(small_demo_dir):
    volume, _ = read_series_files(series_files(small_demo_dir, "ct-chest-2024", "soft"))
    return volume


def _truth(centre) -> sitk.Euler3DTransform:
    t = sitk.Euler3DTransform()
    t.SetCenter([float(v) for v in centre])
    t.SetRotation(*(math.radians(a) for a in TRUE_ANGLES_DEG))
    t.SetTranslation(TRUE_SHIFT_MM)
    return t


def _prior(current, truth) -> object:
    """The current CT as a prior taken with the patient placed by ``truth`` (current -> prior points)."""
    fixed = to_sitk(current)
    inverse = truth.GetInverse()
    moved = sitk.Resample(fixed, fixed, inverse, sitk.sitkLinear, -1024.0, sitk.sitkFloat32)
    return dataclasses.replace(current, array=sitk.GetArrayFromImage(moved), rescaled=True,
                               frame_of_reference_uid="2.25.1234",
                               rescale_slope=1.0, rescale_intercept=0.0)  # fmt: skip


def test_recovers_the_known_transform(current):
    truth = _truth(current.center())
    prior = _prior(current, truth)
    seen = []
    result = register_rigid(current, prior, progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1][0] == seen[-1][1]
    # Check over the body: the centre and points 80 mm out along each axis.
    centre = current.center()
    worst = 0.0
    for offset in [(0, 0, 0), (80, 0, 0), (0, 80, 0), (0, 0, 80), (-80, -80, -80)]:
        p = centre + np.asarray(offset, float)
        expected = np.asarray(truth.TransformPoint([float(v) for v in p]))
        worst = max(worst, float(np.linalg.norm(result.current_to_prior(p) - expected)))
    assert worst < 1.0, f"{worst:.2f} mm off"
    r_true = np.asarray(truth.GetMatrix()).reshape(3, 3)
    r_err = result.matrix[:3, :3] @ r_true.T
    angle_err = math.degrees(math.acos(np.clip((np.trace(r_err) - 1) / 2, -1, 1)))
    assert angle_err < 1.0
    assert result.rotation_degrees == pytest.approx(
        math.degrees(math.acos(np.clip((np.trace(r_true) - 1) / 2, -1, 1))), abs=1.0)
    assert result.prior_frame == "2.25.1234" and result.current_frame == current.frame_of_reference_uid
    np.testing.assert_allclose(result.prior_to_current(result.current_to_prior(centre)), centre, atol=1e-6)
    # The registered prior, resampled into the current geometry, lines up with the current CT.
    aligned = resample_like(prior, current, result.matrix)
    inner = (slice(4, -4), slice(8, -8), slice(8, -8))
    diff = np.abs(aligned[inner] - current.array[inner]).mean()
    before = np.abs(prior.array[inner] - current.array[inner]).mean()
    assert diff < before / 3


def test_cancel_stops_the_registration(current):
    prior = _prior(current, _truth(current.center()))
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        register_rigid(current, prior, cancel=token)


def test_identity_transform_maps_points_to_themselves():
    t = RigidTransform.identity("1.2", "1.3")
    np.testing.assert_allclose(t.current_to_prior((1, 2, 3)), (1, 2, 3))
    assert t.rotation_degrees == 0.0


def test_saved_as_dicom_spatial_registration(current, small_demo_dir, tmp_path):
    import shutil
    import subprocess

    import pydicom

    from workstation.clinical.spatial_registration import (
        spatial_registration_dataset,
        transform_from_spatial_registration,
    )

    cur_files = series_files(small_demo_dir, "ct-chest-2024", "soft")
    prior_files = series_files(small_demo_dir, "ct-chest-2023", "soft")
    cur_ds = pydicom.dcmread(cur_files[0], stop_before_pixels=True)
    prior_ds = pydicom.dcmread(prior_files[0], stop_before_pixels=True)
    truth = _truth(current.center())
    m = np.eye(4)
    m[:3, :3] = np.asarray(truth.GetMatrix()).reshape(3, 3)
    m[:3, 3] = np.asarray(truth.TransformPoint((0.0, 0.0, 0.0)))
    transform = RigidTransform(m, cur_ds.FrameOfReferenceUID, prior_ds.FrameOfReferenceUID)
    ds = spatial_registration_dataset(cur_ds, prior_ds, transform, current_images=[cur_ds], prior_images=[prior_ds])
    path = tmp_path / "reg.dcm"
    ds.save_as(path, enforce_file_format=True)
    back = transform_from_spatial_registration(pydicom.dcmread(path))
    np.testing.assert_allclose(back.matrix, m, atol=1e-6)
    assert back.prior_frame == prior_ds.FrameOfReferenceUID
    if shutil.which("dciodvfy"):
        report = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (report.stdout + report.stderr).splitlines() if line.startswith("Error")]
        assert not errors, "\n".join(errors)


def test_spatial_registration_keeps_a_non_latin_name(small_demo_dir, tmp_path):
    import pydicom

    from workstation.clinical.spatial_registration import spatial_registration_dataset

    current = pydicom.dcmread(series_files(small_demo_dir, "mr-brain-2024", "t2-ax")[0], stop_before_pixels=True)
    prior = pydicom.dcmread(series_files(small_demo_dir, "mr-brain-2023", "t2-ax")[0], stop_before_pixels=True)
    assert current.SpecificCharacterSet == "ISO_IR 192"
    ds = spatial_registration_dataset(current, prior, RigidTransform.identity())
    ds.save_as(tmp_path / "reg.dcm", enforce_file_format=True)
    back = pydicom.dcmread(tmp_path / "reg.dcm")
    assert str(back.PatientName) == "Müller^Anna" and back.SpecificCharacterSet == "ISO_IR 192"
