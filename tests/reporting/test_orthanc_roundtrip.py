"""A signed final report reaches Orthanc: committed, fetched back by C-GET byte-identical, still valid.

Orthanc (Debian's) runs on free ports on 127.0.0.1 and knows our AE with
storage commitment allowed; it reports commitment on a new association to
our storage SCP, which the sender starts for the commitment and stops again.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, build_role, evt
from pynetdicom.sop_class import ComprehensiveSRStorage, StudyRootQueryRetrieveInformationModelGet

from tests.interop.peers import ArchiveProcess, Modality, free_port, start_orthanc
from tests.reporting.conftest import run_tool
from workstation.config import Node
from workstation.reporting import lifecycle
from workstation.reporting.inputs import ReportContent
from workstation.reporting.sender import OutboxSender, storage_commitment
from workstation.store import outbox

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(180)]

CALLING_AE = "LIGHTBOX"


@pytest.fixture(scope="module")
def storage_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, storage_port) -> Iterator[ArchiveProcess]:
    arc = start_orthanc(tmp_path_factory.mktemp("orthanc"), [Modality(CALLING_AE, storage_port)], dicomweb=False)
    try:
        yield arc
    finally:
        arc.stop()
        assert not arc.running


def c_get(arc: ArchiveProcess, study_uid: str, series_uid: str, sop_uid: str) -> bytes:
    """The dataset bytes of one instance as Orthanc sends them (Explicit VR Little Endian)."""
    received: list[bytes] = []

    def on_store(event):
        try:  # the storage SCP module turns on pynetdicom's chunked receive: the data set is in a file
            data = Path(event.dataset_path).read_bytes()
        except AttributeError:
            data = event.request.DataSet.getvalue()
        received.append(data[132 + 12 + struct.unpack_from("<I", data, 140)[0]:] if data[128:132] == b"DICM"
                        else data)
        return 0x0000

    ae = AE(CALLING_AE)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 15
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_requested_context(ComprehensiveSRStorage, [ExplicitVRLittleEndian])
    role = build_role(ComprehensiveSRStorage, scp_role=True)
    assoc = ae.associate("127.0.0.1", arc.port, ae_title=arc.ae_title, ext_neg=[role],
                         evt_handlers=[(evt.EVT_C_STORE, on_store)])
    assert assoc.is_established
    try:
        query = Dataset()
        query.QueryRetrieveLevel = "IMAGE"
        query.StudyInstanceUID, query.SeriesInstanceUID, query.SOPInstanceUID = study_uid, series_uid, sop_uid
        statuses = [int(s.Status) for s, _ in assoc.send_c_get(query, StudyRootQueryRetrieveInformationModelGet)
                    if s and "Status" in s]
    finally:
        assoc.release()
    assert statuses and statuses[-1] == 0, statuses
    assert len(received) == 1
    return received[0]


def dataset_part(path: Path) -> tuple[bytes, bytes]:
    """(file meta with preamble, dataset) of a Part 10 file."""
    data = path.read_bytes()
    group_length = struct.unpack_from("<I", data, 132 + 8)[0]
    start = 132 + 12 + group_length
    return data[:start], data[start:]


def test_signed_report_committed_and_fetched_back_identical(study, settings, identity, test_cert, orthanc,
                                                          storage_port, home, tmp_path):
    cache, study_uid, _headers = study
    made, _ = test_cert
    settings.storage_port = storage_port
    settings.storage_bind_address = "127.0.0.1"
    closed_port = free_port()  # nothing listens here: the archive is "down"
    settings.upsert_node(Node("PACS", orthanc.ae_title, "127.0.0.1", closed_port, timeout=5))
    result = lifecycle.issue_report(cache, settings, study_uid,
                                    ReportContent("general", {"findings": "Kein Rundherd — unauffällig.",
                                                              "impression": "Normalbefund."}),
                                    final=True, identity=identity, destination="PACS")
    now = [dt.datetime.now(dt.UTC)]
    sender = OutboxSender(cache, settings, storage_commitment(home, settings, cache, timeout=30),
                          clock=lambda: now[0])
    sender.run_once()
    [item] = outbox.list_outbox(cache)
    assert item.state == "queued" and item.attempts == 1 and "no DICOM service" in item.last_error

    # The archive comes up (the node now points at it); the retry is due later.
    settings.upsert_node(Node("PACS", orthanc.ae_title, "127.0.0.1", orthanc.port, timeout=15))
    now[0] += dt.timedelta(minutes=5)
    sender.run_once()
    [item] = outbox.list_outbox(cache)
    assert item.state == "committed", item.last_error
    assert item.transaction_uid

    ours = cache.path_of(cache.instance(result.sop_instance_uid))
    meta, dataset = dataset_part(ours)
    ds = dcmread(ours, stop_before_pixels=True)
    fetched = c_get(orthanc, study_uid, str(ds.SeriesInstanceUID), result.sop_instance_uid)
    assert fetched == dataset
    copy = tmp_path / "fetched.dcm"
    copy.write_bytes(meta + fetched)
    check = run_tool("dcmsign", "--verify", "+cf", str(made.cert_pem), "+rs", str(copy))
    assert check.returncode == 0, check.stdout + check.stderr


def test_cli_create_final_and_send(study, test_cert, orthanc, storage_port, home, lightbox_cmd):
    cache, study_uid, _headers = study
    made, _ = test_cert
    config = {
        "storage_port": storage_port, "storage_bind_address": "127.0.0.1",
        "nodes": [{"name": "ORTHANC", "ae_title": orthanc.ae_title, "host": "127.0.0.1", "port": orthanc.port,
                   "timeout": 15}],
        "reporting": {"radiologist_name": "Doe^Jane", "organisation": "St. Elsewhere",
                      "trust_store": [str(made.cert_pem)]},
    }
    home.config_file.write_text(json.dumps(config))
    out = subprocess.run(lightbox_cmd + [
        "report", "create", "--study", study_uid, "--template", "mammography_screening",
        "--field", "composition=129716005", "--field", "birads=397140005", "--final",
        "--key", str(made.key_pem), "--cert", str(made.cert_pem), "--send", "ORTHANC", "--json",
    ], capture_output=True, text=True, timeout=150)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["state"] == "final" and data["signed"] and data["delivery"][0] == "committed"
    listing = subprocess.run(lightbox_cmd + ["outbox", "--json"], capture_output=True, text=True, timeout=60)
    assert [i["state"] for i in json.loads(listing.stdout)] == ["committed"]
    reports = subprocess.run(lightbox_cmd + ["report", "list", "--study", study_uid, "--json"],
                             capture_output=True, text=True, timeout=60)
    rows = json.loads(reports.stdout)["reports"]
    assert [(r["state"], r["signature"], r["delivery"]) for r in rows] == [("final", "valid", "committed")]
