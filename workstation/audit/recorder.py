"""One place every audit event goes through: the local store first, then the repository's queue.

The store is also the durable queue: ``forwarded`` holds the sequence number of the last record the
Audit Record Repository took, so records written while it was down (or before a restart) go out on
the next flush, in order, each once.
"""

from __future__ import annotations

import logging
import os
import threading
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
                 background: bool = False) -> None:
        self.store = AuditStore(folder)
        self.identity = identity
        self.repository = repository
        self.background = background
        self._pointer = self.store.folder / "forwarded"
        self._flush_lock_path = self.store.folder / ".forward.lock"
        self._thread: threading.Thread | None = None
        self._again = threading.Event()

    # Recording ---------------------------------------------------------------
    def record(self, event: AuditEvent | Callable[..., AuditEvent], *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        """Build (when given a builder from :mod:`workstation.audit.events`) and record one event.

        Never raises: an audit trail that cannot be written is logged, and the work goes on.
        """
        try:
            if not isinstance(event, AuditEvent):
                event = event(self.identity, *args, **kwargs)
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
