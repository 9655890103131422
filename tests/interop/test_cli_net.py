"""The connectivity commands end to end (subprocesses) against Orthanc and dcmqrscp."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from pydicom import dcmread

from tests.interop.conftest import CALLING_AE
from workstation.home import Home
from workstation.net.association import Peer
from workstation.net.send import send_files
from workstation.store.cache import StudyCache

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300)]


def _run(cmd, *args, check=True):
    done = subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture
def lb(lightbox_cmd, storage_port):
    _run(lightbox_cmd, "config", "set", "storage_port", storage_port)
    _run(lightbox_cmd, "config", "set", "storage_bind_address", "127.0.0.1")
    return lightbox_cmd


def test_config_and_nodes(lb):
    shown = json.loads(_run(lb, "config", "show", "--json").stdout)
    assert shown["ae_title"] == "LIGHTBOX" and shown["storage_bind_address"] == "127.0.0.1"
    bad = _run(lb, "config", "set", "ae_title", "WAY_TOO_LONG_AE_TITLE", check=False)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "invalid AE title" in bad.stderr
    _run(lb, "nodes", "add", "A", "--ae", "AAA", "--host", "127.0.0.1", "--port", 104, "--retrieve", "get")
    nodes = json.loads(_run(lb, "nodes", "list", "--json").stdout)
    assert [(n["name"], n["retrieve"]) for n in nodes] == [("A", "get")]
    assert "dicomweb needs" in _run(lb, "nodes", "add", "W", "--ae", "W", "--host", "h", "--port", 1,
                                    "--retrieve", "dicomweb", check=False).stderr
    _run(lb, "nodes", "remove", "A")
    missing = _run(lb, "nodes", "echo", "A", check=False)
    assert missing.returncode == 1 and "no node named 'A'" in missing.stderr


def test_orthanc_end_to_end(lb, loaded_orthanc, interop_files, lightbox_home):
    arc = loaded_orthanc
    _run(lb, "nodes", "add", "PACS", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port)
    assert "answered C-ECHO" in _run(lb, "nodes", "echo", "PACS").stdout
    tested = _run(lb, "nodes", "test", "PACS", "--json")
    assert [c["state"] for c in json.loads(tested.stdout)] == ["ok", "ok", "ok"]
    rows = json.loads(_run(lb, "query", "PACS", "--patient-name", "Test^A*", "--json").stdout)
    assert [r["PatientName"] for r in rows] == ["Test^Alpha"]
    study = rows[0]["StudyInstanceUID"]
    series = json.loads(_run(lb, "query", "PACS", "--level", "series", "--study", study, "--json").stdout)
    assert len(series) == 2
    text = _run(lb, "query", "PACS", "--study-date", "20240101-20240131").stdout
    assert "Test^Alpha" in text and "Test^Beta" not in text
    got = _run(lb, "retrieve", "PACS", "--study", study, "--json")
    report = json.loads(got.stdout)
    assert report["failed"] == 0 and report["retrieved"] + report["already_cached"] == 7
    sent = _run(lb, "send", "PACS", "--study", study, "--commit", "--timeout", 30)
    assert "7 committed (checked by storage commitment)" in sent.stdout
    unknown = _run(lb, "retrieve", "PACS", "--study", "1.2.3.4.5.6", check=False)
    assert unknown.returncode != 0 and "has no study" in unknown.stderr


def test_nodes_test_explains_move_destination_unknown(lb, loaded_dcmqrscp):
    arc = loaded_dcmqrscp
    _run(lb, "config", "set", "ae_title", "STRANGER")
    _run(lb, "nodes", "add", "QR", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port)
    tested = _run(lb, "nodes", "test", "QR", check=False)
    assert tested.returncode == 1
    assert "0xA801" in tested.stdout and "add STRANGER" in tested.stdout
    _run(lb, "nodes", "add", "WRONG", "--ae", "NOTTHEAE", "--host", "127.0.0.1", "--port", arc.port)
    wrong = _run(lb, "nodes", "echo", "WRONG", check=False)
    assert wrong.returncode == 1 and "is not the archive's AE title" in wrong.stderr


def test_listen_receives_until_stopped(lb, lightbox_home, interop_files, storage_port):
    # Only configured nodes may push (the default): our sender is one.
    _run(lb, "nodes", "add", "sender", "--ae", CALLING_AE, "--host", "127.0.0.1", "--port", "104")
    proc = subprocess.Popen([*lb, "listen"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "Listening as LIGHTBOX" in proc.stdout.readline()
        report = send_files(interop_files[:3], Peer("127.0.0.1", storage_port, "LIGHTBOX", timeout=10), CALLING_AE)
        assert report.ok, report.summary()
        lines = [proc.stdout.readline() for _ in range(3)]
        assert all("stored" in ln for ln in lines)
        assert not any("Test^" in ln or "LBX-" in ln for ln in lines)  # no patient data on the console
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "3 stored" in out
    with StudyCache.open(Home.single(lightbox_home)) as cache:
        for f in interop_files[:3]:
            assert cache.instance(str(dcmread(f).SOPInstanceUID)) is not None
