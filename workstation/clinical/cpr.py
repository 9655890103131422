"""Curved planar reformation (CPR) along a path drawn through a vessel or the spine.

The path is a few points in patient coordinates (clicked on any MPR plane).
A centripetal Catmull-Rom spline through them gives a smooth centre line; it
is sampled at equal arc-length steps, and a rotation-minimising frame
(double reflection, Wang et al. 2008) carries a normal along it without the
twists a Frenet frame has at inflections.  Three views come from it:

* the *straightened* CPR: each row is the line across the path through one
  centre-line point, along the frame's normal (turned by ``angle``), so the
  centre line is the image's middle column and the image's height is the
  path's length;
* the *stretched* CPR: each row is the line through the centre-line point
  along one fixed direction, rows spaced by arc length, so the surroundings
  keep their shape across the image;
* cross-sections: planes perpendicular to the path at given distances.

Sampling is trilinear (scipy.ndimage.map_coordinates) in the volume's
patient geometry; nothing here needs VTK.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from workstation.model.volume import Volume


class PathError(ValueError):
    """The points do not make a usable path (the message says why)."""


def _catmull_rom(points: np.ndarray, per_segment: int) -> np.ndarray:
    """Centripetal Catmull-Rom spline through ``points`` (n, 3), ``per_segment`` samples per span."""
    p = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        t0 = 0.0
        t1 = t0 + np.linalg.norm(p1 - p0) ** 0.5
        t2 = t1 + np.linalg.norm(p2 - p1) ** 0.5
        t3 = t2 + np.linalg.norm(p3 - p2) ** 0.5
        t = np.linspace(t1, t2, per_segment, endpoint=False)[:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    out.append(points[-1][None, :])
    return np.vstack(out)


@dataclass(frozen=True)
class CurvedPath:
    """A centre line sampled at equal arc-length steps, with a rotation-minimising frame.

    Attributes
    ----------
    positions : numpy.ndarray
        (n, 3) patient points, ``step_mm`` apart along the curve.
    tangents, normals, binormals : numpy.ndarray
        (n, 3) unit vectors of the frame at each point.
    step_mm : float
        Arc length between consecutive samples.
    length_mm : float
        Length of the path along the curve.
    """

    positions: np.ndarray
    tangents: np.ndarray
    normals: np.ndarray
    binormals: np.ndarray
    step_mm: float
    length_mm: float

    @classmethod
    def through(cls, points: npt.ArrayLike, step_mm: float = 0.5,
                up: npt.ArrayLike = (0.0, 0.0, 1.0)) -> CurvedPath:
        """The path through the clicked ``points`` (patient mm), sampled every ``step_mm``.

        Parameters
        ----------
        points : array_like
            (n >= 2, 3) points in order along the structure.
        step_mm : float
            Sampling step along the curve (the CPR's row spacing).
        up : array_like
            Direction the first normal leans towards (patient superior by default).
        """
        pts = np.asarray(points, float)
        if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 2:
            raise PathError("a curved path needs at least two points in patient coordinates")
        keep = np.concatenate([[True], np.linalg.norm(np.diff(pts, axis=0), axis=1) > 1e-6])
        pts = pts[keep]
        if len(pts) < 2:
            raise PathError("the path's points all lie on one spot")
        if step_mm <= 0:
            raise PathError("the sampling step must be positive")
        dense = _catmull_rom(pts, 200) if len(pts) > 2 else np.linspace(pts[0], pts[1], 201)
        seg = np.linalg.norm(np.diff(dense, axis=0), axis=1)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        length = float(arc[-1])
        n = max(2, int(np.floor(length / step_mm)) + 1)
        s = np.arange(n) * step_mm
        positions = np.column_stack([np.interp(s, arc, dense[:, k]) for k in range(3)])
        tangents = np.gradient(positions, axis=0)
        tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
        normals = _rotation_minimising(positions, tangents, np.asarray(up, float))
        binormals = np.cross(tangents, normals)
        return cls(positions, tangents, normals, binormals, float(step_mm), length)

    def frame_at(self, distance_mm: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(position, tangent, normal, binormal) at ``distance_mm`` along the path (nearest sample)."""
        i = int(np.clip(round(distance_mm / self.step_mm), 0, len(self.positions) - 1))
        return self.positions[i], self.tangents[i], self.normals[i], self.binormals[i]


def _rotation_minimising(positions: np.ndarray, tangents: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Normals by the double reflection method, starting from ``up`` made perpendicular to the first tangent."""
    r = up - np.dot(up, tangents[0]) * tangents[0]
    if np.linalg.norm(r) < 1e-6:  # the path starts along ``up``: lean towards patient anterior instead
        alt = np.array([0.0, -1.0, 0.0]) if abs(tangents[0][1]) < 0.9 else np.array([1.0, 0.0, 0.0])
        r = alt - np.dot(alt, tangents[0]) * tangents[0]
    normals = np.empty_like(positions)
    normals[0] = r / np.linalg.norm(r)
    for i in range(len(positions) - 1):
        v1 = positions[i + 1] - positions[i]
        c1 = float(np.dot(v1, v1))
        if c1 < 1e-12:
            normals[i + 1] = normals[i]
            continue
        rl = normals[i] - (2.0 / c1) * np.dot(v1, normals[i]) * v1
        tl = tangents[i] - (2.0 / c1) * np.dot(v1, tangents[i]) * v1
        v2 = tangents[i + 1] - tl
        c2 = float(np.dot(v2, v2))
        nxt = rl - (2.0 / c2) * np.dot(v2, rl) * v2 if c2 > 1e-12 else rl
        nxt -= np.dot(nxt, tangents[i + 1]) * tangents[i + 1]
        normals[i + 1] = nxt / np.linalg.norm(nxt)
    return normals


def sample(volume: Volume, points: np.ndarray, fill: float | None = None) -> np.ndarray:
    """Trilinear modality values of ``volume`` at patient ``points`` (..., 3); ``fill`` outside."""
    from scipy import ndimage

    pts = np.asarray(points, float)
    flat = pts.reshape(-1, 3)
    inv = np.linalg.inv(volume.index_to_patient())
    idx = (inv[:3, :3] @ flat.T) + inv[:3, 3:4]  # (x, y, z) continuous voxel indices
    array = volume.array
    if fill is None:
        fill = float(volume.modality_value(volume.minimum()))
    values = ndimage.map_coordinates(np.asarray(array, np.float32), idx[::-1], order=1, mode="constant",
                                     cval=np.nan, prefilter=False)  # fmt: skip
    values = np.asarray(volume.modality_value(values), np.float32)
    values[np.isnan(values)] = fill
    return values.reshape(pts.shape[:-1])


@dataclass(frozen=True)
class CPRImage:
    """A CPR image: rows follow the path, ``pixels[i, j]`` at ``distance_mm[i]`` and ``offset_mm[j]``."""

    pixels: np.ndarray
    distance_mm: np.ndarray
    offset_mm: np.ndarray
    centre_column: float


def straightened_cpr(volume: Volume, path: CurvedPath, width_mm: float = 60.0, angle_deg: float = 0.0,
                     pixel_mm: float | None = None) -> CPRImage:  # fmt: skip
    """The straightened CPR: the centre line is the middle column, rows are ``path.step_mm`` apart.

    Parameters
    ----------
    width_mm : float
        Width across the path.
    angle_deg : float
        Turn of the cutting direction about the centre line (0: the frame's normal).
    pixel_mm : float, optional
        Column spacing (default: the path's step).
    """
    pixel = pixel_mm or path.step_mm
    half = int(round(width_mm / 2 / pixel))
    offsets = np.arange(-half, half + 1) * pixel
    a = np.radians(angle_deg)
    across = np.cos(a) * path.normals + np.sin(a) * path.binormals
    points = path.positions[:, None, :] + offsets[None, :, None] * across[:, None, :]
    distances = np.arange(len(path.positions)) * path.step_mm
    return CPRImage(sample(volume, points), distances, offsets, float(half))


def stretched_cpr(volume: Volume, path: CurvedPath, direction: npt.ArrayLike, width_mm: float = 60.0,
                  pixel_mm: float | None = None) -> CPRImage:  # fmt: skip
    """The stretched CPR: every row runs along the one ``direction`` (a patient vector), rows by arc length."""
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    pixel = pixel_mm or path.step_mm
    half = int(round(width_mm / 2 / pixel))
    offsets = np.arange(-half, half + 1) * pixel
    points = path.positions[:, None, :] + offsets[None, :, None] * d[None, None, :]
    distances = np.arange(len(path.positions)) * path.step_mm
    return CPRImage(sample(volume, points), distances, offsets, float(half))


def cross_section(volume: Volume, path: CurvedPath, distance_mm: float, size_mm: float = 40.0,
                  pixel_mm: float = 0.5) -> np.ndarray:  # fmt: skip
    """The plane perpendicular to the path at ``distance_mm``: rows along the binormal, columns along the normal.

    The path's point is the image's centre pixel (``n // 2``, ``n // 2``).
    """
    p, _, normal, binormal = path.frame_at(distance_mm)
    half = int(round(size_mm / 2 / pixel_mm))
    u = np.arange(-half, half + 1) * pixel_mm
    points = p[None, None, :] + u[None, :, None] * normal[None, None, :] + u[:, None, None] * binormal[None, None, :]
    return sample(volume, points)
