"""Image planes of a series, each with its own geometry, from single-frame or multi-frame objects.

A :class:`SliceRef` is one plane a volume can be built from: one single-frame
image, or one frame of an enhanced (or legacy) multi-frame image.  Single-frame
planes come straight from the cache index (no file is opened); multi-frame
objects are read once, without their pixel data, for their per-frame
functional groups (Plane Position, Plane Orientation, Pixel Measures, Pixel
Value Transformation, Frame Content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Iterable
from typing import Literal, SupportsFloat, TypedDict, overload

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from workstation.store.queries import InstanceRow


@dataclass(frozen=True)
class SliceRef:
    """One plane of a series and where its pixels are.

    Attributes
    ----------
    path, frame : pathlib.Path, int
        The file and the 0-based frame in it.
    position : tuple of 3 floats or None
        Image Position (Patient) of the plane's first pixel, mm (LPS).
    orientation : tuple of 6 floats or None
        Image Orientation (Patient): row direction then column direction.
    pixel_spacing : tuple of 2 floats or None
        Pixel Spacing: (row spacing = between rows, column spacing = between columns), mm.
    native_offset : int or None
        Byte offset of this frame's native little endian values in the file, when known.
    temporal_key : tuple
        Sort key of the plane's temporal position (Temporal Position Index or
        Identifier, Trigger Time, Acquisition Time); empty when unknown.
    """

    path: Path
    frame: int
    sop_instance_uid: str
    position: tuple[float, float, float] | None
    orientation: tuple[float, ...] | None
    rows: int
    columns: int
    pixel_spacing: tuple[float, float] | None
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    signed: bool = True
    bits_allocated: int = 16
    samples_per_pixel: int = 1
    native_offset: int | None = None
    instance_number: int | None = None
    acquisition_time: str = ""
    localizer: bool = False
    stack_id: str = ""
    temporal_key: tuple[int | str, ...] = field(default=(), compare=False)

    @property
    def label(self) -> str:
        """How a message names the plane (UID, and the frame of a multi-frame image)."""
        return f"{self.sop_instance_uid} frame {self.frame + 1}" if self.frame else self.sop_instance_uid


# A DS text, a sequence of numbers (a pydicom multi-value), or nothing.
_Numbers = str | Iterable[str | SupportsFloat] | None


@overload
def floats(text: _Numbers, n: Literal[2]) -> tuple[float, float] | None: ...
@overload
def floats(text: _Numbers, n: Literal[3]) -> tuple[float, float, float] | None: ...
@overload
def floats(text: _Numbers, n: int) -> tuple[float, ...] | None: ...
def floats(text: _Numbers, n: int) -> tuple[float, ...] | None:
    """``n`` numbers from a backslash-separated DS text (or a sequence); None if absent or malformed."""
    if text is None:
        return None
    try:
        values = [float(v) for v in (text.split("\\") if isinstance(text, str) else text) if str(v).strip() != ""]
    except (TypeError, ValueError):
        return None
    if len(values) != n or not all(np.isfinite(values)):
        return None
    return tuple(values)


def _rescale(value: float | None, default: float) -> float:
    return default if value is None else float(value)


def slices_from_rows(rows: list[InstanceRow], paths: list[Path]) -> tuple[list[SliceRef], list[str]]:
    """The planes of a series' instances, and a note for each instance that gives none.

    Parameters
    ----------
    rows, paths : list
        Index rows of the series and their files, in the same order.

    Returns
    -------
    (list of SliceRef, list of str)
        Planes in no particular order; reasons for skipped instances (no pixels,
        colour, a multi-frame image without plane positions ...).
    """
    out: list[SliceRef] = []
    skipped: list[str] = []
    for row, path in zip(rows, paths, strict=True):
        if not row.rows or not row.columns:
            skipped.append(f"{row.sop_instance_uid}: no image (not a volume slice)")
            continue
        if (row.samples_per_pixel or 1) != 1:
            skipped.append(f"{row.sop_instance_uid}: colour image (a volume needs grey-scale slices)")
            continue
        if (row.number_of_frames or 1) > 1:
            frames, reason = slices_from_multiframe(row, path)
            if reason:
                skipped.append(f"{row.sop_instance_uid}: {reason}")
            out.extend(frames)
            continue
        out.append(
            SliceRef(
                path=path, frame=0, sop_instance_uid=row.sop_instance_uid,
                position=floats(row.image_position, 3), orientation=floats(row.image_orientation, 6),
                rows=row.rows, columns=row.columns, pixel_spacing=floats(row.pixel_spacing, 2),
                rescale_slope=_rescale(row.rescale_slope, 1.0), rescale_intercept=_rescale(row.rescale_intercept, 0.0),
                signed=bool(row.pixel_representation), bits_allocated=row.bits_allocated or 16,
                native_offset=row.pixel_data_offset if row.bits_allocated == 16 else None,
                instance_number=row.instance_number, acquisition_time=row.acquisition_time or "",
                localizer="LOCALIZER" in (row.image_type or "").upper(),
            )
        )
    return out, skipped


def _item(ds: Dataset, keyword: str) -> Dataset | None:
    seq = ds.get(keyword)
    return seq[0] if seq else None


def _group(per_frame: Dataset | None, shared: Dataset | None, keyword: str) -> Dataset | None:
    """A functional group's item: the per-frame one wins over the shared one."""
    for holder in (per_frame, shared):
        if holder is not None and (item := _item(holder, keyword)) is not None:
            return item
    return None


