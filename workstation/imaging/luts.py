"""Lookup tables and window functions of the grayscale pipeline (PS3.3 C.11).

Everything here works on numpy arrays of any shape and knows nothing of data
sets beyond reading one LUT item.  Formulas are those of PS3.3 C.11.2.1.2
(VOI LUT function LINEAR, LINEAR_EXACT, SIGMOID).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

__all__ = [
    "Window",
    "LookupTable",
    "VOI_FUNCTIONS",
    "apply_window",
    "lookup_table_from_item",
    "windows_from_dataset",
]

#: VOI LUT Function values understood (PS3.3 C.11.2.1.3).
VOI_FUNCTIONS = ("LINEAR", "LINEAR_EXACT", "SIGMOID")


@dataclass(frozen=True)
class LookupTable:
    """A LUT as PS3.3 C.11.1.1 defines it (Modality, VOI or Presentation LUT).

    Attributes
    ----------
    first_mapped : int
        The input value mapped to the first entry (LUT Descriptor value 2).
    data : numpy.ndarray
        The entries (LUT Data), integers.
    bits : int
        Bits per entry (LUT Descriptor value 3): outputs range over 0 .. 2**bits - 1.
    explanation : str
        LUT Explanation, if any.
    """

    first_mapped: int
    data: np.ndarray = field(repr=False)
    bits: int
    explanation: str = ""

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Map input values; those outside the LUT get its first or last entry."""
        index = np.asarray(values)
        if index.dtype.kind == "f":
            index = np.floor(index)
        index = np.clip(index - self.first_mapped, 0, len(self.data) - 1).astype(np.intp)
        mapped: np.ndarray = self.data[index]
        return mapped

    @property
    def max_output(self) -> int:
        """The largest output the LUT can give (2**bits - 1)."""
        return (1 << self.bits) - 1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LookupTable):
            return NotImplemented
        return (
            self.first_mapped == other.first_mapped
            and self.bits == other.bits
            and np.array_equal(self.data, other.data)
        )

    def __hash__(self) -> int:
        return hash((self.first_mapped, self.bits, len(self.data)))


@dataclass(frozen=True)
class Window:
    """One VOI choice: a window (centre, width, function) or a VOI LUT.

    Attributes
    ----------
    center, width : float
        Window Center and Window Width in modality values.  For a VOI LUT
        they describe the LUT's input range (so a user can start adjusting
        from there).
    function : str
        VOI LUT Function: "LINEAR" (default), "LINEAR_EXACT", "SIGMOID", or
        "LUT" when :attr:`lut` holds a VOI LUT Sequence item.
    explanation : str
        Window Center & Width Explanation or LUT Explanation.
    lut : LookupTable or None
        The VOI LUT of a VOI LUT Sequence item.
    """

    center: float
    width: float
    function: str = "LINEAR"
    explanation: str = ""
    lut: LookupTable | None = field(default=None, compare=False)

    @property
    def is_lut(self) -> bool:
        """True for a VOI LUT Sequence item rather than a window."""
        return self.lut is not None

    def describe(self) -> str:
        """Short text for a viewport corner: ``W 400 L 40`` (or the LUT's explanation)."""
        if self.lut is not None:
            return f"VOI LUT {self.explanation}".strip()
        return f"W {_number(self.width)} L {_number(self.center)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def apply_window(values: np.ndarray, window: Window, *, inverse: bool = False) -> np.ndarray:
    """Apply a VOI window or VOI LUT to modality values, giving 0 .. 255.

    Parameters
    ----------
    values : numpy.ndarray
        Modality values (any shape).
    window : Window
        The window; a too small width is raised to the smallest the function
        allows (1 for LINEAR, as PS3.3 requires).
    inverse : bool
        Apply an INVERSE Presentation LUT Shape as well (255 is black).

    Returns
    -------
    numpy.ndarray
        float64 display values in ``[0, 255]``, to be truncated to integers.
        The arithmetic is that of PS3.3 C.11.2.1.2, evaluated in the same
        order as DCMTK does (inversion before truncation), so that the
        truncated values equal DCMTK's ``dcm2pnm`` output.
    """
    x = np.asarray(values, dtype=np.float64)
    if window.lut is not None:
        lut = window.lut
        # The 2**bits output levels fall into 256 equal bins.
        y = lut(x).astype(np.float64) * (256.0 / float(1 << lut.bits))
        return np.clip(255.0 - y if inverse else y, 0.0, 255.0)
    c = float(window.center)
    function = window.function.upper() if window.function else "LINEAR"
    if function == "SIGMOID":
        w = max(float(window.width), 1e-6)
        with np.errstate(over="ignore"):
            y = 255.0 / (1.0 + np.exp(-4.0 * (x - c) / w))
        return 255.0 - y if inverse else y
    if function == "LINEAR_EXACT":
        w = max(float(window.width), 1e-6)
        y = np.clip(((x - c) / w + 0.5) * 255.0, 0.0, 255.0)
        return 255.0 - y if inverse else y
    w1 = max(float(window.width), 1.0) - 1.0
    left, right = c - 0.5 - w1 / 2.0, c - 0.5 + w1 / 2.0
    low, high = (255.0, 0.0) if inverse else (0.0, 255.0)
    if w1 == 0.0:
        # A width of 1 is a threshold at c - 0.5 (the formula would divide by 0).
        return np.where(x <= left, low, high)
    out_range = high - low
    offset = high - ((c - 0.5) / w1 + 0.5) * out_range
    y = offset + x * (out_range / w1)
    y = np.where(x <= left, low, np.where(x > right, high, y))
    return np.clip(y, 0.0, 255.0)


