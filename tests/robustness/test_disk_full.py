"""A full disk (files or index) is refused cleanly: the right status and words, no orphans, nothing lost.

The storage SCP and the importer fill a real 20 MB tmpfs when this machine lets
the test mount one (root); the index's own "database or disk is full" is
injected, since a file system cannot be made to fill at that moment.
"""

from __future__ import annotations

import sqlite3
import subprocess
from io import BytesIO

import pytest
from pydicom.uid import generate_uid

from tests.net.helpers import ct_store_association, free_port, make_ct
from workstation.config import Node, Settings
from workstation.dicom.header import parse_header
from workstation.home import Home
from workstation.net.storage_scp import OUT_OF_RESOURCES, StorageSCP
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.store.maintenance import verify
from workstation.store.writer import CacheWriteError, PendingInstance, commit_batch

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("this machine does not let the test mount a tmpfs (the injected test still runs)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _instances(n: int, rows: int = 512) -> list:
    study, series = generate_uid(), generate_uid()
    return [make_ct(("Disk^Full", "DSK-1"), study, series, i, rows=rows) for i in range(1, n + 1)]


def test_storage_scp_on_a_full_disk_answers_out_of_resources_and_leaves_no_orphans(small_disk):
    home = Home.single(small_disk / "home").ensure()
    cache = StudyCache.open(home)
    settings = Settings(storage_port=free_port(), storage_bind_address="127.0.0.1",
                        nodes=[Node("sender", "SENDER", "127.0.0.1", 104)])
    acknowledged, refusals = [], []
    try:
        # The sender keeps its C-STORE responses even under load (leave_responses_to_the_sender): without
        # it pynetdicom's reactor could take one, and send_c_store would wait 30 s, abort and return no status.
        with StorageSCP(cache, settings) as scp, ct_store_association(scp, "SENDER") as assoc:
            for ds in _instances(60):  # 60 x 0.5 MB: more than the 20 MB disk holds
                status = assoc.send_c_store(ds)
                if int(status.Status) == 0:
                    acknowledged.append(str(ds.SOPInstanceUID))
                else:
                    refusals.append((int(status.Status), str(status.get("ErrorComment", ""))))
        assert acknowledged and refusals
        assert {code for code, _ in refusals} == {OUT_OF_RESOURCES}
        assert all(comment.startswith("disk full") for _, comment in refusals), refusals[:3]
        for uid in acknowledged:
            row = cache.instance(uid)
            assert row is not None and cache.path_of(row).is_file()
        report = verify(cache)
        assert report.tidy, report.as_dict()
    finally:
        cache.close()
    logs = "".join(p.read_text() for p in home.log_dir.glob("*.log*")) if home.log_dir.exists() else ""
    assert "Traceback" not in logs and "Logging error" not in logs


def test_import_on_a_full_disk_fails_those_files_with_the_reason(small_disk, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    for n, ds in enumerate(_instances(60), 1):
        ds.save_as(source / f"{n}.dcm", enforce_file_format=True)
    home = Home.single(small_disk / "home").ensure()
    with StudyCache.open(home) as cache:
        summary = import_paths(cache, [source], workers=1)
        assert summary.imported > 0 and summary.failed > 0
        assert summary.imported + summary.failed == 60
        assert all(f.reason.startswith("disk full") for f in summary.failures), summary.failures[:3]
        assert verify(cache).tidy


class _FullOnCommit:
    """A connection whose COMMIT fails as SQLite's does when the index's disk is full."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con

    def execute(self, sql: str, *args):
        if sql.strip().upper() == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_index_full_at_commit_removes_the_renamed_files_and_the_connection_recovers(lightbox_home):
    home = Home.single(lightbox_home).ensure()
    with StudyCache.open(home) as cache:
        items = []
        for ds in _instances(3, rows=8):
            bio = BytesIO()
            ds.save_as(bio, enforce_file_format=True)
            data = bio.getvalue()
            items.append((data, parse_header(data)[1]))
        from workstation.store.layout import stage_bytes

        batch = [PendingInstance(stage_bytes(cache.cache_dir, d), r, "test") for d, r in items]
        with pytest.raises(CacheWriteError) as caught:
            commit_batch(_FullOnCommit(cache.connection), cache.cache_dir, batch)
        assert caught.value.disk_full
        assert str(caught.value).startswith("disk full")
        assert cache.studies() == []
        assert verify(cache).tidy  # no orphan, no staged file left
        # The same connection takes the next commit (the failed COMMIT's transaction was ended).
        again = [PendingInstance(stage_bytes(cache.cache_dir, d), r, "test") for d, r in items]
        assert [r.outcome.value for r in cache.commit(again)] == ["stored"] * 3


def test_interrupted_commit_and_unfinished_writes_are_tidied_at_the_next_start(lightbox_home):
    home = Home.single(lightbox_home).ensure()
    with StudyCache.open(home) as cache:
        ds = _instances(1, rows=8)[0]
        bio = BytesIO()
        ds.save_as(bio, enforce_file_format=True)
        data = bio.getvalue()
        rec = parse_header(data)[1]
        from workstation.store.layout import INCOMING, instance_relpath

        rel = instance_relpath(rec.study_uid, rec.series_uid, rec.sop_instance_uid)
        final = cache.cache_dir / rel
        final.parent.mkdir(parents=True)
        final.write_bytes(data)  # renamed into place, then the process died before COMMIT
        (cache.cache_dir / INCOMING).mkdir(exist_ok=True)
        (cache.cache_dir / INCOMING / "999999-dead.journal").write_text(rel + "\n")
        (cache.cache_dir / INCOMING / "999999-dead.part").write_bytes(data[:100])
        assert not verify(cache, check_hashes=False).tidy
    with StudyCache.open(home) as cache:
        assert len(cache.recovered) == 2
        assert cache.instance(rec.sop_instance_uid) is not None
        assert verify(cache).tidy
