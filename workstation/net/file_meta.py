"""The File Meta Information of a received object, packed directly instead of built and encoded by pydicom.

pynetdicom writes each received C-STORE data set to a file (the storage SCP
and our C-GETs stream them, ``STORE_RECV_CHUNKED_DATASET``) behind a file meta
group it builds as a pydicom dataset and encodes with
``write_file_meta_info``: 0.5-0.7 ms an object here, a sixth of all the
Python work of receiving a 512 KB CT slice.  :func:`install` has its
``dimse_messages`` module use :func:`meta_group` instead (the same bytes,
packed with ``struct`` in microseconds); anything unusual (other
implementation UID or version, a UID that is not ASCII) goes to pynetdicom's
own functions as before.  pynetdicom itself is not modified: these are the
names its module looks up at each call.
"""

from __future__ import annotations

import struct
from typing import IO, Any

from pydicom.filewriter import write_file_meta_info
from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION
from pynetdicom import dimse_messages as _dimse_messages
from pynetdicom.dsutils import create_file_meta

__all__ = ["PackedMeta", "install", "meta_group"]


def _element(element: int, vr: bytes, value: bytes) -> bytes:
    return struct.pack("<HH", 0x0002, element) + vr + struct.pack("<H", len(value)) + value


def _uid(uid: str) -> bytes:
    raw = str(uid).encode("ascii")
    return raw + b"\0" if len(raw) % 2 else raw


def meta_group(sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    """The file meta group (0002,xxxx) pynetdicom writes for a received object, group length first.

    Explicit VR Little Endian, UIDs padded with NUL and the version name with
    a space to an even length, pynetdicom's Implementation Class UID and
    Version Name: byte for byte what ``write_file_meta_info(f,
    create_file_meta(...))`` writes.

    Raises
    ------
    UnicodeEncodeError
        For a UID that is not ASCII.
    """
    version = PYNETDICOM_IMPLEMENTATION_VERSION.encode("ascii")
    body = b"".join((
        struct.pack("<HH", 0x0002, 0x0001) + b"OB\0\0" + struct.pack("<I", 2) + b"\x00\x01",
        _element(0x0002, b"UI", _uid(sop_class)),
        _element(0x0003, b"UI", _uid(sop_instance)),
        _element(0x0010, b"UI", _uid(transfer_syntax)),
        _element(0x0012, b"UI", _uid(PYNETDICOM_IMPLEMENTATION_UID)),
        _element(0x0013, b"SH", version + b" " if len(version) % 2 else version),
    ))
    return struct.pack("<HH", 0x0002, 0x0000) + b"UL" + struct.pack("<HI", 4, len(body)) + body


class PackedMeta(bytes):
    """A file meta group already encoded: what :func:`_write_file_meta_info` writes as it is."""


def _create_file_meta(*, sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str,
                      implementation_uid: str = PYNETDICOM_IMPLEMENTATION_UID,
                      implementation_version: str = PYNETDICOM_IMPLEMENTATION_VERSION) -> Any:
    if implementation_uid == PYNETDICOM_IMPLEMENTATION_UID and \
            implementation_version == PYNETDICOM_IMPLEMENTATION_VERSION:
        try:
            return PackedMeta(meta_group(sop_class_uid, sop_instance_uid, transfer_syntax))
        except (UnicodeError, TypeError, ValueError):
            pass  # pynetdicom's own, which says what is wrong its way
    return create_file_meta(sop_class_uid=sop_class_uid, sop_instance_uid=sop_instance_uid,  # type: ignore[arg-type]  # pydicom UIDs are str
                            transfer_syntax=transfer_syntax, implementation_uid=implementation_uid,  # type: ignore[arg-type]  # as above
                            implementation_version=implementation_version)


def _write_file_meta_info(fp: IO[bytes], file_meta: Any, enforce_standard: bool = True) -> None:
    if isinstance(file_meta, PackedMeta):
        fp.write(file_meta)
        return
    write_file_meta_info(fp, file_meta, enforce_standard)  # type: ignore[arg-type]  # pydicom's DicomIO-like file


def install() -> bool:
    """Have pynetdicom's received-object writer use :func:`meta_group` (idempotent); False when it cannot.

    Only where ``dimse_messages`` looks both names up as module globals, as
    pynetdicom 2 and 3 do; otherwise it is left alone.
    """
    module: Any = _dimse_messages
    current_create = getattr(module, "create_file_meta", None)
    current_write = getattr(module, "write_file_meta_info", None)
    if current_create is _create_file_meta and current_write is _write_file_meta_info:
        return True
    if current_create is not create_file_meta or current_write is not write_file_meta_info:
        return False
    module.create_file_meta = _create_file_meta
    module.write_file_meta_info = _write_file_meta_info
    return True
