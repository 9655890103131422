"""What a compressed frame says about itself, read before any decoder runs.

Some decoders (GDCM above all) abort the whole process, from C++, when the
image's header in the data set disagrees with the codestream: Bits Allocated 1
on a JPEG, Rows/Columns that do not match a JPEG-LS frame, Samples per Pixel 1
on an RGB JPEG 2000.  Reading the codestream's own header costs a few dozen
bytes: JPEG's SOF segment (and JPEG-LS's SOF55, which has the same layout),
JPEG 2000's SIZ segment, RLE's segment table.  :func:`check_frame` compares it
with the data set's Image Pixel module and says why they cannot go together,
so that no decoder is handed such a frame.

The checks are deliberately lenient where files in the wild disagree harmlessly
(a JPEG 2000 precision different from Bits Stored, a JPEG with zero lines in
its SOF that a DNL marker fixes later) and strict where a decoder would write
past its buffer or abort: the number of lines and samples per line, the number
of components and a precision greater than Bits Allocated.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pydicom import uid as _uid

__all__ = ["CodestreamHeader", "read_codestream_header", "check_frame", "RLE_MAX_EXPANSION"]

#: An RLE replicate run turns 2 bytes into at most 128: no RLE frame decodes
#: to more than this many times its encoded length.
RLE_MAX_EXPANSION = 64

_JPEG_FAMILY = {
    _uid.JPEGBaseline8Bit,
    _uid.JPEGExtended12Bit,
    _uid.JPEGLossless,
    _uid.JPEGLosslessSV1,
    _uid.JPEGLSLossless,
    _uid.JPEGLSNearLossless,
}
_J2K_FAMILY = {
    _uid.JPEG2000Lossless,
    _uid.JPEG2000,
    _uid.JPEG2000MCLossless,
    _uid.JPEG2000MC,
    _uid.HTJ2KLossless,
    _uid.HTJ2KLosslessRPCL,
    _uid.HTJ2K,
}
# SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC); SOF55 (F7) is JPEG-LS.
_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
# Markers that stand alone, without a length.
_STANDALONE = {0x01, *range(0xD0, 0xD9)}
# How far into a frame a header is looked for (APPn segments come first).
_SCAN_LIMIT = 1 << 16


@dataclass(frozen=True)
class CodestreamHeader:
    """The geometry a codestream declares.

    Attributes
    ----------
    kind : str
        "JPEG", "JPEG-LS", "JPEG 2000" or "RLE".
    rows, columns : int
        Lines and samples per line (0 when the codestream leaves it open).
    components : int
        Colour components (for RLE: segments).
    precision : int
        Bits per sample of the widest component (0 when not declared).
    """

    kind: str
    rows: int
    columns: int
    components: int
    precision: int


def read_codestream_header(transfer_syntax_uid: str, frame: bytes) -> CodestreamHeader | None:
    """Parse the header of one encoded frame.

    Parameters
    ----------
    transfer_syntax_uid : str
        The transfer syntax the frame is encoded with.
    frame : bytes
        The frame's bytes (its fragments joined), or at least its first 64 KiB.

    Returns
    -------
    CodestreamHeader or None
        None for a transfer syntax without a readable header here.

    Raises
    ------
    ValueError
        The codestream has no header where its transfer syntax puts one.
    """
    uid = str(transfer_syntax_uid)
    if uid in _JPEG_FAMILY:
        return _jpeg_header(frame)
    if uid in _J2K_FAMILY:
        return _j2k_header(frame)
    if uid == _uid.RLELossless:
        if len(frame) < 64:
            raise ValueError("the RLE header is incomplete")
        (segments,) = struct.unpack("<L", frame[:4])
        return CodestreamHeader("RLE", 0, 0, segments, 0)
    return None


def check_frame(
    transfer_syntax_uid: str,
    frame: bytes,
    *,
    rows: int,
    columns: int,
    samples_per_pixel: int,
    bits_allocated: int,
    frame_length: int,
) -> str | None:
    """Say why an encoded frame cannot be decoded as the data set describes it.

    Parameters
    ----------
    transfer_syntax_uid : str
        The transfer syntax of the pixel data.
    frame : bytes
        The encoded frame (all its fragments, or at least the first 64 KiB).
    rows, columns, samples_per_pixel, bits_allocated : int
        The data set's Image Pixel module.
    frame_length : int
        The full length in bytes of the encoded frame.

    Returns
    -------
    str or None
        A sentence naming the disagreement (never echoing data), or None when
        the frame fits the data set (or carries no header to compare with).
    """
    try:
        header = read_codestream_header(transfer_syntax_uid, frame)
    except (ValueError, struct.error) as exc:
        return str(exc)
    if header is None:
        return None
    if header.kind == "RLE":
        segments = samples_per_pixel * max(1, (bits_allocated + 7) // 8)
        if header.components != segments:
            return (f"the RLE frame has {header.components} segments where the image needs "
                    f"{segments}")
        decoded = rows * columns * segments
        if decoded > RLE_MAX_EXPANSION * frame_length:
            return (f"{frame_length} bytes of RLE data cannot hold a {rows} x {columns} image "
                    f"(Rows and Columns do not fit the data)")
        return None
    what = header.kind
    if header.components != samples_per_pixel:
        return (f"the {what} codestream has {header.components} components but Samples per "
                f"Pixel is {samples_per_pixel}")
    if header.columns != columns:
        return f"the {what} codestream is {header.columns} pixels wide but Columns is {columns}"
    if header.rows and header.rows != rows:
        return f"the {what} codestream is {header.rows} lines high but Rows is {rows}"
    # JPEG and JPEG-LS samples are at most 16 bits: Bits Allocated 8 or 16 (GDCM aborts on 32).
    possible = (8, 16, 32) if what == "JPEG 2000" else (8, 16)
    if bits_allocated not in possible:
        return f"Bits Allocated {bits_allocated} is not possible for {what} pixel data"
    if header.precision > bits_allocated:
        return (f"the {what} codestream has {header.precision}-bit samples but Bits Allocated "
                f"is {bits_allocated}")
    return None


def _jpeg_header(data: bytes) -> CodestreamHeader:
    """The SOF (or JPEG-LS SOF55) segment of a JPEG codestream."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("the JPEG codestream does not start with SOI")
    pos, end = 2, min(len(data), _SCAN_LIMIT)
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            raise ValueError("the JPEG codestream has no frame header before its data")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker in _SOF_MARKERS:
            body = data[pos + 4 : pos + 2 + length]
            if length < 8 or len(body) < 6:
                raise ValueError("the JPEG frame header is incomplete")
            precision, lines, samples, components = struct.unpack(">BHHB", body[:6])
            kind = "JPEG-LS" if marker == 0xF7 else "JPEG"
            return CodestreamHeader(kind, lines, samples, components, precision)
        if marker == 0xDA or length < 2:  # scan data before a frame header
            break
        pos += 2 + length
    raise ValueError("the JPEG codestream has no frame header")


def _j2k_header(data: bytes) -> CodestreamHeader:
    """The SIZ segment of a JPEG 2000 codestream (bare, or inside a JP2 file)."""
    start = data.find(b"\xff\x4f\xff\x51", 0, _SCAN_LIMIT)
    if start < 0:
        raise ValueError("the JPEG 2000 codestream has no SIZ header")
    siz = data[start + 4 :]
    if len(siz) < 38:
        raise ValueError("the JPEG 2000 SIZ header is incomplete")
    _length, _caps, xsiz, ysiz, xosiz, yosiz = struct.unpack(">HHLLLL", siz[:20])
    (components,) = struct.unpack(">H", siz[36:38])
    if components == 0 or len(siz) < 38 + 3 * components:
        raise ValueError("the JPEG 2000 SIZ header is incomplete")
    precision = max((siz[38 + 3 * i] & 0x7F) + 1 for i in range(components))
    if xsiz < xosiz or ysiz < yosiz:
        raise ValueError("the JPEG 2000 SIZ header has an image offset past its size")
    return CodestreamHeader("JPEG 2000", ysiz - yosiz, xsiz - xosiz, components, precision)
