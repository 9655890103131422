"""The reading worklist against real peers: orders in DCMTK's wlmscpfs, studies in Orthanc, through 'lightbox'."""

from __future__ import annotations

import json
import subprocess

import pytest
from pydicom.uid import generate_uid

from tests.interop.conftest import CALLING_AE
from tests.net.helpers import make_ct
from tests.worklist.mwl_peer import MwlOrder, start_wlmscpfs
from workstation.net.send import send_files

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300)]

JAPANESE = "山田^太郎=ヤマダ^タロウ"


def _run(cmd, *args, check=True):
    done = subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, timeout=180)
    if check:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def orders():
    uids = [generate_uid() for _ in range(3)]
    return [
        MwlOrder("WL-ACC-1", "WL-P1", "Routine^Early", uids[0], "CT chest", "Follow-up of nodule", "ROUTINE",
                 date="20240105", time="080000"),
        MwlOrder("WL-ACC-2", "WL-P2", JAPANESE, uids[1], "CT head without contrast", "Sudden headache, rule out bleed",
                 "STAT", date="20240105", time="120000", history="Anticoagulated"),
        MwlOrder("WL-ACC-3", "WL-P3", "Routine^Late", uids[2], "CT abdomen", "Abdominal pain", "ROUTINE",
                 date="20240105", time="100000"),
    ]


@pytest.fixture(scope="module")
def wlm(tmp_path_factory, orders):
    arc = start_wlmscpfs(tmp_path_factory.mktemp("wlm"), orders)
    try:
        yield arc
    finally:
        arc.stop()
        assert not arc.running


@pytest.fixture(scope="module")
def studies_in_orthanc(orthanc, orders, tmp_path_factory):
    folder = tmp_path_factory.mktemp("wl-studies")
    paths = []
    for o in orders:
        series = generate_uid()
        for n in (1, 2):
            ds = make_ct((o.patient_name, o.patient_id), o.study_uid, series, n, study_date=o.date)
            ds.SpecificCharacterSet = "ISO_IR 192"
            ds.AccessionNumber = o.accession
            ds.StudyTime = o.time
            path = folder / f"{o.accession}-{n}.dcm"
            ds.save_as(path, enforce_file_format=True)
            paths.append(path)
    report = send_files(paths, orthanc.peer, CALLING_AE)
    assert report.ok, report.summary()
    return orthanc


@pytest.fixture
def lb(lightbox_cmd, storage_port, wlm, studies_in_orthanc):
    _run(lightbox_cmd, "config", "set", "storage_port", storage_port)
    _run(lightbox_cmd, "config", "set", "storage_bind_address", "127.0.0.1")
    _run(lightbox_cmd, "nodes", "add", "RIS", "--ae", wlm.ae_title, "--host", "127.0.0.1", "--port", wlm.port,
         "--worklist")
    arc = studies_in_orthanc
    _run(lightbox_cmd, "nodes", "add", "PACS", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port)
    return lightbox_cmd


def test_nodes_test_says_whether_mwl_answers(lb, orthanc):
    checks = json.loads(_run(lb, "nodes", "test", "RIS", "--json").stdout)
    assert [(c["check"], c["state"]) for c in checks] == [("C-ECHO", "ok"), ("MWL", "ok")]
    assert "3 orders" in checks[1]["message"]
    # An archive asked as a worklist provider: it does not offer the Modality Worklist, and the test says so.
    _run(lb, "nodes", "add", "NOTMWL", "--ae", orthanc.ae_title, "--host", "127.0.0.1", "--port", orthanc.port,
         "--worklist")
    failed = _run(lb, "nodes", "test", "NOTMWL", "--json", check=False)
    assert failed.returncode == 1
    mwl = json.loads(failed.stdout)[1]
    assert mwl["state"] == "failed" and "Modality Worklist" in mwl["message"]


def test_worklist_lists_orders_stat_first_and_opens_one(lb, orders, lightbox_home):
    listed = json.loads(_run(lb, "worklist", "--json", "--from", "20240101", "--to", "20240131").stdout)
    assert listed["notes"] == []
    items = listed["items"]
    assert [i["accession"] for i in items] == ["WL-ACC-2", "WL-ACC-1", "WL-ACC-3"]  # STAT, then longest waiting
    by_acc = {o.accession: o for o in orders}
    for item in items:
        order = by_acc[item["accession"]]
        assert item["patient_id"] == order.patient_id
        assert item["reason"] == order.reason
        assert item["requested_procedure"] == order.procedure
        assert item["study_uid"] == order.study_uid
        assert item["location"] == "PACS"  # at the archive, not in the cache yet
        assert item["reading_status"] == "unread"
    assert items[0]["priority"] == "STAT" and items[0]["patient_name"] == JAPANESE
    assert items[0]["clinical_history"] == "Anticoagulated"
    assert items[0]["referring_physician"] == "Referrer^Rita"

    # Without a date range the archive is asked for the last day only: the orders' studies are then found by
    # their Study Instance UIDs (one list-of-UID query), still at the archive.
    recent = json.loads(_run(lb, "worklist", "--json").stdout)["items"]
    assert [(i["accession"], i["location"]) for i in recent] == [
        ("WL-ACC-2", "PACS"), ("WL-ACC-1", "PACS"), ("WL-ACC-3", "PACS")]

    stat = json.loads(_run(lb, "worklist", "--priority", "STAT", "--json", "--from", "20240101").stdout)["items"]
    assert [i["accession"] for i in stat] == ["WL-ACC-2"]

    opened = json.loads(_run(lb, "worklist", "--open", "WL-ACC-2", "--json", "--from", "20240101").stdout)
    assert opened["retrieved"] == 2 and opened["status"] == "in progress"
    assert opened["plan"]["study_uid"] == by_acc["WL-ACC-2"].study_uid and opened["protocol"]

    local = json.loads(_run(lb, "worklist", "--local", "--json").stdout)["items"]
    first = local[0]
    assert first["accession"] == "WL-ACC-2" and first["location"] == "local"
    assert first["reading_status"] == "in progress" and first["num_images"] == 2
    # The orders were kept: without the network the worklist still has their context.
    assert {i["accession"]: i["reason"] for i in local}["WL-ACC-1"] == "Follow-up of nodule"
    mine = json.loads(_run(lb, "worklist", "--local", "--mine", "--json").stdout)["items"]
    assert [i["accession"] for i in mine] == ["WL-ACC-2"]

    text = _run(lb, "worklist", "--local").stdout
    assert "STAT" in text and "Sudden headache" in text


