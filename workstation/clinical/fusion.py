"""PET/CT fusion: the PET resampled onto the CT's plane, in a colour LUT over the grey CT.

PET and CT of one study share a frame of reference but not a grid (matrix,
pixel size, slice positions differ), so the PET is sampled at the patient
position of every CT pixel (trilinear).  The PET is windowed in SUV (or
Bq/ml), coloured with a lookup table (the standard Hot Iron palette of PS3.6
B.1.1, a rainbow, or grey inverted) and blended over the windowed CT with an
opacity.  A rotating MIP of the PET gives the cine readers use to find
lesions.  Everything returns numpy arrays; the UI only shows them.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from workstation.clinical.cpr import sample
from workstation.model.volume import Volume

LUT_NAMES = ("hot iron", "rainbow", "grey inverted")


@cache
def colour_lut(name: str) -> np.ndarray:
    """A 256 x 3 uint8 colour table by name (see :data:`LUT_NAMES`)."""
    ramp = np.arange(256, dtype=np.uint8)
    if name == "hot iron":
        import pydicom
        from pydicom.data import get_palette_files
        from pydicom.pixels.processing import apply_color_lut

        # The standard Hot Iron palette (PS3.6 B.1.1) as pydicom ships it.
        palette = pydicom.dcmread(get_palette_files("hotiron.dcm")[0])
        return np.asarray(apply_color_lut(ramp, palette), np.uint8)
    if name == "rainbow":
        # Blue -> cyan -> green -> yellow -> red, black at zero uptake.
        h = np.linspace(2.0 / 3.0, 0.0, 256)
        k = (np.array([5.0, 3.0, 1.0])[None, :] + h[:, None] * 6.0) % 6.0
        rgb = 1.0 - np.clip(np.minimum(k, 4.0 - k), 0.0, 1.0)
        rgb[0] = 0.0
        return np.rint(rgb * 255).astype(np.uint8)
    if name == "grey inverted":
        return np.repeat((255 - ramp)[:, None], 3, axis=1)
    raise ValueError(f"unknown colour LUT {name!r}; expected one of {LUT_NAMES}")


def window_to_8bit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Linear window from ``low`` to ``high`` onto 0..255."""
    if high <= low:
        raise ValueError("the window's upper value must exceed its lower value")
    out: np.ndarray = np.rint(np.clip((np.asarray(values, np.float32) - low) / (high - low), 0.0, 1.0) * 255)
    return out.astype(np.uint8)


def plane_points(volume: Volume, index: int) -> np.ndarray:
    """Patient coordinates (rows, columns, 3) of the pixel centres of plane ``index`` of ``volume``."""
    z, y, x = volume.shape
    jj, ii = np.meshgrid(np.arange(y), np.arange(x), indexing="ij")
    idx = np.stack([ii, jj, np.full_like(ii, index)], axis=-1).astype(float)
    m = volume.index_to_patient()
    points: np.ndarray = idx @ m[:3, :3].T + m[:3, 3]
    return points


def pet_on_ct_plane(pet: Volume, ct: Volume, index: int) -> np.ndarray:
    """PET values at every pixel of CT plane ``index`` (0 outside the PET's field)."""
    return sample(pet, plane_points(ct, index), fill=0.0)


def fuse(ct_8bit: np.ndarray, pet_8bit: np.ndarray, lut: str = "hot iron", opacity: float = 0.5,
         threshold: int = 0) -> np.ndarray:  # fmt: skip
    """Colour PET over grey CT: ``(1 - a) * CT + a * LUT(PET)`` where PET exceeds ``threshold``.

    Parameters
    ----------
    ct_8bit, pet_8bit : numpy.ndarray
        Windowed images of the same shape (uint8).
    lut : str
        One of :data:`LUT_NAMES`.
    opacity : float
        0 (CT only) to 1 (PET only).
    threshold : int
        PET display values at or below it leave the CT untouched (no colour wash over the background).

    Returns
    -------
    numpy.ndarray
        (rows, columns, 3) uint8 RGB.
    """
    if not 0.0 <= opacity <= 1.0:
        raise ValueError("opacity runs from 0 to 1")
    grey = np.repeat(np.asarray(ct_8bit, np.float32)[..., None], 3, axis=-1)
    colour = colour_lut(lut)[np.asarray(pet_8bit, np.uint8)].astype(np.float32)
    a = np.where(np.asarray(pet_8bit) > threshold, opacity, 0.0)[..., None]
    return np.rint(grey * (1.0 - a) + colour * a).astype(np.uint8)


def rotating_mip(pet: Volume, angle_deg: float, pixel_mm: float | None = None) -> np.ndarray:
    """Maximum intensity projection of the PET seen from the front, turned ``angle_deg`` about the patient's long axis.

    Returns a (rows: superior to inferior, columns: patient right to left as seen from the front) float32 image.
    """
    pixel = pixel_mm or float(min(pet.spacing))
    centre = pet.center()
    extent = np.asarray(pet.shape[::-1], float) * pet.spacing
    half_w = float(np.hypot(extent[0], extent[1]) / 2)
    half_h = float(extent[2] / 2)
    a = np.radians(angle_deg)
    right = np.array([np.cos(a), np.sin(a), 0.0])  # screen right: patient left at 0 degrees (anterior view)
    depth = np.array([-np.sin(a), np.cos(a), 0.0])  # viewing direction: anterior to posterior
    down = np.array([0.0, 0.0, -1.0])
    u = np.arange(-half_w, half_w + pixel / 2, pixel)
    v = np.arange(-half_h, half_h + pixel / 2, pixel)
    out = np.zeros((len(v), len(u)), np.float32)
    for d in np.arange(-half_w, half_w + pixel / 2, pixel):
        pts = centre + v[:, None, None] * down + u[None, :, None] * right + d * depth
        np.maximum(out, sample(pet, pts, fill=0.0), out=out)
    return out
