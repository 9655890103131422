"""Screening mammograms of a synthetic breast (processed, "for presentation").

A view is drawn for the left breast with the chest wall at the image's left
edge and mirrored for the right breast, which gives the usual back-to-back
hanging.  The fibroglandular texture of each breast and view comes from a
fixed seed, so the prior screening shows the same breast (positioned a few
millimetres differently) and the mass (:data:`MG_MASSES`) can be seen to grow.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from workstation.demo.canvas import gaussian_blur, smooth_noise


@dataclass(frozen=True)
class MammoMass:
    """A round mass of known size, in image millimetres of one view.

    ``position_mm`` is (distance from the chest wall, distance from the top
    edge) for the view as displayed; diameters are for the current and the
    prior screening.
    """

    side: str
    view: str
    position_mm: tuple[float, float]
    diameter_mm: float
    prior_diameter_mm: float


MG_MASSES: list[MammoMass] = [
    MammoMass("L", "CC", (62.0, 72.0), 12.0, 8.0),
    MammoMass("L", "MLO", (58.0, 78.0), 12.0, 8.0),
]
"""Known masses of the demo screening mammograms (left breast, upper outer quadrant)."""

# A cluster of calcifications in the right breast, stable over the year.
_CALCIFICATIONS = {"CC": (48.0, 118.0), "MLO": (52.0, 128.0)}


def _seed(*parts: object) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode())


def mammogram(
    side: str,
    view: str,
    rows: int,
    columns: int,
    spacing_mm: float,
    *,
    prior: bool,
) -> np.ndarray:
    """One processed mammogram as 12-bit MONOCHROME2 values (dense tissue bright).

    Parameters
    ----------
    side : {"R", "L"}
        Image Laterality.
    view : {"CC", "MLO"}
        View Position.
    rows, columns : int
        Matrix size.
    spacing_mm : float
        Imager pixel spacing (square pixels).
    prior : bool
        Draw the screening of a year earlier (smaller mass, other positioning).

    Returns
    -------
    numpy.ndarray
        uint16 image, values 0..4095.
    """
    # Positioning differs a little between the two screenings: the tissue
    # moves inside the outline.
    dv = 4.0 if prior else 0.0
    du = -3.0 if prior else 0.0
    u = (np.arange(columns, dtype=np.float32) + 0.5) * spacing_mm  # from the chest wall
    v = (np.arange(rows, dtype=np.float32) + 0.5) * spacing_mm  # from the top
    U, V = u[None, :], v[:, None]
    height = rows * spacing_mm

    if view == "CC":
        depth, half, centre = 0.62 * columns * spacing_mm, 0.36 * height, 0.5 * height
        lift = np.zeros_like(U)
        spread = np.ones_like(U)
    else:
        depth, half, centre = 0.68 * columns * spacing_mm, 0.34 * height, 0.6 * height
        # Taller and higher at the chest wall: the axillary tail.
        near = np.clip(1.0 - U / depth, 0.0, 1.0)
        lift = 0.5 * half * near**1.5
        spread = 1.0 + 0.45 * near**1.5
    w = (V - centre + lift) / (half * spread)
    rho = np.clip(U / depth, 0, None) ** 2.0 + np.abs(w) ** 2.4
    breast = rho <= 1.0
    # Compressed thickness falls off over the last ~8 mm towards the skin line.
    edge_mm = np.clip((1.0 - np.sqrt(np.clip(rho, 0, 1))) * depth, 0, None)
    thickness = np.where(breast, np.sqrt(np.clip(edge_mm / 8.0, 0, 1)), 0.0).astype(np.float32)

    # Fibroglandular tissue: smooth 1/f fields stretched towards the nipple,
    # denser behind it.
    rng = np.random.default_rng(_seed("breast", side, view))
    field = smooth_noise(rng, (max(rows // 4, 16), max(columns // 10, 8)), 3.0)
    fine = smooth_noise(rng, (max(rows // 2, 32), max(columns // 8, 16)), 1.6)
    field = _upsample(field, rows, columns, dv / spacing_mm, du / spacing_mm)
    fine = _upsample(fine, rows, columns, dv / spacing_mm, du / spacing_mm)
    tu, tv = U - du, V - dv
    envelope = np.exp(-(((tu - 0.42 * depth) / (0.4 * depth)) ** 2) - ((tv - centre + 0.1 * half) / (0.6 * half)) ** 2)
    dense = 1.0 / (1.0 + np.exp(-(field + 0.45 * fine + 2.0 * envelope - 1.5) / 0.4))
    gland = (dense * envelope**0.5).astype(np.float32)

    attenuation = thickness * (0.3 + 0.6 * gland)
    if view == "MLO":
        reach = 0.36 * depth * np.clip(1.0 - V / (0.55 * height), 0.0, 1.0) ** 1.3
        pectoral = breast & (reach > U)
        attenuation = np.where(pectoral, thickness * (0.8 + 0.05 * fine), attenuation)

    for mass in MG_MASSES:
        if mass.side == side and mass.view == view:
            d = mass.prior_diameter_mm if prior else mass.diameter_mm
            pos = (mass.position_mm[0] + du, mass.position_mm[1] + dv)
            _add_ball(attenuation, u, v, pos, d / 2, 0.012)
    if side == "R":
        crng = np.random.default_rng(_seed("calcifications", view))
        cu, cv = _CALCIFICATIONS[view]
        cu, cv = cu + du, cv + dv
        for _ in range(14):
            pu, pv = cu + crng.normal(0, 3.0), cv + crng.normal(0, 3.0)
            _add_ball(attenuation, u, v, (pu, pv), crng.uniform(0.15, 0.35), 0.9)
    # Nipple at the apex of the outline.
    _add_ball(attenuation, u, v, (depth - 2.0, centre), 5.0, 0.02)

    image = np.where(breast, 350.0 + 3300.0 * np.clip(attenuation, 0, 1.2) / 1.2, 40.0).astype(np.float32)
    # Skin line: a thin brighter rim.
    image += np.where(breast & (edge_mm < 1.5), 250.0, 0.0).astype(np.float32)
    image = gaussian_blur(image, 0.6)
    noise_rng = np.random.default_rng(_seed("noise", side, view, prior))
    image += noise_rng.standard_normal(image.shape, dtype=np.float32) * 14.0
    image = np.clip(image, 0, 4095).astype(np.uint16)
    return image[:, ::-1].copy() if side == "R" else image


def _add_ball(target: np.ndarray, u: np.ndarray, v: np.ndarray, centre: tuple[float, float], radius: float,
              density: float) -> None:
    """Add a sphere's projected thickness (chord length in mm) times ``density``, in place."""
    c0, c1 = np.searchsorted(u, [centre[0] - radius, centre[0] + radius])
    r0, r1 = np.searchsorted(v, [centre[1] - radius, centre[1] + radius])
    if c0 >= c1 or r0 >= r1:
        return
    d2 = (u[None, c0:c1] - centre[0]) ** 2 + (v[r0:r1, None] - centre[1]) ** 2
    target[r0:r1, c0:c1] += (2.0 * np.sqrt(np.clip(radius * radius - d2, 0.0, None)) * density).astype(np.float32)


def _upsample(field: np.ndarray, rows: int, columns: int, shift_r: float, shift_c: float) -> np.ndarray:
    """Bilinear enlargement of a coarse field to (rows, columns), shifted by pixels."""
    fr = (np.arange(rows) + shift_r) * (field.shape[0] - 1) / max(rows - 1, 1)
    fc = (np.arange(columns) + shift_c) * (field.shape[1] - 1) / max(columns - 1, 1)
    r0 = np.clip(np.floor(fr).astype(np.intp), 0, field.shape[0] - 2)
    c0 = np.clip(np.floor(fc).astype(np.intp), 0, field.shape[1] - 2)
    ar = np.clip(fr - r0, 0, 1).astype(np.float32)[:, None]
    ac = np.clip(fc - c0, 0, 1).astype(np.float32)[None, :]
    top = field[r0][:, c0] * (1 - ac) + field[r0][:, c0 + 1] * ac
    bottom = field[r0 + 1][:, c0] * (1 - ac) + field[r0 + 1][:, c0 + 1] * ac
    out: np.ndarray = top * (1 - ar) + bottom * ar
    return out
