"""The bytes a DICOM digital signature covers (PS3.15 C.12.1.1.3 / PS3.3 C.12.1.1.3.1.1).

Each signed Data Element is encoded in the MAC Calculation Transfer Syntax
(Explicit VR Little Endian), in dataset order, with two differences from a
file: a sequence is written as its tag, VR and two reserved zero bytes with
no length, each item as the item tag alone (no length, no item delimiter),
and the sequence ends with the Sequence Delimitation tag alone.  Group
lengths, groups below 0008, Length to End, the FFFA group, MAC Parameters,
Data Set Trailing Padding and delimiters are never signed.  DCMTK's dcmsign
does the same, which is what makes signatures interoperate.

Encapsulated Pixel Data is hashed the same way: its fragments as items
without lengths.  Values are taken as stored whenever pydicom has not decoded them yet, so the
bytes hashed on verification are the bytes in the file.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from pydicom.charset import convert_encodings
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.tag import BaseTag, Tag

ITEM = 0xFFFEE000
SEQUENCE_DELIMITATION = 0xFFFEE0DD
# VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2).
_LONG_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}

DIGITAL_SIGNATURES_SEQUENCE = Tag(0xFFFA, 0xFFFA)
MAC_PARAMETERS_SEQUENCE = Tag(0x4FFE, 0x0001)


def is_signable(tag: int) -> bool:
    """True for tags a signature may cover (DCMTK's rule, PS3.15 C.12.1.1.3.1.1)."""
    group, element = tag >> 16, tag & 0xFFFF
    if element == 0 or group < 0x0008:
        return False
    if tag == 0x00080001 or group == 0xFFFA or tag == MAC_PARAMETERS_SEQUENCE or tag == 0xFFFCFFFC:
        return False
    return group != 0xFFFE


def signable_tags(ds: Dataset) -> list[BaseTag]:
    """All top-level signable tags of ``ds``, in dataset order."""
    return [t for t in sorted(ds.keys()) if is_signable(int(t))]


def _encodings(ds: Dataset, inherited: list[str]) -> list[str]:
    elem = ds.get_item(0x00080005) if 0x00080005 in ds else None
    if elem is None:
        return inherited
    value = ds.SpecificCharacterSet
    return convert_encodings(value if value else None)


def _source_is_little_endian(ds: Dataset) -> bool:
    enc = getattr(ds, "original_encoding", (None, None))
    return enc[1] is not False


def mac_bytes(ds: Dataset, tags: Iterable[int]) -> bytes:
    """The bytes to hash for the elements ``tags`` of ``ds`` (present ones, in tag order)."""
    out = bytearray()
    wanted = sorted({int(t) for t in tags})
    encodings = _encodings(ds, convert_encodings(None))
    for tag in wanted:
        if tag in ds and is_signable(tag):
            _element(out, ds, Tag(tag), encodings)
    return bytes(out)


def dataset_bytes(ds: Dataset, *, skip: Iterable[int] = ()) -> bytes:
    """Every signable element of ``ds`` except ``skip`` (used for a signature item's own fields)."""
    skipped = {int(t) for t in skip}
    # A Dataset iterates over its elements (decoding them); its keys are the tags.
    return mac_bytes(ds, [t for t in ds.keys() if int(t) not in skipped])  # noqa: SIM118


def _element(out: bytearray, ds: Dataset, tag: BaseTag, encodings: list[str]) -> None:
    # Not yet decoded elements are RawDataElements (VR None when the file is implicit VR), whatever
    # pydicom's annotation of get_item says.
    found: DataElement | RawDataElement | None = ds.get_item(tag)
    big_endian = isinstance(found, RawDataElement) and not _source_is_little_endian(ds)
    # Decoded (ds[tag]) when implicit VR or big endian: those are re-encoded.
    raw: DataElement | RawDataElement = ds[tag] if found is None or found.VR is None or big_endian else found
    vr = raw.VR
    if vr == "SQ":
        _sequence(out, ds, tag, encodings)
        return
    if isinstance(raw, RawDataElement):
        value = bytes(raw.value or b"")
        vr = vr if vr and len(vr) == 2 else _resolved_vr(ds, tag)
        if raw.length == 0xFFFFFFFF:
            _encapsulated(out, tag, vr, value)
            return
    elif raw.VR in ("OB", "OW") and raw.is_undefined_length:
        _encapsulated(out, tag, raw.VR, bytes(raw.value))
        return
    else:
        fp = DicomBytesIO()
        fp.is_little_endian = True
        fp.is_implicit_VR = False
        write_data_element(fp, raw, encodings)
        encoded = fp.getvalue()
        vr = encoded[4:6].decode("ascii")
        value = encoded[12:] if vr in _LONG_VRS else encoded[8:]
        if big_endian and vr in _SWAPPED:
            value = _swap(value, _SWAPPED[vr])  # pydicom keeps OW/OF/OD words as read
    value = _normalized(vr, value)
    _header(out, tag, vr, len(value))
    out += value


# Text VRs and their padding (PS3.5 6.2).  DCMTK drops trailing padding when it
# reads a value and pads to even length again when it encodes it (also for the
# MAC), so "AB  " is signed as "AB": do the same or signatures will not match.
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UR", "UT"}
_SWAPPED = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}


