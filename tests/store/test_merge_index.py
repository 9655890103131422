"""The index of ``patient_changes.old_value``: an index made by the previous schema gains it when opened, keeps
its recorded merges, and the merge lookup (a study arriving under a merged-away Patient ID) uses it."""

from __future__ import annotations

from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.database import connect, schema_version
from workstation.store.importer import import_paths
from workstation.store.merges import is_merged_study, survivor_of
from workstation.store.schema import SCHEMA_VERSION
from tests.factories import write_series

SURVIVOR = ("Παπαδόπουλος^Νίκος", "IDX-S")
PRIOR = ("Papadopoulos^Nikos", "IDX-P")


def _plan(con, sql: str, args: tuple[str, ...]) -> str:
    return " ".join(str(r["detail"]) for r in con.execute("EXPLAIN QUERY PLAN " + sql, args))


def _previous_version_index_with_a_merge(home: Home) -> None:
    """An index as the previous Lightbox left it: the prior's study merged into the survivor, 50 other merges."""
    con = connect(home.index_file, migrate_to=SCHEMA_VERSION - 1)
    assert schema_version(con) == SCHEMA_VERSION - 1
    survivor = con.execute("INSERT INTO patients (patient_id, name) VALUES (?, ?)",
                           (SURVIVOR[1], SURVIVOR[0])).lastrowid
    con.execute("INSERT INTO patients (patient_id, name) VALUES (?, ?)", (PRIOR[1], PRIOR[0]))
    con.execute("INSERT INTO studies (patient_pk, study_uid, created, num_series, num_instances)"
                " VALUES (?, '1.2.826.0.1.3680043.8.498.77', '2020', 0, 0)", (survivor,))
    rows = [(SURVIVOR[1], "1.2.826.0.1.3680043.8.498.77", "patient_id", PRIOR[1], SURVIVOR[1])]
    rows += [(f"S{i}", f"1.2.3.{i}", "patient_id", f"P{i}", f"S{i}") for i in range(50)]
    con.executemany("INSERT INTO patient_changes (action, patient_id, study_uid, field, old_value, new_value, source,"
                    " created) VALUES ('merge', ?, ?, ?, ?, ?, 'hl7', '2020')", rows)
    con.close()


def test_an_index_of_the_previous_version_gains_the_merge_index_and_keeps_its_merges(home, tmp_path):
    _previous_version_index_with_a_merge(home)
    lookup = ("SELECT patient_id, issuer FROM patient_changes WHERE action=? AND field='patient_id' AND old_value=?"
              " ORDER BY pk DESC LIMIT 1")
    old = connect(home.index_file, readonly=True)
    assert "patient_changes_old_value" not in _plan(old, lookup, ("merge", PRIOR[1]))  # a scan before
    old.close()

    with StudyCache.open(home) as cache:
        con = cache.connection
        assert schema_version(con) == SCHEMA_VERSION
        names = {r["name"] for r in con.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert {"patient_changes_old_value", "patient_changes_study"} <= names
        assert "patient_changes_old_value" in _plan(con, lookup, ("merge", PRIOR[1]))
        assert "patient_changes_study" in _plan(
            con, "SELECT field, old_value FROM patient_changes WHERE action=? AND study_uid=?", ("merge", "1.2.3.4"))
        # The merges recorded before the migration are still followed.
        with cache.lock:
            found = survivor_of(con, PRIOR[1])
            assert found is not None and (found.patient_id, found.name) == (SURVIVOR[1], SURVIVOR[0])
            assert is_merged_study(con, "1.2.826.0.1.3680043.8.498.77", PRIOR[1])
        # A new study arriving under the merged-away ID is filed under the survivor.
        paths = write_series(tmp_path / "late", 2, study_uid="1.2.826.0.1.3680043.8.498.78",
                             patient_name=PRIOR[0], patient_id=PRIOR[1])
        assert import_paths(cache, [str(p) for p in paths]).imported == 2
        late = cache.study("1.2.826.0.1.3680043.8.498.78")
        assert (late.patient_id, late.patient_name) == (SURVIVOR[1], SURVIVOR[0])


def test_a_fresh_index_has_the_merge_index(home):
    with StudyCache.open(home) as cache:
        names = {r["name"] for r in cache.connection.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "patient_changes_old_value" in names