class _Common(TypedDict):
    """The fields every frame of one multi-frame image shares."""

    path: Path
    sop_instance_uid: str
    rows: int
    columns: int
    signed: bool
    bits_allocated: int
    instance_number: int | None
    localizer: bool


def _point(p: np.ndarray) -> tuple[float, float, float]:
    return float(p[0]), float(p[1]), float(p[2])


def slices_from_multiframe(row: InstanceRow, path: Path) -> tuple[list[SliceRef], str]:
    """The frames of a multi-frame image as planes; ("", reason) style note when it has no geometry."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:  # a damaged file is a note, not a crash
        return [], f"cannot read the header: {exc}"
    n = int(row.number_of_frames or 1)
    if not row.rows or not row.columns:
        return [], "no image (not a volume slice)"
    plane_bytes = row.rows * row.columns * 2
    native = row.pixel_data_offset if row.bits_allocated == 16 else None
    common = _Common(
        path=path, sop_instance_uid=row.sop_instance_uid, rows=row.rows, columns=row.columns,
        signed=bool(row.pixel_representation), bits_allocated=row.bits_allocated or 16,
        instance_number=row.instance_number, localizer="LOCALIZER" in (row.image_type or "").upper(),
    )
    per_frame_seq = ds.get("PerFrameFunctionalGroupsSequence")
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    out: list[SliceRef] = []
    if per_frame_seq is not None and len(per_frame_seq) == n:
        for k, item in enumerate(per_frame_seq):
            pos = _group(item, shared, "PlanePositionSequence")
            ori = _group(item, shared, "PlaneOrientationSequence")
            meas = _group(item, shared, "PixelMeasuresSequence")
            pvt = _group(item, shared, "PixelValueTransformationSequence")
            content = _group(item, shared, "FrameContentSequence")
            temporal: tuple[int | str, ...] = ()
            if content is not None and content.get("TemporalPositionIndex") is not None:
                temporal = (int(content.TemporalPositionIndex),)
            elif content is not None and content.get("FrameAcquisitionDateTime"):
                temporal = (str(content.FrameAcquisitionDateTime),)
            out.append(
                SliceRef(
                    frame=k,
                    position=floats(pos.get("ImagePositionPatient") if pos else None, 3),
                    orientation=floats(ori.get("ImageOrientationPatient") if ori else None, 6),
                    pixel_spacing=floats(meas.get("PixelSpacing") if meas else None, 2),
                    rescale_slope=_rescale(pvt.get("RescaleSlope") if pvt else ds.get("RescaleSlope"), 1.0),
                    rescale_intercept=_rescale(pvt.get("RescaleIntercept") if pvt else ds.get("RescaleIntercept"), 0.0),
                    native_offset=None if native is None else native + k * plane_bytes,
                    stack_id=str(content.get("StackID", "")) if content is not None else "",
                    temporal_key=temporal,
                    **common,
                )
            )
    elif ds.get("ImagePositionPatient") and ds.get("ImageOrientationPatient") and ds.get("SpacingBetweenSlices"):
        # Legacy multi-frame (NM, older MR): frames are evenly spaced along the normal.
        ipp = np.array(floats(ds.ImagePositionPatient, 3) or (0, 0, 0))
        iop = floats(ds.ImageOrientationPatient, 6)
        if iop is None:
            return [], "malformed Image Orientation (Patient)"
        normal = np.cross(iop[:3], iop[3:])
        step = float(ds.SpacingBetweenSlices)
        for k in range(n):
            out.append(
                SliceRef(
                    frame=k, position=_point(ipp + k * step * normal), orientation=iop,
                    pixel_spacing=floats(ds.get("PixelSpacing"), 2),
                    rescale_slope=_rescale(ds.get("RescaleSlope"), 1.0),
                    rescale_intercept=_rescale(ds.get("RescaleIntercept"), 0.0),
                    native_offset=None if native is None else native + k * plane_bytes,
                    **common,
                )
            )
    else:
        return [], f"multi-frame image ({n} frames) without plane positions: not a volume"
    if any(s.position is None or s.orientation is None for s in out):
        return [], "multi-frame image with frames lacking Plane Position or Plane Orientation"
    return out, ""
