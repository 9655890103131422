"""Acceptance: a reading run (query, retrieve, open, sign a report, QC correction, export) against a real
archive sends the expected audit events to rsyslog (Debian's, over TLS); each is valid against the
PS3.15 schema and names the reader and the patient; with rsyslog stopped midway the events wait in
the home's queue and all arrive, once each, after it is back.  Logs carry no patient data."""

from __future__ import annotations

import json

import pytest
from lxml import etree

from tests.audit import rsyslog_peer
from tests.audit.schema import validate
from tests.audit.conftest import home_sending_to
from tests.net.helpers import free_port, write_study_set
from workstation import audit
from workstation.cli import main
from workstation.net.association import Peer
from workstation.net.send import send_files
from workstation.session.reading import ReadingSession
from workstation.store.cache import StudyCache

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300),
              pytest.mark.skipif(not rsyslog_peer.available(), reason="rsyslog with rsyslog-gnutls not installed")]

PATIENT_ID, PATIENT_NAME = "LBX-T1", "Test^Alpha"


@pytest.fixture
def archive(tmp_path):
    """pynetdicom's qrscp (the embedded archive) holding the test studies."""
    from workstation.net.archive import EmbeddedArchive

    emb = EmbeddedArchive(tmp_path / "archive", ae_title="QRSCP", port=free_port())
    emb.start(timeout=30)
    try:
        report = send_files(write_study_set(tmp_path / "studies"), Peer("127.0.0.1", emb.port, emb.ae_title),
                            "LIGHTBOX")
        assert report.ok, report.summary()
        yield emb
    finally:
        emb.stop()


def _lb(home, *args) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--home", str(home.config_dir), *map(str, args)])
    assert code == 0, (args, out.getvalue())
    return out.getvalue()


def _summary(xml: str) -> tuple[str, str, str, list[str]]:
    doc = etree.fromstring(xml.encode("utf-8"))
    ev = doc.find("EventIdentification")
    user = doc.find("ActiveParticipant[@UserIsRequestor='true']")
    patients = [o.get("ParticipantObjectID") for o in doc.findall("ParticipantObjectIdentification")
                if o.get("ParticipantObjectTypeCodeRole") == "1"]
    return ev.find("EventID").get("csd-code"), ev.get("EventActionCode", ""), user.get("UserID"), patients


def test_a_reading_run_reaches_rsyslog_over_tls_even_across_an_outage(tmp_path, archive, repository):
    home = home_sending_to(tmp_path / "home", repository)
    _lb(home, "nodes", "add", "PACS", "--ae", archive.ae_title, "--host", "127.0.0.1", "--port", archive.port,
        "--retrieve", "get")
    _lb(home, "cert", "create-test", "--use", "--name", "Ana Ruiz", "--out", tmp_path / "cert")

    rows = json.loads(_lb(home, "query", "PACS", "--patient-id", PATIENT_ID, "--json"))
    study = rows[0]["StudyInstanceUID"]
    _lb(home, "retrieve", "PACS", "--study", study)
    cache = StudyCache.open(home)
    try:
        session = ReadingSession(cache)
        try:
            session.open_study(study)
        finally:
            session.close()
    finally:
        cache.close()
    assert len(repository.wait_for(4)) == 4 and audit.auditor_for(home).pending() == 0

    repository.stop()  # the repository goes down midway through the reading
    _lb(home, "report", "create", "--study", study, "--field", "impression=no acute finding", "--final")
    _lb(home, "qc", "correct", study, "--set", "PatientName=Test^Alpha Maria", "--reason", "wrong given name")
    _lb(home, "export", study, "--to", tmp_path / "usb", "--quiet")
    queued = audit.auditor_for(home).pending()
    assert queued >= 4  # signed report, patient record, instances updated, export: all waiting in the home
    assert len(repository.messages()) == 4

    repository.start()
    _lb(home, "audit", "flush")
    stored = list(audit.auditor_for(home).store.records())
    received = repository.wait_for(len(stored))
    assert len(received) == len(stored)  # none lost, none twice
    assert [m for m in received] == [r["xml"] for r in stored]  # the very messages, in their order

    for xml in received:
        validate(xml)
    events = [_summary(x) for x in received]
    codes = [(code, action) for code, action, _u, _p in events]
    expected = [("110112", "E"), ("110102", "E"), ("110104", "C"), ("110103", "R"),  # query, retrieve, open
                ("110103", "C"), ("110110", "U")]  # report signed, QC correction (patient record)
    assert codes[:6] == expected, codes
    assert ("110103", "U") in codes[6:] and codes[-1] == ("110106", "R")  # QC'd instances, then the export
    users = {u for _c, _a, u, _p in events}
    assert len(users) == 1 and users != {""}  # one reader throughout
    assert all(PATIENT_ID in p for code, _a, _u, p in events if code != "110112"), events  # the patient, named
    # The query names what was asked (the Patient ID) in its query dataset, base64.
    assert PATIENT_ID.encode() in __import__("base64").b64decode(
        etree.fromstring(received[0].encode()).findtext("ParticipantObjectIdentification/ParticipantObjectQuery"))

    logs = "".join(p.read_text(errors="replace") for p in home.log_dir.glob("*.log*"))
    assert PATIENT_NAME not in logs and PATIENT_ID not in logs and "Alpha" not in logs
    assert _lb(home, "audit", "verify").startswith("Audit trail intact")
