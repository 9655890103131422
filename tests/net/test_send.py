"""C-STORE SCU: to the demo archive and to in-process SCPs that refuse or want uncompressed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MRImageStorage,
    RLELossless,
    generate_uid,
)
from pynetdicom import AE, evt

from tests.net.helpers import CALLING_AE, free_port, make_ct
from workstation.net.association import ConnectionFailed, Peer
from workstation.net.send import inspect_file, plan_contexts, send_files

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


@contextmanager
def storage_scp(transfer_syntaxes=(ExplicitVRLittleEndian, ImplicitVRLittleEndian), status=lambda ds: 0x0000,
                sop_classes=(CTImageStorage,)) -> Iterator[tuple[Peer, list]]:
    """An in-process Storage SCP on 127.0.0.1; yields the peer and the (transfer syntax, dataset) received."""
    received: list = []

    def on_store(event):
        ds = event.dataset
        ds.file_meta = event.file_meta
        received.append((event.context.transfer_syntax, ds))
        return status(ds)

    ae = AE("STORESCP")
    for sc in sop_classes:
        ae.add_supported_context(sc, list(transfer_syntaxes))
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        yield Peer("127.0.0.1", server.server_address[1], "STORESCP", timeout=10), received
    finally:
        server.shutdown()


def _ct_file(tmp_path, number=1, **kw):
    ds = make_ct(("Test^Gamma", "LBX-T3"), generate_uid(), generate_uid(), number, **kw)
    path = tmp_path / f"{ds.SOPInstanceUID}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path, ds


def test_send_all_ok_to_demo_archive(archive, archive_peer, study_files):
    seen = []
    report = send_files(study_files, archive_peer, CALLING_AE, progress=lambda d, t: seen.append((d, t)))
    assert report.ok, report.summary()
    assert report.sent == len(study_files) == 10
    assert [o.path for o in report.outcomes] == study_files
    assert all(o.status == 0x0000 and o.message == "stored" for o in report.outcomes)
    assert seen[-1] == (10, 10) and len(seen) == 10
    stored = {p.name for p in archive.instances_dir.iterdir()}
    assert {o.sop_instance_uid for o in report.outcomes} <= stored


def test_contexts_offer_own_syntax_and_uncompressed(tmp_path):
    plain, _ = _ct_file(tmp_path, 1)
    rle_path, ds = _ct_file(tmp_path, 2)
    ds.compress(RLELossless, generate_instance_uid=False)
    ds.save_as(rle_path, enforce_file_format=True)
    contexts = plan_contexts([inspect_file(plain), inspect_file(rle_path)])
    offered = [(cx.abstract_syntax, tuple(cx.transfer_syntax)) for cx in contexts]
    assert (CTImageStorage, (RLELossless,)) in offered
    assert (CTImageStorage, (ExplicitVRLittleEndian, ImplicitVRLittleEndian)) in offered
    assert len(offered) == 2


def test_compressed_file_decompressed_when_peer_takes_only_uncompressed(tmp_path):
    path, ds = _ct_file(tmp_path, 3)
    original = ds.pixel_array.copy()
    ds.compress(RLELossless, generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)
    assert dcmread(path).file_meta.TransferSyntaxUID == RLELossless
    with storage_scp() as (peer, received):
        report = send_files([path], peer, CALLING_AE)
    assert report.ok, report.summary()
    assert len(received) == 1
    ts, got = received[0]
    assert ts in (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
    assert got.SOPInstanceUID == ds.SOPInstanceUID  # same instance, other encoding
    assert np.array_equal(got.pixel_array, original)


def test_compressed_file_sent_as_is_when_accepted(tmp_path):
    path, ds = _ct_file(tmp_path, 4)
    ds.compress(RLELossless, generate_instance_uid=False)
    ds.save_as(path, enforce_file_format=True)
    with storage_scp(transfer_syntaxes=(RLELossless, ExplicitVRLittleEndian)) as (peer, received):
        report = send_files([path], peer, CALLING_AE)
    assert report.ok
    assert received[0][0] == RLELossless


def test_failure_status_is_never_success(tmp_path):
    good, _ = _ct_file(tmp_path, 1)
    bad, bad_ds = _ct_file(tmp_path, 2)
    refuse = bad_ds.SOPInstanceUID
    with storage_scp(status=lambda ds: 0xA700 if ds.SOPInstanceUID == refuse else 0x0000) as (peer, _):
        report = send_files([good, bad], peer, CALLING_AE)
    assert not report.ok
    assert report.sent == 1 and report.failed == 1
    failed = report.outcomes[1]
    assert (failed.sop_instance_uid, failed.status, failed.ok) == (refuse, 0xA700, False)
    assert "Out of Resources" in failed.message


def test_warning_status_counts_as_stored(tmp_path):
    path, _ = _ct_file(tmp_path, 1)
    with storage_scp(status=lambda ds: 0xB000) as (peer, _):
        report = send_files([path], peer, CALLING_AE)
    assert report.ok
    assert report.outcomes[0].status == 0xB000 and "Warning" in report.outcomes[0].message


def test_unsupported_sop_class_reported_per_file(tmp_path):
    ct, _ = _ct_file(tmp_path, 1)
    mr_path, mr = _ct_file(tmp_path, 2)
    mr.SOPClassUID = mr.file_meta.MediaStorageSOPClassUID = MRImageStorage
    mr.save_as(mr_path, enforce_file_format=True)
    with storage_scp(sop_classes=(CTImageStorage,)) as (peer, received):
        report = send_files([ct, mr_path], peer, CALLING_AE)
    assert [o.ok for o in report.outcomes] == [True, False]
    assert "did not accept MR Image Storage" in report.outcomes[1].message
    assert len(received) == 1


def test_unreadable_file_fails_without_stopping_others(tmp_path):
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all")
    ct, _ = _ct_file(tmp_path, 1)
    with storage_scp() as (peer, _):
        report = send_files([junk, ct], peer, CALLING_AE)
    assert [o.ok for o in report.outcomes] == [False, True]
    assert report.outcomes[0].message.startswith("not sent: not a readable DICOM file")


def test_cancel_reports_remaining_as_not_sent(tmp_path):
    paths = [_ct_file(tmp_path, n)[0] for n in range(1, 5)]
    stop = threading.Event()

    def progress(done, total):
        if done == 2:
            stop.set()

    with storage_scp() as (peer, received):
        report = send_files(paths, peer, CALLING_AE, progress=progress, cancel=stop)
    assert report.cancelled and not report.ok
    assert [o.ok for o in report.outcomes] == [True, True, False, False]
    assert report.outcomes[3].message == "not sent: cancelled"
    assert len(received) == 2


def test_no_association_raises(tmp_path):
    path, _ = _ct_file(tmp_path, 1)
    with pytest.raises(ConnectionFailed, match="no DICOM service"):
        send_files([path], Peer("127.0.0.1", free_port(), "ANY", timeout=3), CALLING_AE)


def _with_compressed_icon(tmp_path):
    """A CT whose image and Icon Image Sequence are both RLE compressed."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence

    path, ds = _ct_file(tmp_path, 4)
    icon = Dataset()
    icon.Rows = icon.Columns = 8
    icon.SamplesPerPixel, icon.PhotometricInterpretation = 1, "MONOCHROME2"
    icon.BitsAllocated, icon.BitsStored, icon.HighBit, icon.PixelRepresentation = 8, 8, 7, 0
    icon.PixelData = np.arange(64, dtype=np.uint8).tobytes()
    icon.file_meta = FileMetaDataset()
    icon.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    icon.compress(RLELossless, generate_instance_uid=False)
    del icon.file_meta
    ds.compress(RLELossless, generate_instance_uid=False)
    ds.IconImageSequence = Sequence([icon])
    ds.save_as(path, enforce_file_format=True)
    return path, ds


