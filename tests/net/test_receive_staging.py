"""Received objects are written once: pynetdicom streams them into the cache's incoming folder, staging renames.

Nothing is left in the system temporary folder or in ``.incoming``; a file that
cannot be renamed (another filesystem) is copied; a write that fails while the
PDUs arrive is answered 0xA700 with the reason, the association goes on.
"""

from __future__ import annotations

import errno
import os
import tempfile

from pydicom.uid import generate_uid

from tests.net.helpers import CALLING_AE, free_port, make_ct
from workstation.config import Node, Settings
from workstation.net import received, received_files
from workstation.net.association import Peer
from workstation.net.received import Payload
from workstation.net.send import send_files
from workstation.net.storage_scp import OUT_OF_RESOURCES, StorageSCP, store_received
from workstation.store.layout import INCOMING


def _settings() -> Settings:
    return Settings(storage_port=free_port(), storage_bind_address="127.0.0.1",
                    nodes=[Node(name="sender", ae_title=CALLING_AE, host="127.0.0.1", port=104)])


def _files(folder, n):
    study, series = generate_uid(), generate_uid()
    paths = []
    for i in range(1, n + 1):
        path = folder / f"{i}.dcm"
        make_ct(("Staging^Test", "LBX-ST"), study, series, i, rows=64).save_as(path, enforce_file_format=True)
        paths.append(path)
    return study, paths


def _temp_dcm() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.endswith(".dcm")}


def test_pushed_objects_are_received_in_the_cache_and_staged_by_rename(tmp_path, cache, monkeypatch):
    study, paths = _files(tmp_path, 4)
    copies = []
    real_copy = received.stage_file
    monkeypatch.setattr(received, "stage_file", lambda *a, **k: copies.append(a) or real_copy(*a, **k))
    before = _temp_dcm()
    with StorageSCP(cache, _settings()) as scp:
        report = send_files(paths, Peer("127.0.0.1", scp.port, scp.ae_title, timeout=10), CALLING_AE)
    assert report.ok
    assert cache.study(study).num_instances == 4
    assert copies == []  # renamed, not copied
    assert _temp_dcm() - before == set()
    assert list((cache.cache_dir / INCOMING).glob("*.part")) == []


def test_a_received_file_on_another_filesystem_is_copied(tmp_path, cache, monkeypatch):
    _study, paths = _files(tmp_path, 1)
    source = tmp_path / "received.dcm"
    source.write_bytes(paths[0].read_bytes())

    def cross_device(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(received.os, "rename", cross_device)
    payload = Payload(path=source)
    result, _commit = store_received(cache, payload, CALLING_AE, "test")
    payload.discard()
    assert result.status == 0 and result.outcome == "stored"
    assert not source.exists()
    assert list((cache.cache_dir / INCOMING).glob("*.part")) == []


def test_a_write_that_fails_while_receiving_is_answered_out_of_resources(tmp_path, cache, monkeypatch):
    _study, paths = _files(tmp_path, 3)
    real = received_files._received_file
    made = []

    def failing_second(*args, **kwargs):
        f = real(*args, **kwargs)
        made.append(f)
        if len(made) == 2:
            f._fail(OSError(errno.ENOSPC, "No space left on device"))
        return f

    monkeypatch.setattr(received_files._pynetdicom_dimse_messages, "NamedTemporaryFile", failing_second)
    seen = []
    with StorageSCP(cache, _settings(), on_received=seen.append) as scp:
        report = send_files(paths, Peer("127.0.0.1", scp.port, scp.ae_title, timeout=10), CALLING_AE)
    assert [r.status for r in seen] == [0, OUT_OF_RESOURCES, 0]
    assert seen[1].message.startswith("disk full")
    assert not report.ok
    assert list((cache.cache_dir / INCOMING).glob("*.part")) == []
