"""One frame's attributes: the data set with its functional groups resolved.

Enhanced multi-frame objects (PS3.3 C.7.6.16) move per-frame attributes such
as Rescale Slope, Window Center, Pixel Spacing and Image Position (Patient)
into functional group macros, either shared by all frames (Shared Functional
Groups Sequence) or given per frame (Per-frame Functional Groups Sequence).
:func:`frame_dataset` flattens them so the rest of the imaging layer reads
one frame of any object the same way it reads a single-frame image.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

__all__ = ["FrameTiming", "frame_dataset", "frame_rate", "frame_timing", "number_of_frames"]

# Functional group sequences whose items' attributes apply to the frame.
# Frame Content holds no display attribute but its Stack/Temporal positions
# are useful to callers (and harmless to copy).
_FUNCTIONAL_GROUPS = (
    "PixelMeasuresSequence",
    "PlanePositionSequence",
    "PlaneOrientationSequence",
    "PixelValueTransformationSequence",
    "FrameVOILUTSequence",
    "FrameContentSequence",
    "CTPixelValueRescaleSequence",
    "RealWorldValueMappingSequence",
    "FrameAnatomySequence",
    "PlanePositionVolumeSequence",
    "PlaneOrientationVolumeSequence",
)

# Attributes a functional group may carry that must not overwrite the top
# level when the macro holds them only as context (none so far, kept explicit).
_NEVER_COPIED: frozenset[str] = frozenset()


def number_of_frames(ds: Dataset) -> int:
    """Number of Frames, 1 when absent or unreadable."""
    try:
        value = int(ds.get("NumberOfFrames", 1) or 1)
    except (TypeError, ValueError):
        return 1
    return max(1, value)


def frame_dataset(ds: Dataset, frame: int = 0) -> Dataset:
    """A shallow data set holding the attributes that apply to one frame.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        Any image; its pixel data is not touched and need not be present.
    frame : int
        0-based frame number.

    Returns
    -------
    pydicom.dataset.Dataset
        ``ds`` itself when it has no functional groups; otherwise a new data
        set with the top-level elements (without the functional group
        sequences and pixel data) and, on top, the attributes of the Shared
        and then the frame's Per-frame Functional Groups items (per-frame
        wins).  The file meta information is carried over so the transfer
        syntax stays known.
    """
    shared_seq = ds.get("SharedFunctionalGroupsSequence")
    per_frame_seq = ds.get("PerFrameFunctionalGroupsSequence")
    if not shared_seq and not per_frame_seq:
        return ds
    flat = Dataset()
    for elem in ds:
        if elem.tag in (0x52009229, 0x52009230) or elem.tag.group == 0x7FE0:
            continue
        flat.add(elem)
    if hasattr(ds, "file_meta"):
        flat.file_meta = ds.file_meta
    implicit_vr, little_endian = ds.original_encoding
    flat.set_original_encoding(implicit_vr, little_endian, ds.original_character_set)
    groups: list[Dataset] = []
    if shared_seq:
        groups.append(shared_seq[0])
    if per_frame_seq and 0 <= frame < len(per_frame_seq):
        groups.append(per_frame_seq[frame])
    for group in groups:
        for keyword in _FUNCTIONAL_GROUPS:
            items = group.get(keyword)
            if not items:
                continue
            item = items[0]
            for elem in item:
                if elem.keyword in _NEVER_COPIED:
                    continue
                flat.add(elem)
            # A frame's own window replaces any VOI LUT given at the top level.
            if (keyword == "FrameVOILUTSequence" and "VOILUTSequence" not in item and "WindowCenter" in item
                    and "VOILUTSequence" in flat):
                del flat["VOILUTSequence"]
    return flat


#: Rates outside this range (frames per second) are taken as wrong values and skipped.
_RATE_RANGE = (0.1, 240.0)
_FRAME_TIME, _FRAME_TIME_VECTOR = 0x00181063, 0x00181065


@dataclass(frozen=True)
class FrameTiming:
    """How fast a multi-frame image plays, and which attribute said so.

    Attributes
    ----------
    frames_per_second : float
        The effective rate (what a toolbar shows).
    source : str
        The keyword it came from ("RecommendedDisplayFrameRate",
        "FrameTimeVector", "FrameTime", "CineRate"), or "" for the fallback.
    intervals_ms : tuple of float
        Per frame, the time since the previous frame (Frame Time Vector; the
        first entry is 0), empty when the frames are evenly spaced.
    """

    frames_per_second: float
    source: str = ""
    intervals_ms: tuple[float, ...] = ()


def _rate(value: Any) -> float | None:  # a header value or a computed rate
    try:
        rate = float(value)
    except (TypeError, ValueError):
        return None
    return rate if _RATE_RANGE[0] <= rate <= _RATE_RANGE[1] else None


def _from_frame_time(ds: Dataset) -> FrameTiming | None:
    value = ds.get("FrameTime")
    try:
        rate = _rate(1000.0 / float(value)) if value not in (None, "") else None
    except (TypeError, ValueError, ZeroDivisionError):
        rate = None
    return FrameTiming(rate, "FrameTime") if rate else None


def _from_frame_time_vector(ds: Dataset) -> FrameTiming | None:
    value = ds.get("FrameTimeVector")
    if value in (None, ""):
        return None
    try:
        items = value if hasattr(value, "__iter__") and not isinstance(value, (str, bytes)) else [value]
        times = [float(v) for v in items]
    except (TypeError, ValueError):
        return None
    # The first entry is the first frame's time since itself (0): the rest are the intervals.
    intervals = [t for t in times[1:] if t > 0] or [t for t in times if t > 0]
    if not intervals:
        return None
    rate = _rate(1000.0 * len(intervals) / sum(intervals))
    return FrameTiming(rate, "FrameTimeVector", tuple(times)) if rate else None


def frame_timing(ds: Dataset | None, fallback: float = 10.0) -> FrameTiming:
    """The rate to play a multi-frame image at (PS3.3 C.7.6.5 Cine, C.7.6.6 Multi-frame).

    Precedence: Recommended Display Frame Rate (0008,2144), which is what the
    modality asks a display to use; then the timing the Frame Increment
    Pointer designates (Frame Time (0018,1063) or Frame Time Vector
    (0018,1065), the mean of its intervals); then whichever of the two is
    present; then Cine Rate (0018,0040); else ``fallback``.  Values giving
    a rate outside 0.1-240 frames per second are skipped.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset or None
        The image's header.
    fallback : float
    """
    if ds is None:
        return FrameTiming(fallback)
    rate = _rate(ds.get("RecommendedDisplayFrameRate"))
    if rate:
        return FrameTiming(rate, "RecommendedDisplayFrameRate")
    pointer = ds.get("FrameIncrementPointer")
    pointers = list(pointer) if isinstance(pointer, (list, tuple)) or type(pointer).__name__ == "MultiValue" \
        else ([pointer] if pointer is not None else [])
    readers = {_FRAME_TIME: _from_frame_time, _FRAME_TIME_VECTOR: _from_frame_time_vector}
    order = [readers[int(p)] for p in pointers if p is not None and int(p) in readers]
    for read in [*order, _from_frame_time, _from_frame_time_vector]:
        found = read(ds)
        if found:
            return found
    rate = _rate(ds.get("CineRate"))
    if rate:
        return FrameTiming(rate, "CineRate")
    return FrameTiming(fallback)


def frame_rate(ds: Dataset | None, fallback: float = 10.0) -> float:
    """Frames per second to play ``ds`` at: :func:`frame_timing`'s effective rate."""
    return frame_timing(ds, fallback).frames_per_second
