"""Instances withdrawn by rejection notes are hidden when reading; the reader can show them."""

from __future__ import annotations


from tests.factories import uid, write_series
from workstation.session.reading import ReadingSession
from workstation.qc.rejection import reject_instances
from workstation.store.importer import import_paths


def _open(cache, tmp_path):
    study = uid()
    write_series(tmp_path / "s", 6, study_uid=study)
    import_paths(cache, [tmp_path / "s"])
    series = cache.series(study)[0].series_uid
    return study, [r.sop_instance_uid for r in cache.instances(series)]


def test_rejected_instances_are_hidden_until_asked_for(cache, tmp_path):
    study, sops = _open(cache, tmp_path)
    reject_instances(cache, sops[:2], "quality")
    session = ReadingSession(cache)
    try:
        sets = session.open_study(study)
        assert sum(len(d.stack) for d in sets) == 4
        assert session.hidden_counts[study] >= 2
        shown = session.set_show_rejected(True)
        assert sum(len(d.stack) for d in shown) == 6  # the note is not shown as key images
        assert session.hidden_counts[study] == 0
        hidden_again = session.set_show_rejected(False)
        assert sum(len(d.stack) for d in hidden_again) == 4
    finally:
        session.close()
