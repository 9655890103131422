"""Pixel data access: one function that decodes any image Lightbox can read.

:func:`decode_pixels` returns the stored pixel values (no Modality LUT, no
VOI LUT) of one frame or of all frames, or a one-sentence error that a viewer
can show in place of the image.  It never raises for bad data.

How each transfer syntax is read
--------------------------------
* Native little endian (Implicit/Explicit VR Little Endian) from a path: the
  header is parsed up to Pixel Data, then only the requested bytes are read
  straight into the result array.  The values are exactly those of pydicom's
  ``pixel_array`` (unused high bits are cleared or sign-extended where pydicom
  does so: Pixel Data with Bits Stored < Bits Allocated).
* Bit-packed (Bits Allocated 1), YBR_FULL_422 and big endian native data go
  through pydicom's native decoder, reading the same bytes from the file.
* Deflated data sets are inflated by pydicom, then decoded as native.
* Encapsulated data is decoded with pydicom 3's decoder plugins in the order
  of :data:`workstation.dicom.transfer_syntax.DECODER_ORDER`; 12-bit JPEG
  Extended images that no plugin accepts are handed to GDCM directly.

Colour
------
Colour pixels are returned interleaved, ``(rows, cols, samples)``, in the
colour space they are stored in: RGB stays RGB, YBR_FULL stays YBR_FULL.
Native YBR_FULL_422 is up-sampled to full resolution (so it becomes
YBR_FULL).  JPEG-coded YBR_FULL_422/YBR_FULL is returned as the codec decodes
it, which for every plugin used is *without* the codec's YCbCr to RGB
transform, so it stays YBR_FULL_422 (full resolution) or YBR_FULL; a JPEG
codestream whose component IDs say "RGB" is returned as RGB.  JPEG 2000
YBR_ICT/YBR_RCT is returned as RGB (the codec inverts the component
transform).  :attr:`PixelResult.photometric_interpretation` always names the
colour space of the returned array, so callers need not repeat these rules.
"""

from __future__ import annotations

import io
import math
import operator
import os
import struct
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, BinaryIO, TypeVar

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels.decoders.base import Decoder, DecodeRunner, get_decoder
from pydicom.pixels.utils import as_pixel_options
from pydicom.uid import (
    JPEGExtended12Bit,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    UID,
)

from workstation.dicom.bounded import open_bounded
from workstation.dicom.gdcm_jpeg import decode_jpeg_with_gdcm
from workstation.dicom.pixel_guards import PixelRefusal, check_budget, check_codestreams
from workstation.dicom.header import deflated_too_large
from workstation.dicom.isolation import IsolatedFailure, isolation_available, run_isolated
from workstation.dicom.limits import limits
from workstation.dicom.transfer_syntax import TransferSyntax, decoder_order, transfer_syntax

__all__ = ["PixelResult", "decode_pixels", "pixel_data_location", "PIXEL_KEYWORDS"]

#: The three elements that can hold an image, by tag.
PIXEL_KEYWORDS: dict[int, str] = {
    0x7FE00010: "PixelData",
    0x7FE00008: "FloatPixelData",
    0x7FE00009: "DoubleFloatPixelData",
}

# Explicit VR elements of these VRs have a 2-byte reserved field and a 4-byte length.
_LONG_LENGTH_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT"}
_UNDEFINED_LENGTH = 0xFFFFFFFF


@dataclass(frozen=True)
class PixelResult:
    """The decoded pixels of one image, or why there are none.

    Attributes
    ----------
    array : numpy.ndarray or None
        Stored values as decoded, in native byte order: ``(rows, cols)`` or
        ``(rows, cols, samples)`` for one frame; ``(frames, rows, cols[, samples])``
        for all frames of a multi-frame image (a single-frame image read with
        ``frame=None`` has no frames axis, like pydicom's ``pixel_array``).
    error : str or None
        One sentence a user can read, set when ``array`` is None.
    transfer_syntax : str
        The Transfer Syntax UID of the pixel data ("" when it could not be read).
    photometric_interpretation : str
        The colour space of ``array`` (may differ from the data set's, see the
        module notes); "" when there is no array.
    """

    array: np.ndarray | None
    error: str | None
    transfer_syntax: str = ""
    photometric_interpretation: str = ""

    @property
    def ok(self) -> bool:
        """True when :attr:`array` holds the decoded pixels."""
        return self.array is not None and self.error is None


