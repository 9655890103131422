"""Image plane geometry: patient coordinates, orientation markers, reference lines.

Coordinates
-----------
*Patient* coordinates are the DICOM patient coordinate system (LPS, mm):
+x towards the patient's left, +y posterior, +z head (PS3.3 C.7.6.2.1.1).

*Image* coordinates are those of Graphic Annotation PIXEL units (PS3.3
C.10.5.1.2): ``(x, y) = (0, 0)`` is the top left corner of the top left
pixel, ``(columns, rows)`` the bottom right corner of the bottom right pixel,
so the centre of the pixel in column ``c`` and row ``r`` is ``(c + 0.5, r + 0.5)``.

*View* transforms are those of the Spatial Transformation Module (PS3.3
C.10.6): a clockwise rotation by quarter turns, then an optional horizontal
flip (a vertical flip is a half turn and a horizontal flip).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pydicom.dataset import Dataset

from workstation.imaging.frames import frame_dataset

__all__ = [
    "ImagePlane",
    "OBLIQUE_THRESHOLD",
    "orientation_letters",
    "opposite_letters",
    "edge_labels",
    "edge_labels_from_patient_orientation",
    "image_direction",
    "reference_line",
]

#: Direction cosines below this are left out of a marker (about 15 degrees).
OBLIQUE_THRESHOLD = 0.25

_LETTERS = (("R", "L"), ("A", "P"), ("F", "H"))
_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "H": "F", "F": "H"}
_EDGES = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "top": (0.0, -1.0), "bottom": (0.0, 1.0)}


def _floats(value: Iterable[Any], n: int) -> np.ndarray | None:
    try:
        out = np.array([float(v) for v in value], dtype=float)
    except (TypeError, ValueError):
        return None
    return out if out.shape == (n,) and np.all(np.isfinite(out)) else None


@dataclass(frozen=True)
class ImagePlane:
    """Where one frame lies in the patient.

    Attributes
    ----------
    position : numpy.ndarray
        Image Position (Patient): the centre of the top left pixel, mm.
    row_direction, column_direction : numpy.ndarray
        Image Orientation (Patient): unit vectors along a row (increasing
        column) and along a column (increasing row).
    row_spacing, column_spacing : float
        Pixel Spacing: mm between row centres, between column centres.
    rows, columns : int
        Size of the frame.
    frame_of_reference_uid : str
        Frame of Reference UID ("" when absent).
    """

    position: np.ndarray
    row_direction: np.ndarray
    column_direction: np.ndarray
    row_spacing: float
    column_spacing: float
    rows: int
    columns: int
    frame_of_reference_uid: str = ""

    @classmethod
    def from_dataset(cls, ds: Dataset, frame: int = 0) -> ImagePlane | None:
        """The plane of one frame (per-frame functional groups resolved), or None.

        None when Image Position (Patient), Image Orientation (Patient) or
        Pixel Spacing is missing or unusable (projection images, for example).
        """
        flat = frame_dataset(ds, frame)
        position = _floats(flat.get("ImagePositionPatient") or [], 3)
        orientation = _floats(flat.get("ImageOrientationPatient") or [], 6)
        spacing = _floats(flat.get("PixelSpacing") or [], 2)
        if position is None or orientation is None or spacing is None or np.any(spacing <= 0):
            return None
        row_dir, col_dir = orientation[:3], orientation[3:]
        if np.linalg.norm(row_dir) < 1e-6 or np.linalg.norm(col_dir) < 1e-6:
            return None
        try:
            rows, columns = int(flat.Rows), int(flat.Columns)
        except (AttributeError, TypeError, ValueError):
            return None
        return cls(
            position=position,
            row_direction=row_dir / np.linalg.norm(row_dir),
            column_direction=col_dir / np.linalg.norm(col_dir),
            row_spacing=float(spacing[0]),
            column_spacing=float(spacing[1]),
            rows=rows,
            columns=columns,
            frame_of_reference_uid=str(ds.get("FrameOfReferenceUID", "") or ""),
        )

    @property
    def normal(self) -> np.ndarray:
        """Unit normal (row direction x column direction)."""
        n = np.cross(self.row_direction, self.column_direction)
        unit: np.ndarray = n / np.linalg.norm(n)
        return unit

    def patient_point(self, x: float, y: float) -> np.ndarray:
        """Patient coordinates (mm) of image point ``(x, y)`` (PIXEL units).

        The centre of pixel (column c, row r) is ``patient_point(c + 0.5, r + 0.5)``.
        """
        return (
            self.position
            + self.row_direction * ((x - 0.5) * self.column_spacing)
            + self.column_direction * ((y - 0.5) * self.row_spacing)
        )

    def image_point(self, point: ArrayLike) -> tuple[float, float, float]:
        """Project a patient point onto the plane.

        Returns
        -------
        (x, y, distance)
            Image coordinates (PIXEL units) of the projection and the signed
            distance (mm) of the point from the plane along :attr:`normal`.
        """
        d = np.asarray(point, dtype=float) - self.position
        x = float(d @ self.row_direction) / self.column_spacing + 0.5
        y = float(d @ self.column_direction) / self.row_spacing + 0.5
        return x, y, float(d @ self.normal)

    def corners(self) -> np.ndarray:
        """Patient coordinates of the image's four outer corners, clockwise from top left."""
        return np.array(
            [
                self.patient_point(0, 0),
                self.patient_point(self.columns, 0),
                self.patient_point(self.columns, self.rows),
                self.patient_point(0, self.rows),
            ]
        )

    def contains(self, x: float, y: float) -> bool:
        """True when image point ``(x, y)`` is on the image."""
        return 0.0 <= x <= self.columns and 0.0 <= y <= self.rows


