"""A frozen archive (answers, then stops mid-transfer without closing): every operation gives up on time.

With the node's timeout at 5 s, echo, query and retrieve (C-MOVE and C-GET) end
well before the minute pynetdicom's other timeouts would take, and say 5 s.
(The exact figures go to the closing report; a test asserts only a generous bound.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from tests.interop.bad_peer import AE_TITLE
from tests.net.helpers import free_port, make_ct

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300)]

NODE_TIMEOUT = 5
#: Far below the ~61 s a frozen C-MOVE once took, far above 5 s plus a loaded machine's start-up.
BOUND_S = 30


@contextmanager
def frozen_archive(folder: Path, destination_port: int, mode: str = "freeze") -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.interop.bad_peer", mode, str(port), str(folder),
                             str(destination_port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        yield port
    finally:
        proc.kill()
        proc.wait(30)


@pytest.fixture
def study(tmp_path) -> tuple[str, Path]:
    folder = tmp_path / "archive"
    folder.mkdir()
    study_uid, series = generate_uid(), generate_uid()
    for n in range(1, 5):
        make_ct(("Frozen^Archive", "FRZ-1"), study_uid, series, n).save_as(folder / f"{n}.dcm",
                                                                           enforce_file_format=True)
    return study_uid, folder


def _lb(lightbox_cmd, *args, signal_after: float | None = None) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    if signal_after is None:
        done = subprocess.run([*lightbox_cmd, *args], capture_output=True, text=True, timeout=180)
        return done, time.monotonic() - started
    proc = subprocess.Popen([*lightbox_cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(signal_after)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=180)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - started


@pytest.fixture
def configured(lightbox_cmd):
    storage = free_port()

    def add(port: int, method: str = "move") -> None:
        for args in (("config", "set", "storage_port", str(storage)),
                     ("config", "set", "storage_bind_address", "127.0.0.1"),
                     ("nodes", "add", "frozen", "--ae", AE_TITLE, "--host", "127.0.0.1", "--port", str(port),
                      "--timeout", str(NODE_TIMEOUT), "--retrieve", method)):
            subprocess.run([*lightbox_cmd, *args], check=True, capture_output=True, timeout=60)

    add.storage_port = storage
    return add


def test_echo_gives_up_after_the_node_timeout(lightbox_cmd, configured, study):
    _uid, folder = study
    with frozen_archive(folder, configured.storage_port) as port:
        configured(port)
        done, elapsed = _lb(lightbox_cmd, "nodes", "echo", "frozen")
    print(f"echo gave up after {elapsed:.1f} s")
    assert done.returncode != 0
    assert f"{NODE_TIMEOUT} s" in done.stdout + done.stderr, done.stdout + done.stderr
    assert elapsed < BOUND_S


def test_query_gives_up_after_the_node_timeout(lightbox_cmd, configured, study):
    _uid, folder = study
    with frozen_archive(folder, configured.storage_port) as port:
        configured(port)
        done, elapsed = _lb(lightbox_cmd, "query", "frozen", "--level", "image", "--study", _uid)
    print(f"query gave up after {elapsed:.1f} s")
    assert done.returncode != 0
    assert f"within {NODE_TIMEOUT} s" in done.stderr, done.stderr
    assert elapsed < BOUND_S


@pytest.mark.parametrize("method", ["move", "get"])
def test_retrieve_gives_up_after_the_node_timeout(lightbox_cmd, configured, study, method, lightbox_home):
    study_uid, folder = study
    with frozen_archive(folder, configured.storage_port) as port:
        configured(port, method)
        done, elapsed = _lb(lightbox_cmd, "retrieve", "frozen", "--study", study_uid)
    print(f"{method} gave up after {elapsed:.1f} s")
    assert done.returncode != 0
    assert f"{NODE_TIMEOUT} s" in done.stdout + done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < BOUND_S


def test_ctrl_c_during_retrieve_ends_with_a_summary(lightbox_cmd, configured, study):
    study_uid, folder = study
    with frozen_archive(folder, configured.storage_port) as port:
        configured(port)
        done, _elapsed = _lb(lightbox_cmd, "retrieve", "frozen", "--study", study_uid, signal_after=4.0)
    text = done.stdout + done.stderr
    assert "'result'" not in text and "Traceback" not in text, text
    assert "cancelled" in text.lower(), text


@pytest.mark.parametrize("method", ["move", "get"])
def test_ctrl_c_mid_transfer_ends_with_a_summary(lightbox_cmd, configured, study, method, lightbox_home):
    study_uid, folder = study
    with frozen_archive(folder, configured.storage_port, "freeze-transfer") as port:
        configured(port, method)
        proc = subprocess.Popen([*lightbox_cmd, "retrieve", "frozen", "--study", study_uid], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        cache = lightbox_home / "cache"
        deadline = time.monotonic() + 60
        # Ctrl+C once the first instance is in the cache (the archive then freezes).
        while time.monotonic() < deadline and proc.poll() is None:
            if cache.exists() and any(cache.glob("1.*/*/*.dcm")):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    text = out + err
    assert "'result'" not in text and "Traceback" not in text, text
    assert "1 retrieved" in text and "cancelled" in text.lower(), text


def test_ctrl_c_during_a_query_says_how_far_it_got(lightbox_cmd, configured, study):
    _uid, folder = study
    with frozen_archive(folder, configured.storage_port) as port:
        configured(port)
        done, _elapsed = _lb(lightbox_cmd, "query", "frozen", "--level", "image", "--study", _uid, signal_after=3.0)
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert "interrupted after 1 result" in done.stderr and "Traceback" not in done.stderr, done.stderr
