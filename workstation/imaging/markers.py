"""Orientation markers on a viewport's four edges, as the view is rotated and flipped.

From Image Orientation (Patient) the direction each screen edge points to in
the patient is computed and named with up to three letters, the main
direction first (an oblique plane gets e.g. "LA"); images with no Image
Orientation (Patient) use Patient Orientation (0020,0020) instead.
"""

from __future__ import annotations

import numpy as np

from workstation.imaging.viewstate import ViewState

# LPS patient axes: +x towards the patient's left, +y posterior, +z head.
_AXIS_LETTERS = (("R", "L"), ("A", "P"), ("F", "H"))
_OPPOSITE = {"L": "R", "R": "L", "A": "P", "P": "A", "H": "F", "F": "H", "S": "I", "I": "S"}
OBLIQUE_THRESHOLD = 0.25  # components smaller than this (cosine) are not named


def direction_letters(vector: np.ndarray, threshold: float = OBLIQUE_THRESHOLD) -> str:
    """Letters naming a patient direction (LPS), largest component first."""
    v = np.asarray(vector, dtype=float)
    norm = float(np.linalg.norm(v))
    if norm == 0:
        return ""
    v = v / norm
    order = np.argsort(-np.abs(v))
    return "".join(_AXIS_LETTERS[i][int(v[i] > 0)] for i in order if abs(v[i]) >= threshold)


def opposite(letters: str) -> str:
    return "".join(_OPPOSITE.get(c, c) for c in letters)


EDGES = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "top": (0.0, -1.0), "bottom": (0.0, 1.0)}


def edge_markers(view: ViewState, orientation: np.ndarray | None,
                 pixel_spacing: tuple[float, float] | None = None,
                 patient_orientation: tuple[str, str] | None = None) -> dict[str, str]:
    """The marker of each screen edge ("left", "right", "top", "bottom"), "" when unknown.

    Parameters
    ----------
    view : ViewState
        The viewport's transform (rotation and flips count).
    orientation : numpy.ndarray or None
        Image Orientation (Patient), six direction cosines.
    pixel_spacing : tuple, optional
        (row, column) spacing: with non-square pixels a screen diagonal is not an image diagonal.
    patient_orientation : tuple of str, optional
        Patient Orientation: the directions of the rows (towards the right) and the columns (down).
    """
    out = {}
    row_spacing, col_spacing = pixel_spacing or (1.0, 1.0)
    for edge, (du, dv) in EDGES.items():
        dx, dy = view.image_direction(du, dv)
        if orientation is not None and len(orientation) == 6:
            vector = np.asarray(orientation[:3]) * dx * col_spacing + np.asarray(orientation[3:]) * dy * row_spacing
            out[edge] = direction_letters(vector)
        elif patient_orientation is not None and len(patient_orientation) == 2:
            rows_to, cols_to = patient_orientation
            if abs(dx) >= abs(dy):
                out[edge] = rows_to if dx > 0 else opposite(rows_to)
            else:
                out[edge] = cols_to if dy > 0 else opposite(cols_to)
        else:
            out[edge] = ""
    return out
