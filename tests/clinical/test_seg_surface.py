"""Segments of a SEG as surfaces in 3D: each where its sphere is, in its colour."""

from __future__ import annotations

import numpy as np
import pytest

from tests.clinical.conftest import series_files
from tests.clinical.test_seg import _ct, _description, _seg, _sphere_masks
from workstation.clinical.files import read_series_files
from workstation.clinical.seg import SegmentationObject, segment_mask_volume
from workstation.demo.phantoms import CT_SPHERES


def test_segment_surfaces_sit_on_their_spheres(small_demo_dir, tmp_path):
    from workstation.volume3d.scene3d import VolumeScene
    from workstation.volume3d.seg_surface import add_segment_surfaces

    cts = _ct(small_demo_dir)
    cyst, nodule = _sphere_masks(cts, CT_SPHERES[2]), _sphere_masks(cts, CT_SPHERES[0])
    pixels = np.stack([cyst, nodule], axis=-1).astype(np.uint8)
    _seg(cts, pixels, "BINARY", [_description(1, "Liver cyst", [35585, 53662, 50860]),
                                 _description(2, "Nodule")]).save_as(tmp_path / "seg.dcm")  # fmt: skip
    seg = SegmentationObject(tmp_path / "seg.dcm")
    volume, _ = read_series_files(series_files(small_demo_dir, "ct-chest-2024", "soft"))
    mask = segment_mask_volume(seg, 1, volume)
    k = np.argsort([float(ds.ImagePositionPatient[2]) for ds in cts])  # the volume runs along +z
    assert mask is not None and np.array_equal(mask > 0, cyst[k])
    scene = VolumeScene(volume)
    actors = add_segment_surfaces(scene, seg)
    assert set(actors) == {1, 2}
    bounds = np.asarray(actors[1].GetBounds()).reshape(3, 2)
    centre, r = np.asarray(CT_SPHERES[2].centre_mm), CT_SPHERES[2].radius_mm
    voxel = np.asarray(volume.spacing)
    np.testing.assert_allclose(bounds.mean(axis=1), centre, atol=float(voxel.max()))
    assert ((bounds[:, 1] - bounds[:, 0]) <= 2 * r + 2 * voxel).all()
    assert actors[1].GetProperty().GetColor()[0] > 0.8  # red from its CIELab value
    seg.segments[2].visible = False
    assert set(add_segment_surfaces(scene, seg)) == {1}


def test_a_seg_on_another_grid_gives_no_mask(small_demo_dir, tmp_path):
    cts = _ct(small_demo_dir)
    _seg(cts, _sphere_masks(cts, CT_SPHERES[2])[..., None].astype(np.uint8), "BINARY",
         [_description(1, "Liver cyst")]).save_as(tmp_path / "seg.dcm")  # fmt: skip
    seg = SegmentationObject(tmp_path / "seg.dcm")
    pet, _ = read_series_files(series_files(small_demo_dir, "petct-2024", "pet-ac"))
    assert segment_mask_volume(seg, 1, pet) is None
    with pytest.raises(KeyError):
        seg.mask(9, "1.2.3")
