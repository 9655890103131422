"""Instance rows read once per index version: a study opened asks for its series many times, the index once."""

from __future__ import annotations

import sqlite3

from pydicom import dcmread

from tests.factories import uid, write_series
from workstation.qc.rejection import reject_instances
from workstation.store import maintenance, queries
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


class _CountingConnection:
    """The cache's connection, counting the instance queries that reach SQLite."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self._con = con
        self.instance_queries = 0

    def execute(self, sql: str, *args):
        if "FROM instances i JOIN series se" in sql:
            self.instance_queries += 1
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self._con, name)


def _two_series_study(tmp_path, cache: StudyCache) -> tuple[str, str, str, list]:
    study = uid()
    first = write_series(tmp_path / "a", 3, study_uid=study)
    second = write_series(tmp_path / "b", 2, study_uid=study, patient_name="Đặng^Thị Mỹ")
    import_paths(cache, [str(p) for p in first + second])
    return study, str(dcmread(first[0]).SeriesInstanceUID), str(dcmread(second[0]).SeriesInstanceUID), first


def test_one_query_per_study_then_none_until_the_index_changes(tmp_path, monkeypatch):
    cache = StudyCache(tmp_path / "index.sqlite", tmp_path / "cache")
    other = StudyCache(tmp_path / "index.sqlite", tmp_path / "cache")
    try:
        study, series_a, series_b, first = _two_series_study(tmp_path, cache)
        counting = _CountingConnection(cache.connection)
        monkeypatch.setattr(cache, "_con", counting)  # the test's window on the queries the cache makes
        by_series = cache.study_instances(study)
        assert sorted(by_series) == sorted([series_a, series_b])
        assert [r.instance_number for r in by_series[series_a]] == [1, 2, 3]
        assert counting.instance_queries == 1
        # The same rows as the per-series query, in its order, without asking the index again.
        for series_uid in (series_a, series_b, series_a):
            kept = cache.instances(series_uid)
            assert kept == queries.list_instances(counting._con, series_uid)
        assert counting.instance_queries == 1
        assert cache.study_instances(study) == by_series and counting.instance_queries == 1  # asked again: kept
        # Writes that change no instance row (a study opened and held by the viewer) keep them.
        cache.mark_opened(study)
        maintenance.hold(cache, study, "viewer")
        maintenance.release(cache, study, "viewer")
        assert cache.instances(series_a) and counting.instance_queries == 1
        # A caller changing its list changes nothing kept.
        cache.instances(series_a).clear()
        assert len(cache.instances(series_a)) == 3

        # Another connection's commit (an import): read again, the new instance included.
        more = write_series(tmp_path / "c", 1, study_uid=study, series_uid=series_a)
        import_paths(other, [str(more[0])])
        assert len(cache.instances(series_a)) == 4
        assert counting.instance_queries == 2
        # This connection's own commit (a rejection note written through it): read again too.
        reject_instances(cache, [str(dcmread(first[0]).SOPInstanceUID)], "quality", operator="QC^Tech")
        before = counting.instance_queries
        cache.instances(series_b)
        assert counting.instance_queries == before + 1
    finally:
        other.close()
        cache.close()


def test_kept_rows_are_bounded(tmp_path, monkeypatch):
    cache = StudyCache(tmp_path / "index.sqlite", tmp_path / "cache")
    try:
        study, series_a, series_b, _first = _two_series_study(tmp_path, cache)
        monkeypatch.setattr(StudyCache, "INSTANCE_ROWS_KEPT", 3)
        cache.instances(series_a)
        cache.instances(series_b)  # 3 + 2 rows: the older series goes
        assert list(cache._instances) == [series_b]
        assert len(cache.study_instances(study)[series_a]) == 3
    finally:
        cache.close()
