"""Registrations between frames of reference, for linking a prior to the current study.

A prior scanned with the patient placed differently has its own Frame of
Reference; once registered (see :mod:`workstation.clinical.registration`) a
4x4 matrix maps its patient coordinates to the current study's and back.
Linked scrolling and the 3D cursor map points through it while
:attr:`FrameRegistrations.enabled` (the reader can switch it off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:
    from workstation.imaging.cross_reference import FramePlane


class FrameRegistrations:
    """Known rigid mappings between Frame of Reference UIDs."""

    def __init__(self) -> None:
        self._matrices: dict[tuple[str, str], np.ndarray] = {}
        self.enabled = True

    def set(self, from_uid: str, to_uid: str, matrix: ArrayLike) -> None:
        """Record that ``matrix`` (4x4) takes points of ``from_uid`` to the same anatomy in ``to_uid``."""
        m = np.asarray(matrix, float)
        if m.shape != (4, 4):
            raise ValueError("a registration is a 4 x 4 matrix")
        self._matrices[(from_uid, to_uid)] = m
        self._matrices[(to_uid, from_uid)] = np.linalg.inv(m)

    def remove(self, a: str, b: str) -> None:
        self._matrices.pop((a, b), None)
        self._matrices.pop((b, a), None)

    def __len__(self) -> int:
        return len(self._matrices) // 2

    def matrix(self, from_uid: str, to_uid: str) -> np.ndarray | None:
        """The mapping in use between two frames (None when unknown, switched off, or the same frame)."""
        if not self.enabled or not from_uid or not to_uid or from_uid == to_uid:
            return None
        return self._matrices.get((from_uid, to_uid))

    def map_point(self, point: ArrayLike, from_uid: str, to_uid: str) -> np.ndarray | None:
        """``point`` (patient mm in ``from_uid``) in ``to_uid``'s coordinates, or None without a mapping."""
        m = self.matrix(from_uid, to_uid)
        if m is None:
            return None
        mapped: np.ndarray = (m @ np.append(np.asarray(point, float), 1.0))[:3]
        return mapped


@dataclass
class MappedFrame:
    """A frame's plane carried into another frame of reference (what reference lines need of a FrameRef)."""

    position: np.ndarray
    orientation: np.ndarray
    pixel_spacing: tuple[float, float] | None
    rows: int
    columns: int
    derived: dict[str, Any] = field(default_factory=dict)

    @property
    def normal(self) -> np.ndarray:
        normal: np.ndarray = np.cross(self.orientation[:3], self.orientation[3:])
        return normal


def mapped_frame(frame: FramePlane, matrix: np.ndarray) -> MappedFrame | None:
    """``frame``'s plane (position and direction cosines) moved by a rigid ``matrix``, or None without geometry."""
    if frame.position is None or frame.orientation is None:
        return None
    r = np.asarray(matrix, float)[:3, :3]
    o = np.asarray(frame.orientation, float)
    position = r @ np.asarray(frame.position, float) + np.asarray(matrix, float)[:3, 3]
    return MappedFrame(position, np.concatenate([r @ o[:3], r @ o[3:]]), frame.pixel_spacing, frame.rows,
                       frame.columns)  # fmt: skip
