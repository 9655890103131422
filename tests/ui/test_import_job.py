"""The import adapter: a worker thread, throttled progress, one import at a time."""

from __future__ import annotations

from workstation.store.cache import StudyCache
from workstation.ui.import_job import ImportRunner, RateGate

from tests.ui.dicom_files import write_instance


def test_rate_gate_lets_ten_a_second_through():
    now = [0.0]
    gate = RateGate(0.1, clock=lambda: now[0])
    passed = 0
    for i in range(1, 1001):  # 1000 reports over one second
        now[0] = i / 1000
        passed += gate.allow(i, 1000)
    assert 9 <= passed <= 12
    assert gate.allow(1000, 1000)  # the last one always


def test_runner_reports_and_ends(qtbot, cache, tmp_path):
    for i in range(3):
        write_instance(tmp_path / "in" / f"{i}.dcm", study_uid="1.2.826.0.1.3680043.10.1234.21")
    (tmp_path / "in" / "notes.txt").write_text("not DICOM")
    opened = []

    def open_cache():
        c = StudyCache(cache.index_file, cache.cache_dir)
        opened.append(c)
        return c

    runner = ImportRunner(open_cache)
    progress = []
    runner.progress.connect(lambda d, t: progress.append((d, t)))
    with qtbot.waitSignal(runner.finished, timeout=30_000) as done:
        assert runner.start([tmp_path / "in"])
        assert runner.is_running()
    summary = done.args[0]
    assert (summary.imported, len(summary.skipped)) == (3, 1)
    assert progress[-1] == (4, 4)  # every source found counts, the skipped one too
    assert not runner.is_running()
    assert len(opened) == 1  # its own connection, so the GUI's poll sees the commits
    assert len(cache.studies()) == 1


def test_runner_reports_failure(qtbot, cache):
    def broken():
        raise OSError("disk gone")

    runner = ImportRunner(broken)
    with qtbot.waitSignal(runner.failed, timeout=30_000) as failed:
        runner.start(["/nowhere"])
    assert failed.args == ["disk gone"]
    assert not runner.is_running()
    assert not runner.start([])  # nothing to import
