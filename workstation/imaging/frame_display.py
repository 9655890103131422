"""From a viewport's stored frame and its VOI choice to the array the screen shows, fast.

The pixel pipeline (:class:`~workstation.imaging.pipeline.FramePipeline`)
collapses the grayscale chain into one 8-bit table over the stored values.
Scrolling needs more than that per frame: the table is turned once into a
65536-entry table of 32-bit ``0xffRRGGBB`` pixels indexed by the stored
values' 16 bits, so one ``numpy.take`` yields the very bytes a 32-bit RGB
image holds (no conversion when painting).  The tables are shared by every
frame whose display chain is the same (same rescale, bits, padding, VOI), so
scrolling a CT stack builds them once.

The last stage, P-values to the pixels of the monitor's surface (the GSDF
or identity table, 8 or 10 bits per channel, optional dither), is the
:class:`~workstation.display.output.ScreenOutput` in :attr:`FrameDisplay.output`;
the 32-bit tables include it, so calibration costs nothing per frame.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.valuerep import PersonName

from workstation.display.output import ScreenOutput
from workstation.imaging.frames import number_of_frames
from workstation.imaging.pipeline import FramePipeline, Window, default_window
from workstation.imaging.viewstate import VoiChoice

_OPAQUE = np.uint32(0xFF000000)
_GREY_TO_RGB32 = (np.arange(256, dtype=np.uint32) * np.uint32(0x010101)) | _OPAQUE
# Frame key -> pipeline.  Most entries name a pipeline their series shares (see _shared_pipeline), so many
# are cheap: a 4 x 4 grid of different series scrolled back over its last 16 frames asked 256 already.
_PIPELINES_KEPT = 4096
# A 4 x 4 grid of different series needs sixteen tables at once, more with a second window or an inverted
# viewport: with fewer kept, each paint pushed out the table the next viewport needed (256 kB each).
_TABLES_KEPT = 64
_SHARED_KEPT = 64
_PER_FRAME_GROUPS = 0x52009230  # Per-frame Functional Groups Sequence
# Elements that differ from image to image of a series and that no pipeline reads (identity, place, time,
# the dose of that slice): two headers alike but for these have the same pipeline (see _fingerprint).
_PER_IMAGE_TAGS = frozenset({
    0x00080012, 0x00080013, 0x00080018, 0x00080022, 0x00080023, 0x00080032, 0x00080033, 0x0008002A,
    0x00181150, 0x00181151, 0x00181152, 0x00189327, 0x00189345, 0x00200012, 0x00200013, 0x00200032,
    0x00201041,
})


@dataclass
class DisplayFrame:
    """One frame ready to paint.

    Attributes
    ----------
    pixels : numpy.ndarray
        ``(rows, columns)`` uint32 ``0xffRRGGBB`` values (C-contiguous).
    window : Window or None
        The VOI used (None for colour images).
    """

    pixels: np.ndarray
    window: Window | None


class FrameDisplay:
    """Makes display frames for the viewports, caching pipelines and tables."""

    def __init__(self) -> None:
        self._pipelines: OrderedDict[tuple[object, ...], FramePipeline] = OrderedDict()
        # Header contents (but the per-image elements) -> their pipeline: the images of a series share one.
        self._shared: OrderedDict[tuple[object, ...], FramePipeline] = OrderedDict()
        self._tables: OrderedDict[tuple[object, ...], np.ndarray] = OrderedDict()
        self._default_windows: dict[tuple[object, ...], Window] = {}
        #: The monitor's last stage (display function and surface depth); see :meth:`set_output`.
        self.output: ScreenOutput = ScreenOutput.identity(8)
        #: Counts output changes: what a rendered frame was made for (an id() could be reused).
        self.output_serial = 0

    def set_output(self, output: ScreenOutput) -> None:
        """Show frames through another monitor's display function or surface (the window moved)."""
        if output is not self.output:
            self.output = output
            self.output_serial += 1
            self._tables.clear()

    def pipeline(self, key: tuple[object, ...], header: Dataset, frame: int, *,
                 derive: Callable[[FramePipeline], FramePipeline] | None = None,
                 base_key: tuple[object, ...] | None = None) -> FramePipeline:
        """The pipeline of a frame (``key`` names it, e.g. SOP Instance UID and frame).

        ``derive`` makes it from the pipeline under ``base_key`` instead (a
        presentation state's transforms in place of the image's).
        """
        p = self._pipelines.get(key)
        if p is None:
            if derive is not None:
                if base_key is None:
                    raise ValueError("a derived pipeline needs the key of the pipeline it is derived from")
                p = derive(self.pipeline(base_key, header, frame))
            else:
                p = self._shared_pipeline(header, frame)
            self._pipelines[key] = p
            if len(self._pipelines) > _PIPELINES_KEPT:
                self._pipelines.popitem(last=False)
        else:
            self._pipelines.move_to_end(key)
        return p

    def _shared_pipeline(self, header: Dataset, frame: int) -> FramePipeline:
        """The pipeline of a header alike another's but for :data:`_PER_IMAGE_TAGS`: that one.

        Building a pipeline decodes some twenty header values (about 0.3 ms); each new slice
        of each viewport of a linked grid asked for one.
        """
        # A multi-frame object's frames differ by their functional groups, each a long sequence to compare.
        single = frame == 0 and _PER_FRAME_GROUPS not in header and number_of_frames(header) == 1
        fingerprint = _fingerprint(header, frame) if single else None
        if fingerprint is None:
            return FramePipeline.from_dataset(header, frame)
        p = self._shared.get(fingerprint)
        if p is not None:
            self._shared.move_to_end(fingerprint)
            return p
        p = FramePipeline.from_dataset(header, frame)
        self._shared[fingerprint] = p
        if len(self._shared) > _SHARED_KEPT:
            self._shared.popitem(last=False)
        return p

    def window_for(self, pipeline: FramePipeline, voi: VoiChoice, stored: np.ndarray | None,
                   stack_key: object = None) -> Window | None:
        """The VOI a choice means for this frame (None for colour).

        Without an explicit window or VOI number, the image's first window is
        used; an image with none gets the min-max window of the first frame
        shown of its stack (``stack_key``), so scrolling does not flicker.
        """
        if pipeline.is_color:
            return None
        if voi.center is not None and voi.width is not None:  # voi.explicit
            return Window(voi.center, voi.width, voi.function, voi.name)
        if voi.voi_index is not None and 0 <= voi.voi_index < len(pipeline.windows):
            return pipeline.windows[voi.voi_index]
        if pipeline.windows:
            return pipeline.windows[0]
        key = (stack_key, _chain_key(pipeline))
        w = self._default_windows.get(key) if stack_key is not None else None
        if w is None:
            w = default_window(pipeline, stored)
            if stack_key is not None:
                self._default_windows[key] = w
        return w

    def render(self, pipeline: FramePipeline, stored: np.ndarray, window: Window | None, *,
               invert: bool = False, photometric_interpretation: str | None = None) -> DisplayFrame:
        """Display pixels of one frame of stored values."""
        if not pipeline.is_color and pipeline.has_display_lut and stored.dtype.itemsize <= 2 \
                and stored.dtype.kind in "iu" and stored.ndim == 2:
            index = stored.view(np.uint16) if stored.dtype.itemsize == 2 else stored.astype(np.uint16)
            if self.output.dithered:  # the dither depends on the pixel's place: P-values first
                return DisplayFrame(self.output.grey(np.take(self._table(pipeline, window, invert, True), index,
                                                             mode="wrap")), window)
            table = self._table(pipeline, window, invert)
            return DisplayFrame(np.take(table, index, mode="wrap"), window)
        out = pipeline.to_display(stored, window, invert=invert,
                                  photometric_interpretation=photometric_interpretation)
        return DisplayFrame(self.output.grey(out) if out.ndim == 2 else self.output.rgb(out), window)

    def render_sampled(self, pipeline: FramePipeline, stored: np.ndarray, window: Window | None,
                       rows: np.ndarray, columns: np.ndarray, *, invert: bool = False) -> DisplayFrame | None:
        """Display pixels of the stored values at ``rows`` x ``columns`` (nearest samples), or None.

        A minified view made at the screen's size: the samples are picked before
        the table look-up, so a 512 x 512 frame shown 262 pixels wide costs a
        quarter of :meth:`render`'s look-ups and is painted without scaling.
        None for frames the 32-bit tables do not cover (colour, more than 16
        bits, a dithered output): those go through :meth:`render`.
        """
        if pipeline.is_color or not pipeline.has_display_lut or stored.ndim != 2 \
                or stored.dtype.kind not in "iu" or stored.dtype.itemsize > 2 or self.output.dithered:
            return None
        samples = stored.take(rows, axis=0).take(columns, axis=1)
        index = samples.view(np.uint16) if samples.dtype.itemsize == 2 else samples.astype(np.uint16)
        return DisplayFrame(np.take(self._table(pipeline, window, invert), index, mode="wrap"), window)

    def _table(self, pipeline: FramePipeline, window: Window | None, invert: bool,
               p_values: bool = False) -> np.ndarray:
        # A table has an entry for each of the 65,536 uint16 indices, so look-ups take mode="wrap": no index
        # can be out of range, and numpy's bounds check ("raise") doubled the look-up's time.
        key = (_chain_key(pipeline), window, window.lut.data.tobytes() if window is not None and window.lut else b"",
               invert, p_values)
        table = self._tables.get(key)
        if table is not None:
            self._tables.move_to_end(key)
            return table
        lut, offset = pipeline.display_lut(window, invert=invert)
        u = np.arange(65536, dtype=np.int64)
        stored = np.where(u >= 32768, u - 65536, u) if pipeline.signed else u
        grey = lut[np.clip(stored - offset, 0, len(lut) - 1)]
        table = grey.astype(np.uint8) if p_values else self.output.grey_table[grey]
        self._tables[key] = table
        if len(self._tables) > _TABLES_KEPT:
            self._tables.popitem(last=False)
        return table


