"""Colour images to 8-bit RGB: YBR to RGB (PS3.3 C.7.6.3.1.2) and palettes.

Decoded colour pixels arrive interleaved ``(rows, cols, 3)`` in the colour
space :attr:`workstation.dicom.pixels.PixelResult.photometric_interpretation`
names; PALETTE COLOR pixels arrive as ``(rows, cols)`` indices.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

__all__ = ["Palette", "palette_table", "to_rgb"]


@dataclass(frozen=True)
class Palette:
    """A PALETTE COLOR image's three LUTs as one uint8 RGB table.

    ``table[stored - offset]`` is the RGB of a stored value.
    """

    table: np.ndarray  # (n, 3) uint8
    offset: int


def palette_table(ds: Dataset) -> Palette | None:
    """Build the RGB table of a PALETTE COLOR image (normal, 16-bit or segmented LUTs).

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image (its Red/Green/Blue Palette Color Lookup Table Descriptor
        and Data, or the Segmented variants).

    Returns
    -------
    Palette or None
        The table over every stored value that Bits Stored allows, or None
        when the palette cannot be read.
    """
    from pydicom.pixels.processing import apply_color_lut

    try:
        bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 8)) or 8)
        signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    except (TypeError, ValueError):
        return None
    bits = min(max(bits, 1), 16)
    low = -(1 << (bits - 1)) if signed else 0
    ds = _little_endian_palette(ds)
    values = np.arange(low, low + (1 << bits), dtype=np.int32 if signed else np.uint32)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rgb = np.asarray(apply_color_lut(values.astype(np.int64), ds))
    except Exception:  # a broken palette shows as an error image, not a crash
        return None
    rgb = rgb.reshape(-1, 3)
    if rgb.dtype.itemsize > 1 or int(rgb.max(initial=0)) > 255:
        # 16-bit palette entries: keep the 8 most significant bits.
        rgb = (rgb.astype(np.uint32) >> 8).astype(np.uint8)
    return Palette(table=np.ascontiguousarray(rgb.astype(np.uint8)), offset=low)


# Red, Green, Blue Palette Color Lookup Table Data and their Segmented variants.
_PALETTE_DATA_TAGS = (0x00281201, 0x00281202, 0x00281203, 0x00281221, 0x00281222, 0x00281223)


def _little_endian_palette(ds: Dataset) -> Dataset:
    """``ds``, or a shallow copy whose OW palette data is little endian and says so.

    pydicom's ``apply_color_lut`` reads normal palette data as little endian
    whatever the data set's encoding, and takes the byte order of segmented
    data from the file meta's transfer syntax (a copy without file meta has
    none, and its big endian expansion of indirect segments fails).  So the
    words are swapped here and the copy carries a little endian transfer
    syntax: both paths then read them as the little endian twin's.
    """
    from pydicom.dataelem import DataElement
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    if ds.original_encoding[1] is not False:
        return ds
    fixed = Dataset(ds)
    for tag in _PALETTE_DATA_TAGS:
        elem = ds.get(tag)
        if elem is None or not isinstance(elem.value, (bytes, bytearray)) or len(elem.value) % 2:
            continue
        swapped = np.frombuffer(elem.value, dtype=">u2").astype("<u2").tobytes()
        fixed[tag] = DataElement(tag, "OW", swapped)
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    fixed.file_meta = meta
    return fixed


def _ybr_to_rgb(ybr: np.ndarray, bits: int, full: bool) -> np.ndarray:
    """YCbCr to RGB in float, PS3.3 C.7.6.3.1.2 (full) or ITU-R BT.601 (partial)."""
    data = ybr.astype(np.float32)
    half = float(1 << (bits - 1))
    y, cb, cr = data[..., 0], data[..., 1] - half, data[..., 2] - half
    if not full:
        scale = float(1 << (bits - 8)) if bits > 8 else 1.0
        y = (y - 16.0 * scale) * (255.0 / 219.0)
        cb = cb * (255.0 / 224.0)
        cr = cr * (255.0 / 224.0)
    rgb = np.empty(data.shape[:-1] + (3,), dtype=np.float32)
    rgb[..., 0] = y + 1.402 * cr
    rgb[..., 1] = y - 0.344136 * cb - 0.714136 * cr
    rgb[..., 2] = y + 1.772 * cb
    return rgb


def _to_8bit(values: np.ndarray, bits: int) -> np.ndarray:
    top = float((1 << bits) - 1)
    if values.dtype == np.uint8 and bits == 8:
        return values
    scaled = np.asarray(values, dtype=np.float64) * (255.0 / top)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def to_rgb(
    stored: np.ndarray, photometric_interpretation: str, bits_stored: int, palette: Palette | None
) -> np.ndarray:
    """Colour stored values as uint8 RGB ``(rows, cols, 3)``.

    Parameters
    ----------
    stored : numpy.ndarray
        Interleaved samples, or palette indices for PALETTE COLOR.
    photometric_interpretation : str
        The colour space of ``stored``.
    bits_stored : int
        Bits Stored of the samples.
    palette : Palette or None
        The table for PALETTE COLOR.

    Returns
    -------
    numpy.ndarray
        uint8 RGB.  A palette image without a readable palette, or an unknown
        colour space, is shown as the first sample in gray rather than failing.
    """
    pi = photometric_interpretation.upper()
    bits = min(max(int(bits_stored or 8), 1), 32)
    if pi == "PALETTE COLOR":
        index = stored[..., 0] if stored.ndim == 3 else stored
        if palette is None:
            gray = _to_8bit(index, bits)
            return np.repeat(gray[..., None], 3, axis=-1)
        rgb_of_index: np.ndarray = palette.table[np.clip(index.astype(np.int64) - palette.offset, 0,
                                                          len(palette.table) - 1)]
        return rgb_of_index
    if stored.ndim != 3 or stored.shape[-1] < 3:
        gray = _to_8bit(stored if stored.ndim == 2 else stored[..., 0], bits)
        return np.repeat(gray[..., None], 3, axis=-1)
    samples = stored[..., :3]
    if pi in ("YBR_FULL", "YBR_FULL_422", "YBR_PARTIAL_422", "YBR_PARTIAL_420"):
        rgb = _ybr_to_rgb(samples, bits, full=pi.startswith("YBR_FULL"))
        top = float((1 << bits) - 1)
        if bits != 8:
            rgb *= 255.0 / top
        rgb8: np.ndarray = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
        return rgb8
    return np.ascontiguousarray(_to_8bit(samples, bits))
