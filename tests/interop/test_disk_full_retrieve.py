"""A C-MOVE into a cache whose disk fills up: the report blames the full disk, not the archive; no tracebacks."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.interop.conftest import CALLING_AE
from tests.interop.peers import Modality, free_port, start_orthanc
from tests.interop.test_faults import _series, small_filesystem
from workstation.net.send import send_files

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small filesystem needs root")
def test_cmove_into_a_full_disk_says_disk_full(tmp_path, lightbox_cmd):
    storage_port = free_port()
    study, files = _series(tmp_path / "files", 40, 256)  # ~130 KB each, 5 MB in all
    arc = start_orthanc(tmp_path / "orthanc", [Modality(CALLING_AE, storage_port)], dicomweb=False)
    try:
        assert send_files(files, arc.peer, CALLING_AE).ok
        with small_filesystem(tmp_path / "small", "3m") as mount:
            home = mount / "home"
            lb = [*lightbox_cmd, "--home", str(home)]
            for args in (("config", "set", "ae_title", CALLING_AE),
                         ("config", "set", "storage_port", str(storage_port)),
                         ("config", "set", "storage_bind_address", "127.0.0.1"),
                         ("nodes", "add", "orthanc", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port",
                          str(arc.port), "--retrieve", "move")):
                subprocess.run([*lb, *args], check=True, capture_output=True, timeout=60)
            done = subprocess.run([*lb, "retrieve", "orthanc", "--study", study], capture_output=True, text=True,
                                  timeout=240)
            text = done.stdout + done.stderr
            assert done.returncode != 0
            assert "disk full" in text, text
            assert "Logging error" not in text and "Traceback" not in text, text
            assert "the archive answered" not in text, text
            verify = subprocess.run([*lb, "cache", "verify"], capture_output=True, text=True, timeout=120)
            assert verify.returncode == 0, verify.stdout
    finally:
        arc.stop()
