"""Committing received instances in groups: one filesystem sync and one index transaction per group.

Network receivers (C-GET sub-operations, C-MOVE results) get instances one
at a time, a few milliseconds apart.  Syncing and indexing each one alone
costs two fsyncs and a transaction per instance; :class:`GroupCommitter`
writes each one at once (unsynced, under ``cache/.incoming``) and commits them
on its own thread in groups: when ``max_batch`` are waiting, ``interval``
seconds after the first one of a group arrived, or when :meth:`flush` is
called (at the end of every unit of a retrieve).

The guarantees of the cache hold: a group is committed only after its files
are synced (one ``syncfs`` on Linux, else an ``fsync`` per file), so the index
only ever points to complete, synced files; a staged file whose sync or commit
fails is deleted and never indexed; after a crash, staged files nobody
committed stay in ``.incoming`` under a dead writer's name and are cleaned up,
never indexed, so a later retrieve fetches them again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from workstation.store.cache import StudyCache
from workstation.store.layout import BATCH_SYNC, StagedFile, stage_bytes, sync_filesystem
from workstation.store.writer import CacheWriteError, CommitResult, Outcome, PendingInstance

log = logging.getLogger(__name__)

#: Called on the committer's thread with what the cache did with one submitted instance.
CommittedCallback = Callable[[CommitResult], None]

DEFAULT_INTERVAL = 0.25
DEFAULT_MAX_BATCH = 64
_IDLE_EXIT = 5.0  # the thread ends after this long without work (restarted by the next submit)


@dataclass
class CommitterStats:
    committed: int = 0
    failed: int = 0
    groups: int = 0


class GroupCommitter:
    """Stage instances now, sync and index them in groups on a background thread.

    Parameters
    ----------
    cache : StudyCache
    interval : float
        Longest time (s) a submitted instance waits before its group is committed.
    max_batch : int
        A group is committed as soon as this many instances wait.

    Examples
    --------
    >>> committer = GroupCommitter(cache)
    >>> staged = committer.stage(data)          # OSError (disk full...) -> answer failure
    >>> committer.submit(PendingInstance(staged, record, source))
    >>> committer.flush()                       # everything submitted so far is indexed (or failed)
    >>> committer.close()
    """

    def __init__(self, cache: StudyCache, *, interval: float = DEFAULT_INTERVAL,
                 max_batch: int = DEFAULT_MAX_BATCH) -> None:
        self.cache = cache
        self.interval = float(interval)
        self.max_batch = max(1, int(max_batch))
        self.stats = CommitterStats()
        self._cond = threading.Condition()
        self._pending: list[tuple[PendingInstance, CommittedCallback | None]] = []
        self._first_at = 0.0
        self._submitted = 0
        self._done = 0
        self._flush_to = 0
        self._closed = False
        self._thread: threading.Thread | None = None

    # Producer side -----------------------------------------------------------------
    def stage(self, data: bytes) -> StagedFile:
        """Write ``data`` to a new file in the cache's incoming folder (synced later, with its group).

        Raises
        ------
        OSError
            When the file cannot be written (disk full, permissions); nothing is left behind.
        """
        return stage_bytes(self.cache.cache_dir, data, sync=not BATCH_SYNC)

    def submit(self, item: PendingInstance, callback: CommittedCallback | None = None) -> None:
        """Queue a staged instance for the next group; ``callback`` gets its :class:`CommitResult`."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the committer is closed")
            if not self._pending:
                self._first_at = time.monotonic()
            self._pending.append((item, callback))
            self._submitted += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="cache-committer", daemon=True)
                self._thread.start()
            if len(self._pending) >= self.max_batch:
                self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Commit everything submitted so far now; True once it is committed (or failed)."""
        with self._cond:
            target = self._submitted
            if self._done >= target:
                return True
            self._flush_to = max(self._flush_to, target)
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._done >= target, timeout)

    @property
    def pending(self) -> int:
        with self._cond:
            return self._submitted - self._done

    def close(self, timeout: float | None = None) -> None:
        """Commit what is waiting and stop the thread.  Safe to call twice."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Committer thread --------------------------------------------------------------
    def _next_group(self) -> list[tuple[PendingInstance, CommittedCallback | None]] | None:
        with self._cond:
            idle_since = time.monotonic()
            while True:
                now = time.monotonic()
                if self._pending:
                    due = self._first_at + self.interval
                    if (len(self._pending) >= self.max_batch or self._flush_to > self._done or self._closed
                            or now >= due):
                        group, self._pending = self._pending[:self.max_batch], self._pending[self.max_batch:]
                        return group
                    self._cond.wait(due - now)
                    continue
                if self._closed or now - idle_since >= _IDLE_EXIT:
                    self._thread = None if self._thread is threading.current_thread() else self._thread
                    return None
                self._cond.wait(_IDLE_EXIT - (now - idle_since))

    def _run(self) -> None:
        while True:
            group = self._next_group()
            if group is None:
                return
            try:
                results = self._commit([item for item, _ in group])
            except BaseException:  # noqa: BLE001 - never leave flush() waiting
                log.exception("committing %d received instances failed", len(group))
                results = [CommitResult(item.record.sop_instance_uid, Outcome.FAILED, "commit failed")
                           for item, _ in group]
            with self._cond:
                self._done += len(group)
                self.stats.groups += 1
                self.stats.committed += sum(1 for r in results if r.outcome is not Outcome.FAILED)
                self.stats.failed += sum(1 for r in results if r.outcome is Outcome.FAILED)
                self._cond.notify_all()
            for (_item, callback), result in zip(group, results, strict=True):
                if callback is not None:
                    try:
                        callback(result)
                    except Exception:  # noqa: BLE001 - an observer must not stop the committer
                        log.exception("committer callback failed")

    def _commit(self, items: list[PendingInstance]) -> list[CommitResult]:
        unsynced = _sync(self.cache, items)
        results: dict[int, CommitResult] = {}
        good: list[tuple[int, PendingInstance]] = []
        for i, item in enumerate(items):
            if i in unsynced:
                item.staged.tmp_path.unlink(missing_ok=True)
                results[i] = CommitResult(item.record.sop_instance_uid, Outcome.FAILED,
                                          f"cannot write to the cache: {unsynced[i]}")
            else:
                good.append((i, item))
        if good:
            try:
                committed = self.cache.commit([item for _, item in good])
            except Exception as exc:  # noqa: BLE001 - index locked or its disk full: these are not cached
                log.warning("cannot index %d received instances: %s", len(good), exc)
                for i, item in good:
                    item.staged.tmp_path.unlink(missing_ok=True)
                    message = str(exc) if isinstance(exc, CacheWriteError) else f"cannot index it: {exc}"
                    results[i] = CommitResult(item.record.sop_instance_uid, Outcome.FAILED, message)
            else:
                for (i, _item), res in zip(good, committed, strict=True):
                    results[i] = res
        failed = [r for r in results.values() if r.outcome is Outcome.FAILED]
        if failed:
            log.warning("%d of %d received instances could not be committed: %s", len(failed), len(items),
                        failed[0].message)
        return [results[i] for i in range(len(items))]


def _sync(cache: StudyCache, items: list[PendingInstance]) -> dict[int, str]:
    """Make the staged files durable; returns the indexes of those that could not be synced, with why."""
    if BATCH_SYNC:
        try:
            sync_filesystem(cache.cache_dir, strict=True)
            return {}
        except OSError as exc:
            # A write-back error somewhere on the filesystem: find out which of ours, one by one.
            log.warning("syncing the cache's filesystem failed (%s); syncing each received file", exc)
    failed: dict[int, str] = {}
    for i, item in enumerate(items):
        try:
            fd = os.open(item.staged.tmp_path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            failed[i] = exc.strerror or str(exc)
    return failed
