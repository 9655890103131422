"""An object whose Pixel Data is not all there is refused by the importer and the storage SCP, never indexed."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.net.helpers import make_ct
from workstation.net.storage_scp import CANNOT_UNDERSTAND, store_received
from workstation.store.importer import import_paths


def _truncated_bytes(tmp_path, declared: int = 2 << 30, present: int = 512 << 10) -> bytes:
    ds = make_ct(("Trunc^Ated", "TRN-1"), generate_uid(), generate_uid(), 1, rows=512)
    ds.Rows = ds.Columns = 512
    ds.PixelData = np.zeros(512 * 512, dtype="<i2").tobytes()
    path = tmp_path / "whole.dcm"
    ds.save_as(path, enforce_file_format=True)
    data = bytearray(path.read_bytes())
    at = data.rindex(b"\xe0\x7f\x10\x00OW\x00\x00")
    data[at + 8: at + 12] = struct.pack("<I", declared)
    return bytes(data[: at + 12 + present])


def test_import_refuses_truncated_pixel_data(tmp_path, cache):
    path = tmp_path / "truncated.dcm"
    path.write_bytes(_truncated_bytes(tmp_path))
    summary = import_paths(cache, [path], workers=1)
    assert summary.imported == 0
    assert [s.reason for s in summary.skipped] == [
        "truncated: Pixel Data declares 2147483648 bytes, 524288 are present"]
    assert cache.studies() == []


def test_storage_scp_refuses_truncated_pixel_data(tmp_path, cache):
    received, result = store_received(cache, _truncated_bytes(tmp_path), "SENDER", "test")
    assert received.status == CANNOT_UNDERSTAND
    assert "truncated" in received.message
    assert result is None and cache.studies() == []
    assert not list((cache.cache_dir / ".incoming").glob("*"))


def test_whole_objects_still_import(tmp_path, cache):
    data = _truncated_bytes(tmp_path, declared=512 * 512 * 2, present=512 * 512 * 2)
    path = tmp_path / "whole-again.dcm"
    path.write_bytes(data)
    assert import_paths(cache, [path], workers=1).imported == 1


@pytest.mark.parametrize("source", ["CT_small.dcm", "SC_rgb_jpeg_gdcm.dcm"])  # native, encapsulated
def test_a_million_frames_over_one_are_refused_not_indexed(tmp_path, cache, source):
    # Indexed as it stands, such a header made the viewer build a million-frame stack (a hang).
    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    ds = dcmread(get_testdata_file(source))
    ds.NumberOfFrames = 1_000_000
    path = tmp_path / "frames.dcm"
    ds.save_as(path, enforce_file_format=False)
    summary = import_paths(cache, [path], workers=1)
    assert summary.imported == 0
    assert summary.skipped[0].reason.startswith("truncated: Number of Frames is 1000000 but the")
    received, _result = store_received(cache, path.read_bytes(), "SENDER", "test")
    assert received.status == CANNOT_UNDERSTAND and "Number of Frames" in received.message
