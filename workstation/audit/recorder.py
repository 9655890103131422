"""One place every audit event goes through: the local store first, then the repository's queue.

The store is also the durable queue: ``forwarded`` holds the sequence number of the last record the
Audit Record Repository took, so records written while it was down (or before a restart) go out on
the next flush, in order, each once.

A window's auditor appends on a writer thread (``deferred``): each append is fsynced, which under disk
load took over half a second on the GUI thread at every study open.  The event is built on the calling
thread (with the identity of that moment), one thread appends in call order (the hash chain keeps the
order of the calls), and :meth:`Auditor.drain` waits for the queue to be written (the window's close).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from pathlib import Path
from typing import Any
from collections.abc import Callable

from workstation.audit.identity import Identity
from workstation.audit.message import AuditEvent
from workstation.audit.store import AuditStore, file_lock, write_private
from workstation.audit.syslog import Connection, Repository, format_message

log = logging.getLogger(__name__)


class Auditor:
    """Records events for one home: ``record`` appends and forwards, ``flush`` empties the queue."""

    def __init__(self, folder: Path, identity: Identity, repository: Repository | None = None,
                 background: bool = False, deferred: bool = False) -> None:
        self.store = AuditStore(folder)
        self.identity = identity
        self.repository = repository
        self.background = background
        #: Append on the writer thread rather than the caller's (the window; see :meth:`drain`).
        self.deferred = deferred
        self._pointer = self.store.folder / "forwarded"
        self._flush_lock_path = self.store.folder / ".forward.lock"
        self._thread: threading.Thread | None = None
        self._again = threading.Event()
        self._queue: deque[AuditEvent] = deque()
        self._writing = threading.Condition()
        self._writer: threading.Thread | None = None

    # Recording ---------------------------------------------------------------
    def record(self, event: AuditEvent | Callable[..., AuditEvent], *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """Build (when given a builder from :mod:`workstation.audit.events`) and record one event.

        Never raises: an audit trail that cannot be written is logged, and the work goes on.
        A ``deferred`` auditor queues the event for its writer thread and returns None.
        """
        try:
            if not isinstance(event, AuditEvent):
                event = event(self.identity, *args, **kwargs)
            if self.deferred or self._writer is not None:  # behind the queued ones, to keep the order
                self._enqueue(event)
                return None
            return self._append(event)
        except Exception:  # noqa: BLE001 - auditing must not stop the reading
            log.exception("could not write the audit record")
            return None

    def _append(self, event: AuditEvent) -> dict[str, Any] | None:
        try:
            rec = self.store.append(event.summary(), event.to_xml())
        except Exception:  # noqa: BLE001 - auditing must not stop the reading
            log.exception("could not write the audit record")
            return None
        if self.repository is not None:
            if self.background:
                self._kick()
            else:
                self.flush()
        return rec

    # Appending on the writer thread --------------------------------------------
    def _enqueue(self, event: AuditEvent) -> None:
        with self._writing:
            self._queue.append(event)
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_loop, name="audit-append", daemon=True)
                self._writer.start()

    def _write_loop(self) -> None:
        while True:
            with self._writing:
                if not self._queue:
                    self._writer = None  # under the lock: the next record starts a new writer
                    self._writing.notify_all()
                    return
                event = self._queue[0]
            self._append(event)  # one writer, oldest first: the chain is in the order of the calls
            with self._writing:
                self._queue.popleft()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every queued record is in the store; False when ``timeout`` passed first.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait at most (None: as long as the disk takes).

        Returns
        -------
        bool
            True when nothing is left to append.
        """
        with self._writing:
            return self._writing.wait_for(lambda: not self._queue and self._writer is None, timeout)

    # Forwarding ---------------------------------------------------------------
    def forwarded(self) -> int:
        try:
            return int(self._pointer.read_text(encoding="ascii").strip() or 0)
        except (OSError, ValueError):
            return 0

    def _set_forwarded(self, seq: int) -> None:
        write_private(self._pointer, f"{seq}\n")

    def pending(self) -> int:
        """How many records the repository has not taken yet."""
        return sum(1 for _ in self.store.records(self.forwarded()))

    def flush(self) -> tuple[int, int]:
        """Send every queued record, oldest first, over one connection.

        Returns
        -------
        tuple of int
            (sent, still pending).  A repository that is down, or drops the connection, leaves the rest
            queued for the next flush; each record is marked sent right after it went out.
        """
        if self.repository is None:
            return 0, self.pending()
        self.store._ensure()
        sent = 0
        with file_lock(self._flush_lock_path):
            queued = list(self.store.records(self.forwarded()))
            if not queued:
                return 0, 0
            try:
                conn = Connection(self.repository)
            except (OSError, ValueError) as exc:
                log.warning("audit repository %s unreachable (%s); %d record(s) queued",
                            self.repository.describe(), type(exc).__name__, len(queued))
                return 0, len(queued)
            try:
                for rec in queued:
                    conn.send(format_message(rec["xml"], self.identity.host, os.getpid()))
                    self._set_forwarded(int(rec["seq"]))
                    sent += 1
            except OSError as exc:
                log.warning("audit repository %s dropped the connection (%s)", self.repository.describe(),
                            type(exc).__name__)
            finally:
                conn.close()
        return sent, len(queued) - sent

    def _kick(self) -> None:
        self._again.set()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._forward_loop, name="audit-forward", daemon=True)
            self._thread.start()

    def _forward_loop(self) -> None:
        while self._again.is_set():
            self._again.clear()
            self.flush()

    def wait(self, timeout: float = 10.0) -> None:
        """Wait for the background forwarder (tests, and the window on close)."""
        t = self._thread
        if t is not None:
            t.join(timeout)
