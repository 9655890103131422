"""Geometry of three linked MPR planes: crosshair centre, rotation, oblique planes, labels, reference lines.

Pure numpy (no VTK, no Qt) so that every interaction of the MPR views can be
tested headless; the widgets only turn mouse events into these calls.

Conventions (LPS patient coordinates, radiological display): each plane has a
``right`` and an ``up`` screen direction and a ``normal = right × up`` pointing
towards the viewer.  Axial is seen from the feet (patient left on the screen's
right, anterior up), coronal from the front (patient left right, superior up),
sagittal from the patient's left (anterior left, superior up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

PLANE_NAMES = ("axial", "coronal", "sagittal")

_STANDARD = {
    "axial": (np.array([1.0, 0, 0]), np.array([0, -1.0, 0])),
    "coronal": (np.array([1.0, 0, 0]), np.array([0, 0, 1.0])),
    "sagittal": (np.array([0, 1.0, 0]), np.array([0, 0, 1.0])),
}
_LETTERS = (("R", "L"), ("A", "P"), ("I", "S"))  # negative, positive along x, y, z (LPS)


@dataclass(frozen=True)
class Plane:
    """An MPR plane through ``center``, with its screen axes (unit vectors, patient coordinates)."""

    name: str
    center: np.ndarray
    right: np.ndarray
    up: np.ndarray

    @property
    def normal(self) -> np.ndarray:
        normal: np.ndarray = np.cross(self.right, self.up)
        return normal

    def to_view(self, point: ArrayLike, reference: ArrayLike) -> np.ndarray:
        """(u, v) mm of a patient point in this plane's frame whose (0, 0) is ``reference`` projected on the plane."""
        rel = np.asarray(point, float) - np.asarray(reference, float)
        return np.array([rel @ self.right, rel @ self.up])

    def from_view(self, uv: Sequence[float] | np.ndarray, reference: ArrayLike) -> np.ndarray:
        """The patient point at (u, v) mm of this plane's frame (see :meth:`to_view`)."""
        ref = self.project(reference)
        point: np.ndarray = ref + uv[0] * self.right + uv[1] * self.up
        return point

    def project(self, point: ArrayLike) -> np.ndarray:
        """The point of the plane nearest to ``point``."""
        p = np.asarray(point, float)
        projected: np.ndarray = p - ((p - self.center) @ self.normal) * self.normal
        return projected

    def axes_matrix(self, reference: ArrayLike) -> np.ndarray:
        """4x4 whose columns are right, up, normal and the frame origin (``reference`` on the plane)."""
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2] = self.right, self.up, self.normal
        m[:3, 3] = self.project(reference)
        return m


def rotation(axis: ArrayLike, degrees: float) -> np.ndarray:
    """3x3 rotation by ``degrees`` about ``axis`` (right-hand rule)."""
    a = np.asarray(axis, float)
    a = a / np.linalg.norm(a)
    t = np.radians(degrees)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    r: np.ndarray = np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * (k @ k)
    return r


