"""Cancelling a retrieve midway against a real archive: C-CANCEL sent, only complete files cached, resumable."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydicom import dcmread
from pynetdicom.association import Association

from tests.interop.conftest import orthanc_holding_one_series
from workstation.net.retrieve import retrieve
from workstation.store.layout import INCOMING
from workstation.store.maintenance import verify

pytestmark = [pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300)]

N = 200


@pytest.fixture(scope="module")
def big_study(tmp_path_factory, storage_port):
    """Orthanc holding one study of 200 CT slices of 256x256 (enough to be stopped midway)."""
    yield from orthanc_holding_one_series(tmp_path_factory, storage_port, "cancel", ("Cancel^Test", "LBX-C1"), N, 256)


@pytest.fixture
def cancels_sent(monkeypatch):
    """Every C-CANCEL our associations send (the real one is sent too)."""
    sent: list[int] = []
    real = Association.send_c_cancel

    def spy(self, msg_id, *args, **kwargs):
        sent.append(msg_id)
        return real(self, msg_id, *args, **kwargs)

    monkeypatch.setattr(Association, "send_c_cancel", spy)
    return sent


def _only_complete_files(cache, study: str) -> int:
    """Every indexed file is there, whole (size and hash as indexed) and parses; nothing half-written lingers."""
    check = verify(cache, check_hashes=True)
    assert check.consistent and not check.missing and not check.mismatched, check
    rows = [row for s in cache.series(study) for row in cache.instances(s.series_uid)]
    for row in rows:
        path: Path = cache.path_of(row)
        assert path.stat().st_size == row.file_size
        ds = dcmread(path)
        assert str(ds.SOPInstanceUID) == row.sop_instance_uid and len(ds.PixelData) == 256 * 256 * 2
    assert not list((cache.cache_dir / INCOMING).glob("*.part"))
    return len(rows)


@pytest.mark.parametrize("method", ["get", "move"])
def test_cancel_midway_keeps_complete_files_and_a_later_retrieve_completes(
        method, big_study, home, settings, cache, cancels_sent):
    arc, study = big_study
    cancel = threading.Event()

    def progress(p):
        if p.completed >= 10:
            cancel.set()

    report = retrieve(arc.node(max_associations=1), settings, home, cache, study, method=method,
                      progress=progress, cancel=cancel)
    assert cancel.is_set(), "the retrieve ended before it could be cancelled"
    assert cancels_sent, "no C-CANCEL was sent"
    assert report.cancelled and not report.ok
    assert 0 < report.retrieved < N and report.failed == N - report.retrieved
    assert "(cancelled)" in report.summary()
    cached = _only_complete_files(cache, study)
    assert cached == report.retrieved == cache.study(study).num_instances

    again = retrieve(arc.node(max_associations=1), settings, home, cache, study, method=method)
    assert again.ok, again.summary()
    assert again.already_cached == report.retrieved and again.retrieved == N - report.retrieved
    assert _only_complete_files(cache, study) == N
    assert verify(cache).tidy
