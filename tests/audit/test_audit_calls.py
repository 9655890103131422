"""Where patient data is read, the audit trail records who read it: opening a study in the reading session."""

from __future__ import annotations

from tests.audit.schema import validate
from tests.viewer_phantom import phantom_study
from workstation import audit
from workstation.home import Home
from workstation.session.reading import ReadingSession
from workstation.store.cache import StudyCache


def test_opening_a_study_records_instances_accessed_with_patient_and_study(lightbox_home, tmp_path):
    home = Home.single(lightbox_home)
    cache = StudyCache.open(home)
    try:
        study_uid = phantom_study(cache, tmp_path / "ph", 3)
        row = cache.study(study_uid)
        session = ReadingSession(cache)
        try:
            session.open_study(study_uid)
        finally:
            session.close()
    finally:
        cache.close()
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110103"]
    assert rec["studies"] == [study_uid] and rec["patients"] == [row.patient_id] and rec["action"] == "R"
    assert rec["user"]
    validate(rec["xml"])
    assert audit.current().store.folder == home.data_dir / "audit"


def test_export_records_the_studies_patients_and_destination(lightbox_home, tmp_path):
    from workstation.cli import main

    home = Home.single(lightbox_home)
    cache = StudyCache.open(home)
    try:
        study_uid = phantom_study(cache, tmp_path / "ph", 2, patient_id="EXP-1", patient_name="Ýmir^Ása")
    finally:
        cache.close()
    out = tmp_path / "usb"
    assert main(["--home", str(lightbox_home), "export", study_uid, "--to", str(out), "--quiet"]) == 0
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110106"]
    assert rec["studies"] == [study_uid] and rec["patients"] == ["EXP-1"]
    assert str(out) in rec["xml"] and "Ýmir^Ása" in rec["xml"]
    validate(rec["xml"])


def test_a_refused_association_is_a_security_alert(lightbox_home):
    import pytest

    from tests.net.helpers import free_port
    from workstation.config import Node, Settings
    from workstation.net.association import AssociationRejected, Peer, associate
    from workstation.net.storage_scp import StorageSCP

    settings = Settings(storage_port=free_port(), storage_bind_address="127.0.0.1",
                        nodes=[Node(name="pacs", ae_title="PACS", host="127.0.0.1", port=104)])
    cache = StudyCache.open(Home.single(lightbox_home))
    try:
        with (StorageSCP(cache, settings) as scp, pytest.raises(AssociationRejected),
              associate(Peer("127.0.0.1", scp.port, scp.ae_title, timeout=10), "STRANGER", ["1.2.840.10008.1.1"])):
            pass
    finally:
        cache.close()
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110113"]
    assert rec["outcome"] == "8" and "STRANGER@127.0.0.1" in rec["xml"] and "association refused" in rec["xml"]
    assert rec["type"] == "Node Authentication"
    validate(rec["xml"])


def test_the_remote_tab_query_and_retrieve_are_audited(lightbox_home, tmp_path):
    from tests.net.helpers import free_port, write_study_set
    from workstation.config import Node, Settings
    from workstation.net.archive import EmbeddedArchive
    from workstation.net.association import Peer
    from workstation.net.retrieve import retrieve
    from workstation.net.send import send_files
    from workstation.store.queries import StudyFilter
    from workstation.ui.remote_query import search_studies

    emb = EmbeddedArchive(tmp_path / "archive", ae_title="QRSCP", port=free_port())
    emb.start(timeout=30)
    home = Home.single(lightbox_home)
    cache = StudyCache.open(home)
    try:
        assert send_files(write_study_set(tmp_path / "studies"), Peer("127.0.0.1", emb.port, "QRSCP"), "LIGHTBOX").ok
        node = Node(name="pacs", ae_title="QRSCP", host="127.0.0.1", port=emb.port, retrieve="get")
        rows = search_studies(node, "LIGHTBOX", StudyFilter(patient_id="LBX-T2"))
        assert len(rows) == 1
        report = audit.retrieved(node, cache, retrieve(node, Settings(), home, cache, rows[0].study_uid))
        assert report.retrieved == 3
        from workstation.cli import main

        assert main(["--home", str(lightbox_home), "nodes", "add", "PACS", "--ae", "QRSCP", "--host", "127.0.0.1",
                     "--port", str(emb.port)]) == 0
        assert main(["--home", str(lightbox_home), "send", "PACS", "--study", rows[0].study_uid]) == 0
    finally:
        cache.close()
        emb.stop()
    recs = list(audit.current().store.records())
    assert [(r["event_code"], r["action"]) for r in recs] == [
        ("110112", "E"), ("110102", "E"), ("110104", "C"), ("110102", "E"), ("110104", "R")]  # query, get, send
    assert recs[2]["patients"] == ["LBX-T2"] and recs[2]["outcome"] == "0"
    assert recs[4]["patients"] == ["LBX-T2"] and recs[4]["outcome"] == "0" and "QRSCP" in recs[4]["xml"]
    for r in recs:
        validate(r["xml"])


def test_render_records_the_file_read(lightbox_home, tmp_path):
    from tests.viewer_phantom import write_phantom
    from workstation.cli import main

    paths = write_phantom(tmp_path / "ph", 1, patient_id="RND-3", patient_name="Ñandú^Ana")
    assert main(["--home", str(lightbox_home), "render", str(paths[0]), "--out", str(tmp_path / "x.png")]) == 0
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110103"]
    assert rec["patients"] == ["RND-3"] and "Ñandú^Ana" in rec["xml"] and "rendered to a picture" in rec["xml"]
    validate(rec["xml"])


def test_an_archive_with_an_expired_certificate_is_a_security_alert(lightbox_home, tmp_path):
    """A TLS archive whose certificate has expired: the association fails with the reason, and the
    audit trail has a Security Alert (Node Authentication) naming the archive."""
    import datetime as dt
    import ipaddress
    import socket
    import ssl
    import threading

    import pytest
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from workstation.net.association import ConnectionFailed, Peer, associate

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired archive")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now - dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "expired.pem", tmp_path / "expired.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_file, key_file)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:  # hands out the expired certificate to every caller, for as long as the test runs
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                conn.settimeout(2)
                server_ctx.wrap_socket(conn, server_side=True).close()
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        peer = Peer("127.0.0.1", listener.getsockname()[1], "OLDPACS", timeout=5, tls_ca=str(cert_file))
        with pytest.raises(ConnectionFailed, match="expired"), associate(peer, "LIGHTBOX", ["1.2.840.10008.1.1"]):
            pass
    finally:
        stop.set()
        thread.join(10)
        listener.close()
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110113"]
    assert "expired" in rec["xml"] and "OLDPACS@127.0.0.1" in rec["xml"] and rec["type"] == "Node Authentication"
    validate(rec["xml"])