class MprGeometry:
    """Three mutually perpendicular planes through one centre (the crosshair).

    Parameters
    ----------
    center : array-like
        The first crosshair centre (usually the volume's centre), patient mm.
    reference : array-like, optional
        The fixed point whose projection is (0, 0) of every view's frame, so
        that a view does not jump while the centre moves (default: ``center``).
    """

    def __init__(self, center: ArrayLike, reference: ArrayLike | None = None) -> None:
        self.reference = np.array(reference if reference is not None else center, float)
        self._home = np.array(center, float)
        self.reset()

    def reset(self) -> None:
        """Back to the standard axial, coronal and sagittal planes through the first centre."""
        self.center = self._home.copy()
        self._axes = {name: (r.copy(), u.copy()) for name, (r, u) in _STANDARD.items()}

    def plane(self, name: str) -> Plane:
        right, up = self._axes[name]
        return Plane(name, self.center.copy(), right.copy(), up.copy())

    def planes(self) -> list[Plane]:
        return [self.plane(n) for n in PLANE_NAMES]

    # Interaction ---------------------------------------------------------------------------
    def move_center(self, point: ArrayLike) -> None:
        """Put the crosshair centre at a patient point (dragging the centre in any view)."""
        self.center = np.array(point, float)

    def move_center_in_view(self, name: str, uv: Sequence[float] | np.ndarray) -> None:
        """Dragging the centre in view ``name`` to (u, v) mm of that view's frame."""
        self.center = self.plane(name).from_view(uv, self.reference)

    def scroll(self, name: str, mm: float) -> None:
        """Move plane ``name`` along its normal (the centre moves with it)."""
        self.center = self.center + mm * self.plane(name).normal

    def rotate(self, name: str, degrees: float) -> None:
        """Rotate the two other planes about plane ``name``'s normal through the centre.

        Rotating a crosshair line in one view gives oblique planes in the others;
        doing it in a second view gives double-oblique planes.
        """
        r = rotation(self.plane(name).normal, degrees)
        for other in PLANE_NAMES:
            if other != name:
                right, up = self._axes[other]
                self._axes[other] = (r @ right, r @ up)

    def crosshair(self, name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """For view ``name``: each other plane's line as (point (u, v), unit direction (du, dv)) in view mm."""
        view = self.plane(name)
        centre = view.to_view(self.center, view.project(self.reference))
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for other in PLANE_NAMES:
            if other == name:
                continue
            d = np.cross(view.normal, self.plane(other).normal)
            d2 = np.array([d @ view.right, d @ view.up])
            n = np.linalg.norm(d2)
            out[other] = (centre, d2 / n if n > 1e-9 else np.array([1.0, 0.0]))
        return out

    def line_angle(self, name: str, other: str) -> float:
        """Angle (degrees, counter-clockwise from the view's right) of plane ``other``'s line in view ``name``."""
        _, d = self.crosshair(name)[other]
        return float(np.degrees(np.arctan2(d[1], d[0])))


def orientation_label(vector: ArrayLike, threshold: float = 0.25) -> str:
    """Patient direction letters (L/R, P/A, S/I) of a screen direction, strongest first.

    Components weaker than ``threshold`` are left out, so an oblique direction
    reads e.g. "LP" and a straight one "L".
    """
    v = np.asarray(vector, float)
    order = np.argsort(-np.abs(v))
    letters = [_LETTERS[i][int(v[i] > 0)] for i in order if abs(v[i]) >= threshold]
    return "".join(letters) or _LETTERS[order[0]][int(v[order[0]] > 0)]


def edge_labels(plane: Plane) -> dict[str, str]:
    """Letters for the left, right, top and bottom edges of a view of ``plane``."""
    return {
        "left": orientation_label(-plane.right),
        "right": orientation_label(plane.right),
        "top": orientation_label(plane.up),
        "bottom": orientation_label(-plane.up),
    }


def nice_length(mm_per_pixel: float, max_pixels: float) -> float:
    """The largest 1-2-5 length (mm) whose scale bar fits in ``max_pixels``."""
    limit = mm_per_pixel * max_pixels
    if limit <= 0:
        return 0.0
    base = 10 ** np.floor(np.log10(limit))
    for f in (5, 2, 1):
        if f * base <= limit:
            return float(f * base)
    return float(base)


def image_plane_segment(
    position: ArrayLike, orientation: Sequence[float] | np.ndarray, pixel_spacing: Sequence[float] | np.ndarray,
    rows: int, columns: int, plane: Plane,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Where an MPR plane cuts a 2D image: a segment in (column, row) pixel coordinates, or None.

    This is the reference line a 2D viewport of the same frame of reference draws.

    Parameters
    ----------
    position, orientation, pixel_spacing
        Image Position (Patient), Image Orientation (Patient) and Pixel Spacing
        (row spacing, column spacing) of the 2D image.
    rows, columns : int
        The image's size.
    plane : Plane
        The MPR plane.
    """
    origin = np.asarray(position, float)
    row_dir, col_dir = np.asarray(orientation[:3], float), np.asarray(orientation[3:], float)
    dr, dc = float(pixel_spacing[0]), float(pixel_spacing[1])
    # Signed distance of pixel (c, r) to the plane is linear: f = f0 + c * fc + r * fr.
    f0 = (origin - plane.center) @ plane.normal
    fc = dc * (row_dir @ plane.normal)
    fr = dr * (col_dir @ plane.normal)
    if abs(fc) < 1e-9 and abs(fr) < 1e-9:
        return None  # parallel planes (or the same plane): no line
    corners = [(0.0, 0.0), (columns - 1.0, 0.0), (columns - 1.0, rows - 1.0), (0.0, rows - 1.0)]
    values = [f0 + c * fc + r * fr for c, r in corners]
    points = []
    for i in range(4):
        (c0, r0), (c1, r1) = corners[i], corners[(i + 1) % 4]
        a, b = values[i], values[(i + 1) % 4]
        if a == 0:
            points.append(np.array([c0, r0]))
        if (a < 0 < b) or (b < 0 < a):
            t = a / (a - b)
            points.append(np.array([c0 + t * (c1 - c0), r0 + t * (r1 - r0)]))
    unique: list[np.ndarray] = []
    for p in points:
        if all(np.linalg.norm(p - q) > 1e-6 for q in unique):
            unique.append(p)
    if len(unique) < 2:
        return None
    return unique[0], unique[1]


def with_center(plane: Plane, center: ArrayLike) -> Plane:
    return replace(plane, center=np.asarray(center, float))


#: Patient axes by name, for rotations given on the command line.
AXES = {"x": np.array([1.0, 0, 0]), "y": np.array([0, 1.0, 0]), "z": np.array([0, 0, 1.0])}


def parse_axis(text: str) -> np.ndarray:
    """x, y or z (patient L-R, A-P, S-I), or a plane name (its normal in the standard orientation)."""
    key = text.strip().lower()
    if key in AXES:
        return AXES[key]
    if key in _STANDARD:
        right, up = _STANDARD[key]
        return np.cross(right, up)
    raise ValueError(f"unknown axis {text!r}: x, y, z, axial, coronal or sagittal")


def rotate_frame(geometry: MprGeometry, axis: ArrayLike, degrees: float) -> None:
    """Turn all three planes together about ``axis`` through the centre (an oblique frame)."""
    r = rotation(axis, degrees)
    for name in PLANE_NAMES:
        right, up = geometry._axes[name]
        geometry._axes[name] = (r @ right, r @ up)
