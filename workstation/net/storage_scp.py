"""Our storage SCP: receives C-STORE (pushes and C-MOVE results) into the study cache.

:class:`StorageSCP` is a start/stop object without Qt: the GUI starts one
for as long as it runs, ``lightbox listen`` runs one in the foreground, and a
command-line C-MOVE starts one for the duration of the retrieve when no
Lightbox process listens already (:mod:`workstation.net.listener`).

For every C-STORE the received bytes are stored as they are (Part 10 file
meta plus the data set as encoded on the wire, no decode and re-encode),
through :class:`~workstation.store.cache.StudyCache` (staged, synced, renamed
and indexed in one transaction).  The answer is honest:

* Success (0x0000) only once the file is in the cache, or when the very same
  object was already there (a different object with the same SOP Instance UID
  is kept aside as a conflict, never overwriting: also Success, logged);
* 0xA700 (Refused: out of resources) when the disk is full;
* 0x0110 (processing failure) when the write failed for another reason;
* 0xC000 (cannot understand) when the data set has no usable UIDs.

It also accepts Verification (C-ECHO) and Storage Commitment N-EVENT-REPORTs,
which go to the home's :class:`~workstation.net.commitment.CommitmentInbox`.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import shutil
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom import (
    AE,
    evt,
)

from workstation.config import Settings, validate_ae_title
from workstation.dicom.header import NotDicom, UnusableInstance
from workstation.dicom.sop_classes import storage_sop_classes
from workstation.dicom.transfer_syntax import DECODER_ORDER
from workstation.dicom.limits import describe_bytes, limits
from workstation.net.access import RefusalLog, SenderPolicy
from workstation.net.access import install as install_policy
from workstation.net.association import NetworkError
from workstation.net.pynetdicom_tuning import tune_transport
from workstation.net.file_meta import install as install_file_meta
from workstation.net.move_registry import is_outstanding
from workstation.net.received import Payload
from workstation.net.received_files import discard_abandoned, payload_of, receive_into, write_failure
from workstation.net.sop_class_names import StorageCommitmentPushModel, Verification
from workstation.net.commitment import CommitmentInbox, handle_event_report
from workstation.store.cache import StudyCache
from workstation.store.committer import GroupCommitter
from workstation.store.layout import BATCH_SYNC
from workstation.store.writer import (
    CacheWriteError,
    CommitResult,
    Outcome,
    PendingInstance,
    cannot_write_message,
    is_disk_full,
)

log = logging.getLogger(__name__)

# pynetdicom writes each streamed object's file meta through pydicom: packed directly instead (file_meta).
install_file_meta()
#: Largest PDU we accept as SCP (0 would let a sender put a whole object in one PDU, in memory).
MAX_RECEIVE_PDU = 1 << 20

#: Transfer syntaxes we accept: those Lightbox can decode, uncompressed first (preferred).
ACCEPTED_TRANSFER_SYNTAXES = [
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    *DECODER_ORDER,
]

OUT_OF_RESOURCES = 0xA700
PROCESSING_FAILURE = 0x0110
CANNOT_UNDERSTAND = 0xC000

#: Outcome of an instance written and waiting for its group commit (answered Success).
STAGED = "staged"

_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}

#: Called (from the SCP's threads) after each instance, with what happened to it.
StoredCallback = Callable[["Received"], None]


@dataclass(frozen=True)
class Received:
    """One C-STORE the SCP answered.

    Attributes
    ----------
    sop_instance_uid, study_uid, series_uid : str
        "" when the data set could not be read.
    calling_ae : str
        Who sent it.
    status : int
        The status we answered.
    outcome : str
        ``stored``, ``duplicate``, ``conflict`` or ``failed``.
    message : str
        Why it failed, in plain words.
    size : int
        Bytes received.
    """

    sop_instance_uid: str
    study_uid: str
    series_uid: str
    calling_ae: str
    status: int
    outcome: str
    message: str = ""
    size: int = 0


@dataclass
class ScpStats:
    """Counters since start (read them from any thread)."""

    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    failed: int = 0
    bytes: int = 0
    associations: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, received: Received) -> None:
        with self.lock:
            if received.outcome == Outcome.STORED.value:
                self.stored += 1
                self.bytes += received.size
            elif received.outcome == Outcome.DUPLICATE.value:
                self.duplicates += 1
            elif received.outcome == Outcome.CONFLICT.value:
                self.conflicts += 1
            else:
                self.failed += 1


def server_tls_context(cert: str, key: str, ca: str = "") -> ssl.SSLContext:
    """A server TLS context: our certificate; with ``ca``, client certificates are required."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key or None)
    if ca:
        ctx.load_verify_locations(cafile=ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _no_space(exc: BaseException | None, cache: StudyCache, needed: int) -> bool:
    if is_disk_full(exc) or isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return True
    try:
        return shutil.disk_usage(cache.cache_dir).free < max(needed, 1) * 2
    except OSError:
        return False


def store_received(cache: StudyCache, data: bytes | Payload, calling_ae: str,
                   source: str) -> tuple[Received, CommitResult | None]:
    """Stage and commit one received instance; never raises for bad data or a bad disk.

    Parameters
    ----------
    cache : StudyCache
    data : bytes or Payload
        A Part 10 object (preamble, file meta, data set as received), in memory
        or in the file pynetdicom streamed it to.
    calling_ae : str
        The sender's AE title (kept in the index).
    source : str
        What to record as the instance's source.

    Returns
    -------
    (Received, CommitResult or None)
        The status to answer and what the cache did.
    """
    payload = data if isinstance(data, Payload) else Payload(data=data)
    size = payload.size
    failed = _unwritten(payload, cache, calling_ae)
    if failed is not None:
        return failed, None
    bad, rec = _parse(payload, calling_ae)
    if bad is not None:
        return bad, None
    uids = (rec.sop_instance_uid, rec.study_uid, rec.series_uid)
    try:
        staged = payload.stage(cache.cache_dir)
    except OSError as exc:
        status = OUT_OF_RESOURCES if _no_space(exc, cache, size) else PROCESSING_FAILURE
        message = cannot_write_message(exc, cache.cache_dir)
        return Received(*uids, calling_ae, status, Outcome.FAILED.value, message, size), None
    try:
        result = cache.commit([PendingInstance(staged, rec, source, calling_ae)])[0]
    except Exception as exc:  # noqa: BLE001 - e.g. the index is locked or its disk is full
        staged.tmp_path.unlink(missing_ok=True)
        status = OUT_OF_RESOURCES if _no_space(exc, cache, size) else PROCESSING_FAILURE
        message = str(exc) if isinstance(exc, CacheWriteError) else f"cannot index it: {exc}"
        return Received(*uids, calling_ae, status, Outcome.FAILED.value, message, size), None
    if result.outcome is Outcome.FAILED:
        status = OUT_OF_RESOURCES if _no_space(None, cache, size) else PROCESSING_FAILURE
        return Received(*uids, calling_ae, status, result.outcome.value, result.message, size), result
    return Received(*uids, calling_ae, 0x0000, result.outcome.value, result.message, size), result


def _unwritten(payload: Payload, cache: StudyCache, calling_ae: str) -> Received | None:
    exc = write_failure(payload)
    if exc is None:
        return None
    status = OUT_OF_RESOURCES if _no_space(exc, cache, payload.size) else PROCESSING_FAILURE
    return Received("", "", "", calling_ae, status, Outcome.FAILED.value, cannot_write_message(exc, cache.cache_dir),
                    payload.size)


def _parse(payload: Payload, calling_ae: str) -> tuple[Received | None, Any]:
    size = payload.size
    ceiling = limits().max_received_object_bytes
    if size > ceiling:
        message = (f"object too large: {describe_bytes(size)}, this receiver takes at most "
                   f"{describe_bytes(ceiling)} (max_received_object_mib)")
        return Received("", "", "", calling_ae, OUT_OF_RESOURCES, Outcome.FAILED.value, message, size), None
    try:
        # The lean scan (as the importer uses) reads the usual headers without building a dataset;
        # a data set whose pixel data is not all there is refused, never indexed as good.
        rec = payload.record()
    except (NotDicom, UnusableInstance) as exc:
        return Received("", "", "", calling_ae, CANNOT_UNDERSTAND, Outcome.FAILED.value, str(exc), size), None
    except Exception as exc:  # noqa: BLE001 - hostile input must not kill the association thread
        message = f"unreadable data set ({type(exc).__name__})"
        return Received("", "", "", calling_ae, CANNOT_UNDERSTAND, Outcome.FAILED.value, message, size), None
    return None, rec


def stage_received(committer: GroupCommitter, data: bytes | Payload, calling_ae: str, source: str,
                   on_committed: StoredCallback | None = None) -> Received:
    """Write one received instance now and leave its sync and indexing to ``committer``'s next group.

    For the sub-operations of our own retrieves (C-GET, and C-MOVE results):
    the status answered is Success once the bytes are written (not yet synced
    nor indexed); a failed write still answers 0xA700 (disk full) or 0x0110.
    What the group commit later does is passed to ``on_committed`` as a
    :class:`Received` with the final outcome; the retrieve checks the cache,
    not these answers, for what it reports.

    Returns
    -------
    Received
        With outcome ``staged`` when the write succeeded.
    """
    payload = data if isinstance(data, Payload) else Payload(data=data)
    size = payload.size
    failed = _unwritten(payload, committer.cache, calling_ae)
    if failed is not None:
        return failed
    bad, rec = _parse(payload, calling_ae)
    if bad is not None:
        return bad
    uids = (rec.sop_instance_uid, rec.study_uid, rec.series_uid)
    try:
        staged = payload.stage(committer.cache.cache_dir, sync=not BATCH_SYNC)
    except OSError as exc:
        status = OUT_OF_RESOURCES if _no_space(exc, committer.cache, size) else PROCESSING_FAILURE
        message = cannot_write_message(exc, committer.cache.cache_dir)
        return Received(*uids, calling_ae, status, Outcome.FAILED.value, message, size)

    def done(result: CommitResult) -> None:
        if on_committed is None:
            return
        failed = result.outcome is Outcome.FAILED
        on_committed(Received(*uids, calling_ae, PROCESSING_FAILURE if failed else 0x0000, result.outcome.value,
                              result.message, size))

    try:
        committer.submit(PendingInstance(staged, rec, source, calling_ae), done)
    except RuntimeError:  # closed (the SCP is stopping): not kept
        staged.tmp_path.unlink(missing_ok=True)
        return Received(*uids, calling_ae, PROCESSING_FAILURE, Outcome.FAILED.value, "receiver stopping", size)
    return Received(*uids, calling_ae, 0x0000, STAGED, "", size)


def status_dataset(status: int, comment: str = "") -> Dataset:
    """A C-STORE response status with an Error Comment (at most 64 characters, ASCII)."""
    ds = Dataset()
    ds.Status = status
    if status != 0 and comment:
        ds.ErrorComment = comment.encode("ascii", "replace").decode("ascii")[:64]
    return ds


class StorageSCP:
    """Receive C-STORE into the cache; start and stop from any thread.

    Parameters
    ----------
    cache : StudyCache
        Where received instances go.
    settings : Settings
        Our AE title, port, bind address, TLS files, and whether only
        configured nodes may connect.
    inbox : CommitmentInbox, optional
        Where Storage Commitment reports go (no commitment support without).
    on_received : callable(Received), optional
        Called on the SCP's thread after each instance.
    port, bind_address : optional
        Override the settings (tests, ephemeral listeners).

    Examples
    --------
    >>> scp = StorageSCP(cache, settings, inbox=CommitmentInbox(home))
    >>> scp.start()
    >>> ...
    >>> scp.stop()
    """

    def __init__(
        self,
        cache: StudyCache,
        settings: Settings,
        *,
        inbox: CommitmentInbox | None = None,
        on_received: StoredCallback | None = None,
        port: int | None = None,
        bind_address: str | None = None,
    ) -> None:
        self.cache = cache
        self.settings = settings
        self.ae_title = validate_ae_title(settings.ae_title)
        self.port = int(port if port is not None else settings.storage_port)
        self.bind_address = bind_address or settings.storage_bind_address or "0.0.0.0"
        self.inbox = inbox
        self.on_received = on_received
        self.stats = ScpStats()
        #: Associations refused because the sender is not a configured node (AE title and address).
        self.refusals = RefusalLog()
        self._server: Any = None
        self._committer: GroupCommitter | None = None
        self._lock = threading.Lock()
        self._listeners: list[StoredCallback] = []

    # Lifecycle ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Start listening (returns at once).

        Raises
        ------
        NetworkError
            When the port cannot be bound (in use, or a privileged port) or
            the TLS files cannot be loaded.
        """
        with self._lock:
            if self._server is not None:
                return
            ae = self._make_ae()
            ssl_context = None
            if self.settings.storage_tls_cert:
                try:
                    ssl_context = server_tls_context(self.settings.storage_tls_cert, self.settings.storage_tls_key,
                                                     self.settings.storage_tls_ca)
                except (OSError, ssl.SSLError) as exc:
                    raise NetworkError(f"cannot load the storage SCP's TLS certificate or key: {exc}") from exc
            handlers: list[evt.EventHandlerType] = [
                (evt.EVT_C_STORE, self._on_store),
                (evt.EVT_CONN_OPEN, _fast_loop),
                (evt.EVT_CONN_OPEN, install_policy, [SenderPolicy(self.settings), self.refusals]),
                (evt.EVT_ACCEPTED, self._on_accepted),
            ]
            if self.inbox is not None:
                handlers.append((evt.EVT_N_EVENT_REPORT, handle_event_report, [self.inbox]))
                # Lightbox is no Storage Commitment SCP: it takes reports, never commitment requests.
                handlers.append((evt.EVT_N_ACTION, _refuse_commitment_request))
            self._committer = GroupCommitter(self.cache)
            receive_into(self.cache.cache_dir)
            try:
                self._server = ae.start_server((self.bind_address, self.port), block=False, evt_handlers=handlers,
                                               ssl_context=ssl_context)
            except OSError as exc:
                raise NetworkError(_bind_message(self.bind_address, self.port, exc)) from exc
            if self.port == 0:
                self.port = int(self._server.server_address[1])
        if self.inbox is not None:
            self.inbox.prune()
        log.info("storage SCP %s listening on %s:%d%s", self.ae_title, self.bind_address, self.port,
                 " (TLS)" if ssl_context else "")

    def stop(self) -> None:
        """Stop listening and end open associations.  Safe to call twice."""
        with self._lock:
            server, self._server = self._server, None
            committer = self._committer
        if server is not None:
            ended = list(server.active_associations)
            _wake(server)
            server.shutdown()
            for association in ended:  # objects cut short by the shutdown leave no file behind
                discard_abandoned(association, wait=2.0)
            discard_abandoned()  # ... nor those of senders that dropped earlier
        if committer is not None:
            committer.close()
            log.info("storage SCP on port %d stopped (%d stored, %d failed)", self.port, self.stats.stored,
                     self.stats.failed)

    def __enter__(self) -> StorageSCP:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Commit the C-MOVE results received so far now (True once done); see :meth:`_on_store`."""
        committer = self._committer
        return committer.flush(timeout) if committer is not None else True

    def subscribe(self, callback: StoredCallback) -> Callable[[], None]:
        """Also call ``callback`` for each instance; returns the function that unsubscribes."""
        with self._lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    # Handlers ----------------------------------------------------------------------
    def _make_ae(self) -> AE:
        ae = AE(self.ae_title)
        ae.maximum_pdu_size = MAX_RECEIVE_PDU
        ae.network_timeout = 60
        ae.acse_timeout = 30
        ae.dimse_timeout = 60
        ae.maximum_associations = 16
        for sop_class in storage_sop_classes():  # retired classes too: old US/NM systems still send them
            ae.add_supported_context(sop_class, ACCEPTED_TRANSFER_SYNTAXES)
        ae.add_supported_context(Verification)
        if self.inbox is not None:
            # The archive reports on a new association as the SCP of this SOP class.
            ae.add_supported_context(StorageCommitmentPushModel, scu_role=True, scp_role=True)
        # Who may send is checked by AE title and address in the negotiation (workstation.net.access).
        return ae

    def _on_accepted(self, event: Any) -> None:
        with self.stats.lock:
            self.stats.associations += 1

    def _on_store(self, event: Any) -> Dataset:
        """Answer one C-STORE.

        An unsolicited push is answered once its file is synced and indexed.
        A sub-operation of a C-MOVE that this process has outstanding (Move
        Originator Message ID of that C-MOVE, Move Originator AE Title ours,
        sent from the archive's address: :mod:`workstation.net.move_registry`)
        is answered Success once its bytes are written, and
        synced and indexed with its group within a quarter of a second, or
        when the retrieve ends (:meth:`flush`): the retrieve reports what
        reached the cache, not what we answered.
        """
        calling = str(event.assoc.requestor.ae_title).strip()
        started = time.monotonic()
        committer = self._committer
        originator = str(getattr(event.request, "MoveOriginatorApplicationEntityTitle", "") or "").strip()
        ours = (
            originator == self.ae_title
            and is_outstanding(getattr(event.request, "MoveOriginatorMessageID", None), originator,
                               str(getattr(event.assoc.requestor, "address", "") or ""))
        )
        try:
            data = payload_of(event)
        except Exception as exc:  # noqa: BLE001 - a malformed request must get an answer, not kill the thread
            received = Received("", "", "", calling, CANNOT_UNDERSTAND, Outcome.FAILED.value,
                                f"malformed C-STORE request ({type(exc).__name__})")
        else:
            try:
                if ours and committer is not None:
                    received = stage_received(committer, data, calling, f"C-MOVE from {calling}", self._committed)
                    if received.status == 0:
                        return status_dataset(0)  # stats and observers follow when its group is committed
                else:
                    received, _result = store_received(self.cache, data, calling, f"C-STORE from {calling}")
            finally:
                data.discard()
        self._committed(received, started)
        return status_dataset(received.status, received.message)

    def _committed(self, received: Received, started: float | None = None) -> None:
        calling = received.calling_ae
        self.stats.add(received)
        if received.status != 0:
            # UIDs and codes only: messages never carry patient data, but keep logs lean anyway.
            log.warning("C-STORE %s from %s failed (0x%04X): %s", received.sop_instance_uid or "(unreadable)",
                        calling, received.status, received.message)
        elif started is not None:
            log.debug("C-STORE %s from %s %s in %.1f ms", received.sop_instance_uid, calling, received.outcome,
                      (time.monotonic() - started) * 1000)
        for callback in [self.on_received, *self._listeners]:
            if callback is not None:
                try:
                    callback(received)
                except Exception:  # noqa: BLE001 - an observer must not change the answer
                    log.exception("storage SCP observer failed")


#: N-ACTION answer: Lightbox does not perform Storage Commitment for others (Unrecognized Operation).
UNRECOGNIZED_OPERATION = 0x0211


def _refuse_commitment_request(event: Any) -> tuple[int, None]:
    log.warning("refused a Storage Commitment request (N-ACTION) from %s: Lightbox is no commitment SCP",
                str(event.assoc.requestor.ae_title).strip() or "?")
    return UNRECOGNIZED_OPERATION, None


def _fast_loop(event: Any) -> None:
    # pynetdicom's DUL loop sleep and its 4 KiB reads (see pynetdicom_tuning.tune_transport).
    tune_transport(event.assoc)


def _wake(server: Any) -> None:
    # socketserver's loop polls every half second: shutting the listening socket down wakes it
    # now (its accept fails, which the loop ignores), so stopping takes milliseconds, not up to 0.5 s
    # (a C-MOVE that starts its own listener pays that at the end of every retrieve).
    with contextlib.suppress(OSError, AttributeError):
        server.socket.shutdown(socket.SHUT_RDWR)


def _bind_message(address: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} is already in use by another program — stop it, or choose another port "
                f"with 'lightbox config set storage_port N' (and tell the archives)")
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port} — ports below 1024 need privileges; choose another port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {address}: this machine has no such address — check storage_bind_address"
    return f"cannot listen on {address}:{port}: {exc.strerror or exc}"
