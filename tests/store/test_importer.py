"""Import of files, folders, DICOMDIR file sets, zip archives and the public test files."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pydicom
import pytest

from tests.factories import uid, write_series
from workstation.store import maintenance
from workstation.store.importer import import_paths


def pydicom_test_files() -> Path:
    return Path(pydicom.data.__file__).parent / "test_files"


def pydicom_data_files() -> Path:
    import data_store

    return Path(data_store.__file__).parent / "data"


def test_folder_zip_and_garbage(cache, tmp_path):
    src = tmp_path / "src"
    write_series(src / "one", 5)
    (src / "notes.txt").write_text("hello")
    (src / "empty.dcm").write_bytes(b"")
    (src / "truncated.dcm").write_bytes((src / "one" / "im0000.dcm").read_bytes()[:200])
    zpath = tmp_path / "more.zip"
    other = write_series(tmp_path / "zipped", 3)
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in other:
            zf.write(p, f"study/{p.name}")
    summary = import_paths(cache, [src, zpath, tmp_path / "does-not-exist"])
    assert summary.imported == 8
    reasons = {Path(s.label.split("!")[0]).name: s.reason for s in summary.skipped}
    assert reasons["notes.txt"].startswith("not DICOM")
    assert reasons["empty.dcm"] == "empty file"
    assert "truncated.dcm" in reasons
    assert reasons["does-not-exist"] == "no such file or folder"
    assert len(cache.studies()) == 2
    assert maintenance.verify(cache).tidy


def test_dicomdir_file_set(cache, tmp_path):
    from pydicom.fileset import FileSet

    fs = FileSet()
    for p in write_series(tmp_path / "raw", 4):
        fs.add(pydicom.dcmread(p))
    out = tmp_path / "media"
    fs.write(out)
    summary = import_paths(cache, [out / "DICOMDIR"])
    assert summary.imported == 4 and not summary.skipped
    # Importing the folder finds the same files; the DICOMDIR itself is reported, not imported.
    again = import_paths(cache, [out])
    assert again.duplicates == 4 and again.imported == 0
    assert any("DICOMDIR" in s.reason for s in again.skipped)


def test_parallel_workers_path(cache, tmp_path):
    write_series(tmp_path / "big", 150, size=32)
    summary = import_paths(cache, [tmp_path / "big"], workers=2)
    assert summary.imported == 150
    assert cache.studies()[0].num_instances == 150
    assert maintenance.verify(cache).tidy
    assert not [p for p in (cache.cache_dir / ".incoming").iterdir()]


def test_reimport_is_all_duplicates(cache, tmp_path):
    # tmp_path also holds the Lightbox home: the cache and index are never re-imported.
    write_series(tmp_path / "s", 10)
    first = import_paths(cache, [tmp_path])
    assert (first.imported, len(first.skipped)) == (10, 0)
    again = import_paths(cache, [tmp_path])
    assert (again.imported, again.duplicates, len(again.skipped)) == (0, 10, 0)


@pytest.mark.parametrize("corpus", ["pydicom", "pydicom-data"])
def test_public_test_files_import_or_skip_with_reason(cache, corpus):
    folder = pydicom_test_files() if corpus == "pydicom" else pydicom_data_files()
    summary = import_paths(cache, [folder])
    assert summary.imported > 20
    assert summary.failed == 0
    for s in summary.skipped:
        assert s.reason and len(s.reason) < 300
    # Every imported object is intact: the cached bytes equal the source bytes.
    report = maintenance.verify(cache)
    assert report.consistent and not report.orphans
    for study in cache.studies():
        for series in cache.series(study.study_uid):
            for inst in cache.instances(series.series_uid):
                assert cache.path_of(inst).stat().st_size == inst.file_size


def test_concurrent_writers_agree(cache, tmp_path, lightbox_home):
    """Two importers (this process and another) over overlapping files: one row per SOP Instance UID."""
    import subprocess
    import sys

    study = uid()
    write_series(tmp_path / "shared", 80, study_uid=study, size=32)
    proc = subprocess.Popen(
        [sys.executable, "-m", "workstation", "import", str(tmp_path / "shared"), "--workers", "1"],
        env={**os.environ, "LIGHTBOX_HOME": str(lightbox_home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        mine = import_paths(cache, [tmp_path / "shared"], workers=1)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert cache.study(study).num_instances == 80
    assert mine.imported + mine.duplicates == 80
    assert mine.conflicts == 0
    assert maintenance.verify(cache).tidy


def test_threads_sync_each_group_once_before_indexing_it(cache, tmp_path, monkeypatch):
    """One filesystem sync per group of staged files, and only then are they renamed into place and indexed."""
    from workstation.store import importer

    write_series(tmp_path / "big", 70, size=16)
    monkeypatch.setattr(importer, "CHUNK", 8)
    monkeypatch.setattr(importer, "GROUP", 20)
    indexed_at_sync: list[int] = []
    real_sync = importer.sync_filesystem

    def sync(path, **kw):
        study = cache.studies()
        indexed_at_sync.append(study[0].num_instances if study else 0)
        staged = [p for p in (cache.cache_dir / ".incoming").iterdir() if p.suffix == ".part"]
        assert staged, "a sync with nothing staged"
        return real_sync(path, **kw)

    monkeypatch.setattr(importer, "sync_filesystem", sync)
    summary = import_paths(cache, [tmp_path / "big"], workers=2)
    assert summary.imported == 70 and not summary.skipped
    # Groups of at least 20 (whole chunks of 8: 24, 24, 22): each synced once, then indexed.
    assert indexed_at_sync == [0, 24, 48]
    assert maintenance.verify(cache, check_hashes=True).tidy


def test_a_chunk_that_fails_unexpectedly_skips_only_its_bad_file(cache, tmp_path, monkeypatch):
    from workstation.store import importer

    paths = write_series(tmp_path / "s", 12, size=16)
    monkeypatch.setattr(importer, "CHUNK", 4)
    real = importer._prepare_one
    bad = paths[5]

    def prepare(src, cache_dir, zips):
        if Path(src.path) == bad:
            raise MemoryError("hostile file")
        return real(src, cache_dir, zips)

    monkeypatch.setattr(importer, "_prepare_one", prepare)
    summary = import_paths(cache, [tmp_path / "s"], workers=2)
    assert summary.imported == 11
    assert [(Path(s.label).name, s.reason) for s in summary.skipped] == [(bad.name, "unreadable (MemoryError)")]
    assert maintenance.verify(cache).tidy
    assert not list((cache.cache_dir / ".incoming").iterdir())


def test_non_latin_names_survive_the_threaded_import(cache, tmp_path, monkeypatch):
    from pydicom.data import get_charset_files

    from workstation.store import importer

    monkeypatch.setattr(importer, "CHUNK", 3)
    files = [Path(f) for f in get_charset_files("*.dcm")]
    expected = {}
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        if "SOPInstanceUID" in ds and "PatientName" in ds:
            expected[str(ds.SOPInstanceUID)] = str(ds.PatientName)
    summary = import_paths(cache, files, workers=2)
    assert summary.imported >= len(expected) > 10
    names = {}
    for study in cache.studies():
        for series in cache.series(study.study_uid):
            for row in cache.instances(series.series_uid):
                names[row.sop_instance_uid] = row
    for sop, name in expected.items():
        assert sop in names
        assert str(pydicom.dcmread(cache.path_of(names[sop]), stop_before_pixels=True).PatientName) == name
