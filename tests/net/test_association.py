"""Association failures become NetworkErrors with plain-words messages (peers on 127.0.0.1)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pynetdicom import AE
from pynetdicom.sop_class import CTImageStorage, MRImageStorage, Verification

from tests.net.helpers import CALLING_AE, free_port
from workstation.config import Node
from workstation.net.association import (
    AssociationAborted,
    AssociationRejected,
    ConnectionFailed,
    NoAcceptedContext,
    Peer,
    associate,
    make_ae,
    peer_of,
)
from workstation.net.echo import echo
from workstation.net.pynetdicom_tuning import _ReactorCheckpoint

pytestmark = [pytest.mark.interop, pytest.mark.timeout(60)]


@contextmanager
def scp(contexts=(Verification,), **ae_options) -> Iterator[Peer]:
    """An in-process pynetdicom SCP on 127.0.0.1, shut down afterwards."""
    ae = AE("TESTSCP")
    for cx in contexts:
        ae.add_supported_context(cx)
    for name, value in ae_options.items():
        setattr(ae, name, value)
    server = ae.start_server(("127.0.0.1", 0), block=False)
    try:
        yield Peer("127.0.0.1", server.server_address[1], "TESTSCP", timeout=5)
    finally:
        server.shutdown()


def test_peer_from_node():
    node = Node(name="pacs", ae_title="PACS", host="127.0.0.1", port=104, timeout=7)
    peer = peer_of(node)
    assert (peer.host, peer.port, peer.ae_title, peer.timeout) == ("127.0.0.1", 104, "PACS", 7.0)
    assert peer.describe() == "PACS@127.0.0.1:104"
    with pytest.raises(TypeError):
        peer_of(("127.0.0.1", 104))


def test_make_ae_sets_timeouts_pdu_and_contexts():
    ae = make_ae("LIGHTBOX", 12.5, [Verification, CTImageStorage])
    assert ae.ae_title == "LIGHTBOX"
    assert ae.acse_timeout == ae.dimse_timeout == ae.network_timeout == ae.connection_timeout == 12.5
    assert ae.maximum_pdu_size == 0
    assert [cx.abstract_syntax for cx in ae.requested_contexts] == [Verification, CTImageStorage]
    with pytest.raises(ValueError):
        make_ae("BAD\\TITLE")
    with pytest.raises(ValueError, match="at most 128"):
        make_ae("LIGHTBOX", 5, [Verification] * 129)


def test_echo_to_closed_port_is_refused_quickly_and_clearly():
    port = free_port()  # nothing listens on it
    result = echo(Peer("127.0.0.1", port, "ANY", timeout=5), CALLING_AE)
    # "Quickly": the refusal is the kernel's, not the timeout's; the words say which path ended it (a
    # timeout says "no answer ... within"), so no clock is needed.
    assert not result.ok and result.status is None
    assert result.message == f"no DICOM service at 127.0.0.1:{port} — is the archive running and the port right?"


def test_associate_to_closed_port_raises_connection_failed():
    port = free_port()
    with (
        pytest.raises(ConnectionFailed, match="no DICOM service"),
        associate(Peer("127.0.0.1", port, "ANY", timeout=5), CALLING_AE, [Verification]),
    ):
        pass


def test_silent_port_times_out_with_clear_message():
    # A TCP listener that never answers the A-ASSOCIATE-RQ.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        result = echo(Peer("127.0.0.1", port, "ANY", timeout=1.5), CALLING_AE)
    # The words name the ACSE timeout the association really had (read back from its AE): the node's
    # 1.5 s, not a longer default.
    assert not result.ok
    assert "did not answer the association request within 1.5 s" in result.message


def test_unknown_calling_ae_rejection_says_archive_must_list_us():
    with scp(require_calling_aet=["SOMEONE"]) as peer:
        with pytest.raises(AssociationRejected) as info, associate(peer, CALLING_AE, [Verification]):
            pass
        result = echo(peer, CALLING_AE)
    exc = info.value
    assert (exc.result, exc.source, exc.diagnostic) == (1, 1, 3)
    assert "calling AE title not recognised" in str(exc)
    assert "does not know our AE title 'LIGHTBOX'" in str(exc)
    assert "must list LIGHTBOX" in str(exc)
    assert not result.ok and "must list LIGHTBOX" in result.message


def test_wrong_called_ae_rejection_names_the_fix():
    with scp(require_called_aet=True) as peer:
        wrong = Peer(peer.host, peer.port, "NOTTHEPACS", timeout=5)
        result = echo(wrong, CALLING_AE)
    assert not result.ok
    assert "called AE title not recognised" in result.message
    assert "'NOTTHEPACS' is not the archive's AE title" in result.message


def test_busy_archive_rejection_is_transient():
    with (
        scp(maximum_associations=1) as peer,
        associate(peer, CALLING_AE, [Verification]),
        pytest.raises(AssociationRejected, match="busy") as info,
        associate(peer, "OTHER", [Verification]),
    ):
        pass
    assert info.value.result == 2


def test_no_accepted_context_lists_the_services():
    with (
        scp(contexts=(Verification,)) as peer,
        pytest.raises(NoAcceptedContext, match="MR Image Storage"),
        associate(peer, CALLING_AE, [MRImageStorage]),
    ):
        pass


def test_abort_during_negotiation():
    def refuse(event):
        event.assoc.abort()

    from pynetdicom import evt

    ae = AE("TESTSCP")
    ae.add_supported_context(Verification)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[(evt.EVT_REQUESTED, refuse)])
    try:
        peer = Peer("127.0.0.1", server.server_address[1], "TESTSCP", timeout=5)
        with (
            pytest.raises(AssociationAborted, match="aborted the association request"),
            associate(peer, CALLING_AE, [Verification]),
        ):
            pass
    finally:
        server.shutdown()


def test_association_released_after_block_and_aborted_on_error():
    with scp() as peer:
        with associate(peer, CALLING_AE, [Verification]) as assoc:
            assert assoc.send_c_echo().Status == 0
        assert assoc.is_released and not assoc.is_established
        with pytest.raises(RuntimeError, match="boom"), associate(peer, CALLING_AE, [Verification]) as assoc:
            raise RuntimeError("boom")
        assert assoc.is_aborted and not assoc.is_established


def test_unknown_host_is_named(monkeypatch):
    # No real lookup: tests stay on this machine.
    def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    result = echo(Peer("no-such-host.invalid", 104, "ANY", timeout=2), CALLING_AE)
    assert not result.ok
    assert "cannot find host 'no-such-host.invalid'" in result.message


def _self_signed(tmp_path):
    """A self-signed certificate for 127.0.0.1 (cert and key PEM paths)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_tls_association_verifies_the_peer(tmp_path):
    import ssl

    cert, key = _self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(cert), str(key))
    ae = AE("TLSSCP")
    ae.add_supported_context(Verification)
    server = ae.start_server(("127.0.0.1", 0), block=False, ssl_context=server_ctx)
    try:
        port = server.server_address[1]
        trusted = echo(Peer("127.0.0.1", port, "TLSSCP", timeout=5, tls_ca=str(cert)), CALLING_AE)
        assert trusted.ok, trusted.message
        (tmp_path / "other").mkdir()
        other_ca, _ = _self_signed(tmp_path / "other")
        untrusted = echo(Peer("127.0.0.1", port, "TLSSCP", timeout=5, tls_ca=str(other_ca)), CALLING_AE)
        assert not untrusted.ok
        assert f"TLS handshake with 127.0.0.1:{port} failed" in untrusted.message
        plain = echo(Peer("127.0.0.1", port, "TLSSCP", timeout=5), CALLING_AE)
        assert not plain.ok and "expects TLS" in plain.message
    finally:
        server.shutdown()


