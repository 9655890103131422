"""The index's change counter the study list polls: it moves for every commit, whichever connection made it."""

from __future__ import annotations

from pydicom import dcmread

from tests.factories import write_series
from workstation.qc.rejection import reject_instances
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


def test_data_version_moves_for_commits_of_this_connection_and_of_others(tmp_path):
    cache = StudyCache(tmp_path / "index.sqlite", tmp_path / "cache")
    other = StudyCache(tmp_path / "index.sqlite", tmp_path / "cache")
    try:
        paths = write_series(tmp_path / "ct", 3)
        study = str(dcmread(paths[0]).StudyInstanceUID)
        v0 = cache.data_version()
        import_paths(other, [str(p) for p in paths[:2]])  # another connection (an import, the storage SCP)
        v1 = cache.data_version()
        assert v1 != v0
        assert cache.data_version() == v1  # nothing new: the same number
        # This connection's own commits (SQLite's PRAGMA data_version alone does not move for them).
        cache.mark_opened(study)
        v2 = cache.data_version()
        assert v2 != v1
        reject_instances(cache, [str(dcmread(paths[0]).SOPInstanceUID)], "quality", operator="QC^Tech")
        assert cache.data_version() != v2
        row = cache.study(study)
        assert (row.num_instances, row.num_rejected, row.num_images_shown) == (3, 2, 1)  # 2 images + the note
    finally:
        other.close()
        cache.close()
