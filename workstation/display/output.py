"""The last stage of the display pipeline: P-values to the pixels a screen surface holds.

The display pipeline (:mod:`workstation.imaging.pipeline`) ends with 8-bit
P-values (after the Presentation LUT).  A :class:`ScreenOutput` turns them into
32-bit pixels for one monitor: through the monitor's P-value → DDL table (the
GSDF for a measured characteristic, the identity for a monitor calibrated in
the display), packed for the surface:

* 8 bits per channel: ``0xffRRGGBB`` (Qt's ``Format_RGB32``), optionally with
  an ordered (Bayer 4 × 4) spatial dither of the exact DDL, so that the 256
  P-values do not collapse onto fewer DDLs;
* 10 bits per channel: ``0b11`` + 3 × 10 bits (Qt's ``Format_RGB30``), where
  all 256 P-values keep a DDL of their own on a 1024-level curve.

Grayscale goes through the table; colour images (not covered by the GSDF) are
only packed for the surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ScreenOutput", "BAYER_4"]

_OPAQUE8 = np.uint32(0xFF000000)
_OPAQUE10 = np.uint32(0xC0000000)

#: The 4 × 4 ordered-dither thresholds, in (0, 1).
BAYER_4 = (np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], dtype=np.float64) + 0.5) / 16.0


@dataclass(frozen=True, eq=False)
class ScreenOutput:
    """How one monitor's surface receives P-values.

    Build it with :meth:`identity` or :meth:`from_table`.

    Attributes
    ----------
    bits : int
        Bits per channel of the surface: 8 or 10.
    ddl_exact : numpy.ndarray
        float64, 256 entries: the exact DDL (0 to ``2**bits - 1``) of each P-value.
    dither : bool
        Spread the fraction of the exact DDL over neighbouring pixels (8 bits only).
    description : str
        What it does, for the status bar and About (e.g. "GSDF, 10-bit").
    ddl : numpy.ndarray or None
        The whole DDL of each P-value when not dithered (the table's own
        choice, nearest in luminance); None rounds ``ddl_exact``.
    """

    bits: int
    ddl_exact: np.ndarray
    dither: bool = False
    description: str = ""
    ddl: np.ndarray | None = None
    grey_table: np.ndarray = field(init=False, repr=False)
    # Set once in __post_init__ (the class is frozen): the 16 packed tables of the dither, one after the
    # other, and the per-shape index of the table each pixel takes.
    _dither_tables: np.ndarray | None = field(init=False, repr=False)
    _dither_index: dict[tuple[int, ...], np.ndarray] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.bits not in (8, 10):
            raise ValueError("a screen surface has 8 or 10 bits per channel")
        top = (1 << self.bits) - 1
        exact = np.clip(np.asarray(self.ddl_exact, dtype=np.float64), 0, top)
        object.__setattr__(self, "ddl_exact", exact)
        # Half-up rounding of the exact DDL: the nearest level when there is no dither.
        ddl = np.floor(exact + 0.5) if self.ddl is None else np.clip(np.asarray(self.ddl), 0, top)
        ddl = ddl.astype(np.uint32)
        object.__setattr__(self, "grey_table", self.pack_grey(ddl))
        # Dither: one packed table per threshold of the 4 x 4 matrix, so a frame is one take.
        thresholds = BAYER_4.reshape(-1, 1)
        tables = self.pack_grey(np.clip(np.floor(exact[None, :] + thresholds), 0, top)) if self.dither else None
        object.__setattr__(self, "_dither_tables", None if tables is None else tables.reshape(-1))
        object.__setattr__(self, "_dither_index", {})

    @classmethod
    def identity(cls, bits: int = 8, dither: bool = False, description: str = "") -> ScreenOutput:
        """P-values shown as they are (no display function, or calibrated in the display)."""
        exact = np.arange(256, dtype=np.float64) * (((1 << bits) - 1) / 255.0)
        return cls(bits, exact, dither, description or f"no display function, {bits}-bit")

    @classmethod
    def from_table(cls, exact: np.ndarray, bits: int, dither: bool = False, description: str = "",
                   ddl: np.ndarray | None = None) -> ScreenOutput:
        """From a P-value → DDL table (exact DDLs, and the whole ones when chosen apart) for a ``bits`` surface."""
        if len(exact) != 256 or (ddl is not None and len(ddl) != 256):
            raise ValueError("the table needs one DDL for each of the 256 P-values")
        return cls(bits, np.asarray(exact, dtype=np.float64), dither, description, ddl)

    @property
    def is_identity(self) -> bool:
        """True when P-values pass unchanged onto an 8-bit surface."""
        return self.bits == 8 and np.array_equal(self.grey_table, _IDENTITY8)

    @property
    def dithered(self) -> bool:
        """True when the ordered dither is applied (8-bit surfaces only)."""
        return self.dither and self.bits == 8

    def pack_grey(self, ddl: np.ndarray) -> np.ndarray:
        """Whole DDLs (any shape) as grey pixels of this surface (uint32)."""
        d = np.asarray(ddl, dtype=np.uint32)
        if self.bits == 8:
            return (d * np.uint32(0x010101)) | _OPAQUE8
        return (d * np.uint32((1 << 20) | (1 << 10) | 1)) | _OPAQUE10

    def grey(self, p_values: np.ndarray) -> np.ndarray:
        """uint8 P-values ``(rows, cols)`` to surface pixels ``(rows, cols)`` uint32 (C-contiguous)."""
        p = np.asarray(p_values)
        if not self.dithered or self._dither_tables is None:
            out: np.ndarray = self.grey_table[p]
            return out
        base = self._dither_index.get(p.shape)
        if base is None:  # which threshold each pixel gets, times 256: the offset of its table
            rows, cols = p.shape
            k = np.arange(16, dtype=np.int32).reshape(4, 4) * 256
            base = np.ascontiguousarray(np.tile(k, ((rows + 3) // 4, (cols + 3) // 4))[:rows, :cols])
            if len(self._dither_index) > 8:
                self._dither_index.clear()
            self._dither_index[p.shape] = base
        dithered: np.ndarray = np.take(self._dither_tables, base + p)
        return dithered

    def rgb(self, rgb: np.ndarray) -> np.ndarray:
        """uint8 RGB ``(rows, cols, 3)`` to surface pixels (colour is packed, not calibrated)."""
        c: np.ndarray = np.asarray(rgb).astype(np.uint32)
        if self.bits == 8:
            return np.ascontiguousarray(_OPAQUE8 | (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2])
        c = (c << 2) | (c >> 6)  # 8 → 10 bits, 255 → 1023
        return np.ascontiguousarray(_OPAQUE10 | (c[..., 0] << 20) | (c[..., 1] << 10) | c[..., 2])

    def unpack_grey(self, pixels: np.ndarray) -> np.ndarray:
        """The DDL of the blue channel of surface pixels (for tests and checks)."""
        mask = np.uint32((1 << self.bits) - 1)
        return np.asarray(pixels, dtype=np.uint32) & mask


_IDENTITY8 = (np.arange(256, dtype=np.uint32) * np.uint32(0x010101)) | _OPAQUE8