_PixelError = PixelRefusal  # a decoding failure whose message is already fit to show

# Pixel data is read from a file (a BoundedReader) or from a data set's bytes; both can readinto.
_Stream = io.BufferedReader | io.BytesIO

_T = TypeVar("_T")


@dataclass(frozen=True)
class _PixelElement:
    """Where a pixel data element's value sits in its stream."""

    keyword: str
    vr: str | None
    offset: int
    length: int | None  # None: undefined length (encapsulated)


def decode_pixels(
    source: str | os.PathLike[str] | Dataset, frame: int | None = None
) -> PixelResult:
    """Decode one frame, or all frames, of an image.

    Parameters
    ----------
    source : str, os.PathLike or pydicom.dataset.Dataset
        A DICOM file (Part 10 or without a meta header) or a data set read
        with its pixel data.  A path is read as little as needed: for native
        little endian data only the requested frame's bytes.
    frame : int or None
        0-based frame to decode; None decodes all frames.

    Returns
    -------
    PixelResult
        The stored values (see the module notes on colour), or ``error``, for
        example "no Pixel Data", "pixel data truncated: expected 8192 bytes,
        found 8130" or "cannot decode JPEG 2000 pixel data: <reason>".
        Nothing but ``KeyboardInterrupt``/``MemoryError`` escapes.
    """
    try:
        if frame is not None:
            try:
                frame = operator.index(frame)
            except TypeError:
                return PixelResult(None, f"frame must be an integer, not {frame!r}")
            if frame < 0:
                return PixelResult(None, f"frame {frame} does not exist: frames count from 0")
        if isinstance(source, Dataset):
            return _decode_dataset(source, frame)
        return _decode_path(source, frame)
    except MemoryError:
        raise
    except Exception as exc:  # last guard: a viewer shows the message, not a traceback
        return PixelResult(None, f"cannot decode pixel data: {_reason(exc)}")