# -- orientation markers -----------------------------------------------------------------


def orientation_letters(vector: ArrayLike, threshold: float = OBLIQUE_THRESHOLD) -> str:
    """Letters naming a patient direction: L/R, A/P, H/F, the largest component first.

    Parameters
    ----------
    vector : array_like
        A direction in patient coordinates (LPS).
    threshold : float
        Components of the unit vector smaller than this are not named, so an
        axial plane tilted by a few degrees stays "L", not "LF".

    Returns
    -------
    str
        Up to three letters ("L", "LA", "LAH", ...); "" for a zero vector.
    """
    v = np.asarray(vector, dtype=float)
    norm = float(np.linalg.norm(v))
    if norm == 0 or not np.isfinite(norm):
        return ""
    v = v / norm
    order = np.argsort(-np.abs(v), kind="stable")
    return "".join(_LETTERS[i][int(v[i] > 0)] for i in order if abs(v[i]) >= threshold)


def opposite_letters(letters: str) -> str:
    """The opposite direction's letters ("LA" -> "RP")."""
    return "".join(_OPPOSITE.get(c, c) for c in letters)


def image_direction(
    screen: tuple[float, float], rotation: int = 0, flip_horizontal: bool = False
) -> tuple[float, float]:
    """The image direction shown along a screen direction.

    Parameters
    ----------
    screen : (float, float)
        A direction on screen, x to the right, y down.
    rotation : int
        Clockwise rotation in degrees (a multiple of 90) or in quarter turns (0..3).
    flip_horizontal : bool
        Horizontal flip applied after the rotation (PS3.3 C.10.6).

    Returns
    -------
    (float, float)
        The direction in image columns (x) and rows (y).
    """
    quarter = _quarter_turns(rotation)
    x, y = screen
    if flip_horizontal:
        x = -x
    for _ in range(quarter):  # undo clockwise quarter turns: turn counter-clockwise
        x, y = y, -x
    return float(x), float(y)


def _quarter_turns(rotation: int) -> int:
    rotation = int(rotation)
    if rotation % 90 == 0 and abs(rotation) >= 90:
        rotation //= 90
    return rotation % 4


def edge_labels(
    row_direction: ArrayLike,
    column_direction: ArrayLike,
    rotation: int = 0,
    flip_horizontal: bool = False,
    threshold: float = OBLIQUE_THRESHOLD,
) -> dict[str, str]:
    """Orientation markers of the four screen edges from Image Orientation (Patient).

    Parameters
    ----------
    row_direction, column_direction : array_like
        The two direction cosine triplets of Image Orientation (Patient).
    rotation : int
        Clockwise rotation of the view (degrees or quarter turns).
    flip_horizontal : bool
        Horizontal flip after the rotation.
    threshold : float
        See :func:`orientation_letters`.

    Returns
    -------
    dict
        ``{"left": ..., "right": ..., "top": ..., "bottom": ...}``: the
        patient direction each edge faces (an axial image of a supine patient
        seen from the feet: right edge "L", top "A").
    """
    row = np.asarray(row_direction, dtype=float)
    col = np.asarray(column_direction, dtype=float)
    out = {}
    for edge, screen in _EDGES.items():
        dx, dy = image_direction(screen, rotation, flip_horizontal)
        out[edge] = orientation_letters(row * dx + col * dy, threshold)
    return out


