"""A peer answering garbage: clear messages, no crash, nothing corrupted in the cache.

The misbehaving peer is a small pynetdicom AE (:mod:`tests.interop.bad_peer`)
in its own process on 127.0.0.1, started and stopped by each test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.interop.bad_peer import AE_TITLE
from tests.interop.conftest import CALLING_AE
from tests.interop.peers import free_port
from tests.net.helpers import make_ct
from workstation.config import Node
from workstation.net.association import AssociationAborted, MalformedResponse, NetworkError, Peer
from workstation.net.find import find
from workstation.net.retrieve import retrieve
from workstation.store.layout import INCOMING
from workstation.store.maintenance import verify

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> tuple[Path, str, str, list[str]]:
    folder = tmp_path_factory.mktemp("bad-peer-files")
    study_uid, series_uid = generate_uid(), generate_uid()
    sops = []
    for i in range(1, 5):
        ds = make_ct(("Bad^Peer", "LBX-B1"), study_uid, series_uid, i, rows=16)
        ds.save_as(folder / f"{i}.dcm", enforce_file_format=True)
        sops.append(str(ds.SOPInstanceUID))
    return folder, study_uid, series_uid, sops


@contextmanager
def bad_peer(mode: str, folder: Path) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.interop.bad_peer", mode, str(port), str(folder)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout.readline().strip() == b"ready", "the misbehaving peer did not start"
        yield port
    finally:
        proc.stdin.close()  # its signal to stop
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _image_query(port: int, study_uid: str, series_uid: str) -> list:
    peer = Peer("127.0.0.1", port, AE_TITLE, timeout=10)
    return list(find(peer, CALLING_AE, "IMAGE", {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid}))


def test_find_response_without_status(study):
    folder, study_uid, series_uid, _ = study
    with bad_peer("find-no-status", folder) as port, pytest.raises(MalformedResponse) as err:
        _image_query(port, study_uid, series_uid)
    message = str(err.value)
    assert AE_TITLE in message and "not a valid DICOM response" in message and "Status" in message
    assert "within" not in message  # not mistaken for a timeout


def test_find_response_with_undecodable_identifier(study):
    folder, study_uid, series_uid, sops = study
    got = []
    with bad_peer("find-bad-identifier", folder) as port:
        peer = Peer("127.0.0.1", port, AE_TITLE, timeout=10)
        with pytest.raises(MalformedResponse) as err:
            for ds in find(peer, CALLING_AE, "IMAGE", {"StudyInstanceUID": study_uid,
                                                        "SeriesInstanceUID": series_uid}):
                got.append(str(ds.SOPInstanceUID))
    # The readable matches arrived; the damaged one is counted and said, not dropped silently.
    assert len(got) == len(sops) - 1 and set(got) < set(sops)
    assert "1 of 4 responses" in str(err.value) and "could not be decoded" in str(err.value)


def test_association_aborted_mid_find(study):
    folder, study_uid, series_uid, _ = study
    with bad_peer("find-abort", folder) as port, pytest.raises(AssociationAborted) as err:
        _image_query(port, study_uid, series_uid)
    assert not isinstance(err.value, MalformedResponse)
    assert f"{AE_TITLE}@127.0.0.1:{port} aborted the association during C-FIND" in str(err.value)


def test_retrieve_whose_inventory_is_aborted_says_so_and_caches_nothing(study, home, settings, cache):
    folder, study_uid, _series, _ = study
    with bad_peer("find-abort", folder) as port:
        node = Node(name="bad", ae_title=AE_TITLE, host="127.0.0.1", port=port, retrieve="get", timeout=10)
        with pytest.raises(NetworkError) as err:
            retrieve(node, settings, home, cache, study_uid)
    assert "aborted the association" in str(err.value)
    assert cache.study(study_uid) is None


def test_get_with_malformed_store_sub_operations(study, home, settings, cache):
    folder, study_uid, _series, sops = study
    with bad_peer("get-bad-store", folder) as port:
        node = Node(name="bad", ae_title=AE_TITLE, host="127.0.0.1", port=port, retrieve="get", timeout=10)
        report = retrieve(node, settings, home, cache, study_uid)
    # Instance 2 arrived as garbage, instance 3 without its study and series UIDs: both refused (0xC000).
    assert not report.ok and report.failed == 2 and report.retrieved == 2
    assert sorted(report.missing) == sorted(sops[1:3])
    note = " ".join(report.notes)
    assert "2 objects the archive sent could not be stored" in note
    assert "0xC000" in note and "unreadable DICOM" in note and "no Study Instance UID" in note
    # Only the two good instances are cached, whole and readable; nothing half-written is left.
    check = verify(cache, check_hashes=True)
    assert check.consistent and not check.mismatched and not check.missing and not check.orphans
    for sop in (sops[0], sops[3]):
        row = cache.instance(sop)
        assert row is not None and str(dcmread(cache.path_of(row)).SOPInstanceUID) == sop
    assert cache.study(study_uid).num_instances == 2
    assert not list((cache.cache_dir / INCOMING).glob("*.part"))
