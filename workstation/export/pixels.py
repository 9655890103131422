"""Clean Pixel Data option: blank the parts of an image where text is burned in.

Ultrasound keeps its patient banner outside the imaging regions the Sequence
of Ultrasound Regions declares, so everything outside their union is blanked;
other images (secondary capture above all) get the boxes the user drew or a
site configured for their SOP class or modality.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian


def regions_to_blank(ds: Dataset, regions: Mapping[str, list[tuple[int, int, int, int]]]) -> np.ndarray | None:
    """A (rows, columns) boolean mask of the pixels to blank, or None when nothing is to be blanked."""
    rows, columns = int(ds.Rows), int(ds.Columns)
    mask = np.zeros((rows, columns), dtype=bool)
    boxes = list(regions.get(str(ds.get("SOPClassUID", "")), [])) + list(regions.get(str(ds.get("Modality", "")), []))
    for x0, y0, x1, y1 in boxes:
        mask[max(0, y0):min(rows, y1 + 1), max(0, x0):min(columns, x1 + 1)] = True
    us = ds.get("SequenceOfUltrasoundRegions")
    if us:
        keep = np.zeros_like(mask)
        for item in us:
            keep[int(item.RegionLocationMinY0):int(item.RegionLocationMaxY1) + 1,
                 int(item.RegionLocationMinX0):int(item.RegionLocationMaxX1) + 1] = True
        mask |= ~keep
    return mask if mask.any() else None


def clean_pixel_data(ds: Dataset, regions: Mapping[str, list[tuple[int, int, int, int]]]) -> bool:
    """Blank :func:`regions_to_blank` in every frame of ``ds`` (in place); True when pixels changed.

    A compressed image is decoded and written back uncompressed (Explicit VR
    Little Endian): re-compressing lossy data would lose more than the text.
    """
    if "PixelData" not in ds:
        return False
    mask = regions_to_blank(ds, regions)
    if mask is None:
        return False
    pixels = ds.pixel_array.copy()  # decodes (and converts YBR to RGB) whatever the transfer syntax
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1))
    view = pixels.reshape((frames, int(ds.Rows), int(ds.Columns)) + ((samples,) if samples > 1 else ()))
    view[:, mask] = 0
    if samples > 1 and str(ds.get("PhotometricInterpretation", "")).startswith("YBR"):
        ds.PhotometricInterpretation = "RGB"  # pixel_array gave RGB
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.PixelData = view.astype(pixels.dtype).tobytes()
    ds["PixelData"].VR = "OB" if int(ds.BitsAllocated) <= 8 else "OW"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return True
