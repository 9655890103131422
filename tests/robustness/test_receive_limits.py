"""The storage SCP streams received objects to disk and refuses objects over the configured size."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.net.helpers import ct_store_association, free_port, make_ct
from workstation.config import Node, Settings
from workstation.dicom import limits
from workstation.net import storage_scp
from workstation.net.storage_scp import OUT_OF_RESOURCES, StorageSCP

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


@pytest.fixture
def restore_limits():
    yield
    limits.configure()


def _big_ct(rows: int) -> object:
    ds = make_ct(("Big^Object", "BIG-1"), generate_uid(), generate_uid(), 1, rows=8)
    ds.Rows = ds.Columns = rows
    ds.PixelData = np.ones(rows * rows, dtype="<i2").tobytes()
    return ds


def _push(scp, ds) -> object:
    with ct_store_association(scp, "SENDER") as assoc:
        return assoc.send_c_store(ds)


def _settings() -> Settings:
    return Settings(storage_port=free_port(), storage_bind_address="127.0.0.1",
                    nodes=[Node("sender", "SENDER", "127.0.0.1", 104)])


def test_received_objects_arrive_as_files_not_in_memory(cache, monkeypatch):
    seen = []
    real = storage_scp.payload_of

    def spy(event):
        payload = real(event)
        seen.append(payload.path is not None)
        return payload

    monkeypatch.setattr(storage_scp, "payload_of", spy)
    ds = _big_ct(2048)  # 8 MiB of pixels: many PDUs of at most 1 MiB
    with StorageSCP(cache, _settings()) as scp:
        assert int(_push(scp, ds).Status) == 0
    assert seen == [True]
    row = cache.instance(str(ds.SOPInstanceUID))
    assert row is not None and row.file_size > 8 << 20


def test_objects_over_the_configured_size_are_refused(cache, restore_limits):
    limits.configure(max_received_object_bytes=1 << 20)
    ds = _big_ct(1024)  # 2 MiB
    with StorageSCP(cache, _settings()) as scp:
        status = _push(scp, ds)
    assert int(status.Status) == OUT_OF_RESOURCES
    assert str(status.ErrorComment).startswith("object too large")
    assert cache.studies() == []