def _normalized(vr: str, value: bytes) -> bytes:
    if vr in _TEXT_VRS:
        value = value.rstrip(b" ")
        return value + b" " if len(value) % 2 else value
    if vr == "UI":
        value = value.rstrip(b"\x00")
        return value + b"\x00" if len(value) % 2 else value
    return value


def _swap(value: bytes, width: int) -> bytes:
    import numpy as np

    usable = len(value) - len(value) % width
    words = np.frombuffer(value[:usable], dtype=f">u{width}")
    return words.astype(f"<u{width}").tobytes() + value[usable:]


def _resolved_vr(ds: Dataset, tag: BaseTag) -> str:
    vr = ds[tag].VR
    if len(vr) != 2:  # ambiguous (US or SS …): pydicom resolves it from the dataset
        from pydicom.filewriter import correct_ambiguous_vr_element

        vr = correct_ambiguous_vr_element(ds[tag], ds, True).VR or vr
    return vr


def _header(out: bytearray, tag: int, vr: str, length: int) -> None:
    out += struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode("ascii")
    if vr in _LONG_VRS:
        out += struct.pack("<HI", 0, length)
    else:
        out += struct.pack("<H", length)


def _sequence(out: bytearray, ds: Dataset, tag: BaseTag, encodings: list[str]) -> None:
    out += struct.pack("<HH", tag >> 16, tag & 0xFFFF) + b"SQ\x00\x00"
    for item in ds[tag].value:
        out += struct.pack("<HH", ITEM >> 16, ITEM & 0xFFFF)
        item_encodings = _encodings(item, encodings)
        for t in sorted(item.keys()):
            if is_signable(int(t)):
                _element(out, item, t, item_encodings)
    out += struct.pack("<HH", SEQUENCE_DELIMITATION >> 16, SEQUENCE_DELIMITATION & 0xFFFF)


def _encapsulated(out: bytearray, tag: int, vr: str, value: bytes) -> None:
    """Encapsulated Pixel Data like a sequence: no lengths, each fragment's item tag then its bytes.

    (DCMTK before 3.5.4 kept the fragments' lengths; that old format is not conformant.)
    """
    # Always OB: a pixel sequence is OB (some files say OW; DCMTK hashes OB whatever the file says).
    out += struct.pack("<HH", tag >> 16, tag & 0xFFFF) + b"OB\x00\x00"
    pos = 0
    while pos + 8 <= len(value):
        group, element, length = struct.unpack_from("<HHI", value, pos)
        item = (group << 16) | element
        pos += 8
        if item == SEQUENCE_DELIMITATION:
            break
        if item != ITEM:
            raise ValueError(f"encapsulated Pixel Data holds ({group:04X},{element:04X}) where an item was expected")
        out += struct.pack("<HH", ITEM >> 16, ITEM & 0xFFFF) + value[pos:pos + length]
        pos += length
    out += struct.pack("<HH", SEQUENCE_DELIMITATION >> 16, SEQUENCE_DELIMITATION & 0xFFFF)
