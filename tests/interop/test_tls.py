"""DICOM TLS: our SCU against DCMTK's storescp with +tls, DCMTK's echoscu against our SCP, untrusted certificates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.interop.conftest import CALLING_AE
from tests.interop.peers import dcmtk_env, free_port
from workstation.config import Settings
from workstation.net.association import ConnectionFailed, Peer, associate
from workstation.net.echo import echo
from workstation.net.send import send_files
from workstation.net.storage_scp import StorageSCP

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(folder: Path, name: str) -> tuple[Path, Path]:
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=folder)
    return folder / f"{name}.crt", folder / f"{name}.key"


def _leaf(folder: Path, name: str, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
             "-out", f"{name}.csr", cwd=folder)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]), "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", f"{name}.crt", cwd=folder)
    return folder / f"{name}.crt", folder / f"{name}.key"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    ca = _ca(folder, "ca")
    other_ca = _ca(folder, "otherca")
    return {"ca": ca, "other": other_ca, "server": _leaf(folder, "server", ca), "client": _leaf(folder, "client", ca)}


@pytest.fixture(scope="module")
def tls_storescp(tmp_path_factory, pki):
    """DCMTK's storescp speaking TLS, requiring a client certificate from our CA."""
    out = tmp_path_factory.mktemp("tls-out")
    port = free_port()
    cert, key = pki["server"]
    proc = subprocess.Popen(["storescp", "+tls", str(key), str(cert), "+cf", str(pki["ca"][0]), "-rc",
                             "-aet", "TLSSCP", "-od", str(out), str(port)], env=dcmtk_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import socket
        import time

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port, out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_scu_over_tls(tls_storescp, pki, interop_files):
    port, out = tls_storescp
    peer = Peer("127.0.0.1", port, "TLSSCP", timeout=10, tls_ca=str(pki["ca"][0]),
                tls_cert=str(pki["client"][0]), tls_key=str(pki["client"][1]))
    assert echo(peer, CALLING_AE).ok
    report = send_files(interop_files[:2], peer, CALLING_AE)
    assert report.ok, report.summary()
    assert len(list(out.iterdir())) == 2


def test_untrusted_server_certificate_is_named(tls_storescp, pki):
    port, _out = tls_storescp
    peer = Peer("127.0.0.1", port, "TLSSCP", timeout=5, tls_ca=str(pki["other"][0]),
                tls_cert=str(pki["client"][0]), tls_key=str(pki["client"][1]))
    result = echo(peer, CALLING_AE)
    assert not result.ok and "TLS handshake" in result.message and "CA certificate" in result.message
    with pytest.raises(ConnectionFailed, match="TLS handshake"), associate(peer, CALLING_AE, ["1.2.840.10008.1.1"]):
        pass


def test_our_scp_over_tls(pki, cache, storage_port):
    cert, key = pki["server"]
    settings = Settings(storage_port=storage_port, storage_bind_address="127.0.0.1", accept_known_nodes_only=False,
                        storage_tls_cert=str(cert), storage_tls_key=str(key), storage_tls_ca=str(pki["ca"][0]))
    with StorageSCP(cache, settings) as scp:
        ccert, ckey = pki["client"]
        ok = subprocess.run(["echoscu", "+tls", str(ckey), str(ccert), "+cf", str(pki["ca"][0]), "-aec", "LIGHTBOX",
                             "127.0.0.1", str(scp.port)], env=dcmtk_env(), capture_output=True, timeout=30)
        assert ok.returncode == 0, ok.stderr.decode()
        # A client whose certificate our CA did not sign is refused.
        ocert, okey = pki["other"]
        bad = subprocess.run(["echoscu", "+tls", str(okey), str(ocert), "+cf", str(pki["ca"][0]), "-aec", "LIGHTBOX",
                              "127.0.0.1", str(scp.port)], env=dcmtk_env(), capture_output=True, timeout=30)
        assert bad.returncode != 0
        # Plain DICOM on the TLS port does not get in either.
        assert not echo(Peer("127.0.0.1", scp.port, "LIGHTBOX", timeout=3), CALLING_AE).ok


def _leaf_with(folder: Path, name: str, ca: tuple[Path, Path], *, san: str = "127.0.0.1",
               valid: tuple[str, str] | None = None) -> tuple[Path, Path]:
    """A leaf certificate signed by ``ca`` for ``san`` (an IP or a DNS name), valid over ``valid`` (ISO dates)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    ca_cert = x509.load_pem_x509_certificate(ca[0].read_bytes())
    ca_key = serialization.load_pem_private_key(ca[1].read_bytes(), password=None)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    start, end = ((dt.datetime.fromisoformat(valid[0]), dt.datetime.fromisoformat(valid[1])) if valid
                  else (now - dt.timedelta(days=1), now + dt.timedelta(days=2)))
    try:
        alt = x509.IPAddress(ipaddress.ip_address(san))
    except ValueError:
        alt = x509.DNSName(san)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (folder / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                                           serialization.NoEncryption()))
    return folder / f"{name}.crt", folder / f"{name}.key"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, pki):
    """Start a TLS storage SCP (ours) with a given server certificate; yields a starter."""
    started = []

    def start(cert: tuple[Path, Path], require_client: bool = True) -> int:
        from workstation.home import Home
        from workstation.store.cache import StudyCache

        home = Home.single(tmp_path_factory.mktemp("tls-home")).ensure()
        cache = StudyCache.open(home)
        settings = Settings(storage_port=free_port(), storage_bind_address="127.0.0.1",
                            accept_known_nodes_only=False, storage_tls_cert=str(cert[0]),
                            storage_tls_key=str(cert[1]), storage_tls_ca=str(pki["ca"][0]) if require_client else "")
        scp = StorageSCP(cache, settings)
        scp.start()
        started.append((scp, cache))
        return scp.port

    yield start
    for scp, cache in started:
        scp.stop()
        cache.close()


@pytest.mark.parametrize("case", ["expired", "not-yet-valid", "untrusted", "host-mismatch", "no-client-cert"])
def test_tls_failures_name_their_reason(tmp_path, pki, tls_server, case):
    expected = {
        "expired": "certificate has expired",
        "not-yet-valid": "not yet valid",
        "untrusted": "CA we do not trust",
        "host-mismatch": "not for this",
        "no-client-cert": "requires a client certificate",
    }[case]
    if case == "expired":
        server = _leaf_with(tmp_path, "expired", pki["ca"],
                            valid=("2020-01-01T00:00:00+00:00", "2020-01-02T00:00:00+00:00"))
    elif case == "not-yet-valid":
        server = _leaf_with(tmp_path, "future", pki["ca"],
                            valid=("2099-01-01T00:00:00+00:00", "2099-01-02T00:00:00+00:00"))
    elif case == "untrusted":
        server = _leaf_with(tmp_path, "stranger", pki["other"])
    elif case == "host-mismatch":
        server = _leaf_with(tmp_path, "elsewhere", pki["ca"], san="elsewhere.example")
    else:
        server = pki["server"]
    port = tls_server(server)
    client = {} if case == "no-client-cert" else {"tls_cert": str(pki["client"][0]), "tls_key": str(pki["client"][1])}
    peer = Peer("127.0.0.1", port, "LIGHTBOX", timeout=5, tls_ca=str(pki["ca"][0]), **client)
    result = echo(peer, CALLING_AE)
    assert not result.ok
    assert expected in result.message, result.message
