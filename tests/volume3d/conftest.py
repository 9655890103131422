"""A small CT-like phantom volume with known geometry: a 20 mm sphere of 300 HU in -1000 HU air."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.model.volume import Volume

SPHERE_CENTER = np.array([10.0, -5.0, 20.0])
SPHERE_RADIUS = 10.0


def phantom(direction=None, shape=(48, 48, 48), spacing=(1.0, 1.0, 1.0)) -> Volume:
    """``shape`` is (z, y, x); the sphere sits at SPHERE_CENTER in patient coordinates whatever the direction."""
    direction = np.eye(3) if direction is None else np.asarray(direction, float)
    spacing = np.asarray(spacing, float)
    ext = (np.array(shape[::-1]) - 1) * spacing
    origin = SPHERE_CENTER - direction @ (ext / 2)
    z, y, x = np.indices(shape)
    idx = np.stack([x, y, z], axis=-1) * spacing
    pts = idx @ direction.T + origin
    inside = np.linalg.norm(pts - SPHERE_CENTER, axis=-1) <= SPHERE_RADIUS
    arr = np.where(inside, 300, -1000).astype(np.int16)
    return Volume(array=arr, origin=origin, spacing=spacing, direction=direction, rescaled=True, modality="CT")


@pytest.fixture
def sphere_volume() -> Volume:
    return phantom()
