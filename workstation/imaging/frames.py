"""One frame's attributes: the data set with its functional groups resolved.

Enhanced multi-frame objects (PS3.3 C.7.6.16) move per-frame attributes such
as Rescale Slope, Window Center, Pixel Spacing and Image Position (Patient)
into functional group macros, either shared by all frames (Shared Functional
Groups Sequence) or given per frame (Per-frame Functional Groups Sequence).
:func:`frame_dataset` flattens them so the rest of the imaging layer reads
one frame of any object the same way it reads a single-frame image.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

__all__ = ["frame_dataset", "number_of_frames"]

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
    flat.set_original_encoding(*ds.original_encoding, ds.original_character_set)
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
            if keyword == "FrameVOILUTSequence" and "VOILUTSequence" not in item:
                # A frame's own window replaces any VOI LUT given at the top level.
                if "WindowCenter" in item and "VOILUTSequence" in flat:
                    del flat["VOILUTSequence"]
    return flat
