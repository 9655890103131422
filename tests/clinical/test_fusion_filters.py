"""PET/CT fusion on the demo (different grids), colour LUTs, the rotating MIP, and non-destructive filters."""

from __future__ import annotations

import numpy as np
import pytest

from tests.clinical.conftest import series_files
from workstation.clinical.files import read_series_files
from workstation.clinical.filters import FilterSpec, apply_filter, presentation_note
from workstation.clinical.fusion import (
    LUT_NAMES,
    colour_lut,
    fuse,
    pet_on_ct_plane,
    rotating_mip,
    window_to_8bit,
)
from workstation.demo.pet_phantom import PET_LESIONS


@pytest.fixture(scope="module")
def petct(small_demo_dir):
    ct, _ = read_series_files(series_files(small_demo_dir, "petct-2024", "ct"))
    pet, _ = read_series_files(series_files(small_demo_dir, "petct-2024", "pet-ac"))
    return ct, pet


def test_pet_and_ct_grids_differ(petct):
    ct, pet = petct
    assert ct.shape != pet.shape
    assert not np.allclose(ct.spacing, pet.spacing)
    assert ct.frame_of_reference_uid == pet.frame_of_reference_uid


def test_pet_lands_on_the_ct_plane_at_each_lesion(petct):
    ct, pet = petct
    for lesion in PET_LESIONS:
        k = int(round(ct.patient_to_index(lesion.centre_mm)[2]))
        on_ct = pet_on_ct_plane(pet, ct, k)
        assert on_ct.shape == ct.shape[1:]
        i, j = np.round(ct.patient_to_index(lesion.centre_mm)[:2]).astype(int)
        # The uptake lands on the lesion: the hottest CT pixel of the plane's neighbourhood lies within one
        # PET voxel (10 mm here) of the lesion's centre, and holds most of its activity (trilinear blur).
        near = on_ct[j - 4 : j + 5, i - 4 : i + 5]
        jj, ii = np.unravel_index(near.argmax(), near.shape)
        assert np.hypot((jj - 4) * ct.spacing[1], (ii - 4) * ct.spacing[0]) <= pet.spacing[0]
        assert near.max() > 0.6 * lesion.activity_bqml
        assert np.median(on_ct) < 0.1 * lesion.activity_bqml
        # The CT shows the lesion there too (soft tissue, 40 HU).
        assert abs(float(ct.array[k, j, i]) - 40) < 60


def test_fused_image_colours_uptake_and_keeps_ct_elsewhere():
    ct = np.full((4, 4), 100, np.uint8)
    pet = np.zeros((4, 4), np.uint8)
    pet[1, 1] = 255
    rgb = fuse(ct, pet, "hot iron", opacity=0.5)
    assert tuple(rgb[0, 0]) == (100, 100, 100)
    assert tuple(rgb[1, 1]) == tuple(np.rint((np.array([100] * 3) + colour_lut("hot iron")[255]) / 2).astype(int))
    assert tuple(fuse(ct, pet, "grey inverted", opacity=1.0)[1, 1]) == (0, 0, 0)
    with pytest.raises(ValueError):
        fuse(ct, pet, opacity=1.5)


def test_colour_luts():
    for name in LUT_NAMES:
        lut = colour_lut(name)
        assert lut.shape == (256, 3) and lut.dtype == np.uint8
    assert tuple(colour_lut("hot iron")[0]) == (0, 0, 0) and tuple(colour_lut("hot iron")[255]) == (255, 255, 255)
    assert tuple(colour_lut("rainbow")[255]) == (255, 0, 0)
    assert tuple(colour_lut("grey inverted")[0]) == (255, 255, 255)
    with pytest.raises(ValueError, match="unknown colour LUT"):
        colour_lut("plasma")
    assert window_to_8bit(np.array([0.0, 5.0, 10.0]), 0, 10).tolist() == [0, 128, 255]


def test_rotating_mip_shows_the_hottest_lesion_from_every_side(petct):
    _, pet = petct
    hottest = max(les.activity_bqml for les in PET_LESIONS)
    for angle in (0.0, 90.0, 180.0):
        mip = rotating_mip(pet, angle)
        assert mip.max() == pytest.approx(hottest, rel=0.02)
    front, back = rotating_mip(pet, 0.0), rotating_mip(pet, 180.0)
    # Seen from behind, the picture is the mirror image.
    assert np.unravel_index(front.argmax(), front.shape)[0] == np.unravel_index(back.argmax(), back.shape)[0]


@pytest.mark.parametrize("kind", ["smooth", "sharpen", "edge", "denoise"])
def test_filters_leave_the_original_alone(kind):
    rng = np.random.default_rng(1)
    image = np.zeros((64, 64), np.float32)
    image[:, 32:] = 100.0
    noisy = image + rng.normal(0, 10, image.shape).astype(np.float32)
    before = noisy.copy()
    out = apply_filter(noisy, (1.0, 1.0), FilterSpec(kind, 1.0))
    assert np.array_equal(noisy, before) and out.shape == noisy.shape and out.dtype == np.float32
    flat = (slice(4, 60), slice(4, 24))
    edge_step = lambda a: float(a[:, 33].mean() - a[:, 30].mean())  # noqa: E731
    if kind in ("smooth", "denoise"):
        assert out[flat].std() < 0.6 * noisy[flat].std()
    else:
        assert edge_step(out) > edge_step(noisy) * 1.1


def test_filter_spec_checks_and_presentation_note():
    with pytest.raises(ValueError, match="unknown filter"):
        FilterSpec("median")
    with pytest.raises(ValueError, match="positive"):
        FilterSpec("smooth", 0)
    assert presentation_note(FilterSpec()) == ""
    assert "do not store" in presentation_note(FilterSpec("sharpen"))
    assert np.array_equal(apply_filter(np.ones((3, 3)), spec=FilterSpec()), np.ones((3, 3)))
