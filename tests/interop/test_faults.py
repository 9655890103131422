"""Faults: the archive killed in the middle of a retrieve, and the disk full while receiving."""

from __future__ import annotations

import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from tests.interop.conftest import CALLING_AE
from tests.interop.peers import Modality, start_orthanc
from tests.net.helpers import make_ct
from workstation.config import Settings
from workstation.home import Home
from workstation.net.association import Peer
from workstation.net.retrieve import retrieve
from workstation.net.send import send_files
from workstation.net.storage_scp import OUT_OF_RESOURCES, StorageSCP
from workstation.store.cache import StudyCache
from workstation.store.maintenance import verify

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300)]


def _series(folder: Path, n: int, rows: int) -> tuple[str, list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    paths = []
    for i in range(1, n + 1):
        ds = make_ct(("Fault^Test", "LBX-F1"), study, series, i, rows=rows)
        path = folder / f"{i:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return study, paths


def test_archive_killed_mid_retrieve_then_completed(tmp_path, home, settings, cache, storage_port):
    root = tmp_path / "orthanc"
    study, files = _series(tmp_path / "files", 240, 64)
    arc = start_orthanc(root, [Modality(CALLING_AE, storage_port)], dicomweb=False)
    try:
        assert send_files(files, arc.peer, CALLING_AE).ok
        killed = []

        def progress(p):
            if not killed and p.completed >= 10:
                arc.kill()  # SIGKILL: no goodbye, associations die mid-transfer
                killed.append(p.completed)

        report = retrieve(arc.node(max_associations=1), settings, home, cache, study, method="move",
                          progress=progress)
        assert killed, "the retrieve finished before the archive could be killed"
        assert not report.ok and report.failed > 0 and report.error
        assert report.retrieved + report.failed == len(files)
        check = verify(cache)
        assert check.consistent and not check.missing and not check.mismatched
        assert cache.study(study).num_instances == report.retrieved
    finally:
        arc.stop()
    # Restarted on the same storage (new ports): a later retrieve fetches the rest.
    arc = start_orthanc(root, [Modality(CALLING_AE, storage_port)], dicomweb=False)
    try:
        again = retrieve(arc.node(), settings, home, cache, study, method="move")
        assert again.ok, again.summary()
        assert again.already_cached == report.retrieved and again.retrieved == report.failed
        assert cache.study(study).num_instances == len(files)
        assert verify(cache).tidy
    finally:
        arc.stop()


@contextmanager
def small_filesystem(path: Path, size: str):
    """A tmpfs of ``size`` at ``path`` (root only), unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")
def test_disk_full_answers_a700_and_corrupts_nothing(tmp_path, storage_port):
    study, files = _series(tmp_path / "files", 40, 256)  # ~130 KB each, 5 MB in all
    with small_filesystem(tmp_path / "small", "2m") as mount:
        home = Home.single(mount / "home").ensure()
        settings = Settings(storage_port=storage_port, storage_bind_address="127.0.0.1", accept_known_nodes_only=False)
        cache = StudyCache.open(home)
        try:
            with StorageSCP(cache, settings) as scp:
                report = send_files(files, Peer("127.0.0.1", scp.port, settings.ae_title, timeout=20), CALLING_AE)
            statuses = [o.status for o in report.outcomes]
            stored = [o for o in report.outcomes if o.status == 0]
            assert stored, "nothing fitted at all"
            assert OUT_OF_RESOURCES in statuses
            assert set(statuses) <= {0x0000, OUT_OF_RESOURCES}
            assert all("out of resources" in o.message.lower() or "0xA700" in o.message
                       for o in report.outcomes if o.status == OUT_OF_RESOURCES)
            # Every success is in the cache, complete; nothing else is.
            for o in stored:
                row = cache.instance(o.sop_instance_uid)
                assert row is not None and cache.path_of(row).read_bytes()[128:132] == b"DICM"
            assert cache.study(study).num_instances == len(stored)
            assert verify(cache).consistent
            assert not list((home.cache_dir / ".incoming").glob("*.part"))
        finally:
            cache.close()