def _fingerprint(header: Dataset, frame: int) -> tuple[object, ...] | None:
    """The header's elements as stored but the per-image ones, or None when they cannot be compared cheaply.

    Elements still undecoded (as read, before any value was asked for) are compared as bytes,
    decoded values (numbers, texts, names, several of them) as values, sequences item by item;
    anything else gives None: no sharing, the pipeline is built from the header.
    """
    out: list[object] = [frame]
    for element in header.elements():
        tag = int(element.tag)
        if tag in _PER_IMAGE_TAGS or tag >= 0x7FE00000:
            continue
        value = element.value
        if isinstance(value, bytes):
            out.append((tag, value))
        elif value is None or isinstance(value, (str, int, float)):
            out.append((tag, type(value).__name__, value))
        elif isinstance(value, PersonName):  # the corner text decodes the names of the frames shown
            out.append((tag, "PN", str(value)))
        elif isinstance(value, MultiValue) and all(isinstance(v, (str, int, float)) for v in value):
            out.append((tag, "MV", tuple((type(v).__name__, v) for v in value)))
        elif isinstance(value, Sequence):
            items = [_fingerprint(item, -1) for item in value]
            if any(item is None for item in items):
                return None
            out.append((tag, "SQ", tuple(items)))
        else:
            return None
    return tuple(out)


def _chain_key(p: FramePipeline) -> tuple[object, ...]:
    """What decides a grayscale table apart from the VOI: frames alike here share tables."""
    modality_lut = id(p.modality_lut) if p.modality_lut is not None else None
    return (p.bits_stored, p.signed, p.rescale_slope, p.rescale_intercept, modality_lut,
            p.inverted, p.padding, p.photometric_interpretation)


def to_rgb32(display: np.ndarray) -> np.ndarray:
    """uint8 grey ``(r, c)`` or RGB ``(r, c, 3)`` to uint32 ``0xffRRGGBB`` ``(r, c)``."""
    if display.ndim == 2:
        grey: np.ndarray = _GREY_TO_RGB32[display]
        return grey
    rgb = display.astype(np.uint32)
    return np.ascontiguousarray(_OPAQUE | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])
