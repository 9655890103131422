"""The window's audit records are appended off the GUI thread: a study opened by a double click records its
DICOM Instances Accessed event on the auditor's writer thread (each append is fsynced, which under disk load
held the GUI for over half a second), in the order of the calls, and every record is in the store once the
application has stopped."""

from __future__ import annotations

import threading

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from tests.viewer_phantom import phantom_study
from workstation import audit
from workstation.audit.store import AuditStore
from workstation.ui.app import compose_main_window

WAIT_MS = 20_000
ACCESSED = "110103"  # DICOM Instances Accessed


def test_a_study_open_is_audited_by_the_writer_thread_and_in_the_store_after_close(qtbot, home, cache, tmp_path,
                                                                                   monkeypatch):
    study_uid = phantom_study(cache, tmp_path / "ph", 3, patient_name="Yamada^Tarou=山田^太郎")
    appended: list[tuple[str, str]] = []  # (event code, appending thread)
    real_append = AuditStore.append

    def append(self, summary, xml):
        appended.append((summary["event_code"], threading.current_thread().name))
        return real_append(self, summary, xml)

    monkeypatch.setattr(AuditStore, "append", append)
    window = compose_main_window(home, cache, listen=False, background=False)
    window.resize(1400, 900)
    window.show()
    auditor = audit.application_started(home)  # as the window's run does once it is shown
    try:
        assert auditor.deferred
        browser = window.browser
        qtbot.waitUntil(lambda: browser.model.row_of(study_uid) is not None, timeout=WAIT_MS)
        index = browser.proxy.mapFromSource(browser.model.index(browser.model.row_of(study_uid), 1))
        at = browser.table.visualRect(index).center()
        qtbot.mouseClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
        qtbot.mouseDClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
        session = window.viewer.session
        qtbot.waitUntil(lambda: session.patient is not None and session.patient.study_uid == study_uid,
                        timeout=WAIT_MS)
        qtbot.waitUntil(lambda: any(code == ACCESSED for code, _ in appended), timeout=WAIT_MS)
    finally:
        window.viewer.ask_unsaved = lambda check: check.choices[0]
        window.close()
        window.viewer.shutdown()
        window.browser.stop()
        window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
        audit.application_stopped()
    gui = threading.main_thread().name
    assert [t for code, t in appended if code == ACCESSED] and all(t != gui for _, t in appended), appended
    assert not auditor.deferred  # the Stop was the last record queued; later ones are written at once
    records = list(auditor.store.records())
    assert [r["event_code"] for r in records][0] == "110100"  # Application Activity (Start) first
    opened = [r for r in records if r["event_code"] == ACCESSED]
    assert len(opened) == 1 and opened[0]["studies"] == [study_uid]
    assert records[-1]["event_code"] == "110100" and records[-1] is not records[0]  # the Stop, written before close
    assert auditor.store.verify().ok  # one writer, in order: the chain holds
