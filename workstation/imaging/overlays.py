"""Overlay planes (groups 6000-601E, PS3.3 C.9.2) of one frame.

An overlay is a bit plane with its own size and origin, stored in Overlay
Data or, in older images, in the unused high bits of Pixel Data (Overlay Bit
Position > 0 with no Overlay Data).  Only the bits are read here; burning
them into the display is :func:`burn_in`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

__all__ = ["OverlayPlane", "overlay_planes", "burn_in"]


@dataclass(frozen=True)
class OverlayPlane:
    """One overlay plane as it applies to one frame.

    Attributes
    ----------
    group : int
        The group (0x6000 .. 0x601E).
    origin : tuple of (int, int)
        Overlay Origin (row, column), 1-based, relative to the image.
    bits : numpy.ndarray
        bool ``(overlay rows, overlay columns)``: True where the overlay is on.
    overlay_type : str
        "G" (graphics) or "R" (region of interest).
    description, label : str
        Overlay Description and Overlay Label.
    """

    group: int
    origin: tuple[int, int]
    bits: np.ndarray = field(repr=False, compare=False)
    overlay_type: str = "G"
    description: str = ""
    label: str = ""

    def mask(self, rows: int, columns: int) -> np.ndarray:
        """The plane placed on an image of ``rows`` x ``columns`` (bool)."""
        out = np.zeros((rows, columns), dtype=bool)
        top, left = self.origin[0] - 1, self.origin[1] - 1
        h, w = self.bits.shape
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + h, rows), min(left + w, columns)
        if r1 > r0 and c1 > c0:
            out[r0:r1, c0:c1] = self.bits[r0 - top : r1 - top, c0 - left : c1 - left]
        return out


def _int(item: Dataset, tag: int, default: int) -> int:
    elem = item.get(tag)
    if elem is None or elem.value in (None, ""):
        return default
    try:
        value = elem.value
        if isinstance(value, (list, tuple)) or hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
            value = value[0]
        return int(value)
    except (TypeError, ValueError, IndexError):
        return default


def _pair(ds: Dataset, tag: int) -> tuple[int, int]:
    elem = ds.get(tag)
    try:
        values = [int(v) for v in elem.value]
        if len(values) == 2:
            return values[0], values[1]
    except (AttributeError, TypeError, ValueError):
        pass
    return 1, 1


def _text(ds: Dataset, tag: int) -> str:
    elem = ds.get(tag)
    return "" if elem is None or elem.value is None else str(elem.value)


def _unpack(data: bytes, count: int, start_bit: int) -> np.ndarray:
    """``count`` overlay bits from bit ``start_bit`` on (bit 0 of each byte first)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    bits = np.unpackbits(raw, bitorder="little")
    return bits[start_bit : start_bit + count].astype(bool)


def overlay_planes(ds: Dataset, frame: int = 0) -> list[OverlayPlane]:
    """The overlay planes of ``ds`` that apply to ``frame``.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The image.  Overlays embedded in Pixel Data are read only when the
        data set holds native (uncompressed) Pixel Data.
    frame : int
        0-based image frame.

    Returns
    -------
    list of OverlayPlane
        Unreadable or inconsistent planes are left out.
    """
    planes = []
    for group in range(0x6000, 0x6020, 2):
        if (group << 16 | 0x0010) not in ds:
            continue
        plane = _read_plane(ds, group, frame)
        if plane is not None:
            planes.append(plane)
    return planes


def _read_plane(ds: Dataset, group: int, frame: int) -> OverlayPlane | None:
    tag = group << 16
    rows = _int(ds, tag | 0x0010, 0)
    columns = _int(ds, tag | 0x0011, 0)
    if rows <= 0 or columns <= 0:
        return None
    frames = max(1, _int(ds, tag | 0x0015, 1))
    first = _int(ds, tag | 0x0051, 1) - 1
    index = frame - first
    if not 0 <= index < frames:
        return None
    count = rows * columns
    data_elem = ds.get(tag | 0x3000)
    if data_elem is not None and data_elem.value:
        data = bytes(data_elem.value)
        if len(data) * 8 < (index + 1) * count:
            return None
        bits: np.ndarray | None = _unpack(data, count, index * count)
    else:
        bits = _embedded_bits(ds, group, frame, rows, columns)
    if bits is None:
        return None
    return OverlayPlane(
        group=group,
        origin=_pair(ds, tag | 0x0050),
        bits=bits.reshape(rows, columns),
        overlay_type=_text(ds, tag | 0x0040).strip().upper() or "G",
        description=_text(ds, tag | 0x0022),
        label=_text(ds, tag | 0x1500),
    )


def _embedded_bits(
    ds: Dataset, group: int, frame: int, rows: int, columns: int
) -> np.ndarray | None:
    """An overlay kept in the high bits of native Pixel Data (retired, still met)."""
    tag = group << 16
    position = _int(ds, tag | 0x0102, 0)
    allocated = _int(ds, 0x00280100, 16)
    if position <= 0 or allocated not in (8, 16) or position >= allocated:
        return None
    if rows != _int(ds, 0x00280010, -1) or columns != _int(ds, 0x00280011, -1):
        return None
    pixel = ds.get(0x7FE00010)
    if pixel is None or pixel.value is None or pixel.is_undefined_length:
        return None
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    big = ts == "1.2.840.10008.1.2.2"
    dtype = np.dtype(">u2" if big else "<u2") if allocated == 16 else np.dtype(np.uint8)
    samples = _int(ds, 0x00280002, 1)
    count = rows * columns * samples
    data = bytes(pixel.value)
    start = frame * count * dtype.itemsize
    if len(data) < start + count * dtype.itemsize:
        return None
    values: np.ndarray = np.frombuffer(data, dtype=dtype, count=count, offset=start)
    bits: np.ndarray = ((values[::samples] >> position) & 1).astype(bool)
    return bits


def burn_in(display: np.ndarray, planes: list[OverlayPlane], stored: np.ndarray | None = None) -> np.ndarray:
    """Draw overlay planes into display values, in white.

    Parameters
    ----------
    display : numpy.ndarray
        uint8 ``(rows, cols)`` or ``(rows, cols, 3)``; not modified.
    planes : list of OverlayPlane
        The planes to draw.
    stored : numpy.ndarray or None
        Unused; kept so callers can pass the frame for future overlay modes.

    Returns
    -------
    numpy.ndarray
        A copy of ``display`` with the overlay pixels set to 255.
    """
    out = display.copy()
    rows, columns = out.shape[:2]
    for plane in planes:
        out[plane.mask(rows, columns)] = 255
    return out
