"""Association factory: every DICOM conversation Lightbox starts goes through here.

:func:`associate` opens an association to a :class:`~workstation.config.Node`
(or a bare :class:`Peer`), hands it to the caller and always releases or
aborts it afterwards.  Failures become :class:`NetworkError` subclasses whose
message says in plain words what went wrong and what to do about it, so the
layers above can show ``str(exc)`` as is.

Services (echo, find, send, and retrieve or storage commitment later) build
their presentation contexts and pass them in; services that need SCP roles
or event handlers (C-GET, storage commitment) pass ``ext_neg`` and
``evt_handlers`` or a ready :class:`pynetdicom.AE`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydicom.uid import UID
from pynetdicom import AE, _config, evt
from pynetdicom.association import Association
from pynetdicom.pdu_primitives import A_ASSOCIATE
from pynetdicom.presentation import PresentationContext, build_context
from pynetdicom.status import code_to_category

from workstation import audit
from workstation.config import Node, validate_ae_title
from workstation.net.pynetdicom_tuning import guard_reactor, tune_transport

log = logging.getLogger(__name__)

# Request and response identifiers carry patient names and IDs; pynetdicom
# logs them at INFO/DEBUG unless told not to.  Lightbox logs never do.
_config.LOG_REQUEST_IDENTIFIERS = False
_config.LOG_RESPONSE_IDENTIFIERS = False
# Its standard DIMSE/PDU logging handlers dump messages at DEBUG and raise (a logged
# traceback, then a lost answer) on a C-STORE request without Affected SOP Instance UID.
_config.LOG_HANDLER_LEVEL = "none"

#: What network operations accept as ``cancel``: a callable returning True, or an Event.
Cancel = Callable[[], bool] | threading.Event

#: Most presentation contexts one A-ASSOCIATE-RQ can carry (odd IDs 1..255).
MAX_CONTEXTS = 128

# A-ASSOCIATE-RJ (result source, diagnostic) -> plain words (PS3.8 9.3.4).
_REJECT_REASONS = {
    (1, 1): "no reason given",
    (1, 2): "application context name not supported",
    (1, 3): "calling AE title not recognised",
    (1, 7): "called AE title not recognised",
    (2, 1): "no reason given",
    (2, 2): "protocol version not supported",
    (3, 1): "temporary congestion",
    (3, 2): "local limit exceeded (too many associations)",
}


class NetworkError(Exception):
    """A DICOM network operation failed; ``str(exc)`` is meant for the user."""

    def __init__(self, message: str, peer: Peer | None = None) -> None:
        super().__init__(message)
        self.peer = peer


class ConnectionFailed(NetworkError):
    """No TCP connection: refused, timed out or the host name is unknown."""


class AssociationRejected(NetworkError):
    """The peer answered with A-ASSOCIATE-RJ.

    Attributes
    ----------
    result, source, diagnostic : int
        The A-ASSOCIATE-RJ fields (PS3.8 9.3.4).
    """

    def __init__(self, message: str, peer: Peer | None, result: int, source: int, diagnostic: int) -> None:
        super().__init__(message, peer)
        self.result = result
        self.source = source
        self.diagnostic = diagnostic


class AssociationAborted(NetworkError):
    """The association was aborted, or the peer stopped answering."""


class MalformedResponse(AssociationAborted):
    """The peer answered with something that is not a valid DICOM response (Lightbox aborts then)."""


class NoAcceptedContext(NetworkError):
    """The peer accepted none of the requested presentation contexts."""


class ServiceFailed(NetworkError):
    """A DIMSE request ended with a failure status.

    Attributes
    ----------
    status : int
        The (0000,0900) Status code.
    """

    def __init__(self, message: str, peer: Peer | None, status: int) -> None:
        super().__init__(message, peer)
        self.status = status


@dataclass(frozen=True)
class Peer:
    """Where to connect: the remote AE title, host, port, timeout and TLS files.

    A :class:`~workstation.config.Node` carries the same fields plus
    settings that do not matter for one association.
    """

    host: str
    port: int
    ae_title: str
    timeout: float = 30.0
    tls_ca: str = ""
    tls_cert: str = ""
    tls_key: str = ""

    @classmethod
    def from_node(cls, node: Node) -> Peer:
        return cls(
            host=node.host,
            port=node.port,
            ae_title=node.ae_title,
            timeout=float(node.timeout),
            tls_ca=node.tls_ca,
            tls_cert=node.tls_cert,
            tls_key=node.tls_key,
        )

    @property
    def uses_tls(self) -> bool:
        return bool(self.tls_ca or self.tls_cert)

    @property
    def address(self) -> str:
        """``host:port`` as shown in messages."""
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        """``AE@host:port`` as shown in messages and logs."""
        return f"{self.ae_title}@{self.address}"

    def tls_context(self) -> ssl.SSLContext | None:
        """A client TLS context verifying the peer against ``tls_ca``, or None without TLS."""
        if not self.uses_tls:
            return None
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=self.tls_ca or None)
        if self.tls_cert:
            ctx.load_cert_chain(self.tls_cert, self.tls_key or None)
        return ctx


def peer_of(target: Node | Peer) -> Peer:
    """Return ``target`` as a :class:`Peer`."""
    if isinstance(target, Peer):
        return target
    if isinstance(target, Node):
        return Peer.from_node(target)
    raise TypeError(f"expected a Node or a Peer, not {type(target).__name__}")


def make_ae(
    calling_ae: str,
    timeout: float = 30.0,
    contexts: Sequence[PresentationContext | str] = (),
) -> AE:
    """Build a pynetdicom AE for one association.

    Parameters
    ----------
    calling_ae : str
        Our AE title (the peer must usually know it).
    timeout : float
        Seconds for the TCP connect, ACSE, DIMSE and network (idle) timeouts.
    contexts : sequence of PresentationContext or str
        Requested presentation contexts; a bare SOP Class UID gets pynetdicom's
        default transfer syntaxes.

    Returns
    -------
    pynetdicom.AE
        The AE, maximum receive PDU size unlimited (0).
    """
    ae = AE(validate_ae_title(calling_ae))
    ae.connection_timeout = timeout
    ae.acse_timeout = timeout
    ae.dimse_timeout = timeout
    ae.network_timeout = timeout
    # 0 = no limit: fewer, larger PDUs (10-25 % faster transfers measured here).
    ae.maximum_pdu_size = 0
    if len(contexts) > MAX_CONTEXTS:
        raise ValueError(f"{len(contexts)} presentation contexts requested; "
                         f"one association carries at most {MAX_CONTEXTS}")
    for cx in contexts:
        if isinstance(cx, PresentationContext):
            if cx.abstract_syntax is None:
                raise ValueError("a requested presentation context names no SOP class")
            ae.add_requested_context(cx.abstract_syntax, cx.transfer_syntax)
        else:
            ae.add_requested_context(cx)
    return ae


def context(abstract_syntax: str, transfer_syntaxes: str | Sequence[str] | None = None) -> PresentationContext:
    """A requested presentation context (pynetdicom's defaults when no transfer syntax is given)."""
    ts: str | list[str | UID] | None
    if transfer_syntaxes is None or isinstance(transfer_syntaxes, str):
        ts = transfer_syntaxes
    else:
        ts = list(transfer_syntaxes)
    return build_context(abstract_syntax, ts)


def _on_conn_open(event: Any, state: dict[str, bool]) -> None:
    state["open"] = True
    tune_transport(event.assoc)
    guard_reactor(event.assoc)


@contextmanager
def associate(
    target: Node | Peer,
    calling_ae: str,
    contexts: Sequence[PresentationContext | str] = (),
    *,
    ae: AE | None = None,
    ext_neg: list[Any] | None = None,
    evt_handlers: list[Any] | None = None,
) -> Iterator[Association]:
    """Open an association and always close it.

    Parameters
    ----------
    target : Node or Peer
        The remote AE.
    calling_ae : str
        Our AE title.
    contexts : sequence of PresentationContext or str
        Requested presentation contexts (ignored when ``ae`` is given).
    ae : pynetdicom.AE, optional
        A prepared AE (from :func:`make_ae`, with extra supported contexts).
    ext_neg : list, optional
        Extended negotiation items (e.g. SCP/SCU role selection for C-GET).
    evt_handlers : list, optional
        pynetdicom event handler bindings for this association.

    Yields
    ------
    pynetdicom.association.Association
        An established association.  Leaving the block normally (or closing
        a generator that uses it) releases it; an exception aborts it.

    Raises
    ------
    ConnectionFailed, AssociationRejected, AssociationAborted, NoAcceptedContext
        When no association could be established.
    """
    peer = peer_of(target)
    if ae is None:
        ae = make_ae(calling_ae, peer.timeout, contexts)
    state = {"open": False}
    handlers = [(evt.EVT_CONN_OPEN, _on_conn_open, [state])] + list(evt_handlers or [])
    tls = peer.tls_context()
    started = time.monotonic()
    try:
        assoc = ae.associate(
            peer.host,
            peer.port,
            ae_title=peer.ae_title,
            max_pdu=0,
            ext_neg=ext_neg,
            tls_args=(tls, peer.host) if tls is not None else None,
            evt_handlers=handlers,
        )
    except OSError as exc:  # host name resolution fails before any thread starts
        raise ConnectionFailed(
            f"cannot find host {peer.host!r} ({exc.strerror or exc}) — check the node's host name", peer
        ) from exc
    elapsed = time.monotonic() - started
    if not assoc.is_established:
        _close_quietly(assoc)
        raise _failure(assoc, peer, ae, state["open"], elapsed)
    log.debug("association open to %s as %s", peer.describe(), ae.ae_title)
    try:
        yield assoc
    except GeneratorExit:
        # A consumer stopped iterating early: that is not an error.
        _release(assoc)
        raise
    except BaseException:
        if assoc.is_established:
            assoc.abort()
        raise
    else:
        _release(assoc)


def _release(assoc: Association) -> None:
    if assoc.is_established:
        assoc.release()
    if assoc.is_established:  # no A-RELEASE-RP in time
        assoc.abort()


def _close_quietly(assoc: Association) -> None:
    try:
        if assoc.is_alive() and not (assoc.is_aborted or assoc.is_released or assoc.is_rejected):
            assoc.abort()
    except Exception:  # noqa: BLE001 - closing a broken association must not mask the real error
        log.debug("abort after failed association raised", exc_info=True)


def _failure(assoc: Association, peer: Peer, ae: AE, connected: bool, elapsed: float) -> NetworkError:
    """Turn a failed association attempt into a NetworkError with a plain-words message."""
    if not connected:
        tls_hint = ""
        if peer.uses_tls:
            # pynetdicom reports a failed handshake like a failed connect: look at the port itself.
            if _tcp_port_open(peer, min(ae.connection_timeout or 2.0, 2.0)):
                reason = tls_failure_reason(peer, min(ae.connection_timeout or 5.0, 5.0))
                audit.security_alert(f"TLS handshake failed: {reason or 'unknown reason'}",
                                     peer=f"{peer.ae_title}@{peer.host}")
                return ConnectionFailed(
                    f"TLS handshake with {peer.address} failed: {reason}" if reason else
                    f"TLS handshake with {peer.address} failed — check the node's CA certificate (and ours), "
                    "and that the archive expects TLS on this port",
                    peer,
                )
            tls_hint = " (TLS is on: check the certificates too)"
        timeout = ae.connection_timeout or 0.0
        if timeout and elapsed >= 0.9 * timeout:
            return ConnectionFailed(
                f"no answer from {peer.address} within {timeout:g} s — is the host right and the port "
                f"open (firewall)?{tls_hint}",
                peer,
            )
        return ConnectionFailed(
            f"no DICOM service at {peer.address} — is the archive running and the port right?{tls_hint}", peer
        )
    rejection = _unread_rejection(assoc)
    if assoc.is_rejected or rejection is not None:
        rj = rejection if rejection is not None else assoc.acceptor.primitive
        result = int(getattr(rj, "result", 0) or 0)
        source = int(getattr(rj, "result_source", 0) or 0)
        diagnostic = int(getattr(rj, "diagnostic", 0) or 0)
        return AssociationRejected(_reject_message(peer, ae.ae_title, result, source, diagnostic), peer,
                                   result, source, diagnostic)
    requested = assoc.requestor.requested_contexts
    if requested and getattr(assoc, "rejected_contexts", None) and not assoc.accepted_contexts:
        names = sorted({_sop_name(cx.abstract_syntax) for cx in requested if cx.abstract_syntax})
        return NoAcceptedContext(
            f"{peer.describe()} accepted none of the requested services ({', '.join(names)}) — "
            "it does not support them or their transfer syntaxes",
            peer,
        )
    if elapsed >= 0.9 * (ae.acse_timeout or 0.0) > 0:
        return AssociationAborted(
            f"{peer.describe()} did not answer the association request within {ae.acse_timeout:g} s — "
            "is this port a DICOM service?",
            peer,
        )
    if peer.uses_tls:
        # TLS 1.3 completes the client's side of the handshake before the archive refuses our
        # (missing) certificate: the refusal comes as an abort.  Name it.
        reason = tls_failure_reason(peer, min(ae.connection_timeout or 5.0, 5.0))
        if reason:
            return ConnectionFailed(f"TLS with {peer.address} failed: {reason}", peer)
    hint = "" if peer.uses_tls else "; if this port expects TLS, set the node's TLS certificates"
    return AssociationAborted(
        f"{peer.describe()} aborted the association request — check the archive's log for the reason{hint}", peer
    )


#: OpenSSL verification results, in words (X509_V_ERR_*).
_VERIFY_REASONS = {
    9: "the archive's certificate is not yet valid (check both computers' clocks)",
    10: "the archive's certificate has expired",
    18: "the archive's certificate is self-signed and not trusted — set the node's CA certificate",
    19: "the archive's certificate chain ends in a CA we do not trust — check the node's CA certificate",
    20: "the archive's certificate is issued by a CA we do not trust — check the node's CA certificate",
    21: "the archive's certificate is issued by a CA we do not trust — check the node's CA certificate",
    62: "the archive's certificate is not for this host name (host name mismatch)",
    64: "the archive's certificate is not for this address (IP address mismatch)",
}


def tls_failure_reason(peer: Peer, timeout: float = 5.0) -> str | None:
    """Shake hands with ``peer`` once more, by hand, to name why TLS fails (None when it works).

    pynetdicom reports every failed handshake alike; Python's ssl module tells
    an expired or not yet valid certificate, an untrusted issuer, a host name
    mismatch, and the archive's refusal of our (missing) client certificate apart.
    """
    try:
        ctx = peer.tls_context()
    except (OSError, ssl.SSLError) as exc:
        return f"our TLS files cannot be used ({getattr(exc, 'strerror', None) or exc})"
    if ctx is None:
        return None
    try:
        with (
            socket.create_connection((peer.host, peer.port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=peer.host) as tls,
        ):
            # TLS 1.3: a refused client certificate shows only at the first read.
            tls.settimeout(min(timeout, 1.0))
            with contextlib.suppress(TimeoutError):
                tls.recv(1)
    except ssl.SSLCertVerificationError as exc:
        return _VERIFY_REASONS.get(exc.verify_code, f"the archive's certificate was not accepted "
                                                    f"({exc.verify_message})")
    except ssl.SSLError as exc:
        text = str(exc).lower()
        if "certificate required" in text or ("handshake failure" in text and not peer.tls_cert):
            return "the archive requires a client certificate — set the node's TLS certificate and key"
        if any(word in text for word in ("unknown ca", "bad certificate", "certificate unknown",
                                         "decrypt error")):
            return "the archive does not accept our client certificate (not signed by a CA it trusts)"
        if "certificate expired" in text:
            return "the archive says our client certificate has expired"
        if "wrong version number" in text or "unexpected eof" in text or "record layer" in text:
            return "the archive does not speak TLS on this port"
        return f"TLS error ({exc.reason or type(exc).__name__})"
    except OSError:
        return None
    return None


def _unread_rejection(assoc: Association) -> Any:
    """An A-ASSOCIATE-RJ that arrived but that pynetdicom never read, or None.

    pynetdicom 3.0 races with a fast rejection: when the peer's A-ASSOCIATE-RJ
    and its closing of the connection both happen before the requesting thread
    looks at the socket, it takes the closed socket for a failed connection and
    aborts, leaving the rejection unread in its queue (seen with dcmqrscp
    under load).  The rejection is the real answer.
    """
    dul = getattr(assoc, "dul", None)
    queue = getattr(dul, "to_user_queue", None)
    if assoc.is_rejected or queue is None:
        return None
    try:
        waiting = list(queue.queue)
    except Exception:  # noqa: BLE001 - pynetdicom internals changed: no workaround then
        return None
    for primitive in waiting:
        if isinstance(primitive, A_ASSOCIATE) and getattr(primitive, "result", None) in (0x01, 0x02):
            return primitive
    return None


def _tcp_port_open(peer: Peer, timeout: float) -> bool:
    try:
        with socket.create_connection((peer.host, peer.port), timeout=timeout):
            return True
    except OSError:
        return False


def _reject_message(peer: Peer, calling_ae: str, result: int, source: int, diagnostic: int) -> str:
    reason = _REJECT_REASONS.get((source, diagnostic), f"reason {source}/{diagnostic}")
    head = f"{peer.describe()} rejected the association ({reason})"
    if (source, diagnostic) == (1, 3):
        return (f"{head}: the archive does not know our AE title {calling_ae!r} — "
                f"the archive must list {calling_ae} (this host, port) as a known node")
    if (source, diagnostic) == (1, 7):
        return (f"{head}: {peer.ae_title!r} is not the archive's AE title — "
                "check the AE title configured for this node")
    if source == 3 or result == 2:
        return f"{head}: the archive is busy — try again shortly"
    return f"{head} — check the node's settings against the archive's configuration"


def _sop_name(uid: str) -> str:
    return UID(uid).name or str(uid)


def status_category(code: int | None) -> str:
    """pynetdicom's status category (``Success``, ``Warning``, ``Failure``, ...) for a code."""
    if code is None:
        return "Failure"
    return code_to_category(int(code))


def no_response_error(peer: Peer, what: str, assoc: Association, started: float | None = None) -> AssociationAborted:
    """The error for a DIMSE request that got no usable response.

    Three causes look alike from pynetdicom: the peer aborted (or dropped the
    connection), the peer answered with an invalid message (pynetdicom aborts
    then), or nothing came within the DIMSE timeout (pynetdicom aborts too).
    ``started`` (``time.monotonic()`` when the request was sent) tells the
    last two apart.
    """
    we_aborted = bool(getattr(assoc, "_sent_abort", False))
    if not we_aborted:
        # The peer's A-ABORT may still be on its way through pynetdicom's threads: give it a moment.
        deadline = time.monotonic() + 1.0
        while not assoc.is_aborted and assoc.is_established and time.monotonic() < deadline:
            time.sleep(0.02)
        if assoc.is_aborted or not assoc.is_established:
            return AssociationAborted(f"{peer.describe()} aborted the association during {what}", peer)
    timeout = float(assoc.dimse_timeout or 0.0)
    if we_aborted and started is not None and (not timeout or time.monotonic() - started < 0.9 * timeout):
        return MalformedResponse(
            f"{peer.describe()} answered {what} with a message that is not a valid DICOM response (e.g. no "
            "Status) — Lightbox ended the association; the archive's log may say why", peer)
    if we_aborted or started is not None:
        return AssociationAborted(f"no response from {peer.describe()} to {what} within {timeout:g} s", peer)
    return AssociationAborted(f"{peer.describe()} aborted the association during {what}", peer)


def cancel_check(cancel: Cancel | None) -> Callable[[], bool]:
    """A no-argument callable telling whether ``cancel`` (callable, Event or None) is set."""
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    return cancel
