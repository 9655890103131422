"""The embedded demo archive: pynetdicom's Query/Retrieve SCP in a child process.

Lightbox starts it so that a user without a PACS (and every network test)
has a real archive to query, retrieve from and send to.  It listens on
127.0.0.1 only and never outlives Lightbox:

* :meth:`EmbeddedArchive.stop` on normal exit and an ``atexit`` hook;
* on Linux, ``PR_SET_PDEATHSIG`` so the kernel sends SIGTERM when the parent
  dies (only when started from the main thread: the signal follows the
  *thread* that forked, so a worker thread ending would kill the archive);
* everywhere, a lifeline: the child reads its stdin, a pipe whose only
  writer is Lightbox, and exits at end-of-file, which the OS delivers when
  Lightbox dies however it dies.

The child runs ``python -m workstation.net.archive CONFIG``, a small runner
around ``pynetdicom.apps.qrscp`` that adds the lifeline.  Everything the
archive owns lives under ``root``: ``qrscp.ini``, ``archive.sqlite``,
``instances/`` and ``archive.log``.

qrscp facts worth knowing (pynetdicom 3.0.4):

* relative ``instance_location`` / ``database_location`` are resolved
  against pynetdicom's *package* directory, so the config uses absolute paths;
* the config is read with interpolation, so ``%`` in a path must be doubled;
* it accepts any called AE title and any calling AE title;
* at STUDY and SERIES level it answers one C-FIND response per stored instance,
  and below the top level it wants the upper levels' unique keys present;
* at INFO level pynetdicom logs query identifiers (patient names), so the
  child logs at WARNING;
* a stored instance without Patient ID is acknowledged with Success but is not
  indexed, so it can never be found.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from workstation.config import validate_ae_title, validate_port

CONFIG_NAME = "qrscp.ini"
DATABASE_NAME = "archive.sqlite"
INSTANCES_DIR = "instances"
LOG_NAME = "archive.log"

_BIND = "127.0.0.1"
_PR_SET_PDEATHSIG = 1

# Archives started by this process; the atexit hook stops whatever is left.
_RUNNING: set[EmbeddedArchive] = set()
_RUNNING_LOCK = threading.Lock()


class ArchiveError(RuntimeError):
    """The embedded archive could not be started (message: one line plus its log tail)."""


class EmbeddedArchive:
    """pynetdicom's qrscp as a child process on 127.0.0.1.

    Parameters
    ----------
    root : Path
        Directory for the archive's config, database, instances and log.
    ae_title : str
        The archive's AE title.
    port : int
        The port to try first; another free port is used when it is busy.
    move_destinations : dict of str to (host, port), optional
        C-MOVE destinations by AE title.

    Examples
    --------
    >>> with EmbeddedArchive(home.demo_dir / "archive", port=settings.demo_archive_port) as archive:
    ...     echo(Peer("127.0.0.1", archive.port, archive.ae_title), settings.ae_title)
    """

    def __init__(
        self,
        root: Path,
        *,
        ae_title: str = "LIGHTBOXDEMO",
        port: int = 11114,
        move_destinations: dict[str, tuple[str, int]] | None = None,
    ) -> None:
        self.root = Path(root)
        self._ae_title = validate_ae_title(ae_title)
        self._requested_port = validate_port(port)
        self._port = self._requested_port
        self.move_destinations = {
            validate_ae_title(aet): (str(host), validate_port(p))
            for aet, (host, p) in (move_destinations or {}).items()
        }
        if any(aet.upper() == "DEFAULT" for aet in self.move_destinations):
            raise ValueError("'DEFAULT' cannot be a move destination AE title in the archive's config")
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    # Properties ------------------------------------------------------------------
    @property
    def ae_title(self) -> str:
        return self._ae_title

    @property
    def port(self) -> int:
        """The port in use (after :meth:`start`, possibly not the one requested)."""
        return self._port

    @property
    def host(self) -> str:
        return _BIND

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def log_path(self) -> Path:
        return self.root / LOG_NAME

    @property
    def instances_dir(self) -> Path:
        return self.root / INSTANCES_DIR

    # Lifecycle -------------------------------------------------------------------
    def start(self, timeout: float = 20.0) -> None:
        """Start the archive and wait until it answers C-ECHO.

        Parameters
        ----------
        timeout : float
            Seconds to wait for the first successful C-ECHO.

        Raises
        ------
        ArchiveError
            When the child exits or does not answer in time; the message ends
            with the tail of ``archive.log``.
        """
        if self.running:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.instances_dir.mkdir(exist_ok=True)
        deadline = time.monotonic() + timeout
        port = self._requested_port if _port_is_free(self._requested_port) else _free_port()
        # A port found free can be taken before the child binds it: retry, bounded.
        for attempt in range(3):
            self._port = port
            try:
                log_offset = self._spawn()
            except OSError as exc:
                self.stop()
                raise ArchiveError(f"cannot start the demo archive ({sys.executable}): {exc}") from exc
            failure = self._wait_ready(deadline)
            if failure is None:
                return
            tail = self._log_tail(log_offset)
            self.stop()
            if "address already in use" in tail.lower() and attempt < 2 and time.monotonic() < deadline:
                port = _free_port()
                continue
            raise ArchiveError(f"{failure}{': ' + tail if tail else ''}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the archive: SIGTERM, wait, SIGKILL, reap.  Safe to call twice."""
        proc, self._proc = self._proc, None
        with _RUNNING_LOCK:
            _RUNNING.discard(self)
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=timeout)
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> EmbeddedArchive:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running pid {self.pid}" if self.running else "stopped"
        return f"EmbeddedArchive({self._ae_title}@{_BIND}:{self._port}, {state})"

    # Internals -------------------------------------------------------------------
    def write_config(self) -> Path:
        """Write qrscp's config for the current port and return its path."""

        def esc(value: object) -> str:
            # ConfigParser's interpolation treats % specially.
            return str(value).replace("%", "%%")

        lines = [
            "[DEFAULT]",
            f"ae_title: {self._ae_title}",
            f"port: {self._port}",
            "max_pdu: 0",
            "acse_timeout: 30",
            "dimse_timeout: 30",
            "network_timeout: 60",
            f"bind_address: {_BIND}",
            # Absolute: qrscp joins relative paths to its own package directory.
            f"instance_location: {esc(self.instances_dir.resolve())}",
            f"database_location: {esc((self.root / DATABASE_NAME).resolve())}",
            "log_identifier: False",
            "",
        ]
        for aet, (host, port) in sorted(self.move_destinations.items()):
            lines += [f"[{aet}]", f"address: {host}", f"port: {port}", ""]
        self.config_path.write_text("\n".join(lines), encoding="utf-8")
        return self.config_path

    def _spawn(self) -> int:
        config = self.write_config()
        if self._log_file is None:
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log_file.write(f"--- start {time.strftime('%Y-%m-%d %H:%M:%S')} port {self._port}\n".encode())
        self._log_file.flush()
        offset = self._log_file.tell()
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(
            [sys.executable, "-W", "ignore::DeprecationWarning", "-m", "workstation.net.archive", str(config)],
            stdin=subprocess.PIPE,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            cwd=str(self.root),
            env=env,
            close_fds=True,
            preexec_fn=_die_with_parent_preexec(),
        )
        with _RUNNING_LOCK:
            _RUNNING.add(self)
        return offset

    def _wait_ready(self, deadline: float) -> str | None:
        """Poll C-ECHO until it succeeds (None) or return why it never did."""
        from workstation.net.association import Peer
        from workstation.net.echo import echo

        peer = Peer(_BIND, self._port, self._ae_title, timeout=2.0)
        while True:
            assert self._proc is not None
            code = self._proc.poll()
            if code is not None:
                return f"the demo archive exited with code {code} while starting on port {self._port}"
            if echo(peer, "LIGHTBOX").ok:
                return None
            if time.monotonic() >= deadline:
                return f"the demo archive did not answer C-ECHO on {_BIND}:{self._port} in time"
            time.sleep(0.1)

    def _log_tail(self, offset: int, lines: int = 4) -> str:
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(offset)
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        # Skip traceback decoration so the lines that say what failed survive the cut.
        noise = ("^", "~", "(Background on this error")
        kept = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith(noise)]
        return " | ".join(kept[-lines:])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Same option as the archive's listener, so TIME_WAIT does not count as busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((_BIND, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
        return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((_BIND, 0))
        return int(s.getsockname()[1])


