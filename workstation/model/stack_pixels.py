"""Stored pixel values of a stack, read one frame at a time, and the background reader that fills them.

Memory: a stack whose frames share one size and are 16-bit grey keeps its
stored values in one preallocated ``(frames, rows, columns)`` array of the
stored type, filled plane by plane (``np.empty`` costs no memory until a plane
is written).  Nothing else per frame is kept but its header, so an open
500-slice 512 x 512 CT costs its raw size plus the headers.  Other stacks
(colour, mixed sizes) keep one array per frame.

Reading: a frame whose stored values sit raw in the file (native little
endian, 16 bits) is read with one ``readinto`` into its plane after the
header bytes before it are parsed; any other frame goes through
:func:`workstation.dicom.pixels.decode_pixels`.  A frame that cannot be read
keeps its error message (the viewport shows it); nothing raises.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from dataclasses import dataclass
from collections.abc import Callable

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation.dicom.pixels import decode_pixels
from workstation.model import pixel_memory
from workstation.model.stack import FrameRef, ImageStack

log = logging.getLogger(__name__)


@dataclass
class FrameResult:
    """What reading one frame gave: its stored values and header, or an error."""

    array: np.ndarray | None
    header: Dataset | None
    error: str | None = None
    photometric_interpretation: str = ""  # the colour space of ``array`` (the decoder may convert)


def _read_header(ref: FrameRef, head: bytes | None = None) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # oddities of a header are no reason not to show it
        if head is not None:
            return dcmread(io.BytesIO(head), stop_before_pixels=True, force=True)
        return dcmread(ref.path, stop_before_pixels=True, force=True)


def _fix_bits_stored(plane: np.ndarray, header: Dataset) -> None:
    """Clear (or sign-extend) the bits above Bits Stored in place, as the decoder would."""
    bits = int(header.get("BitsStored", 16) or 16)
    if bits >= 16:
        return
    if plane.dtype == np.int16:
        shift = np.int16(16 - bits)
        np.left_shift(plane, shift, out=plane)
        np.right_shift(plane, shift, out=plane)
    else:
        np.bitwise_and(plane, np.uint16((1 << bits) - 1), out=plane)


def read_frame(ref: FrameRef, out: np.ndarray | None = None, header: Dataset | None = None) -> FrameResult:
    """Read one frame's stored values (into ``out`` when given) and its header.

    Parameters
    ----------
    ref : FrameRef
        The frame.
    out : numpy.ndarray, optional
        A ``(rows, columns)`` array of the frame's stored type to fill.
    header : pydicom.dataset.Dataset, optional
        The instance's header when already read (frames of one multi-frame instance).
    """
    try:
        if ref.direct_offset is not None and out is not None and out.dtype.itemsize == 2:
            with open(ref.path, "rb") as f:
                if header is None:
                    head = f.read(ref.direct_offset - ref.frame * ref.rows * ref.columns * 2)
                    header = _read_header(ref, head)
                f.seek(ref.direct_offset)
                n = f.readinto(out.data.cast("B"))
            if n != out.nbytes:
                return FrameResult(None, header, f"pixel data truncated: expected {out.nbytes} bytes, found {n}")
            if out.dtype.byteorder == ">":
                out.byteswap(inplace=True)
            _fix_bits_stored(out, header)
            return FrameResult(out, header)
        if header is None:
            header = _read_header(ref)
        result = decode_pixels(ref.path, frame=ref.frame)
        array, photometric = result.array, result.photometric_interpretation
        if array is None or not result.ok:
            return FrameResult(None, header, result.error)
        if out is not None:
            if array.shape != out.shape:
                return FrameResult(None, header, f"image is {array.shape[1]} x {array.shape[0]}, expected "
                                                 f"{out.shape[1]} x {out.shape[0]}")
            out[...] = array
            array = out
        return FrameResult(array, header, None, photometric)
    except MemoryError:
        raise
    except Exception as exc:  # a viewer shows the message in place of the image
        return FrameResult(None, header, f"cannot read image: {exc}")


class StackPixels:
    """Stored values and headers of a stack's frames, filled as they are read.

    Thread-safety: one writer (the loader or the GUI thread) per frame; a
    frame's flag is set only after its values and header are in place, so
    readers never see half a frame.
    """

    def __init__(self, stack: ImageStack) -> None:
        self.stack = stack
        n = len(stack)
        self.volume: np.ndarray | None = None
        self._planes: list[np.ndarray | None] = [None] * n
        self.headers: list[Dataset | None] = [None] * n
        self.photometric: list[str] = [""] * n
        self.errors: dict[int, str] = {}
        self.loaded = np.zeros(n, dtype=bool)
        self._lock = threading.Lock()
        frames = stack.frames
        if frames and all(
            (f.rows, f.columns, f.bits_allocated, f.samples_per_pixel, f.pixel_representation)
            == (frames[0].rows, frames[0].columns, 16, 1, frames[0].pixel_representation)
            for f in frames
        ):
            dtype = np.int16 if frames[0].pixel_representation else np.uint16
            self.volume = np.empty((n, frames[0].rows, frames[0].columns), dtype=dtype)
            if all(f.number_of_frames == 1 for f in frames):
                # MPR and 3D of this series take their voxels from here (see model.pixel_memory).
                pixel_memory.remember(stack.series.series_uid, self)

    def __len__(self) -> int:
        return len(self.headers)

    @property
    def done(self) -> bool:
        """True when every frame has been read (or failed)."""
        return bool(self.loaded.all()) if len(self) else True

    @property
    def count_loaded(self) -> int:
        return int(self.loaded.sum())

    def is_loaded(self, index: int) -> bool:
        return bool(self.loaded[index])

    def image(self, index: int) -> np.ndarray | None:
        """Stored values of frame ``index`` once read, else None."""
        if not self.loaded[index] or index in self.errors:
            return None
        if self.volume is not None:
            plane: np.ndarray = self.volume[index]
            return plane
        return self._planes[index]

    def header(self, index: int) -> Dataset | None:
        return self.headers[index]

    def error(self, index: int) -> str | None:
        return self.errors.get(index)

    def load(self, index: int) -> bool:
        """Read frame ``index`` now unless it is read already; True when it has pixels."""
        if self.loaded[index]:
            return index not in self.errors
        ref = self.stack.frames[index]
        header = self._sibling_header(index)
        out = self.volume[index] if self.volume is not None else None
        result = read_frame(ref, out, header)
        with self._lock:
            if self.loaded[index]:
                return index not in self.errors
            self.headers[index] = result.header
            self.photometric[index] = result.photometric_interpretation
            if result.array is None:
                self.errors[index] = result.error or "no image"
            elif self.volume is None:
                self._planes[index] = result.array
            self.loaded[index] = True
        return result.array is not None

    def _sibling_header(self, index: int) -> Dataset | None:
        """The header already read for another frame of the same multi-frame instance."""
        ref = self.stack.frames[index]
        if ref.number_of_frames <= 1:
            return None
        for i, f in enumerate(self.stack.frames):
            if f.sop_instance_uid == ref.sop_instance_uid and self.headers[i] is not None:
                return self.headers[i]
        return None

    @property
    def nbytes(self) -> int:
        """Bytes of stored values held (the whole preallocated array once it is full)."""
        if self.volume is not None:
            return int(self.volume.nbytes)
        return sum(p.nbytes for p in self._planes if p is not None)


#: A loader started paused waits this long after :meth:`StackLoader.resume` before its first read.  The
#: viewer lets its readers go at the first image it paints, in the middle of painting the others: a reader
#: starting at once took the interpreter from that paint (about half of a study's open on 2 busy cores).
RESUME_GRACE_S = 0.05


class StackLoader:
    """Reads a stack's frames on a background thread, nearest to the viewed frame first.

    Parameters
    ----------
    pixels : StackPixels
        What to fill.
    on_progress : callable, optional
        ``on_progress(loaded, total)`` from the loader thread after each frame
        (the UI adapter throttles it).
    """

    def __init__(self, pixels: StackPixels, on_progress: Callable[[int, int], None] | None = None) -> None:
        self.pixels = pixels
        self._focus = 0
        self._focus_changed = threading.Event()
        self._stop = threading.Event()
        self._on_progress = on_progress
        self._thread: threading.Thread | None = None
        self._go = threading.Event()
        self._started_paused = False

    def start(self, focus: int = 0, *, paused: bool = False) -> None:
        """Start reading around ``focus`` (no-op when running or nothing is left).

        ``paused``: the thread waits for :meth:`resume` before reading, so the
        first image is painted without the reader competing for the interpreter.
        """
        self._focus = focus
        self._started_paused = paused and not self._go.is_set()
        if not paused:
            self._go.set()
        if self._thread is not None or self.pixels.done:
            return
        self._thread = threading.Thread(target=self._run, name="stack-loader", daemon=True)
        self._thread.start()

    def set_focus(self, index: int) -> None:
        """Read around ``index`` next (the reader scrolled there)."""
        if index != self._focus:
            self._focus = index
            self._focus_changed.set()

    def resume(self) -> None:
        """Let a loader started paused read."""
        self._go.set()

    def cancel(self) -> None:
        self._stop.set()
        self._go.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _next(self, focus: int, radius: int) -> tuple[int | None, int]:
        loaded = self.pixels.loaded
        n = len(loaded)
        while radius < n:
            for i in (focus + radius, focus - radius):
                if 0 <= i < n and not loaded[i]:
                    return i, radius
            radius += 1
        return None, radius

    def _run(self) -> None:
        self._go.wait()
        if self._started_paused and self._stop.wait(RESUME_GRACE_S):
            return  # cancelled during the grace
        radius, focus = 0, self._focus
        total = len(self.pixels)
        try:
            while not self._stop.is_set():
                if self._focus_changed.is_set():
                    self._focus_changed.clear()
                    focus, radius = min(max(self._focus, 0), total - 1), 0
                index, radius = self._next(focus, radius)
                if index is None:
                    if self.pixels.done:
                        break
                    radius = 0  # a frame read elsewhere meanwhile; look again from the focus
                    continue
                self.pixels.load(index)
                if self._on_progress is not None:
                    self._on_progress(self.pixels.count_loaded, total)
        except Exception:  # never let a reader thread die silently
            log.exception("stack loader stopped")
