"""Settings › RIS: HL7 listener, RIS host/port, version, character set, names and worklist nodes, clicked and saved."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from workstation import config
from workstation.config import Node, SettingsSource
from workstation.hl7.settings import HL7Settings
from workstation.home import Home
from workstation.ui.settings_dialog import SettingsDialog
from workstation.worklist.settings import WorklistSettings, worklist_nodes

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot, lightbox_home):
    home = Home.single(lightbox_home).ensure()
    s = config.Settings(nodes=[Node("PACS", "PACS", "127.0.0.1", 104), Node("MWL", "WLM", "127.0.0.1", 105)])
    config.save(s, home.config_file)
    d = SettingsDialog(home, SettingsSource(home.config_file))
    qtbot.addWidget(d)
    d.show()
    d.show_page("ris")
    return d, home


def _type(qtbot, edit, text):
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_ris_page_saves_hl7_and_worklist_nodes(qtbot, dialog):
    d, home = dialog
    page = d.ris_page
    assert d.tabs.currentWidget() is page
    _type(qtbot, page.ris_host, "127.0.0.1")
    page.ris_port.setValue(2575)
    page.listen_port.setValue(2576)
    page.version.setCurrentText("2.3.1")
    page.charset.setCurrentText("8859/1")
    _type(qtbot, page.sending_facility, "Radiologie ")
    page.sending_facility.insert("Süd")  # typed as an input method would: QTest aborts on this key here
    page.refresh.setValue(30)
    mwl = page.worklist_nodes.item(1)
    rect = page.worklist_nodes.visualItemRect(mwl)
    # the check box sits at the left of the row
    qtbot.mouseClick(page.worklist_nodes.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(rect.left() + 8, rect.center().y()))
    if mwl.checkState() != Qt.CheckState.Checked:  # styles place the box differently: the keyboard toggles it
        page.worklist_nodes.setCurrentItem(mwl)
        qtbot.keyClick(page.worklist_nodes, Qt.Key.Key_Space)
    assert mwl.checkState() == Qt.CheckState.Checked
    qtbot.mouseClick(d.apply_button, Qt.MouseButton.LeftButton)
    saved = config.load(home.config_file)
    hs = HL7Settings.of(saved)
    assert (hs.ris_host, hs.ris_port, hs.listen_port, hs.version, hs.charset, hs.sending_facility) == (
        "127.0.0.1", 2575, 2576, "2.3.1", "8859/1", "Radiologie Süd")
    assert [n.name for n in worklist_nodes(saved)] == ["MWL"]
    assert WorklistSettings.of(saved).refresh_s == 30


def test_a_ris_host_without_port_is_refused(qtbot, dialog):
    d, home = dialog
    _type(qtbot, d.ris_page.ris_host, "ris.example")
    qtbot.mouseClick(d.apply_button, Qt.MouseButton.LeftButton)
    assert "both a host and a port" in d.message.text()
    assert HL7Settings.of(config.load(home.config_file)).ris_host == ""
