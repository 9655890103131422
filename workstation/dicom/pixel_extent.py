"""Where a DICOM file's pixel data is and whether it is all there, from the file's raw bytes.

Checked before pydicom reads anything it would have to hold in memory: the byte
offset of a native Pixel Data value (kept by the index so volumes are read
straight from the files), a Pixel Data element that declares more bytes than the
file holds (a truncated transfer), and a deflated data set that would inflate
beyond the import's ceiling.  :mod:`workstation.dicom.header` re-exports the
public names; it uses these while reading a header.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

__all__ = ["TAIL_BYTES", "deflated_too_large", "pixel_data_offset", "pixel_data_truncation", "stopped_at_pixels"]

# Little-endian native transfer syntaxes whose Pixel Data can be read raw from the file.
_NATIVE_LE = {ExplicitVRLittleEndian, ImplicitVRLittleEndian}


def pixel_data_offset(buf: bytes, pos: int, transfer_syntax: str, total: int | None = None) -> int | None:
    """Offset of the Pixel Data value if (7FE0,0010) starts at ``pos`` with a defined length.

    ``buf`` may hold only the start of the file; ``total`` is the whole file's size.
    """
    total = len(buf) if total is None else total
    if transfer_syntax not in _NATIVE_LE or pos + 8 > len(buf):
        return None
    group, elem = struct.unpack_from("<HH", buf, pos)
    if (group, elem) != (0x7FE0, 0x0010):
        return None
    if transfer_syntax == ExplicitVRLittleEndian:
        if pos + 12 > len(buf) or buf[pos + 4 : pos + 6] not in (b"OW", b"OB"):
            return None
        (length,) = struct.unpack_from("<I", buf, pos + 8)
        start = pos + 12
    else:
        (length,) = struct.unpack_from("<I", buf, pos + 4)
        start = pos + 8
    if length == 0xFFFFFFFF or start + length > total:
        return None
    return start


#: The Sequence Delimitation Item that ends encapsulated pixel data, little endian.
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
#: How much of a file's end is searched for it (Data Set Trailing Padding may follow).
TAIL_BYTES = 4096


def pixel_data_truncation(head: bytes, pixel_pos: int | None, transfer_syntax: str, total_size: int,
                          tail: bytes = b"") -> str | None:
    """Say why an object's pixel data is not all there, or None when it is (or cannot be told).

    Parameters
    ----------
    head : bytes
        The start of the object (at least up to and including the pixel data element's header).
    pixel_pos : int or None
        Offset of the pixel data element (from the header scan or parse).
    transfer_syntax : str
        The object's Transfer Syntax UID.
    total_size : int
        The size of the whole object.
    tail : bytes
        The last bytes of the object (up to :data:`TAIL_BYTES`), for encapsulated pixel data.

    Returns
    -------
    str or None
        For example "truncated: Pixel Data declares 2147483648 bytes, 524288 are present".
    """
    if pixel_pos is None or pixel_pos + 8 > len(head) or transfer_syntax == DeflatedExplicitVRLittleEndian:
        return None
    little = transfer_syntax != ExplicitVRBigEndian
    endian = "<" if little else ">"
    group, elem = struct.unpack_from(endian + "HH", head, pixel_pos)
    if group != 0x7FE0 or elem not in (0x0008, 0x0009, 0x0010):
        return None
    vr = head[pixel_pos + 4: pixel_pos + 6]
    if transfer_syntax != ImplicitVRLittleEndian and vr.isalpha() and vr.isupper():
        if pixel_pos + 12 > len(head):
            return None
        (length,) = struct.unpack_from(endian + "I", head, pixel_pos + 8)
        start = pixel_pos + 12
    else:
        (length,) = struct.unpack_from(endian + "I", head, pixel_pos + 4)
        start = pixel_pos + 8
    if length == 0xFFFFFFFF:
        if tail and _SEQUENCE_DELIMITER not in tail:
            return "truncated: the encapsulated Pixel Data has no end (no sequence delimiter)"
        return None
    present = max(0, total_size - start)
    if length > present:
        return f"truncated: Pixel Data declares {length} bytes, {present} are present"
    return None


_DEFLATED_UID = b"1.2.840.10008.1.2.1.99"


def deflated_too_large(stream: BinaryIO, limit: int) -> str | None:
    """For a deflated data set, say why it is refused when it inflates beyond ``limit`` bytes.

    pydicom inflates a deflated data set whole, in memory, before reading a
    single element: a 3 MB file can ask for gigabytes.  This inflates it once
    in 1 MiB steps, keeping nothing, and stops at the ceiling.  None for other
    transfer syntaxes or when the data set fits.  The stream is left where it was.
    """
    start = stream.tell()
    try:
        head = stream.read(4096)
        if _DEFLATED_UID not in head:
            return None
        stream.seek(start)
        from pydicom.filereader import _read_file_meta_info, read_preamble

        read_preamble(stream, False)
        meta = _read_file_meta_info(stream)
        if str(meta.get("TransferSyntaxUID", "")).rstrip("\x00 ") != _DEFLATED_UID.decode():
            return None
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        total = 0
        # Until the deflate stream ends: the bytes after it (the even-length pad byte, trailing junk) are
        # never inflated, and asking zlib to inflate them again and again would loop for ever.
        while not inflater.eof:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            data = inflater.decompress(chunk, 1 << 20)
            total += len(data)
            while inflater.unconsumed_tail and not inflater.eof and total <= limit:
                data = inflater.decompress(inflater.unconsumed_tail, 1 << 20)
                total += len(data)
            if total > limit:
                return f"the deflated data set inflates to more than {limit >> 20} MiB; refused"
        return None
    except Exception:  # noqa: BLE001 - not readable this way: pydicom will say why
        return None
    finally:
        stream.seek(start)


def stopped_at_pixels(head: bytes, pos: int | None) -> bool:
    """True when parsing the chunk stopped at a Pixel Data element (not at the chunk's end)."""
    if pos is None or pos + 4 > len(head):
        return False
    return head[pos : pos + 4] in (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")
