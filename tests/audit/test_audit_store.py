"""The home's audit trail: append-only, hash-chained; `lightbox audit verify` names the first bad record."""

from __future__ import annotations

import json
import os
import stat

import pytest

from workstation import audit
from workstation.audit import events
from workstation.cli import main
from workstation.home import Home


@pytest.fixture
def home(tmp_path):
    h = Home.single(tmp_path / "home").ensure()
    yield h
    audit._auditor = None  # the next test configures its own


def _fill(home, n=5):
    a = audit.configure(home)
    for i in range(n):
        a.record(events.instances_accessed, [f"1.2.3.{i}"], [(f"PID{i % 2}", "Doe^Jane")])
    return a


def test_untouched_store_verifies_and_lists(home, capsys):
    _fill(home)
    assert main(["--home", str(home.config_dir), "audit", "verify"]) == 0
    assert "intact: 5 records" in capsys.readouterr().out
    assert main(["--home", str(home.config_dir), "audit", "--patient", "PID1", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in listed] == [2, 4]
    assert all(r["event_code"] == "110103" and r["patients"] == ["PID1"] for r in listed)
    assert main(["--home", str(home.config_dir), "audit", "--since", "2999-01-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["--home", str(home.config_dir), "audit"]) == 0
    assert "DICOM Instances Accessed" in capsys.readouterr().out
    # Reading the trail is itself in the trail (Audit Log Used), once per listing or check.
    used = [r for r in audit.current().store.records() if r["event_code"] == "110101"]
    assert len(used) == 4 and all(r["action"] == "R" for r in used)
    assert main(["--home", str(home.config_dir), "audit", "verify"]) == 0


def test_the_store_is_readable_by_its_user_only(home):
    a = _fill(home, 1)
    assert stat.S_IMODE(os.stat(a.store.folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(a.store.path).st_mode) == 0o600


@pytest.mark.parametrize("target", [1, 3, 5])
def test_one_changed_byte_is_named(home, capsys, target):
    a = _fill(home)
    lines = a.store.path.read_bytes().splitlines(keepends=True)
    line = bytearray(lines[target - 1])
    i = line.index(b"PID")
    line[i + 3] ^= 0x01  # PID0 <-> PID1: still valid JSON, a different patient
    lines[target - 1] = bytes(line)
    a.store.path.write_bytes(b"".join(lines))
    assert main(["--home", str(home.config_dir), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN at record {target}:" in out and "does not match its hash" in out


def test_a_byte_that_breaks_the_json_is_named(home, capsys):
    a = _fill(home)
    data = bytearray(a.store.path.read_bytes())
    second = data.index(b"\n") + 1
    data[second] = ord("X")  # the '{' that opens record 2
    a.store.path.write_bytes(bytes(data))
    assert main(["--home", str(home.config_dir), "audit", "verify", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["bad_record"] == 2


def test_removed_records_are_detected(home, capsys):
    a = _fill(home)
    lines = a.store.path.read_bytes().splitlines(keepends=True)
    a.store.path.write_bytes(b"".join(lines[:2] + lines[3:]))  # record 3 removed
    assert main(["--home", str(home.config_dir), "audit", "verify"]) == 1
    assert "BROKEN at record 3:" in capsys.readouterr().out
    a.store.path.write_bytes(b"".join(lines[:4]))  # the last record removed
    assert main(["--home", str(home.config_dir), "audit", "verify"]) == 1
    assert "records after number 4 were removed" in capsys.readouterr().out


def test_bad_since_is_one_clear_line(home, capsys):
    _fill(home, 1)
    assert main(["--home", str(home.config_dir), "audit", "--since", "yesterday"]) == 1
    assert "--since: not a date" in capsys.readouterr().err


def test_flush_without_repository_says_so(home, capsys):
    assert main(["--home", str(home.config_dir), "audit", "flush"]) == 1
    assert "no audit repository set" in capsys.readouterr().err


def test_recording_does_not_wait_for_a_repository_that_hangs(home):
    """A repository that accepts the connection and never answers the TLS handshake holds up the
    background forwarder only; events are still recorded, and stay queued."""
    import socket

    from workstation.audit.syslog import Repository

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    try:
        repo = Repository("127.0.0.1", server.getsockname()[1], "tls", timeout_s=10)
        a = audit.Auditor(home.data_dir / "audit", audit.Identity("jdoe"), repo, background=True)
        a.record(events.application_activity, True)
        a.record(events.instances_accessed, ["1.2.3"], [("P1", "Doe^Jane")])  # while the forwarder hangs
        assert a._thread is not None and a._thread.is_alive()
        assert [r["seq"] for r in a.store.records()] == [1, 2]
    finally:
        server.close()  # the handshake fails now; the forwarder gives up and the events stay queued
    a.wait(30)
    assert a.pending() == 2
