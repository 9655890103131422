"""DICOM Segmentation (SEG) objects: segments, their colours and the frames they lie on.

A SEG is one multi-frame instance whose frames are (segment, source plane)
pairs; read as images, two segments over the same planes look like two
temporal positions.  Here it is read with highdicom as what it is: a list of
segments (number, label, colour, category and type), each with a mask per
referenced source image (the Source Image Sequence of each frame's Derivation
Image; frames naming no source image are not placed yet).  Binary segments give bool masks; fractional ones give
values 0..1 (probability or occupancy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID

if TYPE_CHECKING:
    from workstation.model.volume import Volume

SEGMENTATION_STORAGE = UID("1.2.840.10008.5.1.4.1.1.66.4")
_DEFAULT_COLOURS = [(255, 0, 0), (0, 200, 0), (0, 120, 255), (255, 200, 0), (200, 0, 255), (0, 220, 220)]


class SegmentationError(ValueError):
    """The object cannot be read as a segmentation (the message says why)."""


@dataclass
class Segment:
    """One segment of a SEG.

    Attributes
    ----------
    number : int
        Segment Number (0062,0004).
    label : str
        Segment Label (0062,0005).
    colour : tuple of int
        Display colour (sRGB 0-255) from Recommended Display CIELab Value, or a default.
    category, property_type : str
        Code meanings of Segmented Property Category and Type.
    algorithm_type : str
        MANUAL, SEMIAUTOMATIC or AUTOMATIC.
    frames : dict
        Referenced SOP Instance UID -> 0-based frame numbers of this segment on it.
    visible : bool
        Shown in the viewer (a reading-time choice, not stored in the object).
    """

    number: int
    label: str
    colour: tuple[int, int, int]
    category: str = ""
    property_type: str = ""
    algorithm_type: str = ""
    frames: dict[str, list[int]] = field(default_factory=dict)
    visible: bool = True


def cielab_to_rgb(lab_dicom: Sequence[int]) -> tuple[int, int, int]:
    """DICOM-scaled CIELab (PS3.3 C.10.7.1.1, D50) to 8-bit sRGB.

    Parameters
    ----------
    lab_dicom : sequence of int
        L*, a*, b* scaled to 0..65535 as stored in Recommended Display CIELab Value.
    """
    L = lab_dicom[0] * 100.0 / 65535.0
    a = lab_dicom[1] * 255.0 / 65535.0 - 128.0
    b = lab_dicom[2] * 255.0 / 65535.0 - 128.0
    fy = (L + 16.0) / 116.0
    fx, fz = fy + a / 500.0, fy - b / 200.0

    def inv(t: float) -> float:
        return t**3 if t**3 > 216.0 / 24389.0 else (116.0 * t - 16.0) * 27.0 / 24389.0

    white = np.array([0.9642, 1.0, 0.8251])  # D50
    xyz = np.array([inv(fx), inv(fy), inv(fz)]) * white
    # D50 XYZ to linear sRGB (Bradford-adapted matrix).
    m = np.array(
        [
            [3.1338561, -1.6168667, -0.4906146],
            [-0.9787684, 1.9161415, 0.0334540],
            [0.0719453, -0.2289914, 1.4052427],
        ]
    )
    rgb = np.clip(m @ xyz, 0.0, 1.0)
    srgb = np.where(rgb <= 0.0031308, 12.92 * rgb, 1.055 * rgb ** (1 / 2.4) - 0.055)
    return tuple(int(round(v * 255)) for v in srgb)  # type: ignore[return-value]


class SegmentationObject:
    """A SEG read for display: segments and masks per referenced image.

    Parameters
    ----------
    dataset : pydicom.Dataset or path
        The SEG instance.
    """

    def __init__(self, dataset: Dataset | Path | str) -> None:
        import highdicom as hd

        ds = dataset if isinstance(dataset, Dataset) else pydicom.dcmread(dataset)
        if str(ds.get("SOPClassUID", "")) != SEGMENTATION_STORAGE:
            raise SegmentationError("not a Segmentation Storage object")
        try:
            self._seg = hd.seg.Segmentation.from_dataset(ds, copy=False)
        except (ValueError, AttributeError, KeyError) as exc:
            raise SegmentationError(f"the segmentation cannot be read: {exc}") from None
        self.dataset = ds
        self.segmentation_type = str(ds.SegmentationType)
        self.fractional_type = str(ds.get("SegmentationFractionalType", ""))
        self.max_fractional_value = int(ds.get("MaximumFractionalValue", 1) or 1)
        self.rows, self.columns = int(ds.Rows), int(ds.Columns)
        self.referenced_series_uids = [str(i.SeriesInstanceUID) for i in ds.get("ReferencedSeriesSequence", [])]
        self.segments: dict[int, Segment] = {}
        for k, number in enumerate(self._seg.get_segment_numbers()):
            desc = self._seg.get_segment_description(number)
            lab = desc.get("RecommendedDisplayCIELabValue")
            colour = cielab_to_rgb(lab) if lab else _DEFAULT_COLOURS[k % len(_DEFAULT_COLOURS)]
            category = desc.SegmentedPropertyCategoryCodeSequence[0].CodeMeaning if desc.get(
                "SegmentedPropertyCategoryCodeSequence") else ""  # fmt: skip
            ptype = desc.SegmentedPropertyTypeCodeSequence[0].CodeMeaning if desc.get(
                "SegmentedPropertyTypeCodeSequence") else ""  # fmt: skip
            self.segments[number] = Segment(
                int(number), str(desc.get("SegmentLabel", f"Segment {number}")), colour, str(category), str(ptype),
                str(desc.get("SegmentAlgorithmType", "")),
            )  # fmt: skip
        self._frames_by_source()

    def _frames_by_source(self) -> None:
        shared = (self.dataset.get("SharedFunctionalGroupsSequence") or [Dataset()])[0]
        for index, item in enumerate(self.dataset.PerFrameFunctionalGroupsSequence):
            # One segment only: its identification may sit in the shared functional groups.
            ident = item.get("SegmentIdentificationSequence") or shared.get("SegmentIdentificationSequence")
            if not ident:
                raise SegmentationError(f"frame {index + 1} names no segment")
            number = int(ident[0].ReferencedSegmentNumber)
            if number not in self.segments:
                raise SegmentationError(f"frame {index + 1} names segment {number}, which is not described")
            sources = []
            derivations = item.get("DerivationImageSequence") or shared.get("DerivationImageSequence") or []
            for derivation in derivations:
                sources += [str(s.ReferencedSOPInstanceUID) for s in derivation.get("SourceImageSequence", [])]
            for uid in sources:
                self.segments[number].frames.setdefault(uid, []).append(index)

    @property
    def referenced_instance_uids(self) -> list[str]:
        """SOP Instance UIDs of the source images the segments lie on."""
        uids: list[str] = []
        for seg in self.segments.values():
            uids += [u for u in seg.frames if u not in uids]
        return uids

    def mask(self, segment_number: int, source_uid: str) -> np.ndarray | None:
        """The segment's mask over one source image, or None when it does not reach that image.

        Returns
        -------
        numpy.ndarray or None
            (rows, columns): bool for BINARY, float32 0..1 for FRACTIONAL.
        """
        frames = self.segments[segment_number].frames.get(source_uid)
        if not frames:
            return None
        out = np.zeros((self.rows, self.columns), np.float32)
        for index in frames:
            out = np.maximum(out, np.asarray(self._seg.get_frame(index + 1), np.float32))
        if self.segmentation_type == "FRACTIONAL":
            return out / float(self.max_fractional_value)
        return out > 0

    def describe(self) -> dict[str, Any]:
        """The segmentation as plain data (what ``lightbox volume`` prints for a SEG)."""
        return {
            "sop_instance_uid": str(self.dataset.SOPInstanceUID),
            "segmentation_type": self.segmentation_type,
            "fractional_type": self.fractional_type,
            "referenced_series": self.referenced_series_uids,
            "frames": int(self.dataset.get("NumberOfFrames", 1)),
            "segments": [
                {
                    "number": s.number,
                    "label": s.label,
                    "colour": list(s.colour),
                    "category": s.category,
                    "type": s.property_type,
                    "algorithm_type": s.algorithm_type,
                    "referenced_images": len(s.frames),
                    "frames": sum(len(v) for v in s.frames.values()),
                }
                for s in self.segments.values()
            ],
        }


def outline(mask: np.ndarray) -> np.ndarray:
    """Boundary pixels of a mask (inside pixels with an outside 4-neighbour), for outline display."""
    m = np.asarray(mask) >= 0.5 if np.asarray(mask).dtype != bool else np.asarray(mask)
    padded = np.pad(m, 1, constant_values=False)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    edge: np.ndarray = m & ~inner
    return edge


def overlay_rgba(
    seg: SegmentationObject,
    source_uid: str,
    *,
    fill_opacity: float = 0.35,
    outline_only: bool = False,
) -> np.ndarray | None:
    """The visible segments over one source image as an RGBA (rows, columns, 4) uint8 layer.

    Fractional masks scale the fill opacity; outlines are drawn opaque where the mask is at least 0.5.
    Returns None when no visible segment lies on the image.
    """
    layer = np.zeros((seg.rows, seg.columns, 4), np.float32)
    drawn = False
    for s in seg.segments.values():
        if not s.visible:
            continue
        m = seg.mask(s.number, source_uid)
        if m is None:
            continue
        drawn = True
        weight = np.asarray(m, np.float32)
        alpha = np.zeros_like(weight) if outline_only else weight * fill_opacity
        alpha = np.maximum(alpha, outline(m).astype(np.float32))
        colour = np.asarray(s.colour, np.float32)
        keep = 1.0 - alpha
        layer[..., :3] = layer[..., :3] * keep[..., None] + colour * alpha[..., None]
        layer[..., 3] = 1.0 - (1.0 - layer[..., 3] / 255.0) * keep
        layer[..., 3] *= 255.0
    if not drawn:
        return None
    # Colours were accumulated premultiplied by their alpha; the layer is returned straight.
    alpha = layer[..., 3:] / 255.0
    layer[..., :3] = np.where(alpha > 0, layer[..., :3] / np.maximum(alpha, 1e-6), 0.0)
    return np.clip(np.rint(layer), 0, 255).astype(np.uint8)


def segment_mask_volume(seg: SegmentationObject, number: int, volume: Volume) -> np.ndarray | None:
    """One segment as a float32 (planes, rows, columns) mask on ``volume``'s grid, or None if it misses the volume.

    The volume must be the referenced series read as a stack (``volume.sop_instance_uids`` names
    each plane's image), as the 3D view and MPR read it.
    """
    uids = list(getattr(volume, "sop_instance_uids", []) or [])
    if len(uids) != volume.shape[0] or (seg.rows, seg.columns) != tuple(volume.shape[1:]):
        return None
    out = np.zeros(volume.shape, np.float32)
    hit = False
    for k, uid in enumerate(uids):
        m = seg.mask(number, uid)
        if m is not None:
            out[k] = m
            hit = True
    return out if hit else None
