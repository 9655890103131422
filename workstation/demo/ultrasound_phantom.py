"""Longitudinal carotid ultrasound cine with colour Doppler (RGB frames).

A linear-array B-mode image of the neck: skin, subcutaneous fat, the
sternocleidomastoid muscle, the internal jugular vein and the common carotid
artery, whose lumen widens with each heart beat and carries pulsatile flow in
a colour box (aliasing at peak systole).  The B-mode region's physical size
is known, so the lumen diameter (:data:`US_CAROTID`) can be measured through
the Sequence of Ultrasound Regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workstation.demo.canvas import gaussian_blur


@dataclass(frozen=True)
class CarotidPhantom:
    """Known geometry of the demo carotid (centimetres, seconds)."""

    depth_cm: float = 2.0  # lumen centre below the skin, at the region's centre
    diastolic_diameter_cm: float = 0.60
    systolic_diameter_cm: float = 0.68
    heart_rate_bpm: float = 75.0
    peak_velocity_cm_s: float = 95.0
    nyquist_cm_s: float = 60.0


US_CAROTID = CarotidPhantom()
"""The carotid of the demo ultrasound cine."""


def pulse(phase: np.ndarray | float) -> np.ndarray:
    """Arterial pulse shape over one cardiac cycle (0 at end-diastole, peak 1)."""
    phase = np.mod(phase, 1.0)
    return np.exp(-(((phase - 0.16) / 0.07) ** 2)) + 0.35 * np.exp(-(((phase - 0.42) / 0.06) ** 2))


def carotid_cine(
    rows: int,
    columns: int,
    frames: int,
    region: tuple[int, int, int, int],
    delta_cm: tuple[float, float],
    frame_time_ms: float,
    *,
    seed: int = 20240422,
) -> np.ndarray:
    """RGB frames of the carotid cine.

    Parameters
    ----------
    rows, columns, frames : int
        Frame size and count.
    region : tuple of int
        (x0, y0, x1, y1) of the B-mode region, inclusive pixel bounds.
    delta_cm : tuple of float
        Physical size of a region pixel (x, y) in cm.
    frame_time_ms : float
        Time between frames.
    seed : int
        Speckle seed.

    Returns
    -------
    numpy.ndarray
        uint8 array (frames, rows, columns, 3).
    """
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = region
    h, w = y1 - y0 + 1, x1 - x0 + 1
    lateral = (np.arange(w, dtype=np.float32) - w / 2) * delta_cm[0]
    depth = (np.arange(h, dtype=np.float32) + 0.5) * delta_cm[1]
    L, D = lateral[None, :], depth[:, None]
    px_x = max(0.03 / delta_cm[0], 0.5)  # speckle size: ~0.3 mm lateral
    px_y = max(0.01 / delta_cm[1], 0.3)

    # Tissue echogenicity (static), then speckle.
    c = US_CAROTID
    axis = c.depth_cm + 0.04 * L  # the artery runs slightly obliquely
    jugular = 1.05 + 0.03 * L
    echo = np.full((h, w), 0.4, np.float32)
    echo = np.where(D < 0.06, 1.4, echo)  # skin / gel interface
    echo = np.where((D >= 0.06) & (D < 0.35), 0.22, echo)  # subcutaneous fat
    muscle = (D >= 0.35) & (D < 0.85)
    striation = 0.5 + 0.5 * np.sin(D * 2 * np.pi / 0.09 + 0.8 * np.sin(L * 3.0))
    echo = np.where(muscle, 0.16 + 0.25 * striation, echo)
    echo = np.where(np.abs(D - 0.86) < 0.03, 1.0, echo)  # fascia
    echo = echo * np.exp(-0.12 * D)  # residual depth attenuation after TGC

    speckle_a = _speckle(rng, (h, w), px_y, px_x)
    frames_out = np.zeros((frames, rows, columns, 3), np.uint8)
    beat_s = 60.0 / c.heart_rate_bpm
    box = _colour_box(lateral, depth)
    for f in range(frames):
        phase = (f * frame_time_ms / 1000.0) / beat_s
        p = float(pulse(phase))
        radius = 0.5 * (c.diastolic_diameter_cm + (c.systolic_diameter_cm - c.diastolic_diameter_cm) * p)
        jug_r = 0.22 + 0.03 * np.sin(2 * np.pi * (phase * 0.25 + 0.3))  # slow respiratory variation
        r_art = np.abs(D - axis)
        r_jug = np.abs(D - jugular)
        tissue = echo.copy()
        tissue = np.where(np.abs(r_art - radius - 0.04) < 0.035, 1.3, tissue)  # intima-media, adventitia
        tissue = np.where(r_art < radius, 0.006, tissue)
        tissue = np.where(np.abs(r_jug - jug_r - 0.02) < 0.02, 0.9, tissue)
        tissue = np.where(r_jug < jug_r, 0.008, tissue)
        # Speckle decorrelates a little from frame to frame.
        speckle = 0.85 * speckle_a + 0.15 * _speckle(rng, (h, w), px_y, px_x)
        grey = _log_compress(tissue * speckle)

        rgb = np.repeat(grey[:, :, None], 3, axis=2)
        # Colour flow: parabolic profile, velocity following the pulse, aliasing above Nyquist.
        inside = box & (r_art < radius * 0.95)
        velocity = (20.0 + (c.peak_velocity_cm_s - 20.0) * p) * (1.0 - (r_art / radius) ** 2)
        wrapped = (velocity + c.nyquist_cm_s) % (2 * c.nyquist_cm_s) - c.nyquist_cm_s
        rgb[inside] = _velocity_colour(wrapped[inside] / c.nyquist_cm_s)
        _box_outline(rgb, lateral, depth)

        frame = frames_out[f]
        frame[y0 : y1 + 1, x0 : x1 + 1] = rgb
        _colour_bar(frame, region)
    return frames_out


def _speckle(rng: np.random.Generator, shape: tuple[int, int], sy: float, sx: float) -> np.ndarray:
    """Fully developed speckle: Rayleigh amplitude of a band-limited complex field."""
    re = rng.standard_normal(shape, dtype=np.float32)
    im = rng.standard_normal(shape, dtype=np.float32)
    re = _blur_xy(re, sy, sx)
    im = _blur_xy(im, sy, sx)
    amp = np.sqrt(re * re + im * im)
    return amp / (amp.mean() or 1.0)


def _blur_xy(a: np.ndarray, sy: float, sx: float) -> np.ndarray:
    if sy == sx:
        return gaussian_blur(a, sy)
    # Anisotropic: blur rows and columns separately.
    out = gaussian_blur(a, sy)
    if sx > sy:
        out = gaussian_blur(out.T, np.sqrt(max(sx * sx - sy * sy, 0.0))).T
    return out


def _log_compress(amplitude: np.ndarray) -> np.ndarray:
    db = 20.0 * np.log10(np.clip(amplitude, 1e-3, None))
    grey: np.ndarray = np.clip((db + 42.0) / 56.0 * 255.0, 0, 255).astype(np.uint8)
    return grey


def _colour_box(lateral: np.ndarray, depth: np.ndarray) -> np.ndarray:
    box: np.ndarray = (np.abs(lateral)[None, :] < 1.2) & (depth[:, None] > 1.3) & (depth[:, None] < 2.9)
    return box


def _velocity_colour(v: np.ndarray) -> np.ndarray:
    """Red towards the probe, blue away; brighter with speed."""
    s = np.clip(np.abs(v), 0.0, 1.0)
    pos = v >= 0
    r = np.where(pos, 120 + 135 * s, 0)
    g = np.where(pos, 200 * s**2, 120 * s**2)
    b = np.where(pos, 0, 120 + 135 * s)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


def _box_outline(rgb: np.ndarray, lateral: np.ndarray, depth: np.ndarray) -> None:
    cols = np.nonzero(np.abs(lateral) < 1.2)[0]
    rows = np.nonzero((depth > 1.3) & (depth < 2.9))[0]
    if len(cols) < 2 or len(rows) < 2:
        return
    r0, r1, c0, c1 = rows[0], rows[-1], cols[0], cols[-1]
    for r in (r0, r1):
        rgb[r, c0 : c1 + 1] = 200
    for col in (c0, c1):
        rgb[r0 : r1 + 1, col] = 200


def _colour_bar(frame: np.ndarray, region: tuple[int, int, int, int]) -> None:
    """The Doppler velocity scale to the right of the image region."""
    x0, y0, x1, y1 = region
    cols = frame.shape[1]
    bx0 = x1 + max((cols - x1) // 3, 1)
    bx1 = min(bx0 + max(cols // 60, 1), cols)
    n = max((y1 - y0) // 2, 2)
    if bx0 >= cols:
        return
    v = np.linspace(1.0, -1.0, n)
    frame[y0 : y0 + n, bx0:bx1] = _velocity_colour(v)[:, None, :]
