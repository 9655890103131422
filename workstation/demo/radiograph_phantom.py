"""Chest radiographs of the demo chest phantom (PA and left lateral).

The radiograph is a projection of the same analytic chest the demo CT shows:
the phantom is sampled on a coarse volume, its attenuation summed along the
beam, interpolated to the detector and tone-mapped as a processed ("for
presentation") image: lungs dark, mediastinum and bone bright.  The known
spheres are projected analytically, so they stay round and sharp.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from workstation.demo.canvas import gaussian_blur
from workstation.demo.phantoms import Sphere, chest_slice

# Coarse grid of the attenuation volume (mm): fine enough for ribs and vessels.
_VOLUME_X = (-210.0, 210.0)
_VOLUME_Y = (-140.0, 150.0)


def _attenuation(hu: npt.NDArray[np.float32] | np.float32) -> npt.NDArray[np.float32] | np.float32:
    """Linear attenuation relative to water at chest-radiograph energies."""
    mu = np.clip((hu + 1000.0) / 1000.0, 0.0, None)
    # Bone attenuates more than its CT number suggests at ~60 keV.
    return mu + np.clip(hu - 150.0, 0.0, None) * 1.4e-3


@lru_cache(maxsize=2)
def _projections(step: float, z_top: float, z_bottom: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(PA, lateral, zs): water-equivalent path length (mm) on a coarse grid.

    PA is indexed (z, x), lateral (z, y); both from the same volume, without
    the known spheres.
    """
    xs = np.arange(_VOLUME_X[0], _VOLUME_X[1] + step / 2, step)
    ys = np.arange(_VOLUME_Y[0], _VOLUME_Y[1] + step / 2, step)
    zs = np.arange(z_top, z_bottom - step / 2, -step)
    pa = np.empty((len(zs), len(xs)), np.float32)
    lat = np.empty((len(zs), len(ys)), np.float32)
    for i, z in enumerate(zs):
        hu, _ = chest_slice(xs, ys, float(z), table=False)
        mu = _attenuation(hu)
        pa[i] = mu.sum(axis=0) * step
        lat[i] = mu.sum(axis=1) * step
    return pa, lat, zs


def _resample(image: np.ndarray, src_rows: np.ndarray, src_cols: np.ndarray, rows: np.ndarray,
              cols: np.ndarray) -> np.ndarray:
    """Bilinear resampling of ``image`` given on increasing grids to new coordinates."""

    def weights(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.interp(dst, src, np.arange(len(src), dtype=np.float64))
        i0 = np.clip(np.floor(pos).astype(np.intp), 0, len(src) - 2)
        return i0, (pos - i0).astype(np.float32)

    r0, fr = weights(src_rows, rows)
    c0, fc = weights(src_cols, cols)
    top = image[r0][:, c0] * (1 - fc) + image[r0][:, c0 + 1] * fc
    bottom = image[r0 + 1][:, c0] * (1 - fc) + image[r0 + 1][:, c0 + 1] * fc
    out: np.ndarray = top * (1 - fr[:, None]) + bottom * fr[:, None]
    return out


def chest_radiograph(
    view: str,
    rows: int,
    columns: int,
    spacing_mm: float,
    centre_z: float,
    *,
    spheres: list[Sphere],
    shift: tuple[float, float, float],
    rng: np.random.Generator,
) -> np.ndarray:
    """A processed chest radiograph of the phantom, as 12-bit MONOCHROME2 values.

    Parameters
    ----------
    view : {"PA", "LL"}
        Postero-anterior (patient's right on the image's left) or left lateral
        (anterior on the image's left).
    rows, columns : int
        Detector matrix.
    spacing_mm : float
        Imager pixel spacing (square pixels).
    centre_z : float
        Patient z (body coordinates) of the detector's centre row.
    spheres : list of Sphere
        Known spheres in body coordinates, projected analytically.
    shift : tuple of float
        Where this exposure put the body: detector coordinates minus body coordinates.
    rng : numpy.random.Generator
        Quantum noise source.

    Returns
    -------
    numpy.ndarray
        uint16 image, values 0..4095.
    """
    step = max(2.0 * spacing_mm, 2.0)
    half_h = rows * spacing_mm / 2
    z_top = float(np.ceil((centre_z + half_h + 40.0) / 10.0) * 10.0)
    z_bottom = float(np.floor((centre_z - half_h - 40.0) / 10.0) * 10.0)
    pa, lat, zs = _projections(step, z_top, z_bottom)
    if view == "PA":
        coarse, across, u_shift = pa, np.arange(_VOLUME_X[0], _VOLUME_X[1] + step / 2, step), shift[0]
    elif view == "LL":
        coarse, across, u_shift = lat, np.arange(_VOLUME_Y[0], _VOLUME_Y[1] + step / 2, step), shift[1]
    else:
        raise ValueError(f"unknown radiograph view {view!r}")

    # Flatten large-scale density (image processing of a real DR system) so
    # lungs, mediastinum and bone are all readable; this also sharpens edges.
    low = gaussian_blur(coarse, 18.0 / step)
    processed = coarse + 0.8 * (coarse - low)

    u = (np.arange(columns) - columns / 2 + 0.5) * spacing_mm - u_shift
    z = centre_z + (rows / 2 - 0.5 - np.arange(rows)) * spacing_mm - shift[2]
    # Coarse rows run from the top (decreasing z); flip to increasing for interpolation.
    path = _resample(processed[::-1], zs[::-1], across, z, u)

    for s in spheres:
        c = np.asarray(s.centre_mm)
        cu = c[0] if view == "PA" else c[1]
        r = s.radius_mm
        win_r = (np.abs(z - c[2]) <= r).nonzero()[0]
        win_c = (np.abs(u - cu) <= r).nonzero()[0]
        if not len(win_r) or not len(win_c):
            continue
        d2 = (u[win_c][None, :] - cu) ** 2 + (z[win_r][:, None] - c[2]) ** 2
        chord = 2.0 * np.sqrt(np.clip(r * r - d2, 0.0, None))
        extra = float(_attenuation(np.float32(s.hu)) - _attenuation(np.float32(-860.0)))
        path[win_r[0] : win_r[-1] + 1, win_c[0] : win_c[-1] + 1] += (chord * extra * 1.8).astype(np.float32)

    # Film-like characteristic curve: toe in the lungs, shoulder in the mediastinum.
    value = 1.0 - np.exp(-((np.clip(path, 0.0, None) / 190.0) ** 2))
    image = 120.0 + 3600.0 * value
    image += rng.normal(0.0, 22.0, image.shape).astype(np.float32)
    grey: np.ndarray = np.clip(image, 0, 4095).astype(np.uint16)
    return grey
