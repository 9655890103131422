"""The local audit trail: an append-only file in the home where each record carries the hash of the one before.

One JSON object per line: ``seq``, the event's summary fields, its XML, ``prev`` (the previous
record's hash) and ``hash`` = SHA-256 over ``prev`` and the record's canonical JSON without ``hash``.
A changed byte breaks that record's hash; a removed record breaks the sequence or the chain;
``head`` keeps the last sequence number and hash so a removed tail shows too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from collections.abc import Iterator

try:  # a lock between processes (the window and a command writing at once); Windows has no fcntl
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

GENESIS = "0" * 64
# One lock per lock file: appending must not wait for a flush that is talking to a slow repository.
_THREAD_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) within and across processes."""
    with _LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(str(path), threading.Lock())
    with lock:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its user only."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("ascii"))
    finally:
        os.close(fd)
    os.replace(tmp, path)


@dataclass(frozen=True)
class VerifyResult:
    """``ok``, how many records were checked, and the first bad record (1-based line) with why."""

    ok: bool
    records: int
    bad_line: int = 0
    reason: str = ""


class AuditStore:
    """The append-only, hash-chained audit file ``<data>/audit/audit.jsonl``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / "audit.jsonl"
        self.head_path = self.folder / "head"
        self.lock_path = self.folder / ".lock"

    def _ensure(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self.folder, 0o700)

    def _last(self) -> tuple[int, str]:
        try:
            seq, digest = self.head_path.read_text(encoding="ascii").split()
            return int(seq), digest
        except (OSError, ValueError):
            return 0, GENESIS

    def append(self, summary: dict[str, Any], xml: str) -> dict[str, Any]:
        """Append one record, chained to the one before, and sync it to disk.

        Parameters
        ----------
        summary : dict
            The event's indexed fields (:meth:`AuditEvent.summary`).
        xml : str
            The DICOM Audit Message.

        Returns
        -------
        dict
            The record as stored, with its ``seq``, ``prev`` and ``hash``.
        """
        self._ensure()
        with file_lock(self.lock_path):
            seq, prev = self._last()
            record = {"seq": seq + 1, **summary, "xml": xml, "prev": prev}
            record["hash"] = _digest(record)
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            write_private(self.head_path, f"{record['seq']} {record['hash']}\n")
        return record

    def records(self, after_seq: int = 0) -> Iterator[dict[str, Any]]:
        """The records in order (lines that do not parse are skipped; ``verify`` names them)."""
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            for raw in fh:
                try:
                    rec = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue
                if isinstance(rec, dict) and int(rec.get("seq", 0)) > after_seq:
                    yield rec

    def verify(self) -> VerifyResult:
        """Check every record's hash, the chain and the sequence; name the first bad record.

        Returns
        -------
        VerifyResult
            ``ok``; otherwise ``bad_line`` (1-based) is the first record changed, unreadable or out of
            sequence (or, when records after the last one were removed, the line after the last).
        """
        prev, seq, n = GENESIS, 0, 0
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            fh = None
        if fh is not None:
            with fh:
                for n, raw in enumerate(fh, start=1):
                    try:
                        rec = json.loads(raw.decode("utf-8"))
                    except (UnicodeDecodeError, json.JSONDecodeError):
                        return VerifyResult(False, n - 1, n, "not a readable record")
                    if not isinstance(rec, dict) or rec.get("hash") != _digest(rec):
                        return VerifyResult(False, n - 1, n, "its content does not match its hash")
                    if rec.get("prev") != prev:
                        return VerifyResult(False, n - 1, n, "the record before it was changed or removed")
                    if rec.get("seq") != seq + 1:
                        return VerifyResult(False, n - 1, n, f"sequence number {rec.get('seq')} follows {seq}")
                    prev, seq = rec["hash"], rec["seq"]
        head_seq, head_hash = self._last()
        if (head_seq, head_hash) != (seq, prev):
            return VerifyResult(False, n, n + 1, f"records after number {seq} were removed (the head names {head_seq})")
        return VerifyResult(True, n)


def parse_since(text: str) -> dt.datetime:
    """A ``--since`` date or date-time (ISO 8601); naive values are taken as UTC."""
    value = dt.datetime.fromisoformat(text.strip())
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
