"""File › Export… clicked through: a de-identified copy of the selected study, with progress and the report."""

from __future__ import annotations

import pydicom
import pytest
from PySide6.QtCore import QPoint, Qt

from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.ui.export_dialog import attach_export
from workstation.ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def cache(lightbox_home, demo_set):
    c = StudyCache.open(Home.single(lightbox_home).ensure())
    import_paths(c, demo_set)
    yield c
    c.close()


@pytest.fixture
def window(qtbot, cache):
    w = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(w)
    attach_export(w, cache)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    return w


def _file_action(window, text):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
    return next(a for a in menu.actions() if a.text().replace("&", "").startswith(text))


def _us_study(cache) -> str:
    return next(r.study_uid for r in cache.studies() if r.modalities == "US")


def test_export_dialog_clicked_through_writes_a_deidentified_copy(qtbot, window, cache, tmp_path):
    study = _us_study(cache)
    qtbot.waitUntil(lambda: window.browser.select_study(study), timeout=10_000)
    _file_action(window, "Export").trigger()
    dialog = window.export_dialog
    qtbot.waitExposed(dialog)
    assert dialog.chosen_studies() == [study]  # the selected study comes ticked

    # Refused with the reason, nothing started: no destination yet.
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "choose where" in dialog.status.text() and not dialog.task.is_running()

    dialog.deidentify.setChecked(True)  # the group box's own check (a click on its title does the same)
    for key in ("dates", "pixels"):  # on the box itself: a check box's label may end before its widget does
        box = dialog.options[key]
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
        assert box.isChecked()
    out = tmp_path / "teaching"
    qtbot.keyClicks(dialog.new_name, "Case^Carotid")
    qtbot.keyClicks(dialog.new_id, "TF-12")
    qtbot.keyClicks(dialog.destination, str(out))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text() == "Export finished.", timeout=60_000)
    assert dialog.progress.value() == dialog.progress.maximum()
    report = dialog.report.toPlainText()
    assert "1 objects of 1 studies written" in report and "new UID" in report
    copies = [p for p in out.rglob("*") if p.is_file() and p.parent != out and p.parent.name != "IHE_PDI"]
    ds = pydicom.dcmread(copies[0])
    assert ds.PatientIdentityRemoved == "YES" and (str(ds.PatientName), ds.PatientID) == ("Case^Carotid", "TF-12")
    codes = [i.CodeValue for i in ds.DeidentificationMethodCodeSequence]
    assert {"113100", "113107", "113101"} <= set(codes)

    # A second export into the same (now full) folder is refused in the status line.
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert "not empty" in dialog.status.text()
    dialog.close()


def test_pictures_from_the_dialog(qtbot, window, cache, tmp_path):
    study = _us_study(cache)
    qtbot.waitUntil(lambda: window.browser.select_study(study), timeout=10_000)
    qtbot.keyClick(window.browser.table, Qt.Key.Key_E,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: getattr(window, "export_dialog", None) is not None, timeout=5_000)
    dialog = window.export_dialog
    dialog.format.setCurrentIndex(3)  # MP4 movies of cines
    qtbot.keyClicks(dialog.destination, str(tmp_path / "movies"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text() == "Export finished.", timeout=60_000)
    assert len(list((tmp_path / "movies").glob("*.mp4"))) == 1
    assert "frames/s" in dialog.report.toPlainText()
    dialog.close()


def test_viewport_picture_without_patient_text_when_deidentified(qtbot, cache, tmp_path):
    import numpy as np
    from PIL import Image

    from workstation.ui.viewer.viewer import ViewerWidget

    w = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(w)
    viewer = ViewerWidget(cache)
    w.attach_viewer(viewer)
    attach_export(w, cache)
    w.resize(1200, 800)
    w.show()
    try:
        qtbot.waitExposed(w)
        _file_action(w, "Save viewport").trigger()  # nothing open: says so in the status bar
        assert "Open a study first" in w.statusBar().currentMessage()
        study = next(r.study_uid for r in cache.studies() if r.modalities == "CT")
        w.browser.activate_study(study)
        qtbot.waitUntil(lambda: viewer.viewports[0].model.render() is not None, timeout=20_000)
        _file_action(w, "Save viewport").trigger()
        dialog = w.picture_dialog
        qtbot.waitExposed(dialog)
        shots = {}
        for name, corner, deid in (("bare", False, False), ("deid", True, True), ("named", True, False)):
            dialog.path.clear()
            qtbot.keyClicks(dialog.path, str(tmp_path / f"{name}.png"))
            dialog.corner_text.setChecked(corner)
            dialog.deidentify.setChecked(deid)
            qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
            assert dialog.status.text() == f"Saved {name}.png"
            shots[name] = np.asarray(Image.open(tmp_path / f"{name}.png"))
        half = shots["bare"].shape[0] // 2
        # De-identified: only the bottom (image, window) corner differs from the bare picture; named: the top too.
        assert np.array_equal(shots["deid"][:half], shots["bare"][:half])
        assert not np.array_equal(shots["deid"][half:], shots["bare"][half:])
        assert not np.array_equal(shots["named"][:half], shots["bare"][:half])
        dialog.close()
    finally:
        w.close()
        viewer.shutdown()


def test_cancel_stops_the_export_and_says_so(qtbot, window, cache, tmp_path):
    _file_action(window, "Export").trigger()
    dialog = window.export_dialog
    qtbot.waitExposed(dialog)
    for i in range(dialog.studies.count()):  # every study: seconds of work, cancelled at once
        dialog.studies.item(i).setCheckState(Qt.CheckState.Checked)
    qtbot.keyClicks(dialog.destination, str(tmp_path / "all"))
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.cancel_button.isEnabled() and not dialog.export_button.isEnabled()
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.status.text() == "Export cancelled.", timeout=60_000)
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isEnabled()
    assert not (tmp_path / "all" / "DICOMDIR").exists()  # no half media that looks whole
    # The audit trail says it was cancelled (EventOutcomeIndicator 4), not that it was written.
    from workstation import audit

    assert [r["outcome"] for r in audit.current().store.records() if r["event_code"] == "110106"] == ["4"]
    dialog.close()
