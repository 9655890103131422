"""Audit messages reach rsyslog (Debian's, started here) over syslog TLS; a repository that is down
leaves them queued in the home, and they all arrive once, in order, after it comes back (also across a restart)."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.audit import rsyslog_peer
from tests.audit.conftest import home_sending_to
from tests.audit.schema import validate
from workstation import audit, config
from workstation.audit import events

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180),
              pytest.mark.skipif(not rsyslog_peer.available(), reason="rsyslog with rsyslog-gnutls not installed")]


def _patients(messages):
    out = []
    for m in messages:
        doc = etree.fromstring(m.encode("utf-8"))
        out += [o.get("ParticipantObjectID") for o in doc.findall("ParticipantObjectIdentification")
                if o.get("ParticipantObjectTypeCodeRole") == "1"]
    return out


def test_events_queue_while_the_repository_is_down_and_all_arrive_once(tmp_path, repository):
    home = home_sending_to(tmp_path / "home", repository)
    auditor = audit.Auditor(home.data_dir / "audit", audit.Identity.current("LIGHTBOX", {}),
                            audit.auditor_for(home).repository)
    auditor.record(events.instances_accessed, ["1.2.3.1"], [("P-1", "Ωμέγα^Άλφα")])
    assert auditor.pending() == 0
    assert len(repository.wait_for(1)) == 1

    repository.stop()
    for i in range(2, 6):
        auditor.record(events.instances_accessed, [f"1.2.3.{i}"], [(f"P-{i}", "山田^太郎")])
    assert auditor.pending() == 4  # nothing lost: queued in the home

    # A restart: a new process (a new auditor on the same home) still has the queue.
    restarted = audit.auditor_for(home)
    assert restarted.pending() == 4
    repository.start()
    sent, pending = restarted.flush()
    assert (sent, pending) == (4, 0)
    got = repository.wait_for(5)
    assert _patients(got) == ["P-1", "P-2", "P-3", "P-4", "P-5"]  # all, in order, none twice
    for m in got:
        validate(m)
    assert restarted.flush() == (0, 0)
    assert _patients(repository.wait_for(6, timeout=1.0)) == ["P-1", "P-2", "P-3", "P-4", "P-5"]
    assert restarted.store.verify().ok


def test_reader_from_the_settings_is_the_user_of_every_message(tmp_path, repository):
    home = home_sending_to(tmp_path / "home", repository)
    auditor = audit.configure(home)
    try:
        audit.queried(type("Node", (), {"ae_title": "ORTHANC", "host": "127.0.0.1"})(), "STUDY", {"PatientID": "P-9"})
        assert auditor.pending() == 0
        (msg,) = repository.wait_for(1)
    finally:
        audit._auditor = None
    validate(msg)
    doc = etree.fromstring(msg.encode("utf-8"))
    requestor = doc.find("ActiveParticipant[@UserIsRequestor='true']")
    assert (requestor.get("UserID"), requestor.get("UserName")) == ("RAD-7", "Dr Ana Ruiz")
    assert doc.find("EventIdentification/EventID").get("csd-code") == "110112"


def test_udp_transport_rfc_5426(tmp_path, repository):
    """One message per datagram; UDP cannot tell a repository that is down, so only the TLS queue is durable."""
    home = home_sending_to(tmp_path / "home", repository, transport="udp")
    settings = config.load(home.config_file)
    settings.extra["audit"]["repository"] = f"127.0.0.1:{repository.udp_port}"
    config.save(settings, home.config_file)
    auditor = audit.auditor_for(home)
    assert auditor.repository.transport == "udp"
    auditor.record(events.study_deleted, ["1.2.3.9"], [("P-U", "Ünal^Ayşe")], description="cache purge")
    assert auditor.pending() == 0
    (msg,) = repository.wait_for(1)
    validate(msg)
    assert _patients([msg]) == ["P-U"] and "Ünal^Ayşe" in msg
