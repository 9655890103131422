"""Files read so that no length field makes Python reserve more than the file holds.

``BufferedReader.read(n)`` reserves ``n`` bytes before reading: a damaged
element length of 0xFFFFFFFE in an 840-byte file makes pydicom ask for 4 GiB
(a MemoryError under a memory limit, a huge reservation without).  A
:class:`BoundedReader` caps every read at what is left of the file, which
changes nothing else.
"""

from __future__ import annotations

import io
import os

__all__ = ["BoundedReader", "open_bounded"]


class BoundedReader(io.BufferedReader):
    """A buffered binary file whose reads never ask for more than the rest of the file."""

    def __init__(self, raw: io.RawIOBase) -> None:
        super().__init__(raw)
        self._size = os.fstat(raw.fileno()).st_size

    def read(self, size: int | None = -1) -> bytes:  # noqa: D102 - io's contract
        if size is not None and size > 0:
            size = max(0, min(size, self._size - self.tell()))
            if size == 0:
                return b""
        return super().read(size)


def open_bounded(path: str | os.PathLike[str]) -> BoundedReader:
    """Open ``path`` for reading as a :class:`BoundedReader` (use it in a ``with`` block)."""
    return BoundedReader(io.FileIO(os.fspath(path), "rb"))