def pixel_data_location(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """Return where the pixel values of a native little endian file are.

    Parameters
    ----------
    path : str or os.PathLike
        A Part 10 file or a file without meta header.

    Returns
    -------
    tuple of (int, int) or None
        ``(byte offset, byte length)`` of the value of Pixel Data (or Float /
        Double Float Pixel Data) when the transfer syntax is Implicit or
        Explicit VR Little Endian and the whole value is in the file, so that
        ``np.fromfile(path, dtype, count, offset=offset)`` reads it.  None for
        compressed, deflated or big endian data, a missing element, a value
        running past the end of the file, or a file that cannot be read.
    """
    try:
        with open_bounded(path) as f:
            ds, ts, element = _read_header(f)
            if ts is None or not ts.native_little_endian or element is None:
                return None
            if element.length is None:
                return None
            size = os.fstat(f.fileno()).st_size
            if element.offset + element.length > size:
                return None
            return element.offset, element.length
    except MemoryError:
        raise
    except Exception:
        return None


# -- reading the header ------------------------------------------------------------------


def _read_header(f: BinaryIO) -> tuple[Dataset, TransferSyntax | None, _PixelElement | None]:
    """Read the data set up to its pixel data and locate the pixel data element.

    The element is None when there is none, or when the data set is deflated
    (its offsets then are not offsets in the file).
    """
    ds = dcmread(f, stop_before_pixels=True, force=True)
    ts = _dataset_transfer_syntax(ds)
    if ts is None or ts.deflated:
        return ds, ts, None
    implicit, little = ds.original_encoding
    if implicit is None:
        implicit, little = ts.implicit_vr, ts.little_endian
    return ds, ts, _read_pixel_element(f, bool(implicit), bool(little))


def _dataset_transfer_syntax(ds: Dataset) -> TransferSyntax | None:
    """The transfer syntax from the meta header, else from how the data set was read."""
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid and str(uid).strip("\x00 "):
        return transfer_syntax(str(uid))
    implicit, little = ds.original_encoding
    if implicit is None:
        return None
    if implicit:
        return transfer_syntax(ImplicitVRLittleEndian)
    return transfer_syntax(ExplicitVRLittleEndian if little else ExplicitVRBigEndian)


def _read_pixel_element(f: BinaryIO, implicit: bool, little: bool) -> _PixelElement | None:
    """Parse the element header at the stream position if it is a pixel data element."""
    start = f.tell()
    head = f.read(8)
    if len(head) < 8:
        return None
    endian = "<" if little else ">"
    group, elem = struct.unpack(endian + "HH", head[:4])
    keyword = PIXEL_KEYWORDS.get(group << 16 | elem)
    if keyword is None:
        return None
    vr_bytes = head[4:6]
    # A file whose meta header says explicit VR but whose data set is implicit
    # has no VR here; pydicom reads such files, so do the same.
    if implicit or not (vr_bytes.isalpha() and vr_bytes.isupper()):
        (length,) = struct.unpack(endian + "L", head[4:8])
        vr, offset = None, start + 8
    elif vr_bytes in _LONG_LENGTH_VRS:
        extra = f.read(4)
        if len(extra) < 4:
            return None
        (length,) = struct.unpack(endian + "L", extra)
        vr, offset = vr_bytes.decode("ascii"), start + 12
    else:
        (length,) = struct.unpack(endian + "H", head[6:8])
        vr, offset = vr_bytes.decode("ascii"), start + 8
    return _PixelElement(
        keyword=keyword,
        vr=vr,
        offset=offset,
        length=None if length == _UNDEFINED_LENGTH else length,
    )


# -- decoding ------------------------------------------------------------------------------


def _decode_path(path: str | os.PathLike[str], frame: int | None) -> PixelResult:
    try:
        f = open_bounded(path)
    except OSError as exc:
        return PixelResult(None, f"cannot open file: {exc.strerror or exc}")
    with f:
        # A deflated data set is inflated whole by pydicom: first make sure it fits.
        too_large = deflated_too_large(f, limits().max_object_bytes)
        if too_large:
            return PixelResult(None, too_large)
        try:
            ds, ts, element = _read_header(f)
        except MemoryError:
            raise
        except Exception as exc:
            return PixelResult(None, f"cannot read DICOM header: {_reason(exc)}")
        if ts is not None and ts.deflated:
            # The pixel data is somewhere inside the deflated stream: inflate it all,
            # once its inflated size is known to be within the ceiling.
            try:
                full = dcmread(path, force=True)
            except MemoryError:
                raise
            except Exception as exc:
                return PixelResult(None, f"cannot read deflated data set: {_reason(exc)}", ts.uid)
            return _decode_dataset(full, frame)
        if ts is None:
            return PixelResult(None, "the file has no Transfer Syntax UID")
        if element is None:
            return PixelResult(None, "no Pixel Data", ts.uid)
        size = os.fstat(f.fileno()).st_size
        return _decode_element(f, ds, ts, element, size, frame)


def _decode_dataset(ds: Dataset, frame: int | None) -> PixelResult:
    ts = _dataset_transfer_syntax(ds)
    keyword = next((kw for tag, kw in PIXEL_KEYWORDS.items() if tag in ds), None)
    if keyword is None:
        return PixelResult(None, "no Pixel Data", ts.uid if ts else "")
    if ts is None:
        return PixelResult(None, "the data set has no Transfer Syntax UID")
    elem = ds[keyword]
    value = elem.value
    if value is None:
        return PixelResult(None, "no Pixel Data", ts.uid)
    if not isinstance(value, (bytes, bytearray, memoryview)):
        return PixelResult(None, f"{keyword} holds {type(value).__name__}, not bytes", ts.uid)
    encapsulated = bytes(value[:4]) == b"\xfe\xff\x00\xe0"  # starts with an Item tag
    element = _PixelElement(
        keyword=keyword,
        vr=None if ts.implicit_vr else str(elem.VR),
        offset=0,
        length=None if encapsulated else len(value),
    )
    stream = io.BytesIO(value)
    return _decode_element(stream, ds, ts, element, len(value), frame)


def _decode_element(
    stream: _Stream,
    ds: Dataset,
    ts: TransferSyntax,
    element: _PixelElement,
    stream_size: int,
    frame: int | None,
) -> PixelResult:
    """Decode the pixel data element ``element`` whose value is in ``stream``."""
    try:
        if not ts.known:
            raise _PixelError(f"unknown transfer syntax {ts.uid!r}")
        try:
            decoder = get_decoder(UID(ts.uid))
        except NotImplementedError:
            raise _PixelError(
                f"cannot decode {ts.name} pixel data: Lightbox has no decoder for it"
            ) from None
        if ts.native and element.length is None:
            raise _PixelError(f"{ts.name} pixel data must not be encapsulated")
        if not ts.native and element.length is not None:
            raise _PixelError(f"{ts.name} pixel data is not encapsulated")
        opts = _pixel_options(ds, ts, element)
        runner = _validated_runner(ts, opts, stream)
        nframes = runner.number_of_frames
        if frame is not None and frame >= nframes:
            raise _PixelError(
                f"frame {frame} does not exist: the image has {nframes} "
                f"frame{'s' if nframes != 1 else ''}"
            )
        check_budget(runner, frame)
        if ts.native:
            _check_length(runner, element, stream_size, frame)
            # Deflated data only gets here from a data set, already inflated.
            if ts.little_endian and _simple_native(runner):
                array = _read_native(stream, element, runner, frame)
                pi = str(runner.photometric_interpretation)
            else:
                stream.seek(element.offset)
                array, meta = decoder.as_array(
                    stream, index=frame, validate=True, raw=True, **opts
                )
                pi = str(meta.get("photometric_interpretation", ""))
        else:
            check_codestreams(stream, element, ts, runner, opts, frame)
            array, pi = _decode_encapsulated(decoder, stream, element, ts, opts, runner, frame)
        return PixelResult(_finished(array), None, ts.uid, pi)
    except _PixelError as exc:
        return PixelResult(None, str(exc), ts.uid)
    except MemoryError:
        raise
    except Exception as exc:
        return PixelResult(None, f"cannot decode {ts.name} pixel data: {_reason(exc)}", ts.uid)


def _pixel_options(ds: Dataset, ts: TransferSyntax, element: _PixelElement) -> dict[str, Any]:
    """pydicom decoding options for the pixel data of ``ds``."""
    if 0x00280008 in ds:
        frames = ds[0x00280008].value
        try:
            int(frames if frames not in (None, "") else 1)
        except (TypeError, ValueError):
            raise _PixelError(f"invalid Number of Frames {str(frames)!r}") from None
    try:
        opts = as_pixel_options(ds, transfer_syntax_uid=UID(ts.uid))
    except (TypeError, ValueError) as exc:
        raise _PixelError(f"invalid Image Pixel module: {_reason(exc)}") from None
    opts["pixel_keyword"] = element.keyword
    if element.vr is not None:
        opts["pixel_vr"] = element.vr
    return opts


def _validated_runner(ts: TransferSyntax, opts: dict[str, Any], stream: BinaryIO) -> DecodeRunner:
    """A pydicom runner holding ``opts``; raises when pydicom would refuse them."""
    runner = DecodeRunner(UID(ts.uid))
    # A file-like source makes validate() check the options only; the length
    # of the pixel data is checked by _check_length with a clearer message.
    runner.set_source(stream)
    runner.set_options(**opts)
    try:
        runner.validate()
    except (AttributeError, ValueError, TypeError) as exc:
        raise _PixelError(f"invalid Image Pixel module: {_reason(exc)}") from None
    return runner


def _check_length(
    runner: DecodeRunner, element: _PixelElement, stream_size: int, frame: int | None
) -> None:
    """Raise when the native pixel data needed for ``frame`` is not all there."""
    frame_bytes = runner.frame_length(unit="bytes")
    frames_needed = runner.number_of_frames if frame is None else frame + 1
    needed = math.ceil(frame_bytes * frames_needed)
    present = max(0, min(element.length or 0, stream_size - element.offset))
    if present < needed:
        raise _PixelError(f"pixel data truncated: expected {needed} bytes, found {present}")


def _simple_native(runner: DecodeRunner) -> bool:
    """True when the values can be read byte for byte, with no unpacking or resampling."""
    return runner.bits_allocated % 8 == 0 and runner.photometric_interpretation != "YBR_FULL_422"


def _read_native(
    stream: _Stream, element: _PixelElement, runner: DecodeRunner, frame: int | None
) -> np.ndarray:
    """Read native little endian pixels straight into an array, as pydicom would decode them."""
    frame_bytes = int(runner.frame_length(unit="bytes"))
    first, count = (0, runner.number_of_frames) if frame is None else (frame, 1)
    dtype = runner.pixel_dtype
    flat = np.empty(count * frame_bytes // dtype.itemsize, dtype=dtype)
    stream.seek(element.offset + first * frame_bytes)
    got = stream.readinto(flat.data.cast("B"))
    if got != flat.nbytes:  # the file changed under us
        raise _PixelError(f"pixel data truncated: expected {flat.nbytes} bytes, found {got}")
    unused = runner.bits_allocated - runner.bits_stored if element.keyword == "PixelData" else 0
    if unused > 0:
        # As pydicom does: clear (or sign-extend into) the bits above Bits Stored.
        np.left_shift(flat, unused, out=flat)
        np.right_shift(flat, unused, out=flat)
    return np.ascontiguousarray(runner.reshape(flat, as_frame=frame is not None))


def _decode_encapsulated(
    decoder: Decoder,
    stream: BinaryIO,
    element: _PixelElement,
    ts: TransferSyntax,
    opts: dict[str, Any],
    runner: DecodeRunner,
    frame: int | None,
) -> tuple[np.ndarray, str]:
    """Try the decoding plugins in Lightbox's order; the first that succeeds wins."""
    failures: list[str] = []
    for plugin in decoder_order(ts.uid, decoder.available_plugins):
        stream.seek(element.offset)
        try:
            if plugin == "gdcm":
                # GDCM aborts the process (an uncaught C++ exception) on data it cannot
                # take, and no header check catches every case: it runs in a child.
                array, meta = _isolated(
                    _plugin_decode, decoder, stream, frame, plugin, opts
                )
            else:
                array, meta = _plugin_decode(decoder, stream, frame, plugin, opts)
        except MemoryError:
            raise
        except IsolatedFailure as exc:
            failures.append(f"{plugin}: {exc}")
            continue
        except Exception as exc:
            failures.append(_plugin_reason(plugin, exc))
            continue
        return array, str(meta.get("photometric_interpretation", ""))
    if ts.uid == JPEGExtended12Bit and runner.bits_stored > 8:
        try:
            stream.seek(element.offset)
            return _isolated(decode_jpeg_with_gdcm, stream, runner, opts, frame)
        except MemoryError:
            raise
        except IsolatedFailure as exc:
            failures.append(f"gdcm: {exc}")
        except Exception as exc:
            failures.append(_plugin_reason("gdcm", exc))
    if not failures:
        missing = ", ".join(decoder.missing_dependencies) or "a decoding plugin"
        raise _PixelError(f"cannot decode {ts.name} pixel data: install {missing}")
    raise _PixelError(f"cannot decode {ts.name} pixel data: {'; '.join(failures)}")


def _plugin_decode(
    decoder: Decoder, stream: BinaryIO, frame: int | None, plugin: str, opts: dict[str, Any]
) -> tuple[np.ndarray, dict[str, str | int]]:
    return decoder.as_array(
        stream, index=frame, validate=True, raw=True, decoding_plugin=plugin, **opts
    )


def _isolated(function: Callable[..., _T], *args: Any) -> _T:
    """``function(*args)`` in a child process (in-process where fork does not exist)."""
    if not isolation_available():
        raise IsolatedFailure("GDCM is not used where it cannot run in a separate process")
    return run_isolated(function, *args, timeout=_ISOLATED_TIMEOUT, what="the GDCM decoder")


#: Seconds a decode in a child process may take.
_ISOLATED_TIMEOUT = 60.0


# -- helpers ------------------------------------------------------------------------------


def _finished(array: np.ndarray) -> np.ndarray:
    """``array`` C-contiguous and in the machine's byte order, as callers expect."""
    if not array.dtype.isnative:  # big endian data decodes to byte-swapped dtypes
        return array.astype(array.dtype.newbyteorder("="), order="C")
    return np.ascontiguousarray(array)


def _reason(exc: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    text = str(exc).strip()
    if isinstance(exc, KeyError) and text.startswith("'"):
        text = text.strip("'")
    if not text:
        return type(exc).__name__
    text = text.splitlines()[0].rstrip(". ")
    # "Missing required element" reads better mid-sentence as "missing ..."; keep "JPEG".
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _plugin_reason(plugin: str, exc: BaseException) -> str:
    """``plugin: reason`` from one plugin's failure, without pydicom's wrapping."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if len(lines) > 1 and lines[0].startswith("Unable to decode as exceptions were raised"):
        detail = "; ".join(line.split(": ", 1)[-1] if line.startswith(plugin + ":") else line
                           for line in lines[1:])
    else:
        detail = _reason(exc)
    if "'NoneType' object has no attribute" in detail:
        # GDCM signals a failed decode by handing back no buffer.
        detail = "the codestream could not be decoded"
    return f"{plugin}: {detail.rstrip('. ')}"
