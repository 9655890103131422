"""The Remote tab leaves out answers of an archive that ignores a key, and says so once in its status line."""

from __future__ import annotations

from pydicom.dataset import Dataset
from PySide6.QtCore import Qt

from workstation.config import Node, Settings
from workstation.net import find as find_module
from workstation.net.find import build_identifier
from workstation.net.query_match import FilteredAnswers
from workstation.ui.remote_tab import RemoteTab


def _study(k: int, name: str, modality: str) -> Dataset:
    ds = Dataset()
    ds.StudyInstanceUID = f"1.2.826.0.1.3680043.10.4321.{k}"
    ds.PatientName, ds.PatientID, ds.StudyDate, ds.ModalitiesInStudy = name, f"P{k}", "20240101", modality
    return ds


def test_answers_of_other_patients_are_left_out_with_one_note(qtbot, cache, monkeypatch):
    def careless_archive(node, calling_ae, level, keys, cancel=None, **_kw):
        # Matches names folded to ASCII: the Korean patient comes back for a Greek name.
        answers = [_study(1, "Διονυσιος", "CT"), _study(2, "김희중", "CT"), _study(3, "Διονυσιος", "MR")]
        return FilteredAnswers(iter(answers), build_identifier(level, keys))

    monkeypatch.setattr(find_module, "find", careless_archive)
    settings = Settings(nodes=[Node(name="pacs", ae_title="PACS", host="127.0.0.1", port=11999)])
    tab = RemoteTab(cache, lambda: settings, lambda *a: None)
    qtbot.addWidget(tab)
    tab.show()
    tab.filter_bar.name_edit.setText("Διονυσιος")
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.searching() and tab.table.rowCount() > 0, timeout=30_000)
    names = {r.patient_name for r in tab.rows}
    assert names == {"Διονυσιος"} and len(tab.rows) == 2  # 김희중 never shows
    assert tab.status.text().count("left out here") == 1 and "PatientName" in tab.status.text()


def test_a_name_the_nodes_character_set_cannot_hold_is_refused_in_the_status_line(qtbot, cache):
    settings = Settings(nodes=[Node(name="latin", ae_title="QR", host="127.0.0.1", port=9, charset="ISO_IR 100")])
    tab = RemoteTab(cache, lambda: settings, lambda *a: None)
    qtbot.addWidget(tab)
    tab.show()
    tab.filter_bar.name_edit.setText("Διονυσιος")
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.searching() and "cannot be sent" in tab.status.text(), timeout=30_000)
    assert tab.table.rowCount() == 0 and "ISO_IR 100" in tab.status.text()
