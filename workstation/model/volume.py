"""Reading a stack of planes into one volume with its patient-space geometry.

The fast path needs no DICOM parsing: the index knows where each file's native
Pixel Data starts, so each plane is read with one ``readinto`` straight into
its place in the preallocated volume (no intermediate copies, no float data).
Other transfer syntaxes go through :func:`workstation.dicom.pixels.decode_pixels`
one frame at a time.  Planes are ordered by position along the slice normal
(see :mod:`workstation.model.stacks`), never by Instance Number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import overload

import numpy as np
import numpy.typing as npt
import pydicom

from workstation.model.slices import SliceRef, slices_from_rows
from workstation.model.stacks import Stack, split_stacks
from workstation.store.queries import InstanceRow


class VolumeError(ValueError):
    """The series cannot be read as one volume (the message says why)."""


@dataclass
class Volume:
    """Voxels as ``array[z, y, x]`` with their geometry.

    Attributes
    ----------
    array : numpy.ndarray
        int16 or uint16 (int32/uint32 for 32-bit data; float32 only when the
        planes' Rescale Slope/Intercept differ and ``rescaled`` was asked for).
        Modality values when ``rescaled``; else stored values, to be mapped
        with ``rescale_slope`` and ``rescale_intercept``.
    origin : numpy.ndarray
        Patient position (LPS, mm) of the centre of voxel (0, 0, 0).
    spacing : numpy.ndarray
        Voxel size along x (columns), y (rows) and z (planes), mm.
    direction : numpy.ndarray
        3x3; columns are the row direction, the column direction and the slice
        normal in patient coordinates.
    acquired : numpy.ndarray
        One bool per plane: False where a missing slice was filled.
    notes : list of str
        What the reader should know (gaps, duplicates, tilt ...).
    """

    array: np.ndarray
    origin: np.ndarray
    spacing: np.ndarray
    direction: np.ndarray
    sop_instance_uids: list[str] = field(default_factory=list)
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    rescaled: bool = False
    acquired: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    frame_of_reference_uid: str = ""
    series_uid: str = ""
    modality: str = ""
    _minimum: tuple[np.ndarray, float] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(self.array.shape[-3:])

    def index_to_patient(self) -> np.ndarray:
        """4x4 matrix taking (x, y, z, 1) voxel indices to patient coordinates (mm)."""
        m = np.eye(4)
        m[:3, :3] = self.direction * self.spacing[np.newaxis, :]
        m[:3, 3] = self.origin
        return m

    def patient_to_index(self, point: npt.ArrayLike) -> np.ndarray:
        """Continuous (x, y, z) voxel index of a patient point."""
        rel = np.asarray(point, float) - self.origin
        index: np.ndarray = (self.direction.T @ rel) / self.spacing
        return index

    def center(self) -> np.ndarray:
        """Patient position of the volume's centre."""
        idx = (np.array(self.shape[::-1], float) - 1) / 2
        centre: np.ndarray = self.index_to_patient()[:3] @ np.append(idx, 1.0)
        return centre

    def minimum(self) -> float:
        """The smallest stored value (0 for an empty array), computed once per array.

        A pass over a 500-slice CT takes tens of milliseconds: the loading thread asks
        first so that the GUI thread, which needs it for reslicing, does not wait.
        """
        memo = self._minimum
        if memo is not None and memo[0] is self.array:
            return memo[1]
        value = float(self.array.min()) if self.array.size else 0.0
        self._minimum = (self.array, value)
        return value

    @overload
    def modality_value(self, stored: float) -> float: ...
    @overload
    def modality_value(self, stored: np.ndarray) -> np.ndarray: ...
    def modality_value(self, stored: float | np.ndarray) -> float | np.ndarray:
        """Stored value(s) to modality values (identity once ``rescaled``)."""
        if self.rescaled:
            return stored
        return np.asarray(stored) * self.rescale_slope + self.rescale_intercept


ProgressFn = Callable[[int, int], None]


def read_stack(
    stack: Stack,
    *,
    phase: int = 0,
    rescale: bool = True,
    progress: ProgressFn | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Volume:
    """Read one temporal position of a stack into one volume.

    Parameters
    ----------
    stack : Stack
        From :func:`workstation.model.stacks.split_stacks`.
    phase : int
        Temporal position (0 for a 3D stack).
    rescale : bool
        Give modality values when that keeps the 16-bit type (integer intercept, slope 1).
    progress : callable, optional
        ``progress(done, total)`` after each plane (throttle it on the caller's side).
    cancelled : callable, optional
        Polled between planes; when it returns True, reading stops with :class:`VolumeError`.

    Raises
    ------
    VolumeError
        A plane cannot be read or decoded, or sizes do not match.
    """
    if not 0 <= phase < stack.phases:
        raise VolumeError(f"temporal position {phase + 1} does not exist: the stack has {stack.phases}")
    planes = stack.planes[phase]
    first = stack.first
    shape = (first.rows, first.columns)
    dtype = _dtype(first)
    volume = np.empty((len(planes), *shape), dtype=dtype)
    unused_bits = _unused_bits(first) if dtype.itemsize == 2 else 0
    plane_bytes = shape[0] * shape[1] * dtype.itemsize
    acquired = np.array([p is not None for p in planes])
    total = len(planes)
    for k, p in enumerate(planes):
        if cancelled is not None and cancelled():
            raise VolumeError("cancelled")
        if p is None:
            continue
        if (p.rows, p.columns) != shape:
            raise VolumeError(f"image {p.label} is {p.rows}x{p.columns}, the stack {shape[0]}x{shape[1]}")
        if p.native_offset is not None and dtype.itemsize == 2:
            with open(p.path, "rb") as f:
                f.seek(p.native_offset)
                if f.readinto(memoryview(volume[k]).cast("B")) != plane_bytes:
                    raise VolumeError(f"image {p.label}: pixel data shorter than expected")
            if unused_bits:
                np.left_shift(volume[k], unused_bits, out=volume[k])
                np.right_shift(volume[k], unused_bits, out=volume[k])
        else:
            volume[k] = _decode_plane(p, shape, dtype)
        if progress is not None:
            progress(k + 1, total)
    if not acquired.all():
        # Plane by plane: a boolean index of the whole volume would copy it.
        fill = min(volume[k].min() for k in np.flatnonzero(acquired))
        for j in np.flatnonzero(~acquired):
            volume[j] = fill
    if stack.sheared:
        _unshear(volume, stack)
    sops = [p.sop_instance_uid if p is not None else "" for p in planes]
    real = [p for p in planes if p is not None]
    vol = Volume(
        array=volume, origin=np.array(stack.origin, float), spacing=np.array(stack.spacing, float),
        direction=np.array(stack.direction, float), sop_instance_uids=sops,
        rescale_slope=first.rescale_slope, rescale_intercept=first.rescale_intercept,
        acquired=acquired, notes=stack.messages(),
    )
    if rescale:
        uniform = all(p.rescale_slope == first.rescale_slope and p.rescale_intercept == first.rescale_intercept
                      for p in real)
        if uniform:
            _rescale_in_place(vol)
        else:
            _rescale_per_plane(vol, planes)
    return vol


def _dtype(p: SliceRef) -> np.dtype:
    if p.bits_allocated > 16:
        return np.dtype("<i4") if p.signed else np.dtype("<u4")
    return np.dtype("<i2") if p.signed else np.dtype("<u2")


def _unused_bits(p: SliceRef) -> int:
    """Bits above Bits Stored that the raw fast path must clear or sign-extend (as a decoder does)."""
    try:
        ds = pydicom.dcmread(p.path, stop_before_pixels=True, specific_tags=["BitsStored", "BitsAllocated"])
        return max(0, int(ds.get("BitsAllocated", 16)) - int(ds.get("BitsStored", 16)))
    except Exception:
        return 0


def _decode_plane(p: SliceRef, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    from workstation.dicom.pixels import decode_pixels

    result = decode_pixels(p.path, frame=p.frame)
    arr = result.array
    if arr is None or not result.ok:
        raise VolumeError(f"image {p.label}: {result.error}")
    if arr.shape != shape:
        raise VolumeError(f"image {p.label}: decoded {arr.shape}, expected {shape}")
    return arr.astype(dtype, copy=False)


def _unshear(volume: np.ndarray, stack: Stack) -> None:
    """Shift each plane back onto the rectilinear grid (linear interpolation, one plane in float at a time)."""
    col_spacing, row_spacing = stack.spacing[0], stack.spacing[1]
    dx = float(np.dot(stack.shear, stack.direction[:, 0])) / col_spacing  # pixels per plane along a row
    dy = float(np.dot(stack.shear, stack.direction[:, 1])) / row_spacing
    fill = volume.min()
    for k in range(1, volume.shape[0]):
        volume[k] = shift_plane(volume[k], k * dy, k * dx, fill)


def shift_plane(plane: np.ndarray, dy: float, dx: float, fill: float) -> np.ndarray:
    """``out[y, x] = plane[y - dy, x - dx]`` with bilinear interpolation; ``fill`` outside."""
    h, w = plane.shape
    # A border of ``fill`` around the plane: clipped indices beyond it land on the border.
    padded = np.full((h + 2, w + 2), fill, dtype=np.float32)
    padded[1:-1, 1:-1] = plane
    sy = np.arange(h) - dy
    sx = np.arange(w) - dx
    y0, x0 = np.floor(sy).astype(np.intp), np.floor(sx).astype(np.intp)
    wy, wx = float(sy[0] - y0[0]), float(sx[0] - x0[0])

    def at(yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
        values: np.ndarray = padded[np.clip(yy + 1, 0, h + 1)[:, None], np.clip(xx + 1, 0, w + 1)[None, :]]
        return values

    out: np.ndarray = ((1 - wy) * (1 - wx)) * at(y0, x0) + ((1 - wy) * wx) * at(y0, x0 + 1)
    out += (wy * (1 - wx)) * at(y0 + 1, x0) + (wy * wx) * at(y0 + 1, x0 + 1)
    if np.issubdtype(plane.dtype, np.integer):
        info = np.iinfo(plane.dtype)
        clipped: np.ndarray = np.clip(np.rint(out), info.min, info.max)
        return clipped.astype(plane.dtype)
    return out.astype(plane.dtype)


def _rescale_in_place(vol: Volume) -> None:
    """Apply an integer rescale without leaving the 16-bit types (no float copy of the volume)."""
    slope, intercept = vol.rescale_slope, vol.rescale_intercept
    if slope != 1.0 or intercept != int(intercept) or vol.array.dtype.itemsize != 2:
        return  # keep stored values; slope and intercept travel with the volume
    intercept = int(intercept)
    a = vol.array
    if intercept == 0 and a.dtype == np.int16:
        vol.rescaled = True
        return
    lo, hi = int(a.min()), int(a.max())
    if lo + intercept >= -32768 and hi + intercept <= 32767:
        if a.dtype != np.int16:
            if hi > 32767:
                return
            a = a.view(np.int16)  # same bits for values below 32768
        a += np.int16(intercept)
        vol.array = a
        vol.rescaled = True
    elif intercept == 0:
        vol.rescaled = True  # uint16 values above 32767 are already modality values


def _rescale_per_plane(vol: Volume, planes: list[SliceRef | None]) -> None:
    """Planes with their own slope and intercept (PET, some MR): modality values in float32."""
    out = np.empty(vol.array.shape, dtype=np.float32)
    for k, p in enumerate(planes):
        slope, intercept = (p.rescale_slope, p.rescale_intercept) if p is not None else (1.0, 0.0)
        np.multiply(vol.array[k], slope, out=out[k], casting="unsafe")
        out[k] += intercept
    vol.array = out
    vol.rescale_slope, vol.rescale_intercept, vol.rescaled = 1.0, 0.0, True


def read_volume(rows: list[InstanceRow], paths: list[Path], *, rescale: bool = True) -> Volume:
    """Read the main stack of a series' instances (``rows`` with their file ``paths``).

    The main stack is the largest that is not a localizer; see
    :func:`workstation.model.stacks.split_stacks` for the others.
    """
    if not rows:
        raise VolumeError("the series has no images")
    slices, skipped = slices_from_rows(rows, paths)
    split = split_stacks(slices)
    stack = split.primary
    if stack is None:
        reason = f" ({skipped[0]})" if skipped else ""
        raise VolumeError(f"the series holds no stack of two or more parallel slices{reason}")
    return read_stack(stack, rescale=rescale)
