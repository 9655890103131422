"""The display pipeline of one frame: stored values to 8-bit display values.

PS3.4 N.2 (grayscale): stored values -> Modality LUT (rescale or Modality LUT
Sequence) -> VOI LUT (window or VOI LUT Sequence) -> Presentation LUT
(IDENTITY, or INVERSE / MONOCHROME1) -> display.  Colour images go through
their colour transform (YBR to RGB, palette) instead.

A :class:`FramePipeline` is built from the header only and keeps no pixels.
For integer grayscale data the whole chain collapses into one 8-bit lookup
table over every possible stored value (:meth:`FramePipeline.display_lut`),
so that showing a frame is one ``numpy.take``: the viewer scrolls through a
stack without any float arithmetic per pixel.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging import color
from workstation.imaging.frames import frame_dataset, number_of_frames
from workstation.imaging.luts import (
    LookupTable,
    Window,
    apply_window,
    lookup_table_from_item,
    windows_from_dataset,
)
from workstation.imaging.overlays import OverlayPlane, burn_in, overlay_planes

__all__ = ["FramePipeline", "Window", "default_window", "apply_display_lut"]

#: Largest Bits Stored for which a display LUT over every stored value is built.
MAX_LUT_BITS = 16

_MONOCHROME = ("MONOCHROME1", "MONOCHROME2")


def _int(ds: Dataset, keyword: str, default: int) -> int:
    try:
        value = ds.get(keyword, default)
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _float(ds: Dataset, keyword: str, default: float) -> float:
    try:
        value = ds.get(keyword, default)
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _signed(value: int, signed: bool, bits: int = 16) -> int:
    """A US-encoded value reinterpreted as signed when the pixels are signed."""
    if signed and value >= 1 << (bits - 1):
        return value - (1 << bits)
    return value


@dataclass(frozen=True)
class _Padding:
    low: int
    high: int


class FramePipeline:
    """How one frame's stored values become display values.

    Build it with :meth:`from_dataset`; it reads the header only.

    Attributes
    ----------
    frame : int
        The 0-based frame this pipeline is for.
    rows, columns : int
        Size of the frame.
    photometric_interpretation : str
        As in the header (upper case).
    is_color : bool
        True for RGB, YBR and PALETTE COLOR images.
    is_float : bool
        True for Float / Double Float Pixel Data.
    bits_allocated, bits_stored : int
        As in the header.
    signed : bool
        Pixel Representation 1.
    units : str
        Units of the modality values: the Rescale Type or Modality LUT Type
        when given, "HU" for CT, else "".
    rescale_slope, rescale_intercept : float
        The rescale (1 and 0 when absent or when a Modality LUT is used).
    modality_lut : LookupTable or None
        The Modality LUT Sequence item, when present.
    windows : list of Window
        The image's own VOI choices, windows first, then VOI LUTs.
    inverted : bool
        True when the image is shown inverted by itself: a Presentation LUT
        Shape of INVERSE, or MONOCHROME1 without a Presentation LUT Shape.
    padding : tuple of (int, int) or None
        Stored values shown as background (Pixel Padding Value and Range Limit).
    overlays : list of OverlayPlane
        The overlay planes (60xx) that apply to this frame.
    """

    def __init__(self, ds: Dataset, frame: int = 0) -> None:
        self.frame = frame
        self.number_of_frames = number_of_frames(ds)
        self.rows = _int(ds, "Rows", 0)
        self.columns = _int(ds, "Columns", 0)
        self.samples_per_pixel = _int(ds, "SamplesPerPixel", 1)
        self.photometric_interpretation = str(
            ds.get("PhotometricInterpretation", "") or "MONOCHROME2"
        ).strip().upper()
        self.bits_allocated = _int(ds, "BitsAllocated", 16)
        self.bits_stored = _int(ds, "BitsStored", self.bits_allocated) or self.bits_allocated
        self.signed = _int(ds, "PixelRepresentation", 0) == 1
        self.is_float = "FloatPixelData" in ds or "DoubleFloatPixelData" in ds
        self.is_color = (
            self.samples_per_pixel > 1 or self.photometric_interpretation == "PALETTE COLOR"
        )
        self.modality = str(ds.get("Modality", "") or "").upper()
        self.modality_lut = self._read_modality_lut(ds)
        if self.modality_lut is None:
            self.rescale_slope = _float(ds, "RescaleSlope", 1.0) or 1.0
            self.rescale_intercept = _float(ds, "RescaleIntercept", 0.0)
        else:
            self.rescale_slope, self.rescale_intercept = 1.0, 0.0
        self.units = self._read_units(ds)
        self.windows: list[Window] = [] if self.is_color else windows_from_dataset(ds)
        shape = str(ds.get("PresentationLUTShape", "") or "").strip().upper()
        self.presentation_lut_shape = shape
        # An explicit shape wins over MONOCHROME1 (PS3.3 C.11.6.1.1; as DCMTK does).
        if shape in ("IDENTITY", "INVERSE"):
            self.inverted = shape == "INVERSE" and not self.is_color
        else:
            self.inverted = self.photometric_interpretation == "MONOCHROME1"
        self._padding = self._read_padding(ds)
        self.palette = (
            color.palette_table(ds) if self.photometric_interpretation == "PALETTE COLOR" else None
        )
        self.overlays: list[OverlayPlane] = overlay_planes(ds, frame)
        self._lut_cache: dict[tuple[Window | None, bytes, bool], tuple[np.ndarray, int]] = {}

    # -- construction --------------------------------------------------------------------

    @classmethod
    def from_dataset(cls, ds: Dataset, frame: int = 0) -> FramePipeline:
        """Build the pipeline of one frame of ``ds``.

        Parameters
        ----------
        ds : pydicom.dataset.Dataset
            The image's data set; Pixel Data need not have been read.
        frame : int
            0-based frame; per-frame functional groups of enhanced objects are
            resolved for it (pixel value transformation, frame VOI LUT, ...).

        Returns
        -------
        FramePipeline
        """
        return cls(frame_dataset(ds, frame), frame)

    def with_transforms(
        self,
        *,
        rescale: tuple[float, float] | None = None,
        modality_lut: LookupTable | None = None,
        units: str | None = None,
        windows: list[Window] | None = None,
        inverted: bool | None = None,
    ) -> FramePipeline:
        """A copy whose grayscale transforms are replaced, as a presentation state does.

        Parameters
        ----------
        rescale : (slope, intercept) or None
            The Modality LUT as a rescale; with ``modality_lut`` None and
            ``rescale`` None the modality transform becomes the identity.
        modality_lut : LookupTable or None
            A Modality LUT Sequence item instead of a rescale.
        units : str or None
            Units of the new modality values (unchanged when None).
        windows : list of Window or None
            The VOI choices (unchanged when None; [] for an identity VOI).
        inverted : bool or None
            Whether the output is inverted (the Presentation LUT Shape);
            unchanged when None.

        Returns
        -------
        FramePipeline
            A new pipeline; this one is not changed.
        """
        clone = copy.copy(self)
        clone._lut_cache = {}
        clone.modality_lut = modality_lut
        slope, intercept = rescale if rescale is not None else (1.0, 0.0)
        clone.rescale_slope = float(slope) or 1.0
        clone.rescale_intercept = float(intercept) if modality_lut is None else 0.0
        if units is not None:
            clone.units = units
        if windows is not None:
            clone.windows = list(windows)
        if inverted is not None:
            clone.inverted = bool(inverted)
        return clone

    def _read_modality_lut(self, ds: Dataset) -> LookupTable | None:
        seq = ds.get("ModalityLUTSequence")
        if not seq:
            return None
        return lookup_table_from_item(seq[0], signed_input=self.signed)

    def _read_units(self, ds: Dataset) -> str:
        if self.modality_lut is not None:
            lut_type = str(ds.ModalityLUTSequence[0].get("ModalityLUTType", "") or "")
            return "" if lut_type.upper() in ("", "US") else lut_type
        rescale_type = str(ds.get("RescaleType", "") or "").strip()
        if rescale_type and rescale_type.upper() != "US":
            return rescale_type
        if self.modality == "CT" and "RescaleIntercept" in ds:
            return "HU"
        return ""

    def _read_padding(self, ds: Dataset) -> _Padding | None:
        if self.is_color or "PixelPaddingValue" not in ds:
            return None
        try:
            value = _signed(int(ds.PixelPaddingValue), self.signed)
        except (TypeError, ValueError):
            return None
        limit = value
        if "PixelPaddingRangeLimit" in ds:
            try:
                limit = _signed(int(ds.PixelPaddingRangeLimit), self.signed)
            except (TypeError, ValueError):
                limit = value
        return _Padding(min(value, limit), max(value, limit))

    # -- properties ----------------------------------------------------------------------

    @property
    def padding(self) -> tuple[int, int] | None:
        """``(low, high)`` stored values shown as background, or None."""
        return None if self._padding is None else (self._padding.low, self._padding.high)

    @property
    def stored_range(self) -> tuple[int, int]:
        """The smallest and largest stored value Bits Stored allows."""
        bits = max(1, self.bits_stored)
        if self.signed:
            return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        return 0, (1 << bits) - 1

    @property
    def has_display_lut(self) -> bool:
        """True when :meth:`display_lut` applies (integer grayscale, Bits Stored <= 16)."""
        return not self.is_color and not self.is_float and self.bits_stored <= MAX_LUT_BITS

    @property
    def modality_range(self) -> tuple[float, float]:
        """The smallest and largest modality value the stored range can give."""
        low, high = self.stored_range
        values = self.modality_values(np.array([low, high]))
        if self.modality_lut is not None:
            data = self.modality_lut.data
            return float(data.min()), float(data.max())
        return float(values.min()), float(values.max())

    # -- the transforms ------------------------------------------------------------------

    def modality_values(self, stored: np.ndarray) -> np.ndarray:
        """Apply the Modality LUT (rescale slope/intercept or Modality LUT Sequence).

        Parameters
        ----------
        stored : numpy.ndarray
            Stored values (any shape).

        Returns
        -------
        numpy.ndarray
            Modality values: float64 when a rescale applies, the LUT's
            integers for a Modality LUT; ``stored`` itself (no copy) for an
            identity rescale or for colour images.
        """
        if self.is_color:
            return stored
        if self.modality_lut is not None:
            return self.modality_lut(stored)
        if self.rescale_slope == 1.0 and self.rescale_intercept == 0.0:
            return stored
        return stored * np.float64(self.rescale_slope) + np.float64(self.rescale_intercept)

    def resolve_window(
        self, window: Window | None = None, voi_index: int | None = None
    ) -> Window | None:
        """The VOI choice that :meth:`display_lut` uses for these arguments.

        ``window`` wins; else the image's window number ``voi_index`` (0-based,
        an IndexError when there is no such window); else the image's first
        window; else None (the whole modality range is shown).
        """
        if window is not None:
            return window
        if voi_index is not None:
            if not 0 <= voi_index < len(self.windows):
                raise IndexError(
                    f"VOI index {voi_index} does not exist: the image has "
                    f"{len(self.windows)} VOI choice{'s' if len(self.windows) != 1 else ''}"
                )
            return self.windows[voi_index]
        return self.windows[0] if self.windows else None

    def display_lut(
        self,
        window: Window | None = None,
        *,
        voi_index: int | None = None,
        invert: bool = False,
    ) -> tuple[np.ndarray, int]:
        """The whole grayscale chain as one table over the stored values.

        Parameters
        ----------
        window : Window or None
            The VOI to apply; see :meth:`resolve_window` for the default.
        voi_index : int or None
            0-based index into :attr:`windows`, used when ``window`` is None.
        invert : bool
            The user's invert toggle, on top of the image's own inversion.

        Returns
        -------
        (numpy.ndarray, int)
            ``(lut, offset)``: a uint8 array such that the display value of a
            stored value ``s`` is ``lut[s - offset]`` (see
            :func:`apply_display_lut`).  The table is shared: do not modify it.

        Raises
        ------
        ValueError
            For colour, float or more than 16-bit data (use :meth:`to_display`).
        """
        if not self.has_display_lut:
            raise ValueError("no display LUT for colour, float or more than 16-bit pixel data")
        resolved = self.resolve_window(window, voi_index)
        key = (resolved, resolved.lut.data.tobytes() if resolved and resolved.lut else b"", invert)
        cached = self._lut_cache.get(key)
        if cached is None:
            low, high = self.stored_range
            stored = np.arange(low, high + 1, dtype=np.int64)
            lut = self._grayscale(stored, resolved, invert)
            cached = (lut, low)
            if len(self._lut_cache) > 8:
                self._lut_cache.clear()
            self._lut_cache[key] = cached
        return cached

    def _grayscale(self, stored: np.ndarray, window: Window | None, invert: bool) -> np.ndarray:
        """Stored values -> uint8 display values, computed (no table)."""
        values = self.modality_values(stored)
        if window is None:
            low, high = self.modality_range
            window = _full_range_window(low, high)
        out = apply_window(values, window, inverse=self.inverted != bool(invert)).astype(np.uint8)
        if self._padding is not None:
            out[(stored >= self._padding.low) & (stored <= self._padding.high)] = 0
        return out

    def to_display(
        self,
        stored: np.ndarray,
        window: Window | None = None,
        *,
        voi_index: int | None = None,
        invert: bool = False,
        overlays: bool = False,
        photometric_interpretation: str | None = None,
    ) -> np.ndarray:
        """Display values of one frame.

        Parameters
        ----------
        stored : numpy.ndarray
            The frame's stored values as :func:`workstation.dicom.pixels.decode_pixels`
            returns them: ``(rows, cols)`` or ``(rows, cols, samples)``.
        window : Window or None
            VOI for grayscale; None uses :func:`default_window` (the image's
            first window, else the frame's minimum and maximum).
        voi_index : int or None
            0-based index into :attr:`windows`, used when ``window`` is None.
        invert : bool
            The user's invert toggle.
        overlays : bool
            Burn the frame's overlay planes in (white).
        photometric_interpretation : str or None
            The colour space ``stored`` is in, when it differs from the header
            (``PixelResult.photometric_interpretation``).

        Returns
        -------
        numpy.ndarray
            uint8 ``(rows, cols)`` for grayscale, ``(rows, cols, 3)`` RGB for colour.
        """
        stored = np.asarray(stored)
        if self.is_color:
            pi = (photometric_interpretation or self.photometric_interpretation).upper()
            out = color.to_rgb(stored, pi, self.bits_stored, self.palette)
            if invert:
                out = 255 - out
        else:
            if stored.ndim == 3 and stored.shape[-1] == 1:
                stored = stored[..., 0]
            if window is None and voi_index is None:
                window = default_window(self, stored)
            if self.has_display_lut:
                lut, offset = self.display_lut(window, voi_index=voi_index, invert=invert)
                out = apply_display_lut(stored, lut, offset)
            else:
                out = self._grayscale(stored, self.resolve_window(window, voi_index), invert)
        if overlays and self.overlays:
            out = burn_in(out, self.overlays, stored)
        return out


@cache
def _full_range_window(low: float, high: float) -> Window:
    width = max(high - low + 1.0, 1.0)
    return Window(center=(low + high + 1.0) / 2.0, width=width, explanation="full range")


def apply_display_lut(stored: np.ndarray, lut: np.ndarray, offset: int) -> np.ndarray:
    """``lut[stored - offset]`` for a whole frame, fast and safe.

    Values outside the table (which a Bits Stored mismatch can produce) get
    the first or last entry instead of raising.

    Parameters
    ----------
    stored : numpy.ndarray
        Integer stored values.
    lut, offset
        As returned by :meth:`FramePipeline.display_lut`.

    Returns
    -------
    numpy.ndarray
        uint8 display values, the shape of ``stored``.
    """
    if offset == 0 and stored.dtype.kind == "u":
        index = stored
    elif stored.dtype == np.int16 and offset == -32768 and len(lut) == 65536:
        # Shifting the sign bit is the same as subtracting -32768 and keeps 16 bits.
        index = (stored.view(np.uint16) ^ np.uint16(0x8000))
    else:
        index = stored.astype(np.int32) - np.int32(offset)
    return np.take(lut, index, mode="clip")


def default_window(pipeline: FramePipeline, stored: np.ndarray | None = None) -> Window:
    """The VOI a frame is first shown with.

    Parameters
    ----------
    pipeline : FramePipeline
        The frame's pipeline.
    stored : numpy.ndarray or None
        The frame's stored values, for images without a window of their own.

    Returns
    -------
    Window
        The image's first window (or VOI LUT); else the window spanning the
        minimum to the maximum modality value of ``stored`` (padding left
        out), as DCMTK's min-max window does; else the whole modality range.
    """
    if pipeline.windows:
        return pipeline.windows[0]
    if stored is not None and stored.size and not pipeline.is_color:
        values = stored
        if pipeline.padding is not None and not pipeline.is_float:
            pad_low, pad_high = pipeline.padding
            keep = (stored < pad_low) | (stored > pad_high)
            if keep.any():
                values = stored[keep]
        low_s, high_s = values.min(), values.max()
        if pipeline.is_float:
            vmin, vmax = (float(v) for v in pipeline.modality_values(np.array([low_s, high_s])))
        else:
            ends = pipeline.modality_values(np.array([int(low_s), int(high_s)], dtype=np.int64))
            vmin, vmax = float(np.min(ends)), float(np.max(ends))
            if pipeline.modality_lut is not None:
                mapped = pipeline.modality_values(values)
                vmin, vmax = float(mapped.min()), float(mapped.max())
        if np.isfinite(vmin) and np.isfinite(vmax):
            if pipeline.is_float:
                return Window(
                    (vmin + vmax) / 2.0, max(vmax - vmin, 1e-6), "LINEAR_EXACT", "min-max"
                )
            return Window((vmin + vmax + 1.0) / 2.0, vmax - vmin + 1.0, "LINEAR", "min-max")
    low, high = pipeline.modality_range
    return _full_range_window(low, high)
