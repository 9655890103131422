"""Reslicing: the known sphere lands where it is in patient space on straight, oblique and tilted grids; slabs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.volume3d.conftest import SPHERE_CENTER, SPHERE_RADIUS, phantom
from workstation.volume3d.measure import Measurement, angle_degrees, roi_stats
from workstation.volume3d.planes import MprGeometry, rotation
from workstation.volume3d.reslice import Reslicer, window_to_uint8


def _disc(image, threshold=0):
    """Centre (u, v) mm and diameter along u of the bright disc of a slice image."""
    rows, cols = np.nonzero(image.array > threshold)
    u = image.origin_uv[0] + cols * image.spacing
    v = image.origin_uv[1] + (image.array.shape[0] - 1 - rows) * image.spacing
    width = (u.max() - u.min()) + image.spacing
    return np.array([u.mean(), v.mean()]), width


@pytest.mark.parametrize("acquired", ["axial", "coronal", "oblique"])
@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
def test_sphere_is_where_it_is_in_every_view(acquired, view):
    direction = {
        "axial": np.eye(3),
        "coronal": np.column_stack([[1, 0, 0], [0, 0, -1], [0, 1, 0]]),
        "oblique": rotation([0.3, 1, 0.2], 35),
    }[acquired]
    vol = phantom(direction)
    g = MprGeometry(SPHERE_CENTER, reference=SPHERE_CENTER)
    r = Reslicer(vol)
    r.configure(g.plane(view), g.reference, interpolation="linear")
    centre, width = _disc(r.update())
    assert np.abs(centre).max() < 0.6  # the sphere's centre is the frame's (0, 0)
    assert width == pytest.approx(2 * SPHERE_RADIUS, abs=1.5)


def test_oblique_plane_through_the_sphere_keeps_its_diameter(sphere_volume):
    g = MprGeometry(SPHERE_CENTER + [0, 0, 6.0], reference=SPHERE_CENTER)
    g.rotate("coronal", 40)
    g.rotate("sagittal", 25)
    r = Reslicer(sphere_volume)
    plane = g.plane("axial")
    r.configure(plane, g.reference, interpolation="cubic")
    _, width = _disc(r.update())
    d = abs((SPHERE_CENTER - plane.center) @ plane.normal)
    assert width == pytest.approx(2 * np.sqrt(SPHERE_RADIUS**2 - d**2), abs=1.5)


def test_slab_modes_project_what_lies_within_half_the_thickness(sphere_volume):
    vol = sphere_volume
    vol.array[:] = 0
    k = vol.patient_to_index(SPHERE_CENTER).round().astype(int)
    vol.array[k[2] + 3, k[1], k[0]] = 1000  # 3 mm above the plane
    vol.array[k[2] - 3, k[1] + 5, k[0]] = -1000
    g = MprGeometry(SPHERE_CENTER, reference=SPHERE_CENTER)
    r = Reslicer(vol)
    results = {}
    for slab, mode in ((0, "mip"), (8, "mip"), (8, "minip"), (8, "avg")):
        r.configure(g.plane("axial"), g.reference, interpolation="nearest", slab_mm=slab, slab_mode=mode)
        results[(slab, mode)] = r.update().array
    assert results[(0, "mip")].max() == 0
    assert results[(8, "mip")].max() == 1000
    assert results[(8, "minip")].min() == -1000
    assert results[(8, "avg")].max() == pytest.approx(1000 / 9, abs=1)  # 9 samples: one on the plane


@pytest.mark.parametrize("interpolation", ["linear", "cubic"])
@pytest.mark.parametrize("view", ["axial", "coronal", "sagittal"])
def test_a_thick_slab_mip_is_never_below_the_slice_it_contains(interpolation, view):
    """CT-like texture (0.78 x 0.78 x 0.8 mm), plane between voxel planes, 10 mm slab (13 samples)."""
    rng = np.random.default_rng(7)
    shape, spacing = (60, 64, 64), (0.78, 0.78, 0.8)
    vol = phantom(shape=shape, spacing=spacing)
    vol.array[:] = np.clip(rng.normal(40, 300, shape), -1000, 1500).astype(np.int16)
    g = MprGeometry(SPHERE_CENTER + [0.3, 0.2, 0.37], reference=SPHERE_CENTER)
    r = Reslicer(vol)
    r.configure(g.plane(view), g.reference, interpolation=interpolation)
    thin = r.update().array.astype(np.int32)
    for mode, holds in (("mip", np.greater_equal), ("minip", np.less_equal)):
        for slab in (10.0, 9.4):  # 13 samples; 12 made odd
            r.configure(g.plane(view), g.reference, interpolation=interpolation, slab_mm=slab, slab_mode=mode)
            assert r.filter.GetSlabNumberOfSlices() % 2 == 1
            thick = r.update().array.astype(np.int32)
            assert holds(thick, thin).all(), (mode, slab, np.abs(thick - thin).max())


def test_fixed_output_size_fits_the_volume(sphere_volume):
    g = MprGeometry(SPHERE_CENTER)
    r = Reslicer(sphere_volume)
    r.configure(g.plane("coronal"), g.reference, size=(64, 32))
    img = r.update()
    assert img.array.shape == (32, 64)
    assert img.spacing == pytest.approx(47 / 31)


def test_measurements_in_mm():
    assert angle_degrees([1, 0, 0], [0, 0, 0], [0, 2, 0]) == pytest.approx(90)
    m = Measurement("length", "axial", [[0, 0, 0], [3, 4, 0]])
    m.compute()
    assert m.label == "5.0 mm"
    with pytest.raises(ValueError, match="needs 3 points"):
        Measurement("angle", "axial", [[0, 0, 0], [1, 1, 1]])


def test_roi_statistics_on_a_resliced_plane(sphere_volume):
    g = MprGeometry(SPHERE_CENTER, reference=SPHERE_CENTER)
    r = Reslicer(sphere_volume)
    r.configure(g.plane("axial"), g.reference, interpolation="nearest")
    stats = roi_stats(r.update(), (-5, -5), (5, 5))
    assert stats["mean"] == 300 and stats["sd"] == 0 and stats["area_mm2"] == pytest.approx(np.pi * 25)
    assert 70 <= stats["pixels"] <= 90


def test_roi_measurement_needs_the_frames_reference(sphere_volume):
    # Without the reference the plane frame is unknown: the ROI stays unmeasured instead of NaN statistics.
    g = MprGeometry(SPHERE_CENTER, reference=SPHERE_CENTER)
    r = Reslicer(sphere_volume)
    r.configure(g.plane("axial"), g.reference, interpolation="nearest")
    image = r.update()
    corners = [SPHERE_CENTER + np.array([-5.0, 5.0, 0]), SPHERE_CENTER + np.array([5.0, -5.0, 0])]
    unmeasured = Measurement("roi", "axial", corners)
    unmeasured.compute(image, g.plane("axial"))
    assert unmeasured.values == {} and unmeasured.label == ""
    measured = Measurement("roi", "axial", corners)
    measured.compute(image, g.plane("axial"), g.reference, "HU")
    assert measured.values["mean"] == 300 and measured.label.startswith("mean 300.0 HU")


def test_window_follows_the_linear_formula():
    out = window_to_uint8(np.array([-160, 40, 240, 1000]), 40, 400)
    assert out.tolist() == [0, 127, 255, 255]