def test_signed_report_of_a_worklist_study_reaches_the_ris_after_a_restart(lb, orders, tmp_path):
    """Open the STAT study from the worklist, sign its report, RIS down; a later process delivers it once."""
    import time

    from tests.hl7.peer import RisPeer, free_port
    from workstation.hl7.messages import first, value

    stat = orders[1]
    _run(lb, "worklist", "--open", stat.accession, "--from", "20240101")
    ris_port = free_port()
    _run(lb, "hl7", "config", "--ris-host", "127.0.0.1", "--ris-port", ris_port, "--sending-facility", "RAD")
    _run(lb, "cert", "create-test", "--name", "Jane Doe", "--use", "--out", tmp_path / "cert")
    made = json.loads(_run(lb, "report", "create", "--study", stat.study_uid, "--final", "--json",
                           "--template", "general",
                           "--field", "findings=No haemorrhage.", "--field", "impression=Normal CT head.").stdout)
    uid = made["sop_instance_uid"]
    _run(lb, "outbox", "--send")  # the RIS is down: the ORU waits in the outbox
    waiting = [i for i in json.loads(_run(lb, "outbox", "--json").stdout) if i["destination"] == "hl7:RIS"]
    assert [(i["sop_instance_uid"], i["state"]) for i in waiting] == [(uid, "queued")]
    assert "refused the connection" in waiting[0]["last_error"]
    with RisPeer(ris_port) as ris:
        deadline = time.monotonic() + 60  # the first retry is due 10 s later (backoff)
        state = "queued"
        while state != "committed" and time.monotonic() < deadline:
            time.sleep(1)
            _run(lb, "outbox", "--send")  # each run is a new process: a restart
            state = [i for i in json.loads(_run(lb, "outbox", "--json").stdout)
                     if i["destination"] == "hl7:RIS"][0]["state"]
        assert state == "committed"
        _run(lb, "outbox", "--send")
        assert len(ris.received) == 1
        [msg] = ris.parsed()
    obr = first(msg, "OBR")
    assert value(obr, 18) == stat.accession and value(obr, 25) == "F"
    assert value(obr, 32, 1, 2) == "Doe" and value(obr, 32, 1, 3) == "Jane"
    text = "\n".join(value(s, 5) for s in msg.children if s.name == "OBX")
    assert "No haemorrhage." in text and "Normal CT head." in text
    assert value(first(msg, "PID"), 3) == stat.patient_id and value(first(msg, "PID"), 5) == "山田"


def test_orthanc_modality_worklists_plugin_as_provider(tmp_path_factory, orders, lightbox_cmd):
    """Orthanc's ModalityWorklists plugin (Debian's orthanc package) serves the same worklist files."""
    from tests.interop.peers import Modality, start_orthanc
    from tests.worklist.mwl_peer import write_worklist

    root = tmp_path_factory.mktemp("orthanc-mwl")
    folder = write_worklist(root / "wl", "ANY", orders)
    arc = start_orthanc(root / "orthanc", [Modality(CALLING_AE, 104)], ae_title="ORTHANCWL", dicomweb=False,
                        extra={"Plugins": ["/usr/share/orthanc/plugins/libModalityWorklists.so"],
                               "Worklists": {"Enable": True, "Database": str(folder)}})
    try:
        _run(lightbox_cmd, "nodes", "add", "OWL", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port,
             "--worklist")
        checks = json.loads(_run(lightbox_cmd, "nodes", "test", "OWL", "--json").stdout)
        assert [(c["check"], c["state"]) for c in checks] == [("C-ECHO", "ok"), ("MWL", "ok")]
        items = json.loads(_run(lightbox_cmd, "worklist", "--json").stdout)["items"]
    finally:
        arc.stop()
    assert [i["accession"] for i in items] == ["WL-ACC-2", "WL-ACC-1", "WL-ACC-3"]
    assert all(i["location"] == "not acquired" for i in items)  # no archive configured: orders only
    assert items[0]["reason"] == "Sudden headache, rule out bleed" and items[0]["patient_name"] == JAPANESE
