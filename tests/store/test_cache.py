"""The study cache: layout, duplicates and conflicts, escapes, migrations, verify, prune."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.factories import ct_dataset, uid, write_series
from workstation.dicom.header import parse_header
from workstation.home import Home
from workstation.store import maintenance
from workstation.store.cache import StudyCache
from workstation.store.database import IndexError_, connect, schema_version
from workstation.store.importer import import_paths
from workstation.store.layout import instance_relpath, resolve_inside
from workstation.store.schema import SCHEMA_VERSION
from workstation.store.writer import Outcome


def _bytes(ds) -> bytes:
    from io import BytesIO

    bio = BytesIO()
    ds.save_as(bio, enforce_file_format=True)
    return bio.getvalue()


def test_new_duplicate_and_conflict(cache):
    study, series, sop = uid(), uid(), uid()
    first = _bytes(ct_dataset(study_uid=study, series_uid=series, sop_uid=sop, fill=10))
    res = cache.store_bytes(first, parse_header(first)[1])
    assert res.outcome is Outcome.STORED
    path = cache.cache_dir / study / series / f"{sop}.dcm"
    assert path.read_bytes() == first
    again = cache.store_bytes(first, parse_header(first)[1])
    assert again.outcome is Outcome.DUPLICATE
    changed = _bytes(ct_dataset(study_uid=study, series_uid=series, sop_uid=sop, fill=99))
    res = cache.store_bytes(changed, parse_header(changed)[1])
    assert res.outcome is Outcome.CONFLICT
    # The cached copy is untouched; the other one is kept aside and recorded.
    assert path.read_bytes() == first
    assert (cache.cache_dir / res.relpath).read_bytes() == changed
    assert [r["sop_instance_uid"] for r in cache.conflicts()] == [sop]
    assert cache.study(study).num_instances == 1
    assert not list((cache.cache_dir / ".incoming").iterdir())


def test_counts_and_summary(cache, tmp_path):
    study = uid()
    write_series(tmp_path / "a", 3, study_uid=study)
    write_series(tmp_path / "b", 2, study_uid=study, modality="PT")
    import_paths(cache, [tmp_path])
    row = cache.study(study)
    assert (row.num_series, row.num_instances, row.modalities) == (2, 5, "CT\\PT")
    assert [s.num_instances for s in cache.series(study)] in ([3, 2], [2, 3])


@pytest.mark.parametrize(
    "field,value",
    [
        ("StudyInstanceUID", "../../x"),
        ("SeriesInstanceUID", "../../../escaped"),
        ("SOPInstanceUID", "/tmp/abs"),
        ("StudyInstanceUID", "1.2.3/../../x"),
        ("SOPInstanceUID", "1." * 40),
        ("SeriesInstanceUID", "..\\..\\win"),
    ],
)
def test_hostile_uids_never_leave_the_cache(cache, tmp_path, field, value):
    src = tmp_path / "hostile"
    src.mkdir()
    ds = ct_dataset(study_uid=uid(), series_uid=uid())
    setattr(ds, field, value)
    if field == "SOPInstanceUID":
        ds.file_meta.MediaStorageSOPInstanceUID = uid()
    ds.save_as(src / "evil.dcm", enforce_file_format=True)
    before = {p for p in tmp_path.rglob("*")}
    summary = import_paths(cache, [src])
    assert summary.imported == 0 and len(summary.skipped) == 1
    assert "UID" in summary.skipped[0].reason
    after = {p for p in tmp_path.rglob("*")}
    new = {p for p in after - before if p.is_file()}
    # Only the index and its journal may have appeared; nothing outside the home, no instance.
    home = cache.index_file.parent
    assert all(home in p.parents for p in new), new
    assert not [p for p in new if p.suffix in (".dcm", ".part")]
    assert not (tmp_path.parent / "x").exists() and not Path("/tmp/abs.dcm").exists()


def test_path_helpers_refuse_escapes(cache):
    with pytest.raises(ValueError):
        instance_relpath("../../x", "1.2", "1.3")
    with pytest.raises(ValueError):
        resolve_inside(cache.cache_dir, "../outside.dcm")


def test_migrates_an_index_made_by_schema_version_1(lightbox_home, tmp_path):
    home = Home.single(lightbox_home)
    home.ensure()
    con = connect(home.index_file, migrate_to=1)
    assert schema_version(con) == 1
    con.execute("INSERT INTO patients (patient_id, name) VALUES ('P1', 'Old^Row')")
    con.execute(
        "INSERT INTO studies (patient_pk, study_uid, created, num_series, num_instances)"
        " VALUES (1, '1.2.3', '2020', 0, 0)"
    )
    con.close()
    cache = StudyCache.open(home)
    try:
        assert schema_version(cache.connection) == SCHEMA_VERSION
        assert cache.study("1.2.3").patient_name == "Old^Row"
        assert cache.study("1.2.3").mixed_patients is False
        write_series(tmp_path / "s", 2)
        assert import_paths(cache, [tmp_path / "s"]).imported == 2
    finally:
        cache.close()


def test_refuses_an_index_from_a_newer_lightbox(lightbox_home):
    home = Home.single(lightbox_home).ensure()
    con = sqlite3.connect(home.index_file)
    con.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    con.close()
    with pytest.raises(IndexError_, match="newer Lightbox"):
        StudyCache.open(home)


def test_mixed_patients_in_a_study_are_flagged(cache, tmp_path):
    study = uid()
    write_series(tmp_path / "a", 2, study_uid=study, patient_id="A1")
    write_series(tmp_path / "b", 2, study_uid=study, patient_id="B2", patient_name="Other^Person")
    import_paths(cache, [tmp_path])
    assert cache.study(study).mixed_patients is True


def test_verify_and_repair(cache, tmp_path):
    write_series(tmp_path / "s", 4)
    import_paths(cache, [tmp_path / "s"])
    assert maintenance.verify(cache).tidy
    rows = cache.instances(cache.series(cache.studies()[0].study_uid)[0].series_uid)
    # A missing file, a changed file, an orphan (valid DICOM), a stray non-DICOM file, an unfinished write.
    cache.path_of(rows[0]).unlink()
    changed = cache.path_of(rows[1])
    data = bytearray(changed.read_bytes())
    data[-1] ^= 0xFF
    changed.write_bytes(bytes(data))
    orphan_ds = ct_dataset(study_uid=uid(), series_uid=uid())
    orphan_rel = instance_relpath(orphan_ds.StudyInstanceUID, orphan_ds.SeriesInstanceUID, orphan_ds.SOPInstanceUID)
    (cache.cache_dir / orphan_rel).parent.mkdir(parents=True)
    orphan_ds.save_as(cache.cache_dir / orphan_rel, enforce_file_format=True)
    (cache.cache_dir / "stray.txt").write_text("not dicom")
    (cache.cache_dir / ".incoming").mkdir(exist_ok=True)
    (cache.cache_dir / ".incoming" / "999999999-dead.part").write_bytes(b"half")

    report = maintenance.verify(cache)
    assert not report.consistent
    assert report.missing == [rows[0].sop_instance_uid]
    assert report.mismatched == [rows[1].sop_instance_uid]
    assert sorted(report.orphans) == sorted([orphan_rel, "stray.txt"])
    assert report.partial == [".incoming/999999999-dead.part"]

    maintenance.verify(cache, repair=True)
    after = maintenance.verify(cache)
    assert after.tidy, after.as_dict()
    assert cache.instance(orphan_ds.SOPInstanceUID) is not None
    assert cache.instance(rows[0].sop_instance_uid) is None
    # Nothing is lost: the changed file and the stray file are kept in .lost.
    lost = sorted(p.name for p in (cache.cache_dir / ".lost").iterdir())
    assert len(lost) == 2


def test_prune_evicts_least_recently_opened_never_pinned_or_held(cache, tmp_path):
    studies = []
    for i in range(4):
        study = uid()
        write_series(tmp_path / f"s{i}", 3, study_uid=study, size=64)
        studies.append(study)
    import_paths(cache, [tmp_path])
    for s in studies:  # opened in order: studies[0] is the least recently opened
        cache.mark_opened(s)
        cache.connection.execute("UPDATE studies SET last_opened=? WHERE study_uid=?",
                                 (f"2024-01-0{studies.index(s)+1}", s))
    cache.set_pinned(studies[0], True)
    maintenance.hold(cache, studies[1], "viewer")
    report = maintenance.prune(cache, max_bytes=0)
    left = {s.study_uid for s in cache.studies()}
    assert left == {studies[0], studies[1]}
    assert report.evicted == [studies[2], studies[3]]
    assert not (cache.cache_dir / studies[2]).exists()
    assert maintenance.verify(cache).tidy
    maintenance.release(cache, studies[1], "viewer")
    maintenance.prune(cache, max_bytes=0)
    assert {s.study_uid for s in cache.studies()} == {studies[0]}


def test_prune_stops_when_under_the_limit(cache, tmp_path):
    for i in range(3):
        write_series(tmp_path / f"s{i}", 2, size=64)
    import_paths(cache, [tmp_path])
    total = sum(s.size_bytes for s in cache.studies())
    report = maintenance.prune(cache, max_bytes=total)
    assert report.evicted == [] and len(cache.studies()) == 3


def test_name_filter_folds_case_beyond_ascii(cache, tmp_path):
    from workstation.store.queries import StudyFilter

    write_series(tmp_path / "a", 1, patient_name="Müller^Anna", patient_id="M1")
    write_series(tmp_path / "b", 1, patient_name="MÜLLER^Otto", patient_id="M2")
    import_paths(cache, [tmp_path])
    assert {s.patient_id for s in cache.studies(StudyFilter(patient_name="müller"))} == {"M1", "M2"}
    assert [s.patient_id for s in cache.studies(StudyFilter(patient_name="müller^a*"))] == ["M1"]
    assert all(s.size_bytes > 0 for s in cache.studies())
