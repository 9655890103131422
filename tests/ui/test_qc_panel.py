"""The QC checklist panel, the QC menu on the main window, and the QC dialogs, over a real cache."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDockWidget

from tests.qc.conftest import write_ct
from workstation.config import Settings
from workstation.qc import rejected_sop_uids, state
from workstation.store.importer import import_paths
from workstation.ui.qc_correct_dialog import CorrectionDialog
from workstation.ui.qc_panel import QcPanel
from workstation.ui.qc_reject_dialog import RejectDialog
from workstation.ui.qc_series_dialog import SeriesDialog

WAIT_MS = 30_000


@pytest.fixture
def study(cache, tmp_path):
    made = write_ct(tmp_path / "ct", 6)
    import_paths(cache, made.paths, workers=1)
    return made


@pytest.fixture
def panel(qtbot, cache, study, home):
    p = QcPanel(cache, Settings, home)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.checked, timeout=WAIT_MS):
        p.set_study(study.study_uid)
    yield p
    p.task.wait(30)


def _rows(panel):
    return [(panel.tree.topLevelItem(i).text(0), panel.tree.topLevelItem(i).text(1))
            for i in range(panel.tree.topLevelItemCount())]


def test_panel_shows_the_checklist(panel, study):
    assert panel.title_label.text() == "Test, Patient · PAT001 · 2024-01-02 · CT test"
    assert _rows(panel) == [("—", "Complete against the archive"), ("PASS", "Patient"), ("PASS", "Rejected instances"),
                            ("PASS", "Series 1 axial [CT]"), ("PASS", "Required attributes")]
    assert panel.status_label.text().startswith("Overall PASS")
    assert panel.done_label.text() == "QC not done" and not panel.undo_button.isEnabled()
    assert not panel.fetch_button.isEnabled()


def test_mark_done_and_remove(panel, cache, study):
    panel.mark_done()
    assert panel.done_label.text().startswith("QC done ") and panel.undo_button.isEnabled()
    assert state.qc_mark(cache, study.study_uid).outcome == "pass"
    panel.clear_done()
    assert panel.done_label.text() == "QC not done" and state.qc_mark(cache, study.study_uid) is None


def test_reject_dialog_rejects_and_the_panel_sees_the_gap(qtbot, panel, cache, study):
    dialog = panel.open_reject(checked={study.sop_uids[2]})
    assert isinstance(dialog, RejectDialog) and dialog.picker.checked_instances() == [study.sop_uids[2]]
    dialog.quality_combo.setCurrentIndex(dialog.quality_combo.findData("positioning"))
    with qtbot.waitSignal(panel.checked, timeout=WAIT_MS), qtbot.waitSignal(dialog.applied, timeout=WAIT_MS):
        assert dialog.apply()
    assert rejected_sop_uids(cache, study.study_uid) == {study.sop_uids[2]}
    assert "1 image(s) rejected by 1 note(s)" in dialog.status_label.text()
    series = next(panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())
                  if panel.tree.topLevelItem(i).text(1).startswith("Series"))
    assert series.text(0) == "FAIL" and "1 slice missing" in series.text(2) and series.isExpanded()
    dialog.close()


def test_correction_dialog_previews_then_applies(qtbot, panel, cache, study):
    dialog = panel.open_correction()
    assert isinstance(dialog, CorrectionDialog)
    assert dialog.fields["PatientName"].text() == "Test^Patient" and not dialog.apply_button.isEnabled()
    assert dialog.preview() is None and "Cannot correct" in dialog.summary_label.text()
    dialog.fields["PatientName"].setText("Doe^Jane")
    dialog.fields["AccessionNumber"].setText("A-1")
    dialog.reason_edit.setText("wrong patient")
    plan = dialog.preview()
    assert plan is not None and dialog.apply_button.isEnabled()
    assert dialog.changes_table.rowCount() == 2
    assert [dialog.changes_table.item(0, c).text() for c in range(4)] == \
        ["Patient's Name", "Test^Patient", "Doe^Jane", "6"]
    dialog.fields["StudyID"].setText("9")  # any edit after the preview withdraws Apply
    assert not dialog.apply_button.isEnabled()
    dialog.preview()
    with qtbot.waitSignal(panel.checked, timeout=WAIT_MS), qtbot.waitSignal(dialog.applied, timeout=WAIT_MS):
        assert dialog.apply()
    assert "6 corrected copies stored; 6 originals rejected." in dialog.summary_label.text()
    assert cache.study(study.study_uid).patient_name == "Doe^Jane"
    assert panel.status_label.text().startswith("Overall PASS")
    dialog.close()


def test_series_dialog_moves_checked_images(qtbot, panel, cache, study):
    dialog = panel.open_series()
    assert isinstance(dialog, SeriesDialog)
    dialog.picker.set_checked({study.sop_uids[0]})
    dialog.operation_combo.setCurrentIndex(dialog.operation_combo.findData("merge"))
    assert dialog.preview() is None and "at least two" in dialog.plan_text.toPlainText()
    dialog.operation_combo.setCurrentIndex(dialog.operation_combo.findData("instances"))
    plan = dialog.preview()
    assert plan is not None and "selected: 1 instance -> new series 2" in dialog.plan_text.toPlainText()
    with qtbot.waitSignal(panel.checked, timeout=WAIT_MS), qtbot.waitSignal(dialog.applied, timeout=WAIT_MS):
        assert dialog.apply()
    assert "1 copies in 1 new series; 1 originals rejected." in dialog.status_label.text()
    assert rejected_sop_uids(cache, study.study_uid) == {study.sop_uids[0]}
    dialog.close()


def test_tag_browser_from_the_panel(panel, study):
    browser = panel.open_tag_browser()
    assert str(browser.dataset.SOPInstanceUID) == study.sop_uids[0]
    browser.close()


def test_qc_menu_on_the_main_window(qtbot, cache, study, home):
    from workstation.ui.main_window import MainWindow
    from workstation.ui.qc_menu import attach_qc

    window = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(window)
    qc = attach_qc(window, cache, home)
    assert window.qc is qc and [a.text() for a in window.menuBar().actions()][-1] == "&QC"
    assert not qc.show_checklist()  # nothing selected yet
    qtbot.waitUntil(lambda: window.browser.proxy.rowCount() == 1, timeout=WAIT_MS)
    window.browser.select_study(study.study_uid)
    with qtbot.waitSignal(qc.panel.checked, timeout=WAIT_MS):
        qc.checklist_action.trigger()
    assert window.findChild(QDockWidget, "qcDock").isVisibleTo(window)
    assert qc.panel.study_uid == study.study_uid
    qc.panel.task.wait(30)
    window.browser.stop()
