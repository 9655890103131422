"""Reading a cached series of slices into one volume with its patient-space geometry.

The fast path needs no DICOM parsing: the index knows where each file's native
Pixel Data starts, so each slice is read with one ``readinto`` straight into
its plane of the preallocated volume (no intermediate copies, no float data).
Slices are ordered by position along the slice normal, not Instance Number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workstation.store.queries import InstanceRow


class VolumeError(ValueError):
    """The series cannot be read as one volume (say why)."""


@dataclass
class Volume:
    """Voxels as ``array[z, y, x]`` (modality values when ``rescaled``) with their geometry.

    ``direction`` columns are the row direction, the column direction and the
    slice normal (patient coordinates, LPS); ``origin`` is the first voxel's centre.
    """

    array: np.ndarray
    origin: np.ndarray
    spacing: np.ndarray  # (x: column spacing, y: row spacing, z: slice spacing), mm
    direction: np.ndarray  # 3x3
    sop_instance_uids: list[str] = field(default_factory=list)
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    rescaled: bool = False


def _floats(text: str, n: int) -> np.ndarray | None:
    try:
        values = [float(v) for v in text.split("\\")] if text else []
    except ValueError:
        return None
    return np.array(values) if len(values) == n else None


def slice_order(rows: list[InstanceRow]) -> tuple[list[InstanceRow], np.ndarray, np.ndarray]:
    """Sort single-frame slices along their normal; returns (rows, positions along the normal, direction)."""
    if not rows:
        raise VolumeError("the series has no images")
    iop = _floats(rows[0].image_orientation, 6)
    if iop is None:
        raise VolumeError("the images have no Image Orientation (Patient)")
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    keyed = []
    for r in rows:
        ipp = _floats(r.image_position, 3)
        if ipp is None:
            raise VolumeError(f"image {r.sop_instance_uid} has no Image Position (Patient)")
        if r.image_orientation != rows[0].image_orientation:
            raise VolumeError("the images differ in orientation: the series holds more than one stack")
        keyed.append((float(ipp @ normal), r))
    keyed.sort(key=lambda t: t[0])
    direction = np.column_stack([row_dir, col_dir, normal])
    return [r for _, r in keyed], np.array([k for k, _ in keyed]), direction


def read_volume(rows: list[InstanceRow], paths: list[Path], *, rescale: bool = True) -> Volume:
    """Read single-frame slices (``rows`` with their file ``paths``) into one int16/uint16 volume."""
    by_uid = {r.sop_instance_uid: p for r, p in zip(rows, paths)}
    ordered, positions, direction = slice_order(rows)
    first = ordered[0]
    shape = (first.rows, first.columns)
    if any((r.rows, r.columns) != shape for r in ordered):
        raise VolumeError("the images differ in size: the series holds more than one stack")
    signed = bool(first.pixel_representation)
    slope = first.rescale_slope if first.rescale_slope is not None else 1.0
    intercept = first.rescale_intercept if first.rescale_intercept is not None else 0.0
    uniform_rescale = all(
        (r.rescale_slope or 1.0) == slope and (r.rescale_intercept or 0.0) == intercept for r in ordered
    )
    dtype = np.dtype("<i2") if signed else np.dtype("<u2")
    volume = np.empty((len(ordered), *shape), dtype=dtype)
    plane_bytes = shape[0] * shape[1] * 2
    for k, r in enumerate(ordered):
        path = by_uid[r.sop_instance_uid]
        if r.pixel_data_offset is not None and r.bits_allocated == 16 and (r.samples_per_pixel or 1) == 1 and r.number_of_frames == 1:
            with open(path, "rb") as f:
                f.seek(r.pixel_data_offset)
                if f.readinto(memoryview(volume[k]).cast("B")) != plane_bytes:
                    raise VolumeError(f"image {r.sop_instance_uid}: pixel data shorter than expected")
        else:
            volume[k] = _decode_plane(path, shape, dtype)
    spacing_xy = _floats(first.pixel_spacing, 2)
    row_spacing, col_spacing = (spacing_xy if spacing_xy is not None else np.array([1.0, 1.0]))
    steps = np.diff(positions)
    z_spacing = float(np.median(steps)) if len(steps) else float(first.slice_thickness or 1.0)
    origin = _floats(first.image_position, 3)
    vol = Volume(
        array=volume,
        origin=origin,
        spacing=np.array([col_spacing, row_spacing, z_spacing]),
        direction=direction,
        sop_instance_uids=[r.sop_instance_uid for r in ordered],
        rescale_slope=slope,
        rescale_intercept=intercept,
    )
    if rescale and uniform_rescale:
        _rescale_in_place(vol)
    return vol


def _decode_plane(path: Path, shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
    from workstation.dicom.pixels import decode_pixels

    result = decode_pixels(path, frame=0)
    if not result.ok:
        raise VolumeError(f"{path.name}: {result.error}")
    arr = result.array
    if arr.shape != shape:
        raise VolumeError(f"{path.name}: image is {arr.shape}, expected {shape}")
    return arr.astype(dtype, copy=False)


def _rescale_in_place(vol: Volume) -> None:
    """Apply an integer rescale without leaving the 16-bit types (no float copy of the volume)."""
    slope, intercept = vol.rescale_slope, vol.rescale_intercept
    if slope != 1.0 or intercept != int(intercept):
        return  # keep stored values; slope and intercept travel with the volume
    intercept = int(intercept)
    a = vol.array
    if intercept == 0 and a.dtype == np.int16:
        vol.rescaled = True
        return
    lo, hi = int(a.min()), int(a.max())
    if -32768 <= lo + intercept and hi + intercept <= 32767:
        if a.dtype != np.int16:
            if hi > 32767:
                return
            a = a.view(np.int16)  # same bits for values below 32768
        a += np.int16(intercept)
        vol.array = a
        vol.rescaled = True