def edge_labels_from_patient_orientation(
    patient_orientation: Iterable[object] | None, rotation: int = 0, flip_horizontal: bool = False
) -> dict[str, str]:
    """Edge markers from Patient Orientation (0020,0020), for images without a plane.

    Parameters
    ----------
    patient_orientation : sequence of str
        Two values: the direction of the rows (towards increasing column)
        and of the columns (towards increasing row), e.g. ``["P", "F"]``.
    rotation, flip_horizontal
        As in :func:`edge_labels`.

    Returns
    -------
    dict
        As :func:`edge_labels`; all "" when Patient Orientation is unusable.
    """
    values = [str(v).strip().upper() for v in (patient_orientation or [])]
    if len(values) != 2 or not all(values):
        return {edge: "" for edge in _EDGES}
    # "S"/"I" are not DICOM letters but appear in old images; read them as H/F.
    along_row, along_column = (v.replace("S", "H").replace("I", "F") for v in values)
    out = {}
    for edge, screen in _EDGES.items():
        dx, dy = image_direction(screen, rotation, flip_horizontal)
        if abs(dx) >= abs(dy):
            out[edge] = along_row if dx > 0 else opposite_letters(along_row)
        else:
            out[edge] = along_column if dy > 0 else opposite_letters(along_column)
    return out


# -- reference lines ---------------------------------------------------------------------


def _clip(p0: np.ndarray, d: np.ndarray, low: np.ndarray, high: np.ndarray, t0: float,
          t1: float) -> tuple[float, float] | None:
    """Liang-Barsky: the part [t0, t1] of p0 + t d inside the box low..high, or None."""
    for axis in range(2):
        if abs(d[axis]) < 1e-12:
            if p0[axis] < low[axis] - 1e-9 or p0[axis] > high[axis] + 1e-9:
                return None
            continue
        ta = (low[axis] - p0[axis]) / d[axis]
        tb = (high[axis] - p0[axis]) / d[axis]
        if ta > tb:
            ta, tb = tb, ta
        t0, t1 = max(t0, ta), min(t1, tb)
        if t0 > t1:
            return None
    return t0, t1


def reference_line(
    source: ImagePlane, target: ImagePlane, *, require_same_frame_of_reference: bool = True
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Where the ``source`` image cuts the ``target`` image: a reference line.

    Parameters
    ----------
    source : ImagePlane
        The image whose position is shown (another viewport's current slice).
    target : ImagePlane
        The image the line is drawn on.
    require_same_frame_of_reference : bool
        Refuse planes of different Frame of Reference UIDs (their patient
        coordinates are unrelated).

    Returns
    -------
    ((x0, y0), (x1, y1)) or None
        The segment in ``target`` image coordinates (PIXEL units) where the
        two images (as finite rectangles) intersect; None when the planes
        are parallel, do not meet within both images, or belong to different
        frames of reference.
    """
    if require_same_frame_of_reference and (
        not source.frame_of_reference_uid
        or source.frame_of_reference_uid != target.frame_of_reference_uid
    ):
        return None
    n = source.normal
    # Points (x, y) of the target plane with n . (P(x, y) - S) = 0: a x + b y + c = 0.
    a = float(n @ target.row_direction) * target.column_spacing
    b = float(n @ target.column_direction) * target.row_spacing
    c = float(n @ (target.patient_point(0.0, 0.0) - source.position))
    norm = np.hypot(a, b)
    if norm < 1e-9 * max(target.column_spacing, target.row_spacing):
        return None  # parallel planes
    p0 = np.array([-a * c, -b * c]) / norm**2  # the point of the line closest to the origin
    d = np.array([-b, a]) / norm
    big = float(target.columns + target.rows) * 4 + abs(c) / norm + 1.0
    span = _clip(p0, d, np.zeros(2), np.array([target.columns, target.rows], float), -big, big)
    if span is None:
        return None
    # Keep only the part that also lies on the source image.
    start = target.patient_point(*(p0 + d * span[0]))
    end = target.patient_point(*(p0 + d * span[1]))
    s0 = np.array(source.image_point(start)[:2])
    s1 = np.array(source.image_point(end)[:2])
    part = _clip(s0, s1 - s0, np.zeros(2), np.array([source.columns, source.rows], float), 0.0, 1.0)
    if part is None:
        return None
    t0 = span[0] + (span[1] - span[0]) * part[0]
    t1 = span[0] + (span[1] - span[0]) * part[1]
    q0, q1 = p0 + d * t0, p0 + d * t1
    return (float(q0[0]), float(q0[1])), (float(q1[0]), float(q1[1]))
