"""Reports are reports: key images, presentation states and rejection notes are listed under their own kind."""

from __future__ import annotations

import io
import json
import subprocess

import highdicom as hd
from pydicom import dcmread
from pydicom.uid import generate_uid

from workstation.dicom.header import parse_header
from workstation.imaging.key_images import build_key_object_selection
from workstation.qc.codes import REJECTION_TITLES
from workstation.qc.rejection import build_rejection_note
from workstation.reporting import kinds, lifecycle
from workstation.reporting.certificates import TrustStore
from workstation.reporting.documents import study_documents
from workstation.reporting.inputs import ReportContent
from workstation.store import outbox


def _store(cache, ds) -> str:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    _ds, record = parse_header(data, total_size=len(data))
    assert cache.store_bytes(data, record, source="test").outcome.value == "stored"
    return record.sop_instance_uid


def _gsps(image):
    return hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=[image], series_instance_uid=generate_uid(), series_number=9003,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="Lightbox",
        manufacturer_model_name="test", software_versions="1", device_serial_number="1", content_label="VIEW")


def test_report_list_shows_one_report_among_kos_gsps_and_rejection_note(study, settings, identity, lightbox_cmd):
    cache, study_uid, headers = study
    content = ReportContent("general", {"findings": "None.", "impression": "Normal."})
    report = lifecycle.issue_report(cache, settings, study_uid, content, final=True, identity=identity)
    image = dcmread(cache.path_of(cache.instance(str(headers[0].SOPInstanceUID))))
    kos = _store(cache, build_key_object_selection([headers[1]], description="key"))
    gsps = _store(cache, _gsps(image))
    note = _store(cache, build_rejection_note([headers[2]], REJECTION_TITLES["quality"], description="blurred"))
    outbox.enqueue(cache, note, "PACS")  # a rejection note on its way shows its delivery state

    reports, others = study_documents(cache, study_uid, TrustStore([]))
    assert [r.sop_instance_uid for r in reports] == [report.sop_instance_uid]
    assert {(o.sop_instance_uid, o.kind) for o in others} == {
        (kos, kinds.KEY_IMAGES), (gsps, kinds.PRESENTATION_STATE), (note, kinds.REJECTION_NOTE)}
    assert next(o for o in others if o.sop_instance_uid == note).line().endswith("queued")

    cache.close()  # the command opens the index itself
    out = subprocess.run(lightbox_cmd + ["report", "list", "--study", study_uid, "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = json.loads(out.stdout)
    assert [r["sop_instance_uid"] for r in listed["reports"]] == [report.sop_instance_uid]
    assert sorted(o["kind"] for o in listed["other_objects"]) == ["key images", "presentation state", "rejection note"]
    assert next(o for o in listed["other_objects"] if o["kind"] == "rejection note")["delivery"] == "queued"
    text = subprocess.run(lightbox_cmd + ["report", "list", "--study", study_uid],
                          capture_output=True, text=True, timeout=120).stdout
    assert text.count("preliminary") == 0 and "rejection note" in text and "key images" in text


def test_rejection_notes_sent_by_qc_reject_show_their_delivery_state(study, home, capsys):
    from pynetdicom import AE, AllStoragePresentationContexts, evt

    from tests.interop.peers import free_port
    from workstation import config
    from workstation.cli import main
    from workstation.config import Node

    cache, study_uid, headers = study
    port, closed = free_port(), free_port()
    settings = config.Settings()
    settings.upsert_node(Node("PACS", "PACS", "127.0.0.1", port, timeout=10))
    settings.upsert_node(Node("DOWN", "DOWN", "127.0.0.1", closed, timeout=5))
    config.save(settings, home.config_file)
    scp = AE("PACS")
    scp.supported_contexts = AllStoragePresentationContexts
    received = []
    server = scp.start_server(("127.0.0.1", port), block=False, evt_handlers=[
        (evt.EVT_C_STORE, lambda event: received.append(event.request.AffectedSOPInstanceUID) or 0x0000)])
    try:
        assert main(["qc", "reject", str(headers[0].SOPInstanceUID), "--reason", "quality", "--send", "PACS"]) == 0
        capsys.readouterr()
        assert main(["qc", "reject", str(headers[1].SOPInstanceUID), "--reason", "quality", "--send", "DOWN"]) == 1
        assert "waits in the outbox" in capsys.readouterr().err
    finally:
        server.shutdown()
    assert len(received) == 1
    _reports, others = study_documents(cache, study_uid, TrustStore([]))
    notes = {o.sop_instance_uid: o for o in others if o.kind == kinds.REJECTION_NOTE}
    assert sorted(o.delivery for o in notes.values()) == ["queued", "stored"]
    assert notes[received[0]].line().endswith("sent, awaiting commitment")
