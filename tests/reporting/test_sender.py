"""The outbox sender: backoff while the archive is down, the archive's reasons kept, restarts resume.

The network is replaced by stand-ins with the real functions' signatures;
tests/interop/test_report_orthanc.py does the same against Orthanc.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from workstation.config import Node
from workstation.net.association import ConnectionFailed
from workstation.net.commitment import COMMITTED, FAILED, UNKNOWN, CommitmentOutcome, CommitmentReport
from workstation.net.send import SendReport, StoreOutcome
from workstation.reporting import lifecycle
from workstation.reporting.inputs import ReportContent
from workstation.reporting.sender import Backoff, OutboxSender
from workstation.store import outbox
from workstation.store.cache import StudyCache

VALUES = {"findings": "Kein Rundherd.", "impression": "Normal."}


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Archive:
    """Stand-in for send_files and the committer: scripted answers, calls recorded."""

    def __init__(self) -> None:
        self.down = False
        self.store_status = 0x0000
        self.commit_state = COMMITTED
        self.sent: list[str] = []
        self.commit_asked: list[str] = []

    def send(self, paths, node, calling_ae, progress=None, cancel=None) -> SendReport:
        if self.down:
            raise ConnectionFailed(f"no DICOM service at {node.host}:{node.port} — is the archive running?")
        report = SendReport(peer=node.name)
        for p in paths:
            uid = Path(p).stem
            self.sent.append(uid)
            ok = self.store_status == 0
            message = "stored" if ok else "Failure 0xA900: data set does not match SOP class"
            report.outcomes.append(StoreOutcome(Path(p), uid, self.store_status, ok, message))
        return report

    def commit(self, node, items) -> CommitmentReport:
        self.commit_asked += [i.sop_instance_uid for i in items]
        reason = {FAILED: "no such object instance (the archive does not have it)", UNKNOWN: "no report in time"}
        return CommitmentReport(peer=node.name, transaction_uid="2.25.1", outcomes=[
            CommitmentOutcome(i.sop_class_uid, i.sop_instance_uid, self.commit_state,
                              reason.get(self.commit_state, ""), 0x0112 if self.commit_state == FAILED else None)
            for i in items])


@pytest.fixture
def queued(study, settings, identity):
    cache, study_uid, _ = study
    settings.upsert_node(Node("PACS", "ORTHANC", "127.0.0.1", 4242))
    result = lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=True,
                                    identity=identity, destination="PACS")
    return cache, settings, result.sop_instance_uid


def sender(cache, settings, archive, clock, **kw) -> OutboxSender:
    return OutboxSender(cache, settings, archive.commit, send=archive.send, clock=clock,
                        backoff=Backoff(first_s=10, max_s=60, max_attempts=kw.pop("max_attempts", 50)))


def item(cache, uid):
    return next(i for i in outbox.list_outbox(cache) if i.sop_instance_uid == uid)


def test_archive_down_then_up(queued):
    cache, settings, uid = queued
    archive, clock = Archive(), Clock()
    archive.down = True
    s = sender(cache, settings, archive, clock)
    s.run_once()
    it = item(cache, uid)
    assert (it.state, it.attempts) == ("queued", 1) and "no DICOM service" in it.last_error
    assert it.next_attempt == (clock.now + dt.timedelta(seconds=10)).isoformat(timespec="seconds")
    clock.advance(5)
    assert s.run_once().changes == []  # not due yet
    clock.advance(5)
    s.run_once()
    assert item(cache, uid).attempts == 2
    assert item(cache, uid).next_attempt == (clock.now + dt.timedelta(seconds=20)).isoformat(timespec="seconds")
    archive.down = False
    clock.advance(20)
    s.run_once()
    it = item(cache, uid)
    assert it.state == "committed" and it.last_error == "" and it.transaction_uid == "2.25.1"
    assert archive.sent == [uid] and archive.commit_asked == [uid]
    held = cache.connection.execute("SELECT holder FROM study_holds WHERE holder=?", (f"outbox:{uid}",)).fetchall()
    assert held == []  # committed: the study may be evicted again
    assert outbox.due_items(cache, clock.now + dt.timedelta(days=1)) == []


def test_archive_refuses_the_object(queued):
    cache, settings, uid = queued
    archive, clock = Archive(), Clock()
    archive.store_status = 0xA900
    sender(cache, settings, archive, clock).run_once()
    it = item(cache, uid)
    assert it.state == "failed" and "PACS refused it: Failure 0xA900" in it.last_error
    assert archive.commit_asked == []


def test_archive_does_not_commit(queued):
    cache, settings, uid = queued
    archive, clock = Archive(), Clock()
    archive.commit_state = FAILED
    sender(cache, settings, archive, clock).run_once()
    it = item(cache, uid)
    assert it.state == "failed" and "does not have it" in it.last_error


def test_unknown_commitment_waits_and_a_restart_only_asks_again(queued, home):
    cache, settings, uid = queued
    archive, clock = Archive(), Clock()
    archive.commit_state = UNKNOWN
    sender(cache, settings, archive, clock).run_once()
    assert item(cache, uid).state == "stored" and "not committed yet" in item(cache, uid).last_error
    # restart: a new connection and a new sender
    again = StudyCache.open(home)
    try:
        archive.commit_state = COMMITTED
        clock.advance(3600)
        sender(again, settings, archive, clock).run_once()
        assert item(again, uid).state == "committed"
        assert archive.sent == [uid]  # not stored a second time
    finally:
        again.close()


def test_changed_file_is_never_sent(queued):
    cache, settings, uid = queued
    path = cache.path_of(cache.instance(uid))
    data = bytearray(path.read_bytes())
    data[-2] ^= 1
    path.write_bytes(bytes(data))
    archive = Archive()
    sender(cache, settings, archive, Clock()).run_once()
    assert item(cache, uid).state == "failed" and "differs from the one signed" in item(cache, uid).last_error
    assert archive.sent == []


def test_gives_up_after_the_attempts(queued):
    cache, settings, uid = queued
    archive, clock = Archive(), Clock()
    archive.down = True
    s = sender(cache, settings, archive, clock, max_attempts=3)
    for _ in range(3):
        s.run_once()
        clock.advance(3600)
    it = item(cache, uid)
    assert it.state == "failed" and it.last_error.startswith("gave up after 3 attempts")


def test_unknown_node_fails_with_a_message(queued):
    cache, settings, uid = queued
    settings.nodes = []
    sender(cache, settings, Archive(), Clock()).run_once()
    assert item(cache, uid).state == "failed" and "no node named 'PACS'" in item(cache, uid).last_error


def test_kill_9_while_sending_loses_nothing(queued, home, tmp_path):
    cache, settings, uid = queued
    started = tmp_path / "sending"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from workstation.config import Node, Settings
        from workstation.home import Home
        from workstation.reporting.sender import OutboxSender
        from workstation.store.cache import StudyCache

        def hang(paths, node, calling_ae, progress=None, cancel=None):
            Path({str(started)!r}).write_text("in C-STORE")
            time.sleep(60)

        settings = Settings()
        settings.upsert_node(Node("PACS", "ORTHANC", "127.0.0.1", 4242))
        cache = StudyCache.open(Home.single({str(home.data_dir)!r}))
        OutboxSender(cache, settings, lambda node, items: None, send=hang).run_once()
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    again = StudyCache.open(home)
    try:
        assert item(again, uid).state == "queued"
        archive = Archive()
        sender(again, settings, archive, Clock()).run_once()
        assert item(again, uid).state == "committed"
    finally:
        again.close()


def test_settings_reloaded_each_round(queued):
    cache, settings, uid = queued
    from workstation.config import Settings

    later = Settings()
    later.upsert_node(Node("PACS", "ORTHANC", "127.0.0.1", 4242))
    archive = Archive()
    s = OutboxSender(cache, Settings(), archive.commit, send=archive.send, clock=Clock(),
                     reload_settings=lambda: later)  # the node was added after the sender started
    s.run_once()
    assert item(cache, uid).state == "committed"