def test_decompressing_converts_the_icon_too(tmp_path):
    path, ds = _with_compressed_icon(tmp_path)
    with storage_scp(transfer_syntaxes=(ExplicitVRLittleEndian,)) as (peer, received):
        report = send_files([path], peer, CALLING_AE)
    assert report.ok, report.summary()
    [(ts, got)] = received
    assert ts == ExplicitVRLittleEndian
    icon = got.IconImageSequence[0]
    assert icon.PixelData[:4] != b"\xfe\xff\x00\xe0"  # native, not encapsulated
    assert np.array_equal(np.frombuffer(icon.PixelData, np.uint8), np.arange(64, dtype=np.uint8))


def test_an_icon_that_cannot_be_decompressed_is_refused_before_sending(tmp_path):
    path, ds = _with_compressed_icon(tmp_path)
    ds = dcmread(path)
    ds.IconImageSequence[0].Rows = 4000  # the RLE data cannot hold it
    ds.save_as(path, enforce_file_format=True)
    with storage_scp(transfer_syntaxes=(ExplicitVRLittleEndian,)) as (peer, received):
        report = send_files([path], peer, CALLING_AE)
    assert not report.ok and received == []
    [outcome] = report.outcomes
    assert "Icon Image Sequence item 1 cannot be decompressed" in outcome.message
