"""The QC correction dialog, clicked through, turns a Japanese (ISO 2022) name into a Greek one without a '?'."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_charset_files
from pydicom.uid import generate_uid
from PySide6.QtCore import Qt

from workstation.config import Settings
from workstation.store.importer import import_paths
from workstation.ui.qc_panel import QcPanel

WAIT_MS = 30_000


@pytest.fixture
def japanese_study(cache, tmp_path):
    ds = pydicom.dcmread(get_charset_files("chrH31.dcm")[0])
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    path = tmp_path / "jp.dcm"
    ds.save_as(path, enforce_file_format=True)
    import_paths(cache, [path], workers=1)
    return str(ds.StudyInstanceUID)


def test_dialog_corrects_into_another_script(qtbot, cache, japanese_study, home):
    panel = QcPanel(cache, Settings, home)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.checked, timeout=WAIT_MS):
        panel.set_study(japanese_study)
    dialog = panel.open_correction()
    assert dialog.fields["PatientName"].text() == "Yamada^Tarou=山田^太郎=やまだ^たろう"
    dialog.fields["PatientName"].setText("Διονυσιος^Ελένη")
    dialog.reason_edit.setText("wrong patient registered")
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    assert dialog.apply_button.isEnabled()
    assert "ISO_IR 192" in dialog.summary_label.text()  # the preview says the copy switches to UTF-8
    with qtbot.waitSignal(panel.checked, timeout=WAIT_MS), qtbot.waitSignal(dialog.applied, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert cache.study(japanese_study).patient_name == "Διονυσιος^Ελένη"
    copies = [r for s in cache.series(japanese_study) for r in cache.instances(s.series_uid)
              if r.sop_class_uid != "1.2.840.10008.5.1.4.1.1.88.59"]  # images, not the rejection note
    names = {str(pydicom.dcmread(cache.path_of(r)).PatientName) for r in copies}
    assert names == {"Yamada^Tarou=山田^太郎=やまだ^たろう", "Διονυσιος^Ελένη"}  # the original and its copy
    assert b"??" not in b"".join(cache.path_of(r).read_bytes() for r in copies)
    dialog.close()
    panel.task.wait(30)
