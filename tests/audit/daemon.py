"""Starting and stopping a test's own daemon (rsyslogd, slapd): wait for its port, stop it for sure."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path


def start_daemon(argv: list[str], port: int, name: str, output: Path) -> subprocess.Popen:
    """Start ``argv`` in a session of its own, its output to ``output``; return once it listens on ``port``.

    Raises
    ------
    RuntimeError
        It exited or did not listen in time (it is stopped first).
    """
    with output.open("ab") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_listening(proc, port, name, output)
    except RuntimeError:
        stop_daemon(proc)
        raise
    return proc


def wait_listening(proc: subprocess.Popen, port: int, name: str, output: Path, within: float = 20.0) -> None:
    """Return once ``proc`` takes TCP connections on 127.0.0.1:``port``.

    Parameters
    ----------
    proc : subprocess.Popen
        The daemon, started in the foreground.
    port : int
        Its port on 127.0.0.1.
    name : str
        What the errors call it.
    output : pathlib.Path
        The file its stdout and stderr go to (its tail is the error's reason).
    within : float
        Seconds to wait at most (a bounded loop).

    Raises
    ------
    RuntimeError
        It exited, or did not listen in time; the caller stops it.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {output.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen within {within:g} s")


def stop_daemon(proc: subprocess.Popen | None) -> None:
    """SIGTERM, a bounded wait, then SIGKILL; nothing for a process that already ended."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
