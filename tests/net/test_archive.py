"""The embedded demo archive: start, echo, port fallback, and no child left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.net.helpers import CALLING_AE, free_port, pid_alive, process_gone
from workstation.net.archive import ArchiveError, EmbeddedArchive
from workstation.net.association import Peer
from workstation.net.echo import echo

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


def _wait_gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process_gone(pid):
            return True
        time.sleep(0.1)
    return process_gone(pid)


def test_echo_ok(archive):
    result = echo(Peer("127.0.0.1", archive.port, archive.ae_title, timeout=5), CALLING_AE)
    assert result.ok, result.message
    assert result.status == 0x0000
    assert result.elapsed_s >= 0  # the round trip is reported (its figure is not a test's business)


def test_archive_files_live_under_root(archive):
    assert archive.config_path.is_file()
    assert archive.log_path.is_file()
    text = archive.config_path.read_text()
    assert "bind_address: 127.0.0.1" in text
    assert str(archive.root.resolve()) in text


def test_listens_on_loopback_only(archive):
    """The kernel's socket table shows the archive's listener bound to 127.0.0.1, not 0.0.0.0."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        pytest.skip("needs Linux /proc/net/tcp")
    listeners = []
    for line in table.read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.split(":")
        if state == "0A" and int(port, 16) == archive.port:  # 0A = LISTEN
            listeners.append(address)
    assert listeners == ["0100007F"]  # 127.0.0.1, little-endian hex


def test_stop_kills_child_and_leaves_no_zombie(tmp_path):
    arc = EmbeddedArchive(tmp_path / "arc", port=free_port())
    try:
        arc.start(timeout=30)
        pid = arc.pid
        assert pid is not None and pid_alive(pid)
    finally:
        arc.stop()
    assert not arc.running
    assert process_gone(pid)
    with pytest.raises(ChildProcessError):  # reaped: nothing left for us to wait for
        os.waitpid(pid, os.WNOHANG)
    arc.stop()  # idempotent


def test_busy_port_falls_back_and_reports_port_used(tmp_path):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        with EmbeddedArchive(tmp_path / "arc", port=busy) as arc:
            assert arc.running
            assert arc.port != busy
            assert echo(Peer("127.0.0.1", arc.port, arc.ae_title, timeout=5), CALLING_AE).ok
            assert f"port: {arc.port}" in arc.config_path.read_text()
        assert not arc.running


def test_start_from_worker_thread_survives_thread_end(tmp_path):
    # PR_SET_PDEATHSIG follows the forking *thread*: a finished worker must not take the archive with it.
    arc = EmbeddedArchive(tmp_path / "arc", port=free_port())
    errors: list[BaseException] = []

    def run() -> None:
        try:
            arc.start(timeout=30)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join(timeout=40)
        assert not worker.is_alive() and not errors
        time.sleep(0.5)
        assert arc.running
        assert echo(Peer("127.0.0.1", arc.port, arc.ae_title, timeout=5), CALLING_AE).ok
    finally:
        arc.stop()


_HOLDER = """
import sys, threading, time
from pathlib import Path
from workstation.net.archive import EmbeddedArchive
arc = EmbeddedArchive(Path(sys.argv[1]), port=int(sys.argv[2]))
if sys.argv[3] == "thread":
    t = threading.Thread(target=arc.start); t.start(); t.join()
else:
    arc.start()
print(arc.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("started_from", ["main", "thread"])
def test_child_dies_with_its_parent(tmp_path, started_from):
    """SIGKILL the process that started the archive: the archive follows.

    From the main thread PR_SET_PDEATHSIG does it; from a worker thread the
    stdin lifeline does (end-of-file when the parent's pipe end closes).
    """
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(tmp_path / "arc"), str(free_port()), started_from],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child_pid = None
    try:
        line = _readline_with_timeout(holder, 40)
        assert line.strip().isdigit(), \
            f"holder said {line!r}: {holder.stderr.read() if holder.poll() is not None else ''}"
        child_pid = int(line)
        assert pid_alive(child_pid)
        holder.kill()
        holder.wait(timeout=10)
        assert _wait_gone(child_pid, 10), "the archive outlived the process that started it"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        if child_pid is not None and not process_gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)
        holder.stdout.close()
        holder.stderr.close()


def _readline_with_timeout(proc: subprocess.Popen, timeout: float) -> str:
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return out[0] if out else ""


def test_start_failure_raises_clear_error_with_log_tail(tmp_path):
    arc = EmbeddedArchive(tmp_path / "arc", port=free_port())
    # A directory where the database file should be: qrscp cannot open its database.
    (tmp_path / "arc" / "archive.sqlite").mkdir(parents=True)
    try:
        with pytest.raises(ArchiveError) as info:
            arc.start(timeout=60)
    finally:
        arc.stop()
    message = str(info.value)
    # The child's exit was noticed, not the start's deadline (that one says "did not answer ... in time").
    assert "exited with code" in message and "in time" not in message, message
    assert "demo archive" in message
    assert "\n" not in message
    assert "sqlite" in message.lower() or "database" in message.lower()
    assert not arc.running


def test_config_with_move_destination_and_percent_in_path(tmp_path):
    root = tmp_path / "100% demo"
    arc = EmbeddedArchive(root, port=free_port(), move_destinations={"LIGHTBOX": ("127.0.0.1", 11112)})
    try:
        arc.start(timeout=30)
        text = arc.config_path.read_text()
        assert "[LIGHTBOX]\naddress: 127.0.0.1\nport: 11112" in text
        assert "100%% demo" in text
        assert (root / "archive.sqlite").is_file()  # the database went where asked, not into pynetdicom
    finally:
        arc.stop()
    with pytest.raises(ValueError):
        EmbeddedArchive(tmp_path, move_destinations={"DEFAULT": ("127.0.0.1", 1)})
