"""Which Lightbox process receives for this home, and starting one when none does.

A running storage SCP (the GUI's, or ``lightbox listen``) announces itself
in ``<home>/listener.json`` (process ID, port, AE title).  A C-MOVE or a
storage commitment request from the command line calls
:func:`ensure_listener`: it uses the announced listener when that process is
alive and answers C-ECHO on the configured port, and otherwise starts a
temporary :class:`~workstation.net.storage_scp.StorageSCP` in this process
for the duration of the block.  Instances arriving at either one land in the
same cache, which is all the retrieve needs to check.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workstation.config import Settings
from workstation.home import Home
from workstation.net.association import NetworkError, Peer
from workstation.net.commitment import CommitmentInbox
from workstation.net.retrieve_plan import cached_uids
from workstation.net.storage_scp import StorageSCP, StoredCallback
from workstation.store.cache import StudyCache

log = logging.getLogger(__name__)

LISTENER_FILE = "listener.json"
_GROUP_SETTLE = 0.5  # twice the storage SCP's longest group delay


@dataclass(frozen=True)
class ListenerInfo:
    """A storage SCP receiving for a home.

    Attributes
    ----------
    pid : int
        The process that runs it.
    port : int
    ae_title : str
    scp : StorageSCP or None
        The SCP object when it runs in this process.
    started_here : bool
        True when :func:`ensure_listener` started it for this block only.
    """

    pid: int
    port: int
    ae_title: str
    scp: StorageSCP | None = None
    started_here: bool = False

    def describe(self) -> str:
        where = "this process" if self.pid == os.getpid() else f"Lightbox process {self.pid}"
        return f"{self.ae_title} on port {self.port} ({where})"

    def settle(self, cache: StudyCache, sop_uids: Sequence[str] = (), timeout: float = 5.0, *,
               expected: int = 0, present: Callable[[], int] | None = None) -> None:
        """Wait until what this listener received for a C-MOVE is committed to the cache.

        The SCP commits C-MOVE results in groups (at most a quarter of a second
        late): in this process that is a flush; another process's SCP is
        watched in the cache until ``sop_uids`` are all there (or ``present()``
        counts ``expected``) or nothing more arrives for half a second (at most
        ``timeout`` seconds).
        """
        if self.scp is not None:
            self.scp.flush(timeout)
            return
        wanted = list(sop_uids)
        if wanted:
            expected = len(wanted)

            def present() -> int:
                return len(cached_uids(cache, wanted))
        if present is None or expected <= 0:
            time.sleep(_GROUP_SETTLE)
            return
        started = last_change = time.monotonic()
        seen = -1
        while time.monotonic() - started < timeout:
            count = present()
            if count >= expected:
                return
            now = time.monotonic()
            if count != seen:
                seen, last_change = count, now
            elif now - last_change >= _GROUP_SETTLE and now - started >= 2 * _GROUP_SETTLE:
                return
            time.sleep(0.05)


class Listener:
    """A :class:`StorageSCP` that announces itself in the home while it runs.

    This is what the GUI and ``lightbox listen`` start.

    Parameters
    ----------
    home : Home
    settings : Settings
    cache : StudyCache
    on_received : callable, optional
        Passed to the SCP (called on its threads for every instance).
    port, bind_address : optional
        Override the settings.
    """

    def __init__(self, home: Home, settings: Settings, cache: StudyCache, *, on_received: StoredCallback | None = None,
                 port: int | None = None, bind_address: str | None = None) -> None:
        self.home = home
        self.scp = StorageSCP(cache, settings, inbox=CommitmentInbox(home), on_received=on_received, port=port,
                              bind_address=bind_address)

    @property
    def running(self) -> bool:
        return self.scp.running

    def start(self) -> None:
        """Start the SCP and announce it (NetworkError when the port cannot be used)."""
        other = running_listener(self.home, self.scp.settings)
        if other is not None and other.pid != os.getpid():
            raise NetworkError(f"Lightbox is already receiving for this home: {other.describe()}")
        self.scp.start()
        _announce(self.home, self.scp)

    def stop(self) -> None:
        """Stop the SCP and withdraw the announcement.  Safe to call twice."""
        if self.scp.running:
            _withdraw(self.home)
        self.scp.stop()

    def __enter__(self) -> Listener:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def info(self) -> ListenerInfo:
        return ListenerInfo(os.getpid(), self.scp.port, self.scp.ae_title, self.scp)


# Announcement file -------------------------------------------------------------------
def _path(home: Home) -> Path:
    return home.data_dir / LISTENER_FILE


_IN_PROCESS: dict[Path, StorageSCP] = {}


def _announce(home: Home, scp: StorageSCP) -> None:
    home.data_dir.mkdir(parents=True, exist_ok=True)
    tmp = _path(home).with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "port": scp.port, "ae_title": scp.ae_title,
                               "tls": bool(scp.settings.storage_tls_cert)}), encoding="utf-8")
    os.replace(tmp, _path(home))
    _IN_PROCESS[_path(home)] = scp


def _withdraw(home: Home) -> None:
    _IN_PROCESS.pop(_path(home), None)
    try:
        data = json.loads(_path(home).read_text(encoding="utf-8"))
        if int(data.get("pid", -1)) == os.getpid():
            _path(home).unlink()
    except (OSError, ValueError):
        pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    try:  # a killed process that nobody reaped is not listening
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return True


def running_listener(home: Home, settings: Settings) -> ListenerInfo | None:
    """The Lightbox storage SCP receiving for ``home`` on the configured port, or None.

    A stale announcement (its process gone, another port, no C-ECHO answer)
    counts as none.
    """
    scp = _IN_PROCESS.get(_path(home))
    if scp is not None and scp.running and scp.port == settings.storage_port:
        return ListenerInfo(os.getpid(), scp.port, scp.ae_title, scp)
    try:
        data = json.loads(_path(home).read_text(encoding="utf-8"))
        pid, port, ae_title = int(data["pid"]), int(data["port"]), str(data["ae_title"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or not _alive(pid) or port != settings.storage_port or ae_title != settings.ae_title:
        return None
    if not data.get("tls"):
        from workstation.net.echo import echo

        if not echo(Peer("127.0.0.1", port, ae_title, timeout=5.0), settings.ae_title).ok:
            return None
    return ListenerInfo(pid, port, ae_title)


@contextmanager
def ensure_listener(home: Home, settings: Settings, cache: StudyCache, *,
                    on_received: StoredCallback | None = None) -> Iterator[ListenerInfo]:
    """Make sure a Lightbox storage SCP receives for ``home`` during the block.

    Parameters
    ----------
    home, settings, cache
        This Lightbox.
    on_received : callable, optional
        Subscribed to the SCP when it runs in this process (instances received
        by another process are seen in the cache only).

    Yields
    ------
    ListenerInfo
        ``started_here`` tells whether a temporary SCP was started.

    Raises
    ------
    NetworkError
        No Lightbox listens and the port cannot be bound (another program uses it).
    """
    info = running_listener(home, settings)
    if info is not None:
        unsubscribe = info.scp.subscribe(on_received) if (info.scp is not None and on_received) else None
        try:
            yield info
        finally:
            if unsubscribe is not None:
                unsubscribe()
        return
    listener = Listener(home, settings, cache, on_received=on_received)
    listener.start()
    log.info("temporary storage SCP on port %d for this command", listener.scp.port)
    try:
        yield ListenerInfo(os.getpid(), listener.scp.port, listener.scp.ae_title, listener.scp, started_here=True)
    finally:
        listener.stop()
