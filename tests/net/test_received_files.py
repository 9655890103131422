"""An object cut short by a dropped association leaves no file behind in the cache's incoming folder.

The peers are real pynetdicom applications in this process; each one drops
its connection (shutdown of its socket, no A-ABORT) in the middle of the
second object's data set, exactly where a killed archive or a pulled cable
leaves the receiving side.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
)

from tests.net.helpers import CALLING_AE, free_port, make_ct
from workstation.config import Node, Settings
from workstation.net import received_files
from workstation.net.retrieve import retrieve
from workstation.net.storage_scp import StorageSCP
from workstation.store.layout import INCOMING

ROWS = 1024  # 2 MB a data set: several PDUs at any maximum length either side uses


def _series(count: int) -> list[Dataset]:
    study, series = generate_uid(), generate_uid()
    return [make_ct(("Cut^Short", "LBX-CUT"), study, series, n, rows=ROWS) for n in range(1, count + 1)]


def _drop_after(limit: int) -> tuple[list[int], Any]:
    """An EVT_CONN_OPEN handler whose connections go silent once ``limit`` bytes have gone out in all.

    The PDU that crosses the limit is cut at it: its first part is sent, then
    the socket is shut down (no A-ABORT), as when the peer dies mid-write.
    """
    sent = [0]

    def on_open(event: Any) -> None:
        transport = event.assoc.dul.socket
        real_send = transport.send

        def send(data: bytes) -> None:
            if sent[0] < 0:
                return
            if sent[0] + len(data) < limit:
                sent[0] += len(data)
                real_send(data)
                return
            cut = limit - sent[0]
            sent[0] = -1
            with contextlib.suppress(OSError):
                transport.socket.sendall(data[:cut])
                transport.socket.shutdown(socket.SHUT_RDWR)

        transport.send = send

    return sent, on_open


def _parts(cache) -> list:
    return list((cache.cache_dir / INCOMING).glob("*.part"))


def test_a_sender_that_drops_mid_object_leaves_no_file_at_our_storage_scp(cache):
    objects = _series(2)
    size = len(objects[0].PixelData)
    sent, on_sent = _drop_after(size + size // 2)  # halfway into the second data set
    settings = Settings(ae_title="LIGHTBOX", storage_port=free_port(), storage_bind_address="127.0.0.1",
                        nodes=[Node(name="sender", ae_title="SENDER", host="127.0.0.1", port=104)])
    seen: list = []
    with StorageSCP(cache, settings, on_received=seen.append) as scp:
        ae = AE(ae_title="SENDER")
        ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", scp.port, ae_title=scp.ae_title, evt_handlers=[(evt.EVT_CONN_OPEN, on_sent)])
        assert assoc.is_established
        statuses = []
        for ds in objects:
            if not assoc.is_established:
                break
            status = assoc.send_c_store(ds)
            statuses.append(getattr(status, "Status", None))
        assoc.abort()
    assert sent[0] == -1, "the connection was never dropped"
    assert statuses[0] == 0x0000
    assert [r.status for r in seen] == [0]
    assert _parts(cache) == []
    assert cache.study(objects[0].StudyInstanceUID).num_instances == 1


@contextmanager
def _get_provider(objects: list[Dataset], drop_at: int) -> Iterator[tuple[int, list[int]]]:
    """A study-root C-FIND/C-GET provider holding ``objects`` that drops after ``drop_at`` bytes."""
    sent, on_sent = _drop_after(drop_at)

    def on_find(event: Any) -> Iterator[tuple[int, Dataset | None]]:
        query = event.identifier
        level = query.QueryRetrieveLevel
        rows = objects if level == "IMAGE" else objects[:1]
        for ds in rows:
            answer = Dataset()
            answer.QueryRetrieveLevel = level
            for keyword in query.dir():
                if keyword != "QueryRetrieveLevel" and keyword in ds:
                    setattr(answer, keyword, ds.data_element(keyword).value)
            answer.StudyInstanceUID = ds.StudyInstanceUID
            if level in ("SERIES", "IMAGE"):
                answer.SeriesInstanceUID = ds.SeriesInstanceUID
            if level == "IMAGE":
                answer.SOPInstanceUID, answer.SOPClassUID = ds.SOPInstanceUID, ds.SOPClassUID
            if level == "STUDY" and "NumberOfStudyRelatedInstances" in query:
                answer.NumberOfStudyRelatedInstances = len(objects)
            if level == "SERIES" and "NumberOfSeriesRelatedInstances" in query:
                answer.NumberOfSeriesRelatedInstances = len(objects)
            yield 0xFF00, answer

    def on_get(event: Any) -> Iterator[Any]:
        yield len(objects)
        for ds in objects:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, ds

    ae = AE(ae_title="ARCHIVE")
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_supported_context(CTImageStorage, ExplicitVRLittleEndian, scu_role=True, scp_role=True)
    server = ae.start_server(("127.0.0.1", 0), block=False, evt_handlers=[
        (evt.EVT_C_FIND, on_find), (evt.EVT_C_GET, on_get), (evt.EVT_CONN_OPEN, on_sent)])
    try:
        yield int(server.server_address[1]), sent
    finally:
        server.shutdown()


def test_a_c_get_cut_short_mid_object_leaves_no_file_in_the_cache(home, cache):
    objects = _series(3)
    size = len(objects[0].PixelData)
    with _get_provider(objects, drop_at=size + size // 2) as (port, sent):
        node = Node(name="ARCHIVE", ae_title="ARCHIVE", host="127.0.0.1", port=port, retrieve="get", timeout=10,
                    max_associations=1)
        report = retrieve(node, Settings(ae_title=CALLING_AE), home, cache, objects[0].StudyInstanceUID,
                          method="get")
    assert sent[0] == -1, "the connection was never dropped"
    assert not report.ok
    assert report.retrieved == 1 and report.retrieved + report.failed == 3
    assert _parts(cache) == []
    assert received_files._in_flight == {}


def test_only_ended_associations_lose_their_files(tmp_path):
    """A file whose writer still runs is left alone; once its threads end, it is removed."""
    import threading

    received_files.receive_into(tmp_path)
    release = threading.Event()
    made: list = []

    def writer() -> None:
        made.append(received_files._received_file(delete=False, mode="wb", suffix=".dcm"))
        made[0].write(b"\0" * 128 + b"DICM")
        release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while not made and thread.is_alive():
            thread.join(0.01)
        assert received_files.discard_abandoned() == 0
        assert _count(tmp_path) == 1
    finally:
        release.set()
        thread.join(10)
    assert received_files.discard_abandoned() == 1
    assert _count(tmp_path) == 0


def _count(cache_dir) -> int:
    return len(list((cache_dir / INCOMING).glob("*.part")))

