"""Does the pixel data hold the frames the header declares?

Number of Frames = 1,000,000 over one frame of data is a header value any
file can carry; indexed as it stands, it makes a viewer build a million-frame
stack.  :func:`frames_problem` compares the declared count with what the Pixel
Data element can hold (native: its length against the smallest possible frame;
encapsulated: its fragments, since a frame takes at least one) and says why
the object is refused, like a truncated one.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

__all__ = ["frames_problem"]

#: Reads ``length`` bytes at ``offset`` of the object.
ReadAt = Callable[[int, int], bytes]

_ITEM = b"\xfe\xff\x00\xe0"
_DELIMITER = b"\xfe\xff\xdd\xe0"


def frames_problem(read_at: ReadAt, pixel_pos: int | None, transfer_syntax: str, total_size: int, *,
                   frames: int | None, rows: int | None, columns: int | None,
                   bits_allocated: int | None) -> str | None:
    """Why the declared Number of Frames cannot be in the Pixel Data, or None.

    Parameters
    ----------
    read_at : callable(offset, length) -> bytes
        Random access to the object.
    pixel_pos : int or None
        Offset of the Pixel Data element.
    transfer_syntax : str
        Its Transfer Syntax UID.
    total_size : int
        The object's size.
    frames, rows, columns, bits_allocated : int or None
        The header's values (None when absent: nothing to check).
    """
    if not frames or frames <= 1 or pixel_pos is None or transfer_syntax == DeflatedExplicitVRLittleEndian:
        return None
    little = transfer_syntax != ExplicitVRBigEndian
    endian = "<" if little else ">"
    head = read_at(pixel_pos, 12)
    if len(head) < 8:
        return None
    vr = head[4:6]
    if transfer_syntax != ImplicitVRLittleEndian and vr.isalpha() and vr.isupper():
        if len(head) < 12:
            return None
        (length,) = struct.unpack_from(endian + "I", head, 8)
        start = pixel_pos + 12
    else:
        (length,) = struct.unpack_from(endian + "I", head, 4)
        start = pixel_pos + 8
    if length != 0xFFFFFFFF:
        if not rows or not columns or not bits_allocated:
            return None
        # The smallest frame those values allow: one sample per pixel, bits packed when 1.
        smallest = rows * columns * bits_allocated // 8 if bits_allocated >= 8 else (rows * columns + 7) // 8
        holds = min(length, max(0, total_size - start)) // max(1, smallest)
        if frames > holds:
            return f"Number of Frames is {frames} but the Pixel Data holds at most {holds}"
        return None
    fragments = _count_fragments(read_at, start, total_size, limit=frames + 1)
    if fragments is not None and frames > fragments:
        return f"Number of Frames is {frames} but the encapsulated Pixel Data has {fragments} fragments"
    return None


def _count_fragments(read_at: ReadAt, start: int, total_size: int, limit: int) -> int | None:
    """Fragments after the Basic Offset Table item (at most ``limit``); None when unreadable."""
    position, items = start, 0
    while position + 8 <= total_size and items <= limit:
        header = read_at(position, 8)
        if len(header) < 8:
            break
        tag, (length,) = header[:4], struct.unpack_from("<I", header, 4)
        if tag == _DELIMITER:
            break
        if tag != _ITEM or length == 0xFFFFFFFF:
            return None
        items += 1
        position += 8 + length
    return max(0, items - 1)
