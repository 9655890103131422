"""The pixel data's byte-level checks (workstation.dicom.pixel_extent): where a native Pixel Data value starts, a
truncated file said in words, a deflated data set that would inflate past the ceiling refused, and the header
module's public names still importable from where they were."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, JPEGBaseline8Bit

from tests.factories import ct_dataset, uid
from workstation.dicom import header, pixel_extent
from workstation.dicom.header import TAIL_BYTES, deflated_too_large, parse_header, pixel_data_truncation

pytestmark = pytest.mark.timeout(60)  # a loop that never ends fails here instead of holding the run


def _ct(tmp_path: Path, name: str = "ct.dcm", **kw) -> Path:
    ds = ct_dataset(study_uid=uid(), series_uid=uid(), patient_name="Ωμέγα^Ελένη", **kw)
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


def test_the_header_module_still_offers_the_public_names():
    for name in ("TAIL_BYTES", "deflated_too_large", "pixel_data_truncation"):
        assert getattr(header, name) is getattr(pixel_extent, name)
    assert set(pixel_extent.__all__) - set(header.__all__) == {"pixel_data_offset", "stopped_at_pixels"}
    assert TAIL_BYTES == 4096


def test_native_pixel_data_offset_points_at_the_pixels(tmp_path):
    path = _ct(tmp_path, fill=1234)
    data = path.read_bytes()
    _ds, rec = parse_header(data)
    offset = rec.pixel_data_offset
    assert offset is not None
    assert offset == pixel_extent.pixel_data_offset(data, rec.extra["pixel_pos"], ExplicitVRLittleEndian)
    pixels = np.frombuffer(data, dtype="<i2", count=16 * 16, offset=offset)
    assert np.all(pixels == pydicom.dcmread(path).pixel_array.ravel())
    assert pixel_extent.stopped_at_pixels(data, rec.extra["pixel_pos"])
    assert not pixel_extent.stopped_at_pixels(data, 0)
    # Not at a Pixel Data element, or a compressed syntax: no offset.
    assert pixel_extent.pixel_data_offset(data, 0, ExplicitVRLittleEndian) is None
    assert pixel_extent.pixel_data_offset(data, rec.extra["pixel_pos"], JPEGBaseline8Bit) is None


def test_a_truncated_file_is_said_in_words(tmp_path):
    data = _ct(tmp_path).read_bytes()
    _ds, rec = parse_header(data)
    pos = rec.extra["pixel_pos"]
    assert pixel_data_truncation(data, pos, ExplicitVRLittleEndian, len(data)) is None
    cut = data[:-100]
    said = pixel_data_truncation(cut, pos, ExplicitVRLittleEndian, len(cut))
    assert said == f"truncated: Pixel Data declares {16 * 16 * 2} bytes, {16 * 16 * 2 - 100} are present"
    # Encapsulated: an undefined length whose sequence never ends in the file's tail.
    encapsulated = bytearray(data[:pos + 12])
    encapsulated[pos + 8:pos + 12] = b"\xff\xff\xff\xff"
    head = bytes(encapsulated) + b"\xfe\xff\x00\xe0\x00\x00\x00\x00"
    assert pixel_data_truncation(head, pos, ExplicitVRLittleEndian, len(head), tail=head[-TAIL_BYTES:]) == (
        "truncated: the encapsulated Pixel Data has no end (no sequence delimiter)")
    ended = head + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00"
    assert pixel_data_truncation(ended, pos, ExplicitVRLittleEndian, len(ended), tail=ended[-TAIL_BYTES:]) is None


def test_a_deflated_data_set_past_the_ceiling_is_refused_without_inflating_it_whole(tmp_path):
    ds = ct_dataset(study_uid=uid(), series_uid=uid(), patient_name="山田^花子", size=1024, fill=0)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = tmp_path / "deflated.dcm"
    ds.save_as(path, enforce_file_format=True)
    stream = io.BytesIO(path.read_bytes())
    stream.seek(0)
    assert path.stat().st_size < 64 * 1024  # 2 MiB of pixels, deflated to a few KiB
    assert deflated_too_large(stream, 4 << 20) is None
    assert deflated_too_large(stream, 1 << 20) == "the deflated data set inflates to more than 1 MiB; refused"
    assert stream.tell() == 0  # left where it was
    assert deflated_too_large(io.BytesIO(_ct(tmp_path).read_bytes()), 1) is None  # not deflated: not its business


def test_bytes_after_the_deflate_stream_end_the_check(tmp_path):
    """pydicom pads a deflated data set to an even length: the pad byte after the stream's end is left alone (the
    check asked zlib to inflate it again and again, for ever, whenever the data set inflated past 1 MiB and stayed
    under the limit: about every other deflated file of that size hung its import)."""
    ds = ct_dataset(study_uid=uid(), series_uid=uid(), patient_name="Ωμέγα^Ελένη", size=1024, fill=7)
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = tmp_path / "deflated.dcm"
    ds.save_as(path, enforce_file_format=True)
    for trailing in (b"\x00", b"\x00\x00\x00"):  # one or more bytes after the stream, whatever pydicom wrote
        stream = io.BytesIO(path.read_bytes() + trailing)
        assert deflated_too_large(stream, 4 << 20) is None  # 2 MiB of pixels
        assert deflated_too_large(stream, 1 << 20) == "the deflated data set inflates to more than 1 MiB; refused"
        _ds, rec = parse_header(stream.getvalue())  # and the import reads it
        assert rec.patient_name == "Ωμέγα^Ελένη" and rec.transfer_syntax_uid == DeflatedExplicitVRLittleEndian
