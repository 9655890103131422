"""The files pynetdicom streams received C-STORE data sets into, and what happens to those cut short.

Received data sets go to a temporary file as their PDUs arrive (handled as a
:class:`~workstation.net.received.Payload`), so an SCP holds about one PDU in
memory, not the object twice over.  Process-wide in pynetdicom: the C-GET
sub-operations of our retrieves arrive the same way.

A file is *in flight* from its first PDU until a C-STORE handler claims it
(:func:`claim`, done by :func:`workstation.net.storage_scp.payload_of`); the
handler then renames it into the cache or discards it.  An association that
dies mid-object (the archive killed, the cable pulled) leaves its file in
flight with nobody to finish it: :func:`discard_abandoned` removes such files
once the association's threads have ended, so a retrieve that failed halfway
leaves nothing behind in the cache's incoming folder, without waiting for the
tidy at the next cache open (which only removes files of dead processes).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pynetdicom import _config as _pynetdicom_config
from pynetdicom import dimse_messages as _pynetdicom_dimse_messages

from workstation.net.file_meta import meta_group
from workstation.net.received import Payload
from workstation.store.layout import INCOMING

_pynetdicom_config.STORE_RECV_CHUNKED_DATASET = True
_receive_dir: Path | None = None


def receive_into(cache_dir: Path) -> None:
    """Have pynetdicom write received data sets into ``cache_dir``'s incoming folder.

    Staging is then a rename on the same filesystem, not a second write of
    every object (the system temporary folder is often another filesystem,
    or tmpfs in memory).  The files are named like every staged file
    (``<pid>-<hex>.part``), so the tidy at each cache open removes those of a
    process that died mid-receive.  Process-wide, as pynetdicom's switch is:
    the last cache to receive wins; a file that lands on another filesystem
    is copied when staged.
    """
    global _receive_dir
    incoming = Path(cache_dir) / INCOMING
    incoming.mkdir(parents=True, exist_ok=True)
    _receive_dir = incoming


#: Received files whose writing failed (a full disk), by path: answered 0xA700, not a dead association.
_write_failures: dict[str, OSError] = {}
_write_failures_lock = threading.Lock()


class _ReceivedFile:
    """pynetdicom's temporary file, but a failed write is remembered, not raised in its DUL thread.

    An exception there ends the association without an answer; remembered,
    the C-STORE handler answers 0xA700 "disk full" like any other failed write.
    """

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.name = f.name
        self.failed = False

    @property
    def file(self) -> _ReceivedFile:  # pynetdicom flushes through ``.file.flush()``
        return self

    def write(self, data: Any) -> int:
        if not self.failed:
            try:
                return self._f.write(data)
            except OSError as exc:
                self._fail(exc)
        return len(data)

    def flush(self) -> None:
        if not self.failed:
            try:
                self._f.flush()
            except OSError as exc:
                self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.failed = True
        with _write_failures_lock:
            _write_failures[str(self.name)] = exc
        with contextlib.suppress(OSError):
            os.ftruncate(self._f.fileno(), 0)  # give the space back at once

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._f.close()


@dataclass(frozen=True)
class _InFlight:
    """A received file nobody has claimed yet, and the threads that may still write it or hand it on."""

    file: _ReceivedFile
    association: Any  # pynetdicom's Association (a Thread) or None outside one
    threads: tuple[threading.Thread, ...]


_in_flight: dict[str, _InFlight] = {}
_in_flight_lock = threading.Lock()


def _received_file(*args: Any, **kwargs: Any) -> Any:
    # pynetdicom (dimse_messages) calls NamedTemporaryFile(delete=False, mode="wb", suffix=".dcm")
    # from the association's DUL thread, as the first PDU of a data set arrives.
    folder = _receive_dir
    if folder is not None and folder.is_dir():
        kwargs.update(dir=str(folder), prefix=f"{os.getpid()}-", suffix=".part")
    # Closed by pynetdicom's handler path or by discard_abandoned, not by a with block.
    received = _ReceivedFile(tempfile.NamedTemporaryFile(*args, **kwargs))  # noqa: SIM115
    dul = threading.current_thread()
    association = getattr(dul, "assoc", None)
    threads = tuple(t for t in (dul, association) if isinstance(t, threading.Thread))
    with _in_flight_lock:
        _in_flight[str(received.name)] = _InFlight(received, association, threads)
    discard_abandoned()  # those of associations that ended since the last object
    return received


def claim(path: Path) -> None:
    """``path`` has reached a C-STORE handler, which now answers for it (renames or discards it)."""
    with _in_flight_lock:
        _in_flight.pop(str(path), None)


def discard_abandoned(association: Any = None, wait: float = 0.0) -> int:
    """Remove the unclaimed received files whose association has ended; the number removed.

    Parameters
    ----------
    association : pynetdicom Association, optional
        Only that association's files (all ended ones when omitted).
    wait : float
        Seconds to wait, in all, for that association's threads to end (a
        released or aborted association's threads stop within moments).
    """
    deadline = time.monotonic() + max(0.0, wait)
    with _in_flight_lock:
        candidates = [(path, entry) for path, entry in _in_flight.items()
                      if association is None or entry.association is association]
    me = threading.current_thread()
    removed = 0
    for path, entry in candidates:
        for thread in entry.threads:
            if thread is not me and thread.is_alive() and wait > 0:
                thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in entry.threads):
            continue
        with _in_flight_lock:
            if _in_flight.pop(path, None) is None:
                continue  # claimed meanwhile
        entry.file.close()
        with _write_failures_lock:
            _write_failures.pop(path, None)
        with contextlib.suppress(OSError):
            os.unlink(path)
        removed += 1
    return removed


_META_PREFIX = b"\x00" * 128 + b"DICM"


def payload_of(event: Any) -> Payload:
    """The received C-STORE data set: the file pynetdicom streamed it to, else its bytes in memory.

    Raises
    ------
    AttributeError, ValueError
        When the request is not a usable C-STORE.
    """
    path = getattr(event.request, "_dataset_path", None)
    if isinstance(path, Path) and path.is_file():
        claim(path)  # the handler now renames or discards it
        return Payload(path=path)
    return Payload(data=part10_bytes(event))


def part10_bytes(event: Any) -> bytes:
    """The received C-STORE data set as a Part 10 byte stream, exactly as sent, behind a file meta header.

    The same bytes as pynetdicom's ``event.encoded_dataset()`` with its
    implementation UID and version, but the meta group is packed here rather
    than built and encoded through pydicom (half a millisecond an instance).

    Raises
    ------
    AttributeError, ValueError
        When the request is not a usable C-STORE (falls back to pynetdicom's
        own message then).
    """
    request = event.request
    stream = request.DataSet
    sop_class = request.AffectedSOPClassUID
    sop_instance = request.AffectedSOPInstanceUID
    syntax = event.context.transfer_syntax
    if stream is None or not sop_class or not sop_instance or not syntax:
        encoded: bytes = event.encoded_dataset()  # pynetdicom's Event.encoded_dataset
        return encoded
    meta = meta_group(sop_class, sop_instance, syntax)
    with stream.getbuffer() as view:  # no copy of the data set before the one join makes
        return b"".join((_META_PREFIX, meta, view))


def write_failure(payload: Payload) -> OSError | None:
    """The error that stopped pynetdicom writing ``payload``'s file, if any (forgotten once asked)."""
    if payload.path is None:
        return None
    with _write_failures_lock:
        return _write_failures.pop(str(payload.path), None)


# pynetdicom imports NamedTemporaryFile from tempfile without exporting it; replacing it is the hook.
_pynetdicom_dimse_messages.NamedTemporaryFile = _received_file  # type: ignore[attr-defined]