def _die_with_parent_preexec() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when this thread dies, or None.

    Only from the main thread: PR_SET_PDEATHSIG fires when the forking *thread*
    ends.  libc's prctl is looked up here, before the fork, so the child runs
    nothing but one foreign call between fork and exec.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    sig = int(signal.SIGTERM)

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return preexec


@atexit.register
def _stop_all() -> None:
    with _RUNNING_LOCK:
        archives = list(_RUNNING)
    for archive in archives:
        archive.stop(timeout=5.0)


# Child side ------------------------------------------------------------------------
def _watch_lifeline() -> None:
    """Exit when stdin reaches end-of-file: Lightbox closed the pipe or died."""
    # The raw descriptor, not sys.stdin: a daemon thread blocked on a buffered
    # reader makes the interpreter abort at shutdown.
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os._exit(0)


def _run_child(argv: list[str]) -> None:
    if len(argv) != 1:
        sys.exit("usage: python -m workstation.net.archive CONFIG")
    threading.Thread(target=_watch_lifeline, name="lifeline", daemon=True).start()
    from pynetdicom.apps.qrscp import qrscp

    run: Callable[[list[str]], object] = qrscp.main  # pynetdicom's app carries no annotations
    run(["-c", argv[0], "--log-level", "warn"])


if __name__ == "__main__":
    _run_child(sys.argv[1:])