def test_rejection_left_unread_by_pynetdicom_is_still_reported_as_rejection():
    """pynetdicom may take a fast A-ASSOCIATE-RJ plus close for a failed connect: the RJ in its queue wins."""
    import queue
    from types import SimpleNamespace

    from pynetdicom.pdu_primitives import A_ASSOCIATE

    from workstation.net.association import AssociationRejected, Peer, _failure

    rj = A_ASSOCIATE()
    rj.result, rj.result_source, rj.diagnostic = 0x01, 0x01, 0x07
    pending = queue.Queue()
    pending.put(rj)
    assoc = SimpleNamespace(is_rejected=False, is_aborted=True, dul=SimpleNamespace(to_user_queue=pending),
                            acceptor=SimpleNamespace(primitive=None),
                            requestor=SimpleNamespace(requested_contexts=[]), accepted_contexts=[])
    ae = AE(CALLING_AE)
    error = _failure(assoc, Peer("127.0.0.1", 104, "NOTTHEAE"), ae, True, 0.01)
    assert isinstance(error, AssociationRejected) and error.diagnostic == 7
    assert "is not the archive's AE title" in str(error)


def _reactor_slow_to_wake(assoc, patience_s: float) -> None:
    """Hold the reactor, once woken, until a DIMSE message is queued (the window a loaded machine opens)."""
    gate = assoc._reactor_checkpoint
    plain_wait = gate.wait

    def wait(timeout=None):
        woke = plain_wait(timeout)
        deadline = time.monotonic() + patience_s
        while assoc.dimse.msg_queue.empty() and time.monotonic() < deadline:
            time.sleep(0.002)
        return woke

    gate.wait = wait


def test_the_reactor_cannot_take_a_response_of_back_to_back_calls():
    """pynetdicom's reactor, woken late after one call, must not take the next call's response.

    Without the guard the second C-ECHO can see the stale pause of the first one, go ahead, and have
    the reactor take its response off the queue ("Received unexpected C-ECHO service message"): seen
    as a C-STORE that waited out its DIMSE timeout under load (pynetdicom issue 875).
    """
    with scp() as peer:
        with associate(peer, CALLING_AE, [Verification]) as assoc:
            assert isinstance(assoc._reactor_checkpoint, _ReactorCheckpoint)
            assoc.dimse_timeout = 3
            _reactor_slow_to_wake(assoc, patience_s=0.5)
            statuses = [assoc.send_c_echo().get("Status") for _ in range(3)]
        assert statuses == [0, 0, 0]


def test_opening_the_reactor_gate_clears_the_stale_pause():
    """The flag the next call waits on is cleared as the gate opens, not when the reactor gets round to it."""

    class Assoc:
        _is_paused = True

    assoc = Assoc()
    gate = _ReactorCheckpoint(assoc)
    gate.set()
    assert gate.is_set() and assoc._is_paused is False
