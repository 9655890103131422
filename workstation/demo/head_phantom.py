"""Analytic head phantom for the demo MR brain (patient coordinates in mm).

Tissues are labelled by analytic shapes evaluated at arbitrary points, so the
same head is sampled by axial and sagittal series in one frame of reference.
A few white-matter lesions of known centre and size (:data:`MR_LESIONS`) are
bright on T2 and FLAIR and dark on T1.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from workstation.demo.canvas import Point3


class Tissue(IntEnum):
    """Tissue labels of the head phantom."""

    AIR = 0
    SCALP = 1
    BONE = 2
    MARROW = 3
    CSF = 4
    GREY = 5
    WHITE = 6
    MUSCLE = 7
    VITREOUS = 8
    ORBITAL_FAT = 9
    LESION = 10
    SINUS_AIR = 11


# Signal of each tissue per contrast (arbitrary units, 12 bits).
_SIGNAL = {
    "T1": [0, 1350, 60, 1050, 260, 720, 1040, 620, 230, 1380, 520, 0],
    "T2": [0, 900, 40, 520, 2000, 1020, 760, 430, 1900, 880, 1650, 0],
    "FLAIR": [0, 720, 40, 420, 110, 930, 690, 400, 140, 700, 1400, 0],
}

# Display windows (centre, width, explanation) per contrast.
MR_WINDOWS = {
    "T1": [(700, 1400, "BRAIN"), (900, 2200, "WIDE")],
    "T2": [(1000, 2000, "BRAIN"), (1100, 2600, "WIDE")],
    "FLAIR": [(750, 1300, "BRAIN"), (800, 2000, "WIDE")],
}


@dataclass(frozen=True)
class MRLesion:
    """A spherical white-matter lesion of known size (patient coordinates, mm)."""

    centre_mm: tuple[float, float, float]
    diameter_mm: float
    label: str = ""
    prior_diameter_mm: float | None = None  # in the prior a year earlier; None: the same

    def diameter(self, prior: bool = False) -> float:
        """Diameter in the current study, or in the prior one."""
        return self.prior_diameter_mm if prior and self.prior_diameter_mm is not None else self.diameter_mm


MR_LESIONS: list[MRLesion] = [
    MRLesion((-22.0, 10.0, 25.0), 8.0, "periventricular lesion, right"),
    MRLesion((24.0, -18.0, 30.0), 6.0, "periventricular lesion, left frontal"),
    MRLesion((30.0, 28.0, 45.0), 12.0, "subcortical lesion, left parietal", prior_diameter_mm=10.0),
]
"""Known lesions of the demo MR brain; the left parietal one grew by 2 mm since the prior."""

_BRAIN_CENTRE = np.array([0.0, 8.0, 18.0])
_BRAIN_AXES = np.array([66.0, 84.0, 62.0])


@lru_cache(maxsize=1)
def _gyral_waves() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(19670902)
    k = rng.standard_normal((9, 3))
    k /= np.linalg.norm(k, axis=1, keepdims=True)
    k *= 2 * np.pi / rng.uniform(22.0, 34.0, (9, 1))
    return k, rng.uniform(0, 2 * np.pi, 9)


def _folding(X: np.ndarray, Y: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """A smooth pseudo-random field in [-1, 1] that draws gyri and sulci."""
    k, phase = _gyral_waves()
    acc = np.zeros(np.broadcast_shapes(X.shape, Y.shape, Z.shape))  # float64, as the waves are
    for (kx, ky, kz), ph in zip(k, phase, strict=True):
        acc = acc + np.sin(kx * X + ky * Y + kz * Z + ph)
    return acc / 3.0


def _ellipsoid(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, centre: Point3 | np.ndarray,
               axes: Point3 | np.ndarray) -> np.ndarray:
    """Normalised radius of each point in an axis-aligned ellipsoid (1 on its surface)."""
    radius: np.ndarray = np.sqrt(
        ((X - centre[0]) / axes[0]) ** 2 + ((Y - centre[1]) / axes[1]) ** 2 + ((Z - centre[2]) / axes[2]) ** 2
    )
    return radius


def _segment_distance(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, p0: Point3, p1: Point3) -> np.ndarray:
    d = np.subtract(p1, p0)
    wx, wy, wz = X - p0[0], Y - p0[1], Z - p0[2]
    t = np.clip((wx * d[0] + wy * d[1] + wz * d[2]) / float(d @ d), 0.0, 1.0)
    distance: np.ndarray = np.sqrt((wx - t * d[0]) ** 2 + (wy - t * d[1]) ** 2 + (wz - t * d[2]) ** 2)
    return distance


def head_labels(X: npt.ArrayLike, Y: npt.ArrayLike, Z: npt.ArrayLike, *, prior: bool = False) -> np.ndarray:
    """Tissue label (:class:`Tissue`) at each point.

    Parameters
    ----------
    X, Y, Z : array_like
        Patient coordinates in mm, broadcastable to one shape.
    prior : bool
        The same head a year earlier (lesions at their prior size).

    Returns
    -------
    numpy.ndarray
        uint8 labels of the broadcast shape.
    """
    X, Y, Z = (np.asarray(a, dtype=np.float32) for a in np.broadcast_arrays(X, Y, Z))
    labels = np.zeros(X.shape, dtype=np.uint8)

    # Head: an ellipsoid on a neck; the scalp is fat-rich and bright on T1.
    head = _ellipsoid(X, Y, Z, (0.0, 5.0, 8.0), (78.0, 100.0, 96.0))
    neck = ((X / 60.0) ** 2 + ((Y - 20.0) / 62.0) ** 2 <= 1.0) & (Z < -40.0)
    face = _ellipsoid(X, Y, Z, (0.0, -40.0, -55.0), (58.0, 55.0, 48.0)) <= 1.0
    labels[(head <= 1.0) | neck | face] = Tissue.SCALP
    labels[(neck & ((X / 50.0) ** 2 + ((Y - 22.0) / 52.0) ** 2 <= 1.0))
           | (_ellipsoid(X, Y, Z, (0.0, -38.0, -58.0), (52.0, 48.0, 42.0)) <= 1.0)] = Tissue.MUSCLE
    # Cervical spine in the neck, behind the pharynx.
    labels[neck & ((X / 12.0) ** 2 + ((Y - 30.0) / 10.0) ** 2 <= 1.0)] = Tissue.MARROW
    labels[neck & ((X / 5.0) ** 2 + ((Y + 5.0) / 6.0) ** 2 <= 1.0)] = Tissue.SINUS_AIR

    # Skull: outer table, diploe, inner table.
    skull = _ellipsoid(X, Y, Z, (0.0, 5.0, 8.0), (72.0, 94.0, 90.0))
    labels[skull <= 1.0] = Tissue.BONE
    labels[_ellipsoid(X, Y, Z, (0.0, 5.0, 8.0), (70.0, 92.0, 88.0)) <= 1.0] = Tissue.MARROW
    labels[_ellipsoid(X, Y, Z, (0.0, 5.0, 8.0), (67.5, 89.5, 85.5)) <= 1.0] = Tissue.BONE
    inner = _ellipsoid(X, Y, Z, (0.0, 5.0, 8.0), (66.0, 88.0, 84.0)) <= 1.0
    # Skull base: below z = -25 the cranial cavity narrows to the middle
    # cranial fossae (temporal lobes) and the posterior fossa.
    temporal = [_ellipsoid(X, Y, Z, (side * 38.0, 0.0, -22.0), (24.0, 34.0, 20.0)) <= 1.0 for side in (-1.0, 1.0)]
    posterior_fossa = _ellipsoid(X, Y, Z, (0.0, 50.0, -38.0), (56.0, 36.0, 28.0)) <= 1.0
    cranial = inner & ((Z > -25.0) | temporal[0] | temporal[1] | posterior_fossa)
    labels[inner & ~cranial] = Tissue.MUSCLE
    labels[cranial] = Tissue.CSF

    # Cerebrum with folded cortex; sulci filled with CSF.
    fold = _folding(X, Y, Z)
    rho = _ellipsoid(X, Y, Z, _BRAIN_CENTRE, _BRAIN_AXES)
    cerebrum = cranial & (rho <= 0.97) & (-28.0 + 0.25 * np.maximum(Y, 0.0) < Z)
    for side in (-1.0, 1.0):
        cerebrum |= cranial & (_ellipsoid(X, Y, Z, (side * 38.0, 0.0, -22.0), (22.0, 32.0, 18.0)) <= 1.0)
    labels[cerebrum] = Tissue.GREY
    labels[cerebrum & (rho < 0.80 + 0.06 * fold)] = Tissue.WHITE
    sulci = cerebrum & (rho > 0.84) & (np.abs(fold) < 0.12)
    labels[sulci] = Tissue.CSF
    labels[cranial & (np.abs(X) < 1.2) & ((Z > 34.0) | (rho > 0.75)) & (rho <= 0.97)] = Tissue.CSF  # falx
    # Corpus callosum: a white-matter arch over the lateral ventricles.
    arch = np.sqrt(((Y - 2.0) / 38.0) ** 2 + ((Z - 12.0) / 20.0) ** 2)
    labels[cerebrum & (np.abs(X) < 14.0) & (np.abs(arch - 1.0) < 0.16) & (Z > 10.0)] = Tissue.WHITE

    # Cerebellum with folia, and the brainstem.
    cb = _ellipsoid(X, Y, Z, (0.0, 52.0, -40.0), (50.0, 30.0, 22.0))
    cerebellum = cranial & (cb <= 1.0)
    labels[cerebellum] = Tissue.GREY
    labels[cerebellum & (cb < 0.45 + 0.1 * fold)] = Tissue.WHITE
    labels[cerebellum & (cb > 0.55) & (np.sin(cb * 70.0 + 2.0 * fold) > 0.8)] = Tissue.CSF  # folia
    labels[cranial & (np.abs(X) < 2.0) & (cb <= 1.0) & (Y > 62.0)] = Tissue.CSF
    stem = ((X / 13.0) ** 2 + ((Y - 18.0) / 14.0) ** 2 <= 1.0) & (Z < 2.0) & (Z > -75.0)
    labels[stem & (cranial | (Z < -30.0))] = Tissue.WHITE

    # Deep grey nuclei: thalami, caudate heads, lentiform nuclei.
    for side in (-1.0, 1.0):
        for centre, axes in (
            ((side * 11.0, 12.0, 8.0), (9.0, 14.0, 10.0)),
            ((side * 13.0, -14.0, 16.0), (6.0, 10.0, 9.0)),
            ((side * 24.0, -2.0, 4.0), (6.0, 16.0, 10.0)),
        ):
            labels[cerebrum & (_ellipsoid(X, Y, Z, centre, axes) <= 1.0)] = Tissue.GREY

    # Ventricles: lateral ventricles as curved tubes, a slit-like third ventricle.
    for side in (-1.0, 1.0):
        path = [(9.0, -28.0, 16.0, 5.0), (7.0, -8.0, 22.0, 5.5), (10.0, 14.0, 22.0, 5.0),
                (18.0, 34.0, 12.0, 6.0), (24.0, 24.0, -6.0, 3.0)]  # fmt: skip
        for (x0, y0, z0, r0), (x1, y1, z1, _r1) in zip(path[:-1], path[1:], strict=True):
            dist = _segment_distance(X, Y, Z, (side * x0, y0, z0), (side * x1, y1, z1))
            labels[cranial & (dist <= r0)] = Tissue.CSF
    labels[cranial & (_ellipsoid(X, Y, Z, (0.0, 2.0, 5.0), (2.5, 12.0, 9.0)) <= 1.0)] = Tissue.CSF  # third ventricle

    for lesion in MR_LESIONS:
        r = _ellipsoid(X, Y, Z, lesion.centre_mm, (lesion.diameter(prior) / 2,) * 3)
        labels[cerebrum & (r <= 1.0)] = Tissue.LESION

    # Orbits and paranasal sinuses at the front of the skull base.
    for side in (-1.0, 1.0):
        labels[_ellipsoid(X, Y, Z, (side * 30.0, -52.0, -32.0), (17.0, 22.0, 16.0)) <= 1.0] = Tissue.ORBITAL_FAT
        labels[_ellipsoid(X, Y, Z, (side * 30.0, -62.0, -32.0), (12.0, 12.0, 12.0)) <= 1.0] = Tissue.VITREOUS
        labels[_ellipsoid(X, Y, Z, (side * 30.0, -45.0, -62.0), (16.0, 18.0, 16.0)) <= 1.0] = Tissue.SINUS_AIR
        nerve = _segment_distance(X, Y, Z, (side * 28.0, -52.0, -32.0), (side * 12.0, -24.0, -26.0))
        labels[nerve <= 2.5] = Tissue.WHITE
    labels[_ellipsoid(X, Y, Z, (0.0, -72.0, -4.0), (16.0, 10.0, 10.0)) <= 1.0] = Tissue.SINUS_AIR  # frontal
    labels[_ellipsoid(X, Y, Z, (0.0, -55.0, -50.0), (7.0, 30.0, 22.0)) <= 1.0] = Tissue.SINUS_AIR  # nasal
    labels[_ellipsoid(X, Y, Z, (0.0, -12.0, -36.0), (14.0, 12.0, 10.0)) <= 1.0] = Tissue.SINUS_AIR  # sphenoid
    return labels


def mr_signal(labels: np.ndarray, sequence: str, X: npt.ArrayLike, Y: npt.ArrayLike, Z: npt.ArrayLike,
              rng: np.random.Generator) -> np.ndarray:
    """Magnitude image for a contrast: tissue signal x coil sensitivity, Rician noise.

    Parameters
    ----------
    labels : numpy.ndarray
        Output of :func:`head_labels`.
    sequence : {"T1", "T2", "FLAIR"}
        Contrast.
    X, Y, Z : array_like
        The points the labels were sampled at (for the coil sensitivity).
    rng : numpy.random.Generator
        Noise source.

    Returns
    -------
    numpy.ndarray
        uint16 values, 12 bits.
    """
    table = np.asarray(_SIGNAL[sequence], dtype=np.float32)
    signal = table[labels]
    # Receive coil: brighter near the surface and the back of the head.
    X, Y, Z = np.broadcast_arrays(X, Y, Z)
    bias = 1.0 + 0.12 * (np.sqrt(X**2 + Y**2) / 90.0) ** 2 + 0.04 * Y / 90.0 - 0.05 * Z / 90.0
    signal = signal * bias.astype(np.float32)
    # Soften the piecewise-constant tissue edges by a pixel.
    signal = 0.5 * signal + 0.125 * (
        np.roll(signal, 1, 0) + np.roll(signal, -1, 0) + np.roll(signal, 1, 1) + np.roll(signal, -1, 1)
    )
    sigma = 18.0
    real = signal + rng.normal(0.0, sigma, signal.shape).astype(np.float32)
    imag = rng.normal(0.0, sigma, signal.shape).astype(np.float32)
    magnitude: np.ndarray = np.clip(np.sqrt(real * real + imag * imag), 0, 4095).astype(np.uint16)
    return magnitude
