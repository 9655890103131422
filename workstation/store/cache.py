"""The study cache: one object the layers above use to read and write the cache."""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.home import Home
from workstation.store import queries
from workstation.store.database import connect, transaction
from workstation.store.layout import resolve_inside, stage_bytes
from workstation.store.writer import CommitResult, PendingInstance, commit_batch, now_iso

if TYPE_CHECKING:  # pydicom stays unloaded for commands that only read the index (lightbox studies)
    from workstation.dicom.header import InstanceRecord


class StudyCache:
    """The SQLite index plus the files under ``<home>/cache``.

    Safe to share between threads (one connection guarded by a lock) and
    between processes (SQLite WAL with a busy timeout; writers take turns with
    ``BEGIN IMMEDIATE``).
    """

    def __init__(self, index_file: Path, cache_dir: Path) -> None:
        self.index_file = Path(index_file)
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self._con = connect(self.index_file)
        self._lock = threading.RLock()
        # Instance rows by series, each with the index version it was read at: opening a study asks for
        # the same series many times (facts, stacks, saved objects, documents), and any commit changes the version.
        self._instances: OrderedDict[str, tuple[tuple[int, int], list[queries.InstanceRow]]] = OrderedDict()
        #: What :meth:`open` tidied at start (unfinished writes removed, interrupted commits indexed).
        self.recovered: list[str] = []

    @classmethod
    def open(cls, home: Home) -> StudyCache:
        """Open the home's cache, first tidying what a process that died mid-write left behind."""
        home.ensure()
        cache = cls(home.index_file, home.cache_dir)
        from workstation.store.maintenance import recover_unfinished  # maintenance imports this module

        cache.recovered = recover_unfinished(cache)
        return cache

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> StudyCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Writing ---------------------------------------------------------------------
    def store_bytes(
        self, data: bytes, record: InstanceRecord, *, source: str = "", source_ae: str = ""
    ) -> CommitResult:
        """Stage and commit one object (the storage SCP's path)."""
        staged = stage_bytes(self.cache_dir, data)
        return self.commit([PendingInstance(staged, record, source, source_ae)])[0]

    def commit(self, batch: list[PendingInstance]) -> list[CommitResult]:
        with self._lock:
            return commit_batch(self._con, self.cache_dir, batch)

    # Reading ---------------------------------------------------------------------
    def studies(self, flt: queries.StudyFilter | None = None, limit: int | None = None) -> list[queries.StudyRow]:
        with self._lock:
            return queries.list_studies(self._con, flt, limit)

    def study(self, study_uid: str) -> queries.StudyRow | None:
        rows = self.studies(queries.StudyFilter(study_uid=study_uid))
        return rows[0] if rows else None

    def series(self, study_uid: str) -> list[queries.SeriesRow]:
        with self._lock:
            return queries.list_series(self._con, study_uid)

    def instances(self, series_uid: str) -> list[queries.InstanceRow]:
        """The series' instances (read again only when the index changed since they were last read)."""
        with self._lock:
            version = self._version()
            kept = self._instances.get(series_uid)
            if kept is not None and kept[0] == version:
                self._instances.move_to_end(series_uid)
                return list(kept[1])
            rows = queries.list_instances(self._con, series_uid)
            self._keep_instances(version, {series_uid: rows})
            return list(rows)

    def study_instances(self, study_uid: str) -> dict[str, list[queries.InstanceRow]]:
        """Every instance of a study by series (series without any left out), in one query.

        Later :meth:`instances` calls of its series reuse the answer, and so does this
        method while the index has not changed.
        """
        with self._lock:
            version = self._version()
            series = [s.series_uid for s in queries.list_series(self._con, study_uid)]
            kept = [self._instances.get(uid) for uid in series]
            if series and all(k is not None and k[0] == version for k in kept):
                for uid in series:
                    self._instances.move_to_end(uid)
                return {uid: list(k[1]) for uid, k in zip(series, kept, strict=True) if k is not None and k[1]}
            by_series = queries.list_study_instances(self._con, study_uid)
            self._keep_instances(version, {uid: by_series.get(uid, []) for uid in series} | by_series)
            return {uid: list(rows) for uid, rows in by_series.items()}

    #: At most this many instance rows are kept for :meth:`instances` (about 1.5 kB each).
    INSTANCE_ROWS_KEPT = 12_000

    def _version(self) -> tuple[int, int]:
        # Other connections' commits move data_version; this connection's own writes move total_changes.
        return int(self._con.execute("PRAGMA data_version").fetchone()[0]), self._con.total_changes

    def _keep_instances(self, version: tuple[int, int], by_series: dict[str, list[queries.InstanceRow]]) -> None:
        kept = self._instances
        for uid, rows in by_series.items():
            kept.pop(uid, None)
            kept[uid] = (version, rows)
        total = sum(len(rows) for _v, rows in kept.values())
        while kept and total > self.INSTANCE_ROWS_KEPT:
            _uid, (_v, rows) = kept.popitem(last=False)
            total -= len(rows)

    def instance(self, sop_uid: str) -> queries.InstanceRow | None:
        with self._lock:
            return queries.get_instance(self._con, sop_uid)

    def path_of(self, row: queries.InstanceRow) -> Path:
        return resolve_inside(self.cache_dir, row.file_path)

    def conflicts(self) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._con.execute("SELECT * FROM conflicts ORDER BY received_at"))

    def data_version(self) -> int:
        """Changes whenever anyone commits to the index, this connection included (cheap; the GUI polls it).

        SQLite's ``PRAGMA data_version`` moves only for other connections' commits,
        so a report signed or an image rejected through this same connection would
        go unseen; the connection's own count of changed rows covers those.
        """
        with self._lock:
            return int(self._con.execute("PRAGMA data_version").fetchone()[0]) + self._con.total_changes

    def mark_opened(self, study_uid: str) -> None:
        with self._lock, self.instances_unchanged(), transaction(self._con):
            self._con.execute("UPDATE studies SET last_opened=? WHERE study_uid=?", (now_iso(), study_uid))

    @contextmanager
    def instances_unchanged(self) -> Iterator[None]:
        """Around a write of this connection that changes no instance row (a hold, the time a study was opened).

        The instance rows :meth:`instances` keeps stay valid across it: opening a study
        writes such rows between the reads of its series.
        """
        with self._lock:
            before = self._version()
            yield
            after = self._version()
            if after[0] != before[0]:
                return  # another connection committed meanwhile: what it changed is unknown
            kept = self._instances
            for uid, (version, rows) in kept.items():
                if version == before:
                    kept[uid] = (after, rows)

    def set_pinned(self, study_uid: str, pinned: bool) -> bool:
        with self._lock, transaction(self._con):
            cur = self._con.execute("UPDATE studies SET pinned=? WHERE study_uid=?", (int(pinned), study_uid))
            return cur.rowcount > 0

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection for store-internal modules (verify, prune); hold :attr:`lock`."""
        return self._con

    @property
    def lock(self) -> threading.RLock:
        return self._lock
