"""Curved MPR along a helix: straightened (the tube on the centre line within a voxel), length within 1 %."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial import cKDTree

from workstation.clinical.cpr import CurvedPath, PathError, cross_section, straightened_cpr, stretched_cpr
from workstation.model.volume import Volume

RADIUS, RISE, TURNS, TUBE = 30.0, 8.0, 1.5, 3.0  # mm, mm per radian, turns, tube radius mm
T_MAX = 2 * math.pi * TURNS
HELIX_LENGTH = math.hypot(RADIUS, RISE) * T_MAX  # 292.6 mm


def helix(t):
    t = np.asarray(t, float)
    return np.column_stack([RADIUS * np.cos(t), RADIUS * np.sin(t), RISE * t - RISE * T_MAX / 2])


@pytest.fixture(scope="module")
def volume():
    return helix_volume()


def helix_volume() -> Volume:
    """1 mm voxels, a bright tube (1000) of 3 mm radius along the helix in a dark (0) field."""
    n_xy, n_z = 80, 90
    origin = np.array([-39.5, -39.5, -44.5])
    zz, yy, xx = np.meshgrid(*(np.arange(n) for n in (n_z, n_xy, n_xy)), indexing="ij")
    centres = np.column_stack([xx.ravel(), yy.ravel(), zz.ravel()]) + origin
    dist, _ = cKDTree(helix(np.linspace(0, T_MAX, 20000))).query(centres, distance_upper_bound=TUBE + 2)
    array = np.where(dist <= TUBE, 1000, 0).reshape(n_z, n_xy, n_xy).astype(np.int16)
    return Volume(array, origin, np.ones(3), np.eye(3), rescaled=True)


@pytest.fixture(scope="module")
def path():
    clicked = helix(np.linspace(0, T_MAX, 19))  # a reader's clicks: every 30 degrees along the vessel
    return CurvedPath.through(clicked, step_mm=0.5)


def test_length_along_the_path_within_one_percent(path):
    assert path.length_mm == pytest.approx(HELIX_LENGTH, rel=0.01)
    assert abs(path.length_mm - HELIX_LENGTH) / HELIX_LENGTH < 0.002  # in fact within 0.2 %


def test_frame_is_orthonormal_and_does_not_twist(path):
    for a, b in ((path.tangents, path.normals), (path.tangents, path.binormals), (path.normals, path.binormals)):
        assert np.abs(np.einsum("ij,ij->i", a, b)).max() < 1e-6
    # Neighbouring normals turn only as much as the tangent does.
    turn_n = np.arccos(np.clip(np.einsum("ij,ij->i", path.normals[1:], path.normals[:-1]), -1, 1))
    turn_t = np.arccos(np.clip(np.einsum("ij,ij->i", path.tangents[1:], path.tangents[:-1]), -1, 1))
    assert turn_n.max() <= turn_t.max() + 1e-3


@pytest.mark.parametrize("angle", [0.0, 45.0, 90.0])
def test_straightened_cpr_puts_the_tube_on_the_centre_line(volume, path, angle):
    cpr = straightened_cpr(volume, path, width_mm=30.0, angle_deg=angle, pixel_mm=0.5)
    assert cpr.pixels.shape == (len(path.positions), 61) and cpr.centre_column == 30.0
    rows = cpr.pixels[20:-20]  # the tube's rounded ends aside
    weights = np.clip(rows, 0, None)
    centroid_mm = (weights * cpr.offset_mm[None, :]).sum(axis=1) / weights.sum(axis=1)
    assert np.abs(centroid_mm).max() < 1.0  # within a voxel (1 mm) everywhere along the path
    # The tube fills the centre line and is as wide as it should be (6 mm) across it.
    assert (rows[:, 30] > 900).all()
    widths = (rows > 500).sum(axis=1) * 0.5
    assert np.median(widths) == pytest.approx(2 * TUBE, abs=1.0)
    # Rows follow the path: the image is as long as the helix.
    assert cpr.distance_mm[-1] == pytest.approx(HELIX_LENGTH, rel=0.01)


def test_cross_sections_are_centred_on_the_tube(volume, path):
    for d in (20.0, 100.0, 200.0):
        plane = cross_section(volume, path, d, size_mm=20.0, pixel_mm=0.5)
        yy, xx = np.mgrid[: plane.shape[0], : plane.shape[1]]
        w = np.clip(plane, 0, None)
        cy, cx = (w * yy).sum() / w.sum(), (w * xx).sum() / w.sum()
        assert math.hypot((cy - 20) * 0.5, (cx - 20) * 0.5) < 1.0
        area = (plane > 500).sum() * 0.25  # mm²: a circle of 3 mm radius, cut square to the tube
        assert area == pytest.approx(math.pi * TUBE**2, rel=0.2)


def test_stretched_cpr_keeps_one_direction(volume, path):
    cpr = stretched_cpr(volume, path, direction=(1.0, 0.0, 0.0), width_mm=30.0, pixel_mm=0.5)
    assert cpr.pixels.shape[0] == len(path.positions)
    # The tube crosses each row at the centre line (where the row is not along the tube).
    assert (cpr.pixels[20:-20, 30] > 900).mean() > 0.95


def test_bad_paths_are_refused():
    with pytest.raises(PathError, match="at least two points"):
        CurvedPath.through([(0, 0, 0)])
    with pytest.raises(PathError, match="one spot"):
        CurvedPath.through([(1, 1, 1), (1, 1, 1)])
    straight = CurvedPath.through([(0, 0, 0), (0, 0, 10)], step_mm=1.0)
    assert straight.length_mm == pytest.approx(10.0) and len(straight.positions) == 11
