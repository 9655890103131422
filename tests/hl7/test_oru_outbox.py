"""Reports to the RIS: ORU^R01 queued with the signed report in the durable outbox, acknowledged, retried across a
restart while the RIS is down, AE/AR shown in plain words.  The RIS is a peer built on hl7apy on 127.0.0.1."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.hl7.peer import RisPeer, free_port
from workstation.config import Settings
from workstation.hl7.messages import first, value
from workstation.hl7.settings import HL7Settings
from workstation.reporting import lifecycle
from workstation.reporting.certificates import create_test_certificate, load_identity
from workstation.reporting.inputs import ReportContent
from workstation.reporting.sender import OutboxSender
from workstation.reporting.settings import ReportingSettings
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.queries import StudyFilter
from workstation.worklist.orders import Order, save_orders

pytestmark = pytest.mark.timeout(120)
VALUES = {"findings": "No bleed | no mass; ventricles normal.", "impression": "Normal CT head."}


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    made = create_test_certificate(tmp_path_factory.mktemp("cert"), "Jane Doe", "St. Elsewhere")
    return load_identity(made.key_pem, made.cert_pem)


def _settings(port: int, version: str = "2.5.1") -> Settings:
    s = Settings()
    ReportingSettings(radiologist_name="Doe^Jane", radiologist_id="JD01", organisation="St. Elsewhere").store(s)
    HL7Settings(ris_host="127.0.0.1", ris_port=port, version=version, timeout_s=5, sending_facility="RAD",
                receiving_application="RIS").store(s)
    return s


def _never_commit(node, items):  # no DICOM destination in these tests
    raise AssertionError("no DICOM item expected")


def _sign(cache, settings, identity, amend: str = "", reason: str = ""):
    study = [s for s in cache.studies(StudyFilter()) if s.patient_id == "HL7-A"][0]
    save_orders(cache, [Order(study.accession or "ACC-A", study_uid=study.study_uid, requested_procedure="CT head",
                              placer_order="PL-7", filler_order="FL-7", reason="Headache")])
    return study, lifecycle.issue_report(cache, settings, study.study_uid, ReportContent("general", dict(VALUES)),
                                         final=True, identity=identity, predecessor_uid=amend,
                                         amendment_reason=reason)


def _hl7_items(cache):
    return [i for i in outbox.list_outbox(cache) if i.destination.startswith("hl7:")]


def test_signed_report_reaches_the_ris_once_after_a_restart_while_it_was_down(cache, home, identity):
    port = free_port()
    settings = _settings(port)
    study, result = _sign(cache, settings, identity)
    [item] = _hl7_items(cache)
    assert (item.destination, item.state, item.sop_instance_uid) == ("hl7:RIS", "queued", result.sop_instance_uid)

    # The RIS is down: the item waits, with the reason in plain words.
    round1 = OutboxSender(cache, settings, _never_commit).run_once()
    assert round1.state_of(result.sop_instance_uid) == "queued"
    waiting = outbox.get_item(cache, item.pk)
    assert waiting.attempts == 1 and "refused the connection" in waiting.last_error

    # Restart: a new process opens the cache again; the RIS is back.
    cache.close()
    again = StudyCache.open(home)
    try:
        with RisPeer(port) as ris:
            outbox.retry_now(again, item.pk)
            later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
            sender = OutboxSender(again, settings, _never_commit, clock=lambda: later)
            sender.run_once()
            sender.run_once()  # nothing due any more: delivered once
            assert len(ris.received) == 1, outbox.get_item(again, item.pk)
            [msg] = ris.parsed()
            done = outbox.get_item(again, item.pk)
        assert done.state == "committed" and "acknowledged by the RIS (AA)" in done.last_error
    finally:
        again.close()

    assert value(first(msg, "MSH"), 9) == "ORU" and value(first(msg, "MSH"), 9, 2) == "R01"
    assert value(first(msg, "MSH"), 12) == "2.5.1" and value(first(msg, "MSH"), 18) == "UNICODE UTF-8"
    assert value(first(msg, "MSH"), 4) == "RAD" and value(first(msg, "MSH"), 5) == "RIS"
    pid, obr = first(msg, "PID"), first(msg, "OBR")
    assert value(pid, 3) == "HL7-A" and value(pid, 5) == "Müller" and value(pid, 5, 2) == "Anna"
    assert value(obr, 18) == (study.accession or "ACC-A") and value(obr, 2) == "PL-7" and value(obr, 3) == "FL-7"
    assert value(obr, 25) == "F"
    assert (value(obr, 32, 1, 1), value(obr, 32, 1, 2), value(obr, 32, 1, 3)) == ("JD01", "Doe", "Jane")
    obx = [s for s in msg.children if s.name == "OBX"]
    text = "\n".join(value(o, 5) for o in obx if value(o, 2) == "TX")
    assert "No bleed | no mass; ventricles normal." in text and "Normal CT head." in text
    assert all(value(o, 11) == "F" for o in obx)
    assert value(obx[-1], 5) == study.study_uid


@pytest.mark.parametrize("code, words", [("AE", "could not process it"), ("AR", "rejected it")])
def test_error_and_reject_acks_are_shown_in_plain_words(cache, identity, code, words):
    with RisPeer(code=code, text="Unknown order FL-7") as ris:
        settings = _settings(ris.port, version="2.3.1")
        _study, result = _sign(cache, settings, identity)
        OutboxSender(cache, settings, _never_commit).run_once()
        assert len(ris.received) == 1
        assert value(first(ris.parsed()[0], "MSH"), 12) == "2.3.1"
    [item] = _hl7_items(cache)
    assert item.state == "failed"
    assert words in item.last_error and "Unknown order FL-7" in item.last_error and f"({code})" in item.last_error


def test_amendment_is_sent_as_corrected(cache, identity):
    with RisPeer() as ris:
        settings = _settings(ris.port)
        _study, first_report = _sign(cache, settings, identity)
        _study, amended = _sign(cache, settings, identity, amend=first_report.sop_instance_uid, reason="typo")
        OutboxSender(cache, settings, _never_commit).run_once()
        statuses = sorted(value(first(m, "OBR"), 25) for m in ris.parsed())
    assert statuses == ["C", "F"]
    assert {i.state for i in _hl7_items(cache)} == {"committed"}


def test_a_ris_that_never_answers_is_given_up_on_in_bounded_time(cache, identity):
    """A RIS that accepts the connection and says nothing: the item waits for a retry, the round ends."""
    import socket
    import threading

    from workstation.reporting.kinds import RIS_REPORT, kind_of

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    held = []
    accepting = threading.Thread(target=lambda: held.append(server.accept()), daemon=True)
    accepting.start()
    try:
        settings = _settings(server.getsockname()[1])
        hs = HL7Settings.of(settings)
        hs.timeout_s = 1.0
        hs.store(settings)
        _sign(cache, settings, identity)
        # The reason below names the 1 s timeout the sender waited for; a hang would be pytest's timeout.
        OutboxSender(cache, settings, _never_commit).run_once()
    finally:
        for conn, _addr in held:
            conn.close()
        server.close()
    [item] = _hl7_items(cache)
    assert item.state == "queued" and "did not acknowledge within 1 s" in item.last_error
    assert kind_of(item.sop_class_uid) == RIS_REPORT


def test_a_name_the_hl7_character_set_cannot_carry_is_a_plain_reason_not_a_crash(cache, identity):
    """Latin-1 set for the RIS, a Japanese patient: the report waits with the reason; nothing is sent or logged."""
    with RisPeer() as ris:
        settings = _settings(ris.port)
        hs = HL7Settings.of(settings)
        hs.charset = "8859/1"
        hs.store(settings)
        study = [s for s in cache.studies(StudyFilter()) if s.patient_id == "HL7-B"][0]
        lifecycle.issue_report(cache, settings, study.study_uid, ReportContent("general", dict(VALUES)), final=True,
                               identity=identity)
        OutboxSender(cache, settings, _never_commit).run_once()
        assert ris.received == []
    [item] = _hl7_items(cache)
    assert item.state == "queued" and "cannot carry" in item.last_error and "UNICODE UTF-8" in item.last_error
    assert "山田" not in item.last_error
