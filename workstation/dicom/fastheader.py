"""A lean scan of a Part 10 header for the elements the index needs.

pydicom builds a full dataset (about 1 ms for a CT header here); the importer
needs some forty top-level values, so for the common case (a Part 10 file in
explicit or implicit VR little endian) this scan walks the header with
``struct`` and keeps only those values, skipping sequences by length or by
their delimiters.  Anything unusual (big endian, deflate, no preamble, an
element running past the buffer, a malformed item) returns ``None`` and the
caller parses with pydicom instead; a test checks both give the same record
for every public test file.
"""

from __future__ import annotations

import struct

from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_TAG = struct.Struct("<HH")
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"UC", b"UN", b"UR", b"UT", b"SV", b"UV"}
_ITEM = (0xFFFE, 0xE000)
_ITEM_END = (0xFFFE, 0xE00D)
_SEQ_END = (0xFFFE, 0xE0DD)
PIXEL_DATA = 0x7FE00010
_MAX_DEPTH = 16


class _Malformed(Exception):
    pass


class ScanResult:
    """Raw values by tag (``(VR or None, bytes)``), transfer syntax, and where Pixel Data starts."""

    __slots__ = ("values", "transfer_syntax", "media_sop_class", "pixel_pos", "explicit")

    def __init__(self) -> None:
        self.values: dict[int, tuple[str | None, bytes]] = {}
        self.transfer_syntax = ""
        self.media_sop_class = ""
        self.pixel_pos: int | None = None
        self.explicit = True


def scan(buf: bytes, wanted: frozenset[int]) -> ScanResult | None:
    """Scan ``buf`` (the start of a Part 10 file); ``None`` when pydicom must do it."""
    if len(buf) < 132 or buf[128:132] != b"DICM":
        return None
    res = ScanResult()
    try:
        pos = _scan_meta(buf, 132, res)
        if res.transfer_syntax == ImplicitVRLittleEndian:
            res.explicit = False
        elif res.transfer_syntax in (ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian) or not res.transfer_syntax:
            return None
        else:
            # Every other transfer syntax (native or encapsulated) encodes the dataset explicit VR little endian.
            res.explicit = True
        end = _scan_dataset(buf, pos, len(buf), res.explicit, wanted, res, 0, top=True)
    except (_Malformed, struct.error, IndexError):
        return None
    if res.pixel_pos is None and end != len(buf):
        return None
    return res


def _scan_meta(buf: bytes, pos: int, res: ScanResult) -> int:
    n = len(buf)
    while pos + 8 <= n:
        group, elem = _TAG.unpack_from(buf, pos)
        if group != 0x0002:
            return pos
        vr = buf[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            length = _U32.unpack_from(buf, pos + 8)[0]
            start = pos + 12
        else:
            length = _U16.unpack_from(buf, pos + 6)[0]
            start = pos + 8
        if length == 0xFFFFFFFF or start + length > n:
            raise _Malformed()
        value = buf[start : start + length]
        if elem == 0x0010:
            res.transfer_syntax = value.decode("ascii", "replace").strip(" \x00")
        elif elem == 0x0002:
            res.media_sop_class = value.decode("ascii", "replace").strip(" \x00")
        pos = start + length
    raise _Malformed()


def _scan_dataset(
    buf: bytes, pos: int, limit: int, explicit: bool, wanted: frozenset[int], res: ScanResult | None,
    depth: int, *, top: bool = False, until_item_end: bool = False,
) -> int:
    """Walk elements from ``pos`` to ``limit`` (or an item delimiter); returns the position reached."""
    if depth > _MAX_DEPTH:
        raise _Malformed()
    while pos < limit:
        if pos + 8 > limit:
            raise _Malformed()
        group, elem = _TAG.unpack_from(buf, pos)
        if (group, elem) == _ITEM_END:
            if not until_item_end:
                raise _Malformed()
            return pos + 8
        tag = (group << 16) | elem
        if top and res is not None and tag == PIXEL_DATA:
            res.pixel_pos = pos
            return pos
        if explicit:
            vr_bytes = buf[pos + 4 : pos + 6]
            if vr_bytes in _LONG_VRS:
                if pos + 12 > limit:
                    raise _Malformed()
                length = _U32.unpack_from(buf, pos + 8)[0]
                start = pos + 12
            else:
                length = _U16.unpack_from(buf, pos + 6)[0]
                start = pos + 8
            vr = vr_bytes.decode("ascii", "replace")
        else:
            length = _U32.unpack_from(buf, pos + 4)[0]
            start = pos + 8
            vr = None
        if length == 0xFFFFFFFF:
            # Undefined length: a sequence (UN of undefined length holds implicit VR content).
            inner_explicit = explicit and vr != "UN"
            pos = _skip_sequence(buf, start, limit, inner_explicit, wanted, depth + 1)
            continue
        end = start + length
        if end > limit:
            raise _Malformed()
        if top and res is not None and tag in wanted:
            res.values[tag] = (vr, buf[start:end])
        pos = end
    if until_item_end:
        raise _Malformed()
    return pos


def _skip_sequence(buf: bytes, pos: int, limit: int, explicit: bool, wanted: frozenset[int], depth: int) -> int:
    while True:
        if pos + 8 > limit:
            raise _Malformed()
        group, elem = _TAG.unpack_from(buf, pos)
        length = _U32.unpack_from(buf, pos + 4)[0]
        if (group, elem) == _SEQ_END:
            return pos + 8
        if (group, elem) != _ITEM:
            raise _Malformed()
        pos += 8
        if length == 0xFFFFFFFF:
            pos = _scan_dataset(buf, pos, limit, explicit, wanted, None, depth, until_item_end=True)
        else:
            if pos + length > limit:
                raise _Malformed()
            pos += length
