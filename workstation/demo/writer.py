"""Part 10 writing for many instances of one series.

``pydicom.dcmwrite`` re-encodes every element of every file; for a series
whose instances differ only in a handful of attributes that is most of the
generation time.  :class:`SeriesFileWriter` encodes the shared elements once
per series with pydicom's own encoders and splices in the per-instance
elements (also encoded by pydicom) in tag order, so the bytes are the same as
``dcmwrite(path, ds, enforce_file_format=True)`` would write.
"""

from __future__ import annotations

from bisect import bisect_left
from pathlib import Path

from pydicom.charset import convert_encodings
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset, write_file_meta_info
from pydicom.tag import Tag

INSTANCE_TAGS: tuple[int, ...] = tuple(
    sorted(
        Tag(k)
        for k in (
            "SOPInstanceUID",
            "AcquisitionTime",
            "ContentTime",
            "InstanceNumber",
            "ImageIndex",
            "ImagePositionPatient",
            "SliceLocation",
            "PixelData",
        )
    )
)
"""Attributes that change from one instance of a demo series to the next."""


def _buffer() -> DicomBytesIO:
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    return fp


class SeriesFileWriter:
    """Writes instances of one series, Explicit VR Little Endian with file meta.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The series' dataset; every element not in :data:`INSTANCE_TAGS` must
        keep its value for all instances written with this writer.
    """

    def __init__(self, ds: Dataset) -> None:
        charset = ds.get("SpecificCharacterSet", "ISO_IR 6")
        self._encodings = convert_encodings(charset)
        bins: list[Dataset] = [Dataset() for _ in range(len(INSTANCE_TAGS) + 1)]
        for elem in ds:
            if elem.tag not in INSTANCE_TAGS:
                bins[bisect_left(INSTANCE_TAGS, elem.tag)].add(elem)
        self._chunks = []
        for part in bins:
            fp = _buffer()
            write_dataset(fp, part, parent_encoding=charset)
            self._chunks.append(fp.getvalue())

    def encode(self, ds: Dataset) -> bytes:
        """The Part 10 bytes of ``ds`` (preamble, file meta, data set)."""
        fp = _buffer()
        fp.write(b"\x00" * 128 + b"DICM")
        write_file_meta_info(fp, ds.file_meta, enforce_standard=True)
        fp.is_little_endian = True
        fp.is_implicit_VR = False
        for chunk, tag in zip(self._chunks, INSTANCE_TAGS, strict=False):
            fp.write(chunk)
            if tag in ds:
                write_data_element(fp, ds[tag], self._encodings)
        fp.write(self._chunks[-1])
        return fp.getvalue()

    def write(self, path: Path, ds: Dataset) -> None:
        """Write ``ds`` to ``path``."""
        Path(path).write_bytes(self.encode(ds))
