"""Reading status in the study list: unread / draft / preliminary / final (signed) / amended, filterable.

"My unread CT studies of today": modality CT, reading status unread, both dates today.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom import dcmread
from PySide6.QtCore import Qt

from tests.ui.dicom_files import write_instance
from workstation.reporting.inputs import ReportContent
from workstation.reporting.lifecycle import issue_report
from workstation.reporting.settings import ReportingSettings
from workstation.config import Settings
from workstation.store import outbox
from workstation.store.importer import import_paths
from workstation.ui.main_window import MainWindow
from workstation.ui.study_format import Column

pytestmark = pytest.mark.gui

WAIT_MS = 20_000
TODAY = dt.date.today()


def test_filter_unread_ct_studies_of_today(qtbot, cache, tmp_path):
    today = TODAY.strftime("%Y%m%d")
    studies = {"ct_unread": ("CT", today), "ct_final": ("CT", today), "ct_draft": ("CT", today),
               "mr_unread": ("MR", today), "ct_old_unread": ("CT", "20200101")}
    uids = {}
    for i, (key, (modality, date)) in enumerate(studies.items()):
        uids[key] = f"1.2.826.0.1.3680043.10.1234.{700 + i}"
        path = write_instance(tmp_path / f"{key}.dcm", study_uid=uids[key], modality=modality, study_date=date,
                              patient_id=f"RS-{i}")
        ds = dcmread(path)
        ds.StudyID, ds.StudyTime, ds.ReferringPhysicianName, ds.AccessionNumber = "1", "120000", "", ""
        ds.save_as(path)
    assert import_paths(cache, [tmp_path]).imported == len(studies)
    settings = Settings()
    ReportingSettings(radiologist_name="Doe^Jane").store(settings)
    issue_report(cache, settings, uids["ct_final"], ReportContent("general", {"findings": "ok"}), final=False)
    outbox.save_draft(cache, "d1", uids["ct_draft"], "general", {"template_id": "general", "values": {"findings": "x"}})

    window = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(window)
    window.show()
    browser, bar = window.browser, window.browser.filter_bar
    qtbot.waitUntil(lambda: browser.proxy.rowCount() == len(studies), timeout=WAIT_MS)
    shown = {browser.proxy.index(r, Column.PATIENT_ID).data(): browser.proxy.index(r, Column.REPORT).data()
             for r in range(browser.proxy.rowCount())}
    assert sorted(shown.values()) == ["draft", "preliminary", "unread", "unread", "unread"]

    bar.modality_combo.setCurrentText("CT")
    bar.reading_combo.setCurrentText("unread")
    bar.date_from_edit.set_date_or_none(TODAY)
    bar.date_to_edit.set_date_or_none(TODAY)
    qtbot.waitUntil(lambda: browser.shown_study_uids() == [uids["ct_unread"]], timeout=WAIT_MS)
    bar.reading_combo.setCurrentText("draft")
    qtbot.waitUntil(lambda: browser.shown_study_uids() == [uids["ct_draft"]], timeout=WAIT_MS)
    bar.reading_combo.setCurrentText("preliminary")
    qtbot.waitUntil(lambda: browser.shown_study_uids() == [uids["ct_final"]], timeout=WAIT_MS)
    qtbot.keyClick(bar, Qt.Key.Key_Escape)  # clears every filter, the reading status too
    qtbot.waitUntil(lambda: browser.proxy.rowCount() == len(studies), timeout=WAIT_MS)
    assert bar.reading_combo.currentText() == "any"
    browser.stop()
