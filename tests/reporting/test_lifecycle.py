"""Drafts survive kill -9; reports are stored and queued in one transaction; nothing is overwritten."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from pydicom import dcmread

from tests.reporting.conftest import key_images_on, measurements_on
from workstation.reporting import lifecycle
from workstation.reporting.inputs import ReportContent
from workstation.reporting.sr_build import ContentError
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.maintenance import prune

VALUES = {"findings": "Kein Rundherd.", "impression": "Normaler Befund."}


def test_draft_autosave_survives_kill_9(study, home, tmp_path):
    cache, study_uid, _headers = study
    ready = tmp_path / "ready"
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from workstation.home import Home
        from workstation.reporting import lifecycle
        from workstation.reporting.inputs import ReportContent
        from workstation.store.cache import StudyCache
        cache = StudyCache.open(Home.single({str(home.data_dir)!r}))
        content = ReportContent("general")
        for n, word in enumerate(["Kein", "Kein Rundherd", "Kein Rundherd, kein Erguss."]):
            content.values["findings"] = word  # each keystroke batch autosaves
            lifecycle.save_draft(cache, "d1", {study_uid!r}, content)
        Path({str(ready)!r}).write_text("saved")
        time.sleep(60)  # killed here, the connection never closed
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, "the drafting process died early"
            assert time.monotonic() < deadline, "the draft was not saved in time"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
    reopened = StudyCache.open(home)
    try:
        study_of, content, _pred = lifecycle.load_draft(reopened, "d1")
        assert study_of == study_uid
        assert content.values["findings"] == "Kein Rundherd, kein Erguss."
        assert outbox.report_status(reopened)[study_uid] == "draft"
        # a study with a draft is never evicted
        assert prune(reopened, 0).evicted == []
    finally:
        reopened.close()


def test_draft_keeps_measurements_and_unparsed_text(study):
    cache, study_uid, headers = study
    content = ReportContent("ct_chest", {"nodule_diameter": "acht"},
                            measurements_on(headers[0]), key_images_on(headers[1]))
    lifecycle.save_draft(cache, "d2", study_uid, content)
    _s, back, _p = lifecycle.load_draft(cache, "d2")
    assert back == content  # typed text kept even though it does not parse yet


def test_preliminary_final_amendment(study, settings, identity):
    cache, study_uid, headers = study
    pre = lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=False)
    assert outbox.report_status(cache)[study_uid] == "preliminary"
    ds = dcmread(cache.path_of(cache.instance(pre.sop_instance_uid)))
    assert (ds.CompletionFlag, ds.VerificationFlag) == ("PARTIAL", "UNVERIFIED")
    assert "DigitalSignaturesSequence" not in ds

    lifecycle.save_draft(cache, "d3", study_uid, ReportContent("general", dict(VALUES)))
    final = lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=True,
                                   identity=identity, draft_id="d3",
                                   destination="PACS")
    assert final.signed and final.outbox_pk is not None
    assert lifecycle.load_draft(cache, "d3") is None  # the draft went with the same transaction
    assert outbox.report_status(cache)[study_uid] == "final"
    final_bytes = cache.path_of(cache.instance(final.sop_instance_uid)).read_bytes()

    amended = lifecycle.issue_report(cache, settings, study_uid,
                                     ReportContent("general", {**VALUES, "impression": "Korrigiert."}), final=True,
                                     identity=identity, predecessor_uid=final.sop_instance_uid,
                                     amendment_reason="impression corrected")
    assert amended.state == "amended" and amended.sop_instance_uid != final.sop_instance_uid
    assert outbox.report_status(cache)[study_uid] == "amended"
    # nothing overwritten: the final report is still there, byte for byte
    assert cache.path_of(cache.instance(final.sop_instance_uid)).read_bytes() == final_bytes
    rows = outbox.list_reports(cache, study_uid)
    assert [r.state for r in rows] == ["preliminary", "final", "amended"]
    assert rows[2].predecessor_uid == final.sop_instance_uid and rows[2].amendment_reason == "impression corrected"
    ds = dcmread(cache.path_of(cache.instance(amended.sop_instance_uid)))
    assert ds.InstanceNumber == 3


def test_refusals_lose_nothing(study, settings, identity):
    cache, study_uid, _headers = study
    with pytest.raises(ContentError, match="signed"):
        lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=True)
    with pytest.raises(ContentError, match="required fields are empty"):
        lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", {"findings": "x"}), final=True,
                               identity=identity)
    with pytest.raises(ContentError, match="no study"):
        lifecycle.issue_report(cache, settings, "1.2.3", ReportContent("general", dict(VALUES)), final=False)
    first = lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=False)
    with pytest.raises(ContentError, match="needs a reason"):
        lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=False,
                               predecessor_uid=first.sop_instance_uid)
    assert [r.sop_instance_uid for r in outbox.list_reports(cache, study_uid)] == [first.sop_instance_uid]
    assert outbox.list_outbox(cache) == []


def test_store_and_enqueue_is_one_transaction(study, settings, identity):
    cache, study_uid, _headers = study
    r = lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=True,
                               identity=identity, destination="PACS")
    [item] = outbox.list_outbox(cache)
    assert (item.sop_instance_uid, item.state, item.destination) == (r.sop_instance_uid, "queued", "PACS")
    assert item.file_hash == cache.instance(r.sop_instance_uid).file_hash
    holders = [h[0] for h in cache.connection.execute("SELECT holder FROM study_holds WHERE study_uid=?", (study_uid,))]
    assert f"outbox:{r.sop_instance_uid}" in holders
    # the same SOP Instance UID with other bytes is refused, and nothing is queued twice
    from workstation.dicom.header import parse_header
    from workstation.store.layout import stage_bytes

    data = bytearray(cache.path_of(cache.instance(r.sop_instance_uid)).read_bytes())
    data[-3] ^= 1
    _ds, rec = parse_header(bytes(data))
    with pytest.raises(outbox.OutboxError, match="already holds"):
        outbox.store_and_enqueue(cache, stage_bytes(cache.cache_dir, bytes(data)), rec,
                                 state="final", destination="PACS")
    assert len(outbox.list_outbox(cache)) == 1 and len(outbox.list_reports(cache)) == 1


def test_study_list_shows_report_status(study, settings, identity):
    from workstation.ui.study_format import Column, display_value

    cache, study_uid, _headers = study
    assert cache.study(study_uid).report_status == "unreported"
    lifecycle.save_draft(cache, "d9", study_uid, ReportContent("general", {"findings": "x"}))
    assert display_value(cache.study(study_uid), Column.REPORT) == "draft"
    lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=False,
                           draft_id="d9")
    assert cache.study(study_uid).report_status == "preliminary"
    final = lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=True,
                                   identity=identity)
    assert cache.study(study_uid).report_status == "final"
    lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=True,
                           identity=identity, predecessor_uid=final.sop_instance_uid, amendment_reason="r")
    assert cache.study(study_uid).report_status == "amended"


def test_a_reported_study_stays_reported_while_an_amendment_is_drafted(study, settings, identity):
    cache, study_uid, _headers = study
    lifecycle.issue_report(cache, settings, study_uid, ReportContent("general", dict(VALUES)), final=True,
                           identity=identity)
    lifecycle.save_draft(cache, "d10", study_uid, ReportContent("general", {"findings": "changing"}))
    assert cache.study(study_uid).report_status == "final"
    assert outbox.report_status(cache)[study_uid] == "final"


def test_report_destination_order(study):
    from workstation.config import Node, Settings
    from workstation.reporting.lifecycle import resolve_destination
    from workstation.reporting.settings import ReportingSettings

    cache, study_uid, _headers = study
    s = Settings()
    assert resolve_destination(cache, s, study_uid, None) is None  # no node: kept locally
    s.upsert_node(Node("DEMO", "LIGHTBOXDEMO", "127.0.0.1", 11114))
    assert resolve_destination(cache, s, study_uid, None) == "DEMO"  # the only node (the demo's case)
    s.upsert_node(Node("PACS", "PACS", "127.0.0.1", 104))
    assert resolve_destination(cache, s, study_uid, None) is None  # two nodes, origin unknown
    ReportingSettings(site_destination="pacs").store(s)
    assert resolve_destination(cache, s, study_uid, None) == "PACS"  # the site's default
    ReportingSettings(destination="DEMO", site_destination="PACS").store(s)
    assert resolve_destination(cache, s, study_uid, None) == "DEMO"  # the reader's choice
    assert resolve_destination(cache, s, study_uid, "pacs") == "PACS"  # named for this report
