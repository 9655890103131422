"""The main window over a real cache: filtering, imports landing while it is open, opening a study."""

from __future__ import annotations

import datetime as dt
import subprocess
import threading

import pytest
from PySide6.QtCore import Qt, QTimer

from tests.ui.dicom_files import CT_SMALL_STUDY, MR_SMALL_STUDY, write_instance
from workstation.ui import import_job
from workstation.ui.main_window import MainWindow

WAIT_MS = 20_000  # generous for a loaded 2-core machine; every wait still ends


@pytest.fixture
def window(qtbot, filled_cache):
    w = MainWindow(filled_cache, poll_interval_ms=100)
    qtbot.addWidget(w)
    w.show()
    # The list is read on a worker thread: wait for the first read.
    qtbot.waitUntil(lambda: w.browser.proxy.rowCount() == 4, timeout=WAIT_MS)
    yield w
    if w.imports.is_running():
        w.imports.cancel()
        w.imports.wait(WAIT_MS)


def test_window_lists_the_cached_studies(window):
    assert window.windowTitle() == "Lightbox"
    assert window.browser.proxy.rowCount() == 4
    assert window.browser.count_label.text() == "4 studies"
    names = {window.browser.proxy.index(r, 0).data() for r in range(4)}
    assert "CompressedSamples, CT1" in names
    # Newest study first.
    dates = [window.browser.proxy.index(r, 4).data() for r in range(4)]
    assert dates == sorted(dates, reverse=True)
    menu = window.menuBar().actions()[0].menu()
    assert [a.text() for a in menu.actions() if a.text()] == ["Import &files…", "Import f&older…", "&Quit"]


def test_filter_by_name_and_modality(qtbot, window):
    bar, browser = window.browser.filter_bar, window.browser
    qtbot.keyClicks(bar.name_edit, "compressed")
    qtbot.waitUntil(lambda: browser.proxy.rowCount() == 2, timeout=WAIT_MS)
    assert browser.count_label.text() == "2 studies"
    bar.modality_combo.setCurrentText("MR")
    qtbot.waitUntil(lambda: browser.shown_study_uids() == [MR_SMALL_STUDY], timeout=WAIT_MS)
    assert browser.count_label.text() == "1 study"
    bar.clear()
    qtbot.waitUntil(lambda: browser.proxy.rowCount() == 4, timeout=WAIT_MS)
    bar.modality_combo.setCurrentText("CT")
    qtbot.waitUntil(lambda: browser.shown_study_uids() == [CT_SMALL_STUDY], timeout=WAIT_MS)
    bar.modality_combo.setCurrentText("any")
    qtbot.keyClicks(bar.id_edit, "4MR")
    qtbot.waitUntil(lambda: browser.shown_study_uids() == [MR_SMALL_STUDY], timeout=WAIT_MS)
    bar.id_edit.clear()
    bar.date_from_edit.set_date_or_none(dt.date(2004, 1, 1))
    bar.date_to_edit.set_date_or_none(dt.date(2004, 12, 31))
    qtbot.waitUntil(lambda: set(browser.shown_study_uids()) == {CT_SMALL_STUDY, MR_SMALL_STUDY}, timeout=WAIT_MS)


def test_family_given_name_search(qtbot, window, tmp_path):
    write_instance(tmp_path / "anna.dcm", study_uid="1.2.826.0.1.3680043.10.1234.5")
    window.start_import([tmp_path / "anna.dcm"])
    qtbot.waitUntil(lambda: window.browser.proxy.rowCount() == 5, timeout=WAIT_MS)
    window.browser.filter_bar.name_edit.setText("Müller, Anna")  # QTest cannot type non-ASCII keys
    qtbot.waitUntil(lambda: window.browser.proxy.rowCount() == 1, timeout=WAIT_MS)
    assert window.browser.proxy.index(0, 0).data() == "Müller, Anna"


