"""Group commits of received instances: staged now, synced and indexed in groups, never a partial file indexed."""

from __future__ import annotations

import os
import threading
from io import BytesIO

import pytest

from tests.factories import ct_dataset, uid
from workstation.dicom.header import parse_header
from workstation.store import committer as committer_mod
from workstation.store.committer import GroupCommitter
from workstation.store.layout import INCOMING
from workstation.store.maintenance import verify
from workstation.store.writer import Outcome, PendingInstance


def _instance(study: str, series: str, fill: int = 1) -> tuple[bytes, object]:
    bio = BytesIO()
    ct_dataset(study_uid=study, series_uid=series, sop_uid=uid(), fill=fill).save_as(bio, enforce_file_format=True)
    data = bio.getvalue()
    return data, parse_header(data)[1]


def _submit(group: GroupCommitter, data: bytes, rec, results: list) -> None:
    group.submit(PendingInstance(group.stage(data), rec, "test"), results.append)


def test_flush_indexes_everything_submitted_in_one_group(cache):
    study, series = uid(), uid()
    results: list = []
    with GroupCommitter(cache, interval=60.0, max_batch=1000) as group:
        recs = []
        for i in range(5):
            data, rec = _instance(study, series, i)
            _submit(group, data, rec, results)
            recs.append(rec)
        # Nothing is indexed before its group is committed.
        assert cache.study(study) is None
        assert group.flush(timeout=30)
        assert group.stats.groups == 1 and group.stats.committed == 5
    assert [r.outcome for r in results] == [Outcome.STORED] * 5
    assert cache.study(study).num_instances == 5
    assert verify(cache).tidy
    assert not list((cache.cache_dir / INCOMING).glob("*.part"))


def test_a_group_is_committed_after_the_interval_without_flush(cache):
    study, series = uid(), uid()
    done = threading.Event()
    with GroupCommitter(cache, interval=0.05) as group:
        data, rec = _instance(study, series)
        group.submit(PendingInstance(group.stage(data), rec, "test"), lambda _r: done.set())
        assert done.wait(30), "the group was never committed"
    assert cache.study(study).num_instances == 1


def test_max_batch_splits_groups(cache):
    study, series = uid(), uid()
    with GroupCommitter(cache, interval=60.0, max_batch=2) as group:
        for i in range(5):
            data, rec = _instance(study, series, i)
            group.submit(PendingInstance(group.stage(data), rec, "test"))
        assert group.flush(timeout=30)
        assert group.stats.groups >= 3 and group.stats.committed == 5


def test_duplicates_and_conflicts_in_a_group(cache):
    study, series = uid(), uid()
    data, rec = _instance(study, series)
    results: list = []
    with GroupCommitter(cache) as group:
        _submit(group, data, rec, results)
        group.flush(timeout=30)
        _submit(group, data, rec, results)
    assert [r.outcome for r in results] == [Outcome.STORED, Outcome.DUPLICATE]
    assert cache.study(study).num_instances == 1


def test_a_file_that_cannot_be_synced_is_never_indexed(cache, monkeypatch):
    study, series = uid(), uid()
    good, good_rec = _instance(study, series, 1)
    bad, bad_rec = _instance(study, series, 2)
    monkeypatch.setattr(committer_mod, "BATCH_SYNC", False)  # fsync file by file
    real_fsync = os.fsync
    staged_bad = []

    def fsync(fd):
        if staged_bad and os.path.samestat(os.fstat(fd), os.stat(staged_bad[0])):
            raise OSError(28, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(committer_mod.os, "fsync", fsync)
    results: list = []
    with GroupCommitter(cache, interval=60.0) as group:
        _submit(group, good, good_rec, results)
        s = group.stage(bad)
        staged_bad.append(s.tmp_path)
        group.submit(PendingInstance(s, bad_rec, "test"), results.append)
        group.flush(timeout=30)
    assert [r.outcome for r in results] == [Outcome.STORED, Outcome.FAILED]
    assert "No space left" in results[1].message
    assert cache.instance(good_rec.sop_instance_uid) is not None
    assert cache.instance(bad_rec.sop_instance_uid) is None
    assert not staged_bad[0].exists()
    assert verify(cache).consistent


def test_an_index_failure_fails_the_group_and_leaves_no_files(cache, monkeypatch):
    study, series = uid(), uid()
    data, rec = _instance(study, series)

    def broken(batch):
        raise OSError(28, "database or disk is full")

    monkeypatch.setattr(cache, "commit", broken)
    results: list = []
    with GroupCommitter(cache) as group:
        _submit(group, data, rec, results)
        group.flush(timeout=30)
    assert results[0].outcome is Outcome.FAILED and "cannot index" in results[0].message
    assert not list((cache.cache_dir / INCOMING).glob("*.part"))


def test_closed_committer_refuses_new_work(cache):
    group = GroupCommitter(cache)
    group.close()
    data, rec = _instance(uid(), uid())
    staged = group.stage(data)
    with pytest.raises(RuntimeError):
        group.submit(PendingInstance(staged, rec, "test"))
    staged.tmp_path.unlink()


def test_staged_files_of_a_crashed_receiver_are_never_indexed(cache):
    """A receiver that dies between staging and its group commit leaves only a .part file that cleanup removes."""
    study, series = uid(), uid()
    data, rec = _instance(study, series)
    group = GroupCommitter(cache, interval=60.0)
    staged = group.stage(data)  # written, never submitted: the process "dies" here
    assert staged.tmp_path.exists() and cache.instance(rec.sop_instance_uid) is None
    # A crashed writer's part file carries a dead PID: rename it so, as a dead process would have left it.
    orphan = staged.tmp_path.with_name(f"999999999-{staged.tmp_path.name.split('-', 1)[1]}")
    os.replace(staged.tmp_path, orphan)
    report = verify(cache, repair=True)
    assert cache.instance(rec.sop_instance_uid) is None
    assert not orphan.exists()
    assert report.consistent