def lookup_table_from_item(item: Dataset, signed_input: bool = False) -> LookupTable | None:
    """Read a Modality, VOI or Presentation LUT Sequence item.

    Parameters
    ----------
    item : pydicom.dataset.Dataset
        An item with LUT Descriptor and LUT Data.
    signed_input : bool
        True when the LUT's input values are signed (Pixel Representation 1
        for a Modality LUT), so that a first mapped value stored as US above
        32767 means a negative value.

    Returns
    -------
    LookupTable or None
        None when the item is incomplete or inconsistent.
    """
    if "LUTDescriptor" not in item or "LUTData" not in item:
        return None
    try:
        values = [int(v) for v in item["LUTDescriptor"].value]
    except (TypeError, ValueError):
        return None
    if len(values) != 3:
        return None
    entries, first, bits = values
    entries = entries or 65536  # 0 means 2**16 entries
    if signed_input and first > 32767:
        first -= 65536
    raw = item["LUTData"].value
    if raw is None:
        return None
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw)
        little = _little_endian(item)
        if len(raw) >= 2 * entries or bits > 8:
            data = np.frombuffer(raw[: 2 * (len(raw) // 2)], dtype="<u2" if little else ">u2")
        else:
            data = np.frombuffer(raw, dtype=np.uint8)
    else:
        values = list(raw) if hasattr(raw, "__iter__") and not isinstance(raw, str) else [raw]
        try:
            data = np.asarray([int(v) for v in values], dtype=np.int64)
        except (TypeError, ValueError):
            return None
    data = data.astype(np.int64)[:entries]
    if data.size == 0:
        return None
    if bits not in range(1, 17):
        bits = 16 if int(data.max()) > 255 else 8
    explanation = str(item.get("LUTExplanation", "") or "")
    return LookupTable(first_mapped=first, data=data, bits=bits, explanation=explanation)


def _little_endian(item: Dataset) -> bool:
    implicit, little = item.original_encoding
    return True if little is None else bool(little)


def _floats(value: Any) -> list[float]:  # a header value: one number, several, or text
    if value is None or value == "":
        return []
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        value = [value]
    out = []
    for v in value:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(float("nan"))
    return out


def _strings(value: Any, n: int) -> list[str]:  # a header value: one string or several
    if value is None:
        items: list[str] = []
    elif isinstance(value, str):
        items = [value]
    else:
        items = [str(v) for v in value]
    return (items + [""] * n)[:n]


def windows_from_dataset(ds: Dataset) -> list[Window]:
    """The VOI choices an image offers: its windows, then its VOI LUTs.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        An image, or one frame's attributes from
        :func:`workstation.imaging.frames.frame_dataset`.

    Returns
    -------
    list of Window
        One per Window Center/Width pair (unusable pairs, such as a width
        below 1 for LINEAR, are left out), then one per VOI LUT Sequence item.
    """
    out: list[Window] = []
    centers = _floats(ds.get("WindowCenter"))
    widths = _floats(ds.get("WindowWidth"))
    n = min(len(centers), len(widths))
    explanations = _strings(ds.get("WindowCenterWidthExplanation"), n)
    function = str(ds.get("VOILUTFunction", "") or "LINEAR").strip().upper()
    if function not in VOI_FUNCTIONS:
        function = "LINEAR"
    for c, w, text in zip(centers[:n], widths[:n], explanations, strict=True):
        if not (np.isfinite(c) and np.isfinite(w)):
            continue
        if w <= 0 or (function == "LINEAR" and w < 1):
            continue
        out.append(Window(c, w, function, text))
    for item in ds.get("VOILUTSequence") or []:
        lut = lookup_table_from_item(item, signed_input=_modality_output_signed(ds))
        if lut is None:
            continue
        n_entries = len(lut.data)
        out.append(
            Window(
                center=lut.first_mapped + n_entries / 2,
                width=float(n_entries),
                function="LUT",
                explanation=lut.explanation,
                lut=lut,
            )
        )
    return out


def _modality_output_signed(ds: Dataset) -> bool:
    """Whether the first mapped value of a VOI LUT may be negative."""
    try:
        signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
    except (TypeError, ValueError):
        return False
    return signed or intercept < 0
