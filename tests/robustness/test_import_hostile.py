"""Hostile inputs to the importer: special files, zip bombs, sequence bombs, unreadable numbers."""

from __future__ import annotations

import os
import socket
import threading
import time
import zipfile
from io import BytesIO

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from tests.net.helpers import make_ct
from workstation.dicom import limits
from workstation.dicom.header import record_from_scan
from workstation.store.importer import import_paths
from workstation.store.maintenance import verify

pytestmark = pytest.mark.timeout(120)


def _ct_bytes(**changes) -> bytes:
    ds = make_ct(("Hostile^Input", "HST-1"), generate_uid(), generate_uid(), 1)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    bio = BytesIO()
    ds.save_as(bio, enforce_file_format=True)
    return bio.getvalue()


def test_special_files_are_skipped_without_being_opened(tmp_path, cache):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.dcm").write_bytes(_ct_bytes())
    os.mkfifo(folder / "pipe.dcm")  # opening it would wait for a writer forever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.dcm"))
    done: dict = {}
    worker = threading.Thread(target=lambda: done.update(summary=import_paths(cache, [folder, folder / "pipe.dcm"],
                                                                             workers=1)), daemon=True)
    worker.start()
    worker.join(60)
    sock.close()
    assert not worker.is_alive(), "the import hung on a special file"
    summary = done["summary"]
    assert summary.imported == 1
    reasons = {os.path.basename(s.label): s.reason for s in summary.skipped}
    assert "named pipe" in reasons["pipe.dcm"] and "socket" in reasons["sock.dcm"]


def test_a_zip_member_is_streamed_and_bounded(tmp_path, cache):
    limits.configure(max_received_object_bytes=8 << 20)
    try:
        archive = tmp_path / "bomb.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("good.dcm", _ct_bytes())
            with zf.open("huge.dcm", "w", force_zip64=True) as member:  # 64 MiB of zeros, a few KB packed
                zero = bytes(1 << 20)
                for _ in range(64):
                    member.write(zero)
        assert archive.stat().st_size < 1 << 20
        summary = import_paths(cache, [archive], workers=1)
    finally:
        limits.configure()
    assert summary.imported == 1
    [skipped] = summary.skipped
    assert skipped.label.endswith("!huge.dcm") and "larger than 8.0 MiB" in skipped.reason
    assert verify(cache).tidy


def test_a_sequence_bomb_is_read_quickly_by_the_importer(tmp_path, cache):
    ds = make_ct(("Hostile^Input", "HST-1"), generate_uid(), generate_uid(), 1)
    ds.LanguageCodeSequence = Sequence([Dataset() for _ in range(200_000)])  # before the UIDs
    path = tmp_path / "bomb.dcm"
    ds.save_as(path, enforce_file_format=True)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, "in-a-zip.dcm")
    started = time.monotonic()
    summary = import_paths(cache, [path, archive], workers=1)
    print(f"two sequence bombs imported in {time.monotonic() - started:.2f} s")
    assert summary.imported == 1 and summary.duplicates == 1


@pytest.mark.parametrize("value", [b"inf", b"1e999", b"-inf", b"nan"])
def test_unreadable_numbers_do_not_make_the_lean_scan_skip_a_file(value):
    ds = make_ct(("Hostile^Input", "HST-1"), generate_uid(), generate_uid(), 1)
    ds.InstanceNumber = "777777"
    bio = BytesIO()
    ds.save_as(bio, enforce_file_format=True)
    data = bio.getvalue().replace(b"777777", value.ljust(6))  # pydicom will not write these itself
    rec = record_from_scan(data, len(data))
    assert rec is not None and rec.sop_instance_uid == str(ds.SOPInstanceUID)
    assert rec.instance_number is None


def test_a_deflate_bomb_is_refused_without_inflating_it(tmp_path, cache):
    from workstation.dicom.pixels import decode_pixels

    ds = make_ct(("Hostile^Input", "HST-1"), generate_uid(), generate_uid(), 1)
    ds.save_as(tmp_path / "plain.dcm", enforce_file_format=True)
    whole = (tmp_path / "plain.dcm").read_bytes()
    # Re-deflate the data set with 64 MiB of padding inside a private OB element after it.
    from pydicom import dcmread
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = dcmread(tmp_path / "plain.dcm")
    ds.add_new(0x00091010, "LO", "x")
    ds.add_new(0x00091020, "OB", bytes(64 << 20))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    path = tmp_path / "bomb.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size < 1 << 20 and whole
    limits.configure(max_object_bytes=16 << 20)
    try:
        summary = import_paths(cache, [path], workers=1)
        result = decode_pixels(path)
    finally:
        limits.configure()
    assert summary.imported == 0
    assert "inflates to more than 16 MiB" in summary.skipped[0].reason
    assert not result.ok and "inflates to more than 16 MiB" in result.error
