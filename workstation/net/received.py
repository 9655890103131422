"""One received object, in memory or in the file pynetdicom streamed it to.

The storage SCP has pynetdicom write each C-STORE data set to a temporary
file as its PDUs arrive (``STORE_RECV_CHUNKED_DATASET``), so memory stays near
one PDU whatever the object's size, instead of twice the object.  DICOMweb
and tests hand over bytes.  :class:`Payload` gives both the same face: size,
the header's first bytes, the last bytes, a byte range, and staging into the
cache: a rename when the file is on the cache's filesystem (pynetdicom writes
it into the cache's incoming folder, see
:func:`workstation.net.received_files.receive_into`), else a kernel copy; or a
write of the bytes.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from workstation.dicom.header import (
    HEADER_CHUNK,
    TAIL_BYTES,
    InstanceRecord,
    parse_header,
    parse_header_file,
    pixel_data_truncation,
    record_from_scan,
    UnusableInstance,
)
from workstation.dicom.frame_count import frames_problem
from workstation.store.layout import StagedFile, _hash_fd, _new_part, stage_bytes, stage_file

__all__ = ["Payload"]


class Payload:
    """A Part 10 object as bytes or as a file (exactly one of ``data`` and ``path``)."""

    def __init__(self, data: bytes | None = None, path: Path | None = None) -> None:
        if (data is None) == (path is None):
            raise ValueError("a payload is bytes or a file")
        self.data = data
        self.path = Path(path) if path is not None else None
        self.size = len(data) if data is not None else os.stat(self._file()).st_size

    def _file(self) -> Path:
        """The file holding the object (only for a payload not held as bytes)."""
        if self.path is None:
            raise ValueError("this payload is held as bytes, not in a file")
        return self.path

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset`` (fewer at the end)."""
        if self.data is not None:
            return bytes(self.data[offset: offset + length])
        with open(self._file(), "rb") as f:
            f.seek(offset)
            return f.read(max(0, min(length, self.size - offset)))

    def head(self) -> bytes:
        return self.read(0, HEADER_CHUNK)

    def tail(self) -> bytes:
        return self.read(max(0, self.size - TAIL_BYTES), TAIL_BYTES)

    def record(self) -> InstanceRecord:
        """The index record, refusing an object whose pixel data is not all there.

        Raises
        ------
        NotDicom, UnusableInstance
            As the importer's header parsing does.
        """
        head = self.head()
        rec = record_from_scan(head, self.size)
        if rec is None:
            if self.data is not None:
                _ds, rec = parse_header(self.data, self.size)
            else:
                _ds, rec, _size = parse_header_file(self._file())
        pixel_pos = rec.extra.get("pixel_pos")
        if pixel_pos is not None:
            element = head if pixel_pos + 12 <= len(head) else None
            if element is None:
                element, size, pos = self.read(pixel_pos, 12), self.size - pixel_pos, 0
            else:
                size, pos = self.size, pixel_pos
            reason = pixel_data_truncation(element, pos, rec.transfer_syntax_uid, size, self.tail())
            if reason:
                raise UnusableInstance(reason)
            problem = frames_problem(self.read, pixel_pos, rec.transfer_syntax_uid, self.size,
                                     frames=rec.number_of_frames, rows=rec.rows, columns=rec.columns,
                                     bits_allocated=rec.bits_allocated)
            if problem:
                raise UnusableInstance(f"truncated: {problem}")
        return rec

    def discard(self) -> None:
        """Remove the temporary file pynetdicom streamed the object to (it leaves some behind)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    def stage(self, cache_dir: Path, *, sync: bool = True) -> StagedFile:
        """Put the object in the cache's incoming folder (raises OSError; nothing left behind then)."""
        if self.data is not None:
            return stage_bytes(cache_dir, self.data, sync=sync)
        try:
            staged = _stage_by_rename(cache_dir, self._file(), sync)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EACCES):
                raise
            staged = stage_file(cache_dir, self._file(), sync=sync)  # another filesystem: copy
        if staged.size != self.size:
            staged.tmp_path.unlink(missing_ok=True)
            raise OSError("the received data changed while it was being stored")
        return staged


def _stage_by_rename(cache_dir: Path, path: Path, sync: bool) -> StagedFile:
    """Move the received file into the cache's incoming folder (same filesystem: no second write).

    The hash is of the file as it is now, under its staged name: what is
    indexed is what is stored.  Raises OSError (EXDEV across filesystems);
    nothing is left under the staged name then.
    """
    tmp = _new_part(cache_dir)
    os.rename(path, tmp)
    try:
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            size = os.fstat(fd).st_size
            if sync:
                os.fsync(fd)
            digest = _hash_fd(fd, size)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return StagedFile(tmp, size, digest)
