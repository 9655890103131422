"""The worklist's background refresh is audited as Query events: one per provider or archive and refresh,
not one per answer or follow-up C-FIND (DCMTK's wlmscpfs as the worklist provider, a pynetdicom archive that
counts the C-FINDs it gets, and an archive that is down)."""

from __future__ import annotations

import base64

import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind  # type: ignore[attr-defined]

from tests.audit.schema import validate
from tests.net.helpers import free_port
from tests.worklist.mwl_peer import WLMSCPFS, MwlOrder, start_wlmscpfs
from workstation import audit
from workstation.config import Node, Settings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.worklist.gather import load_worklist

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

QUERY = "110112"


@pytest.fixture
def archive():
    """A Study Root C-FIND SCP on 127.0.0.1 that answers nothing and counts the queries."""
    asked: list[str] = []

    def on_find(event):
        asked.append(str(event.identifier.get("QueryRetrieveLevel", "")))
        yield 0x0000, None

    ae = AE(ae_title="COUNTER")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_FIND, on_find)])
    try:
        yield port, asked
    finally:
        server.shutdown()


def queries() -> list[dict]:
    return [r for r in audit.current().store.records() if r["event_code"] == QUERY]


def decoded_query(xml: str):
    import re

    raw = base64.b64decode(re.search(r"<ParticipantObjectQuery>([^<]+)<", xml).group(1))
    return read_dataset(DicomBytesIO(raw), is_implicit_VR=False, is_little_endian=True)


@pytest.mark.skipif(not __import__("os").path.exists(WLMSCPFS), reason="DCMTK's wlmscpfs is not installed")
def test_each_refresh_records_one_query_per_peer(lightbox_home, tmp_path, archive):
    archive_port, asked = archive
    orders = [MwlOrder(f"AQ-{n}", f"AQ-P{n}", f"Quéry^Patient{n}", generate_uid(), "CT chest", "cough")
              for n in range(3)]
    wlm = start_wlmscpfs(tmp_path / "wlm", orders)
    try:
        settings = Settings(ae_title="LIGHTBOX", nodes=[
            Node(name="ris", ae_title="WLM", host="127.0.0.1", port=wlm.port, worklist=True),
            Node(name="pacs", ae_title="COUNTER", host="127.0.0.1", port=archive_port, timeout=5),
            Node(name="down", ae_title="DOWN", host="127.0.0.1", port=free_port(), timeout=2),
        ])
        cache = StudyCache.open(Home.single(lightbox_home))
        try:
            for _refresh in range(2):
                result = load_worklist(cache, settings)
                assert result.orders_received == 3
        finally:
            cache.close()
    finally:
        wlm.stop()
    # The archive was asked more than once a refresh (the date range, then the orders' Study UIDs) ...
    assert len(asked) >= 4
    events = queries()
    # ... yet each refresh is one Query event a peer: the provider, the archive and the one that is down.
    peers = [(r["outcome"], "WLM" in r["xml"], "COUNTER" in r["xml"], "DOWN" in r["xml"]) for r in events]
    assert peers == [("0", True, False, False), ("0", False, True, False), ("4", False, False, True)] * 2
    mwl = events[0]["xml"]
    assert "1.2.840.10008.5.1.4.31" in mwl  # the MWL information model, the query's keys inside
    assert "ScheduledProcedureStepSequence" in decoded_query(mwl)
    assert "StudyDate" in decoded_query(events[1]["xml"])
    for r in events:
        validate(r["xml"])
        assert r["patients"] == []  # a query names no patient (the answers are not audited one by one)