def test_background_import_lands_without_freezing(qtbot, window, tmp_path, monkeypatch):
    # Deterministic, not timed (the longest event-loop stall is a benchmark figure): the import is held
    # at its start on an event the test controls, and meanwhile the window must take a click and run a
    # queued event; then the import may go on and land.
    study = "1.2.826.0.1.3680043.10.1234.11"
    folder = tmp_path / "incoming"
    for i in range(70):  # above the importer's in-process limit: worker processes do the parsing
        write_instance(folder / f"{i:03}.dcm", study_uid=study)
    progress = []
    window.imports.progress.connect(lambda done, total: progress.append((done, total)))
    entered, release = threading.Event(), threading.Event()
    import_threads = []
    real_import = import_job.import_paths

    def held_import(cache, paths, **kwargs):
        import_threads.append(threading.current_thread())
        entered.set()
        release.wait(WAIT_MS / 1000)  # bounded: a failing test still lets the thread end
        return real_import(cache, paths, **kwargs)

    monkeypatch.setattr(import_job, "import_paths", held_import)
    try:
        with qtbot.waitSignal(window.imports.finished, timeout=WAIT_MS * 3) as finished:
            assert window.start_import([folder])  # returns while the import is held: it is not on this thread
            assert entered.wait(WAIT_MS / 1000)
            assert import_threads[0] is not threading.main_thread()
            assert window.progress_bar.isVisible()
            assert not window.start_import([folder])  # one at a time
            # While the import is held, the window answers: a click selects a study, a posted call runs.
            browser = window.browser
            table = browser.table
            rect = table.visualRect(browser.proxy.index(browser.shown_study_uids().index(MR_SMALL_STUDY), 1))
            qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
            assert browser.selected_study_uid() == MR_SMALL_STUDY
            posted = []
            QTimer.singleShot(0, lambda: posted.append(threading.current_thread()))
            qtbot.waitUntil(lambda: bool(posted), timeout=WAIT_MS)
            assert posted == [threading.main_thread()]
            assert not release.is_set() and window.imports.is_running()
            release.set()
    finally:
        release.set()
    summary = finished.args[0]
    assert summary.imported == 70
    assert progress and progress[-1] == (70, 70)
    qtbot.waitUntil(lambda: study in window.browser.shown_study_uids(), timeout=WAIT_MS)
    assert window.browser.count_label.text() == "5 studies"
    assert window.statusBar().currentMessage() == "Import finished: 70 imported, 0 duplicates, 0 conflicts, 0 skipped"
    assert not window.progress_bar.isVisible()
    assert window.import_files_action.isEnabled()


def test_import_from_another_process_appears(qtbot, window, tmp_path, lightbox_cmd):
    study = "1.2.826.0.1.3680043.10.1234.12"
    write_instance(tmp_path / "cli" / "one.dcm", study_uid=study, modality="MR")
    # The window's own poll must notice: no import of this process is involved.
    done = subprocess.run([*lightbox_cmd, "import", str(tmp_path / "cli")], capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    qtbot.waitUntil(lambda: study in window.browser.shown_study_uids(), timeout=WAIT_MS)
    assert window.browser.count_label.text() == "5 studies"


def test_selection_survives_refresh(qtbot, window, tmp_path):
    browser = window.browser
    assert browser.select_study(MR_SMALL_STUDY)
    write_instance(tmp_path / "x.dcm", study_uid="1.2.826.0.1.3680043.10.1234.13")
    window.start_import([tmp_path / "x.dcm"])
    qtbot.waitUntil(lambda: browser.proxy.rowCount() == 5, timeout=WAIT_MS)
    assert browser.selected_study_uid() == MR_SMALL_STUDY


def test_double_click_activates_a_study(qtbot, window, filled_cache):
    browser = window.browser
    row = browser.shown_study_uids().index(CT_SMALL_STUDY)
    table = browser.table
    rect = table.visualRect(browser.proxy.index(row, 1))
    with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS) as activated:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert activated.args == [CT_SMALL_STUDY]
    assert filled_cache.study(CT_SMALL_STUDY).last_opened


def test_enter_activates_the_selected_study(qtbot, window):
    assert window.browser.select_study(MR_SMALL_STUDY)
    window.browser.table.setFocus()
    with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS) as activated:
        qtbot.keyClick(window.browser.table, Qt.Key.Key_Return)
    assert activated.args == [MR_SMALL_STUDY]


def test_window_closes_cleanly(qtbot, window):
    window.close()
    assert not window.isVisible()
    assert not window.browser.feed._timer.isActive()


def test_closing_during_an_import_waits_for_it(qtbot, window, tmp_path):
    folder = tmp_path / "slow"
    for i in range(80):
        write_instance(folder / f"{i:03}.dcm", study_uid="1.2.826.0.1.3680043.10.1234.14")
    with qtbot.waitSignal(window.imports.finished, timeout=WAIT_MS * 3):
        window.start_import([folder])
        window.close()  # asks the import to stop, closes once it has
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert not window.imports.is_running()
