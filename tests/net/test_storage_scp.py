"""Our storage SCP: bytes stored as received, honest statuses, calling-AE filter, listener announcement."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, RLELossless, generate_uid
from pynetdicom import AE

from tests.net.helpers import CALLING_AE, ct_store_association, free_port, make_ct
from workstation.config import Node, Settings
from workstation.net.association import AssociationRejected, NetworkError, Peer, associate
from workstation.net.move_registry import outstanding_move
from workstation.net.listener import LISTENER_FILE, Listener, ensure_listener, running_listener
from workstation.net.send import send_files
from workstation.net.storage_scp import CANNOT_UNDERSTAND, StorageSCP

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


@pytest.fixture
def settings():
    # Only configured nodes may send (the default): the senders of these tests are configured.
    return Settings(storage_port=free_port(), storage_bind_address="127.0.0.1",
                    nodes=[Node(name="sender", ae_title=CALLING_AE, host="127.0.0.1", port=104),
                           Node(name="archive", ae_title="ARCHIVE", host="127.0.0.1", port=104)])


def _files(tmp_path, n=3, compress=False):
    study, series = generate_uid(), generate_uid()
    paths = []
    for i in range(1, n + 1):
        ds = make_ct(("Scp^Test", "LBX-S1"), study, series, i)
        if compress:
            ds.compress(RLELossless, generate_instance_uid=False)
        path = tmp_path / f"{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return study, paths


def _peer(scp):
    return Peer("127.0.0.1", scp.port, scp.ae_title, timeout=10)


def test_received_bytes_are_stored_as_sent(tmp_path, cache, settings):
    study, paths = _files(tmp_path, 3, compress=True)
    seen = []
    with StorageSCP(cache, settings, on_received=seen.append) as scp:
        report = send_files(paths, _peer(scp), CALLING_AE)
        again = send_files(paths[:1], _peer(scp), CALLING_AE)  # a duplicate is fine, and said so
    assert report.ok and again.ok
    assert [r.outcome for r in seen] == ["stored"] * 3 + ["duplicate"]
    assert cache.study(study).num_instances == 3
    for path in paths:
        original = dcmread(path)
        row = cache.instance(str(original.SOPInstanceUID))
        stored = dcmread(cache.path_of(row))
        assert row.transfer_syntax_uid == RLELossless and row.source_ae == CALLING_AE
        # Not decoded and re-encoded: the compressed pixel data is byte for byte what was sent.
        assert stored.PixelData == original.PixelData
        assert cache.path_of(row).read_bytes().endswith(path.read_bytes()[-len(original.PixelData):])
    assert scp.stats.stored == 3 and scp.stats.duplicates == 1


def test_unusable_dataset_is_refused_not_stored(cache, settings):
    ds = Dataset()
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.PatientName = "No^Study"
    from pydicom.dataset import FileMetaDataset

    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    with StorageSCP(cache, settings) as scp, ct_store_association(scp, CALLING_AE) as assoc:
        status = assoc.send_c_store(ds)
    assert int(status.Status) == CANNOT_UNDERSTAND
    assert "Study Instance UID" in str(status.get("ErrorComment", ""))
    assert cache.studies() == []


def test_only_known_nodes(tmp_path, cache, settings):
    settings.nodes = [Node(name="pacs", ae_title="PACS", host="127.0.0.1", port=104)]
    _study, paths = _files(tmp_path, 1)
    with StorageSCP(cache, settings) as scp:
        with (
            pytest.raises(AssociationRejected, match="does not know our AE title"),
            associate(_peer(scp), "STRANGER", ["1.2.840.10008.1.1"]),
        ):
            pass
        assert send_files(paths, _peer(scp), "PACS").ok
        assert scp.refusals.count == 1
        assert scp.refusals.last.calling_ae == "STRANGER" and "with another AE title" in scp.refusals.last.reason


def test_a_known_ae_title_from_another_host_is_refused_and_logged(tmp_path, cache, settings, caplog):
    # The node PACS lives at 192.0.2.7: the same AE title from this machine is someone else.
    settings.nodes = [Node(name="pacs", ae_title="PACS", host="192.0.2.7", port=104)]
    with StorageSCP(cache, settings) as scp:
        with pytest.raises(AssociationRejected), associate(_peer(scp), "PACS", ["1.2.840.10008.1.1"]):
            pass
        assert scp.refusals.count == 1
        assert "not from that node's address" in scp.refusals.last.reason
    assert any("refused an association from 127.0.0.1 (calling AE PACS)" in r.getMessage() for r in caplog.records)


def test_a_site_may_accept_any_sender(tmp_path, cache, settings):
    settings.accept_known_nodes_only = False
    settings.nodes = []
    _study, paths = _files(tmp_path, 1)
    with StorageSCP(cache, settings) as scp:
        assert send_files(paths, _peer(scp), "ANYONE").ok
        assert scp.refusals.count == 0


def test_port_in_use_is_one_clear_line(cache, settings):
    with StorageSCP(cache, settings), pytest.raises(NetworkError, match="already in use by another program"):
        StorageSCP(cache, settings).start()


def test_listener_announces_itself_and_is_reused(home, cache, settings):
    assert running_listener(home, settings) is None
    with Listener(home, settings, cache) as listener:
        data = json.loads((home.data_dir / LISTENER_FILE).read_text())
        assert data["pid"] == os.getpid() and data["port"] == settings.storage_port
        info = running_listener(home, settings)
        assert info is not None and info.scp is listener.scp
        with ensure_listener(home, settings, cache) as used:
            assert not used.started_here and used.scp is listener.scp
    assert not (home.data_dir / LISTENER_FILE).exists()
    with ensure_listener(home, settings, cache) as temporary:
        assert temporary.started_here and temporary.scp.running
    assert not temporary.scp.running


def test_stale_announcement_is_ignored(home, cache, settings):
    (home.data_dir / LISTENER_FILE).write_text(json.dumps({"pid": 999999, "port": settings.storage_port,
                                                           "ae_title": settings.ae_title}))
    assert running_listener(home, settings) is None
    with ensure_listener(home, settings, cache) as info:
        assert info.started_here


def _send_as_move_result(scp, paths, originator: str) -> list[int]:
    """C-STORE ``paths`` as an archive does for a C-MOVE that ``originator`` requested."""
    with ct_store_association(scp, "ARCHIVE") as assoc:
        return [int(assoc.send_c_store(dcmread(p), originator_aet=originator, originator_id=7).Status)
                for p in paths]


def test_move_results_for_us_are_committed_in_groups_and_flushed(tmp_path, cache, settings):
    study, paths = _files(tmp_path, 4)
    seen = []
    with StorageSCP(cache, settings, on_received=seen.append) as scp, \
            outstanding_move(7, settings.ae_title, "127.0.0.1"):
        statuses = _send_as_move_result(scp, paths, settings.ae_title)
        assert statuses == [0] * 4
        assert scp.flush(timeout=30)
        # After the flush, everything answered Success is synced, indexed and reported to observers.
        assert cache.study(study).num_instances == 4
        assert sorted(r.outcome for r in seen) == ["stored"] * 4
        assert scp.stats.stored == 4
    assert not list((cache.cache_dir / ".incoming").glob("*.part"))


def test_move_results_for_another_ae_and_pushes_are_indexed_before_the_answer(tmp_path, cache, settings):
    study, paths = _files(tmp_path, 2)
    with StorageSCP(cache, settings) as scp:
        for path in paths:
            assert _send_as_move_result(scp, [path], "SOMEONE_ELSE") == [0]
            # Answered Success only once synced and indexed: it is there the moment the answer came.
            assert cache.instance(str(dcmread(path).SOPInstanceUID)) is not None
    assert cache.study(study).num_instances == 2


@pytest.mark.parametrize("registered", [None, (8, "LIGHTBOX", "127.0.0.1"), (7, "LIGHTBOX", "192.0.2.1")],
                         ids=["no-move-outstanding", "other-message-id", "other-host"])
def test_move_originator_fields_alone_do_not_buy_an_early_success(tmp_path, cache, settings, registered):
    # Anyone can claim to be sending our C-MOVE's results: without a matching outstanding C-MOVE
    # (message ID, our AE title, the archive's address) the answer waits for sync and index.
    study, paths = _files(tmp_path, 2)
    with StorageSCP(cache, settings) as scp:
        from contextlib import nullcontext

        guard = outstanding_move(*registered) if registered else nullcontext()
        with guard:
            for path in paths:
                assert _send_as_move_result(scp, [path], settings.ae_title) == [0]
                assert cache.instance(str(dcmread(path).SOPInstanceUID)) is not None


def test_stopping_the_scp_commits_what_it_answered(tmp_path, cache, settings):
    study, paths = _files(tmp_path, 3)
    scp = StorageSCP(cache, settings)
    scp.start()
    try:
        with outstanding_move(7, settings.ae_title, "127.0.0.1"):
            assert _send_as_move_result(scp, paths, settings.ae_title) == [0] * 3
    finally:
        scp.stop()
    assert cache.study(study).num_instances == 3


@pytest.mark.parametrize("sop_uid", ["1.2.3.4", "1.2.3.45"])  # even and odd lengths (padding)
def test_part10_bytes_match_pynetdicom(sop_uid):
    from io import BytesIO
    from types import SimpleNamespace

    from pynetdicom.dsutils import create_file_meta, encode_file_meta

    from workstation.net.received_files import part10_bytes

    request = SimpleNamespace(DataSet=BytesIO(b"\x08\x00\x16\x00"), AffectedSOPClassUID=CTImageStorage,
                              AffectedSOPInstanceUID=sop_uid)
    event = SimpleNamespace(request=request, context=SimpleNamespace(transfer_syntax=ExplicitVRLittleEndian))
    meta = create_file_meta(sop_class_uid=CTImageStorage, sop_instance_uid=sop_uid,
                            transfer_syntax=ExplicitVRLittleEndian)
    assert part10_bytes(event) == b"\0" * 128 + b"DICM" + encode_file_meta(meta) + b"\x08\x00\x16\x00"


def test_a_storage_commitment_request_is_refused_as_the_conformance_statement_says(home, cache, settings):
    # Lightbox takes commitment reports (N-EVENT-REPORT) but performs no commitment for others.
    from pydicom.dataset import Dataset as _Dataset
    from pynetdicom.sop_class import StorageCommitmentPushModel

    from workstation.net.commitment import CommitmentInbox
    from workstation.net.storage_scp import UNRECOGNIZED_OPERATION

    with StorageSCP(cache, settings, inbox=CommitmentInbox(home)) as scp:
        ae = AE(CALLING_AE)
        ae.add_requested_context(StorageCommitmentPushModel)
        assoc = ae.associate("127.0.0.1", scp.port, ae_title=scp.ae_title)
        assert assoc.is_established
        try:
            request = _Dataset()
            request.TransactionUID = generate_uid()
            status, _reply = assoc.send_n_action(request, 1, StorageCommitmentPushModel,
                                                 "1.2.840.10008.1.20.1.1")
        finally:
            assoc.release()
    assert int(status.Status) == UNRECOGNIZED_OPERATION
    conformance = (Path(__file__).resolve().parents[2] / "docs" / "conformance.md").read_text()
    assert "0x0211" in conformance and "N-ACTION" in conformance
