"""Painting primitives for analytic phantoms sampled on a regular grid.

A :class:`SliceCanvas` holds one axial slice of values on a grid of patient
coordinates (``xs`` along columns, ``ys`` along rows, both in mm).  Shapes are
painted inside their bounding box only, so a small structure costs little on
a 512 x 512 slice; coordinates inside a box are broadcast 1-D arrays rather
than full meshgrids.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Point3 = tuple[float, float, float]


class SliceCanvas:
    """One slice of float32 values on the grid ``ys`` (rows) x ``xs`` (columns).

    Parameters
    ----------
    xs, ys : numpy.ndarray
        Increasing, evenly spaced pixel-centre coordinates in mm.
    z : float
        Coordinate of the slice along the slice normal, in mm.
    fill : float
        Initial value of every pixel.
    """

    def __init__(self, xs: np.ndarray, ys: np.ndarray, z: float, fill: float) -> None:
        self.xs = np.asarray(xs, dtype=np.float32)
        self.ys = np.asarray(ys, dtype=np.float32)
        self.z = float(z)
        self.values = np.full((len(self.ys), len(self.xs)), fill, dtype=np.float32)
        self._dx = float(self.xs[1] - self.xs[0]) if len(self.xs) > 1 else 1.0
        self._dy = float(self.ys[1] - self.ys[0]) if len(self.ys) > 1 else 1.0

    def box(self, xmin: float, xmax: float, ymin: float,
            ymax: float) -> tuple[slice, slice, np.ndarray, np.ndarray] | None:
        """Index slices and broadcast coordinates of the pixels inside a box.

        Returns
        -------
        tuple or None
            ``(rows, cols, X, Y)`` with ``X`` of shape (1, n) and ``Y`` of shape
            (m, 1); None when the box misses the grid.
        """
        c0 = max(int(np.floor((xmin - self.xs[0]) / self._dx)), 0)
        c1 = min(int(np.ceil((xmax - self.xs[0]) / self._dx)) + 1, len(self.xs))
        r0 = max(int(np.floor((ymin - self.ys[0]) / self._dy)), 0)
        r1 = min(int(np.ceil((ymax - self.ys[0]) / self._dy)) + 1, len(self.ys))
        if c0 >= c1 or r0 >= r1:
            return None
        rows, cols = slice(r0, r1), slice(c0, c1)
        return rows, cols, self.xs[cols][None, :], self.ys[rows][:, None]

    def ellipse(
        self,
        cx: float,
        cy: float,
        ax: float,
        by: float,
        value: float,
        *,
        inside: np.ndarray | None = None,
        angle: float = 0.0,
    ) -> None:
        """Paint a filled ellipse (semi-axes ``ax``, ``by``; rotated by ``angle`` rad)."""
        if ax <= 0 or by <= 0:
            return
        reach = max(ax, by)
        hit = self.box(cx - reach, cx + reach, cy - reach, cy + reach)
        if hit is None:
            return
        rows, cols, X, Y = hit
        u, v = X - cx, Y - cy
        if angle:
            c, s = np.cos(angle), np.sin(angle)
            u, v = c * u + s * v, -s * u + c * v
        mask = (u / ax) ** 2 + (v / by) ** 2 <= 1.0
        if inside is not None:
            mask &= inside[rows, cols]
        self.values[rows, cols][mask] = value

    def tubes(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        radii: np.ndarray,
        values: np.ndarray | float,
        *,
        inside: np.ndarray | None = None,
    ) -> None:
        """Paint the cross-sections of 3-D cylinders (capsules) with this slice.

        Parameters
        ----------
        starts, ends : numpy.ndarray
            (n, 3) segment end points in mm.
        radii : numpy.ndarray
            (n,) radii in mm.
        values : numpy.ndarray or float
            Value painted for each segment.
        inside : numpy.ndarray, optional
            Boolean mask of the slice; only pixels inside it are painted.
        """
        z = self.z
        lo = np.minimum(starts[:, 2], ends[:, 2]) - radii
        hi = np.maximum(starts[:, 2], ends[:, 2]) + radii
        hits = np.nonzero((lo <= z) & (hi >= z))[0]
        if not len(hits):
            return
        values = np.broadcast_to(np.asarray(values, dtype=np.float32), radii.shape)[hits]
        p0 = starts[hits].astype(np.float64)
        d = ends[hits] - p0
        r = radii[hits].astype(np.float64)
        # Only the part of each segment within r of the plane can touch it.
        flat = np.abs(d[:, 2]) <= 1e-6
        dz = np.where(flat, 1.0, d[:, 2])
        ta, tb = (z - r - p0[:, 2]) / dz, (z + r - p0[:, 2]) / dz
        t0 = np.where(flat, 0.0, np.clip(np.minimum(ta, tb), 0.0, 1.0))
        t1 = np.where(flat, 1.0, np.clip(np.maximum(ta, tb), 0.0, 1.0))
        qa, qb = p0 + t0[:, None] * d, p0 + t1[:, None] * d
        lo_xy = np.minimum(qa, qb)[:, :2] - r[:, None]
        hi_xy = np.maximum(qa, qb)[:, :2] + r[:, None]
        c0 = np.maximum(np.floor((lo_xy[:, 0] - self.xs[0]) / self._dx).astype(int), 0)
        c1 = np.minimum(np.ceil((hi_xy[:, 0] - self.xs[0]) / self._dx).astype(int) + 1, len(self.xs))
        r0 = np.maximum(np.floor((lo_xy[:, 1] - self.ys[0]) / self._dy).astype(int), 0)
        r1 = np.minimum(np.ceil((hi_xy[:, 1] - self.ys[0]) / self._dy).astype(int) + 1, len(self.ys))
        dd = np.maximum((d * d).sum(axis=1), 1e-12)
        rel_z = z - p0[:, 2]
        for i in np.nonzero((c0 < c1) & (r0 < r1))[0]:
            rows, cols = slice(r0[i], r1[i]), slice(c0[i], c1[i])
            wx = self.xs[cols][None, :] - p0[i, 0]
            wy = self.ys[rows][:, None] - p0[i, 1]
            dx, dy, dzi = d[i]
            t = np.clip((wx * dx + wy * dy + rel_z[i] * dzi) / dd[i], 0.0, 1.0)
            mask = (wx - t * dx) ** 2 + (wy - t * dy) ** 2 + (rel_z[i] - t * dzi) ** 2 <= r[i] * r[i]
            if inside is not None:
                mask &= inside[rows, cols]
            self.values[rows, cols][mask] = values[i]

def polyline(points: Sequence[Point3]) -> tuple[np.ndarray, np.ndarray]:
    """Start and end points of the segments joining consecutive ``points``."""
    p = np.asarray(points, dtype=np.float64)
    return p[:-1], p[1:]


def box_blur3(image: np.ndarray) -> np.ndarray:
    """3 x 3 mean filter with edge replication (vectorised, no SciPy needed)."""
    p = np.pad(image, 1, mode="edge")
    out = np.zeros_like(image, dtype=np.float32)
    h, w = image.shape
    for dy in range(3):
        for dx in range(3):
            out += p[dy : dy + h, dx : dx + w]
    return out / 9.0


def gaussian_blur(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian blur by FFT-free convolution along both axes."""
    if sigma_px <= 0:
        return image.astype(np.float32, copy=True)
    radius = max(int(3 * sigma_px), 1)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_px) ** 2).astype(np.float32)
    k /= k.sum()
    out = image.astype(np.float32, copy=True)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        p = np.pad(out, pad, mode="edge")
        acc = np.zeros_like(out)
        n = out.shape[axis]
        for j, w in enumerate(k):
            acc += w * (p[j : j + n, :] if axis == 0 else p[:, j : j + n])
        out = acc
    return out


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], beta: float) -> np.ndarray:
    """Zero-mean, unit-variance random field with a 1/f**beta power spectrum."""
    white = rng.standard_normal(shape, dtype=np.float32)
    spectrum = np.fft.rfftn(white)
    freqs = [np.fft.fftfreq(n) for n in shape[:-1]] + [np.fft.rfftfreq(shape[-1])]
    grids = np.meshgrid(*freqs, indexing="ij", sparse=True)
    f2 = sum(g.astype(np.float32) ** 2 for g in grids)
    f2.flat[0] = 1.0
    spectrum *= f2 ** (-beta / 4.0)
    spectrum.flat[0] = 0.0
    field = np.fft.irfftn(spectrum, s=shape, axes=tuple(range(len(shape)))).astype(np.float32)
    field /= field.std() or 1.0
    return field
