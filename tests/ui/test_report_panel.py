"""The report panel, headless: typing autosaves, inserts, Sign & Send asks the passphrase, docks in the window."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from tests.factories import write_series
from workstation import config as config_mod
from workstation.reporting.certificates import create_test_certificate
from workstation.reporting.editor import ReportEditor
from workstation.reporting.inputs import ImageRef, KeyImage, Measurement
from workstation.reporting.settings import ReportingSettings
from workstation.store import outbox
from workstation.store.importer import import_paths
from workstation.ui.report_panel import ReportPanel

pytestmark = pytest.mark.gui


@pytest.fixture
def study(cache, tmp_path):
    paths = write_series(tmp_path / "ct", 2)
    import_paths(cache, [str(p) for p in paths])
    return str(dcmread(paths[0]).StudyInstanceUID), dcmread(paths[0], stop_before_pixels=True)


@pytest.fixture
def settings(tmp_path):
    made = create_test_certificate(tmp_path / "cert", "Jane Doe", "St. Elsewhere", passphrase="secret")
    s = config_mod.Settings()
    ReportingSettings(radiologist_name="Doe^Jane", organisation="St. Elsewhere", key_path=str(made.pkcs12),
                      trust_store=[str(made.cert_pem)]).store(s)
    return s


def make_panel(qtbot, cache, settings, header):
    ref = ImageRef(str(header.SOPClassUID), str(header.SOPInstanceUID))
    panel = ReportPanel(
        ReportEditor(cache, settings),
        measurement_source=lambda: [Measurement("length", 7.5, "mm", ref, "POLYLINE", ((1, 1), (4, 5)))],
        key_image_source=lambda: KeyImage(ref, "key"),
    )
    qtbot.addWidget(panel)
    return panel


def show_preview_tab(qtbot, panel) -> None:
    """Click the panel's "SR preview" tab."""
    panel.show()
    qtbot.waitExposed(panel)
    bar = panel.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == "SR preview")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert panel.tabs.currentWidget() is panel.preview


def test_the_sr_preview_is_built_when_its_tab_is_shown(qtbot, cache, settings, study):
    """Opening a study does not build the SR (a slow first build held up the images); showing the tab does."""
    study_uid, header = study
    panel = make_panel(qtbot, cache, settings, header)
    panel.open_study(study_uid)
    panel.form.line_edit("impression").setPlainText("Kein Befund.")
    qtbot.wait(600)  # longer than the preview's typing delay
    assert panel.preview.toPlainText() == ""
    show_preview_tab(qtbot, panel)
    assert "Impression: Kein Befund." in panel.preview.toPlainText()
    panel.form.line_edit("impression").setPlainText("Unauffällig.")  # while shown, it follows the typing
    qtbot.waitUntil(lambda: "Impression: Unauffällig." in panel.preview.toPlainText(), timeout=5000)


def test_typing_autosaves_and_sign_and_send_stores_a_signed_report(qtbot, cache, settings, study, tmp_path):
    study_uid, header = study
    panel = make_panel(qtbot, cache, settings, header)
    assert not panel.sign_button.isEnabled()  # no study yet
    panel.open_study(study_uid)
    assert panel.sign_button.isEnabled() and panel.template_combo.currentData() == "ct_chest"
    panel.form.line_edit("lungs").setPlainText("Kein Rundherd.")
    assert outbox.list_drafts(cache, study_uid)[0].content["values"]["lungs"] == "Kein Rundherd."
    panel.insert_measurement_button.click()
    panel.insert_key_image_button.click()
    assert [panel.items_list.item(i).text() for i in range(panel.items_list.count())] == [
        "Length: 7.5 mm", "Key image: key"]
    assert "required for signing: Impression" in panel.status_label.text()
    panel.sign_button.click()
    assert "Cannot sign: required fields are empty: Impression" in panel.status_label.text()

    panel.form.line_edit("impression").setPlainText("Unauffällig.")
    show_preview_tab(qtbot, panel)
    qtbot.waitUntil(lambda: "Impression: Unauffällig." in panel.preview.toPlainText(), timeout=5000)
    asked = []
    panel.ask_passphrase = lambda: asked.append(1) or "wrong"
    panel.sign_button.click()
    assert asked and "passphrase" in panel.status_label.text()
    assert outbox.list_reports(cache, study_uid) == []  # nothing stored, nothing lost
    assert outbox.list_drafts(cache, study_uid)[0].content["values"]["impression"] == "Unauffällig."

    panel.ask_passphrase = lambda: "secret"
    panel.sign_button.click()
    [report] = outbox.list_reports(cache, study_uid)
    assert report.state == "final" and report.signed
    assert panel.reports_list.count() == 1
    assert "signature valid" in panel.reports_list.item(0).text()
    assert outbox.list_drafts(cache, study_uid) == []
    assert panel.form.line_edit("impression").toPlainText() == ""  # a fresh draft

    # export it as PDF (and keep it in the study as Encapsulated PDF)
    panel.reports_list.setCurrentRow(0)
    pdf_path = tmp_path / "report.pdf"
    panel.ask_pdf_path = lambda: str(pdf_path)
    panel.pdf_button.click()
    assert pdf_path.read_bytes().startswith(b"%PDF") and "stored in the study" in panel.status_label.text()

    # amend it
    panel.reports_list.setCurrentRow(0)
    assert "Impression: Unauffällig." in panel.preview.toPlainText()  # the stored report's text
    panel.amend_button.click()
    panel.form.line_edit("impression").setPlainText("Korrigiert.")
    panel.ask_reason = lambda: ""
    panel.sign_button.click()
    assert "needs a reason" in panel.status_label.text()
    panel.ask_reason = lambda: "Tippfehler"
    panel.sign_button.click()
    assert [r.state for r in outbox.list_reports(cache, study_uid)] == ["final", "amended"]
    panel.shutdown()


def test_preliminary_and_discard(qtbot, cache, settings, study):
    study_uid, header = study
    panel = make_panel(qtbot, cache, settings, header)
    panel.open_study(study_uid)
    panel.form.line_edit("lungs").setPlainText("vorläufig")
    panel.preliminary_button.click()
    assert [r.state for r in outbox.list_reports(cache, study_uid)] == ["preliminary"]
    assert "signature unsigned" in panel.reports_list.item(0).text()
    panel.form.line_edit("lungs").setPlainText("verworfen")
    panel.discard_button.click()
    assert outbox.list_drafts(cache, study_uid) == [] and panel.form.line_edit("lungs").toPlainText() == ""
    panel.shutdown()


def test_docks_into_the_main_window(qtbot, cache, home, study):
    from workstation.ui.main_window import MainWindow
    from workstation.ui.report_dock import attach_report_panel

    study_uid, _header = study
    window = MainWindow(cache)
    qtbot.addWidget(window)
    dock = attach_report_panel(window, cache, home, start_sender=False)
    assert isinstance(dock, QDockWidget) and window.dockWidgetArea(dock).name == "RightDockWidgetArea"
    window.study_activated.emit(study_uid)
    assert window.report_panel.editor.study_uid == study_uid
    window.report_panel.shutdown()
    window.browser.stop()


def test_passphrase_prompt_is_modal_owns_the_focus_and_buttons_stay(qtbot, cache, settings, study):
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

    study_uid, header = study
    panel = make_panel(qtbot, cache, settings, header)
    panel.resize(440, 900)
    panel.show()
    panel.open_study(study_uid)
    panel.form.line_edit("impression").setPlainText("Unauffällig.")
    before = {b.text(): b.geometry() for b in (panel.preliminary_button, panel.sign_button, panel.discard_button)}
    panel.say("A long message " * 30)  # several lines of text: the buttons must not move
    assert {b.text(): b.geometry() for b in (panel.preliminary_button, panel.sign_button,
                                             panel.discard_button)} == before
    seen = {}

    def answer():
        dialog = QApplication.activeModalWidget()
        seen["dialog"] = dialog
        if isinstance(dialog, QInputDialog):
            seen["modality"] = dialog.windowModality()
            edit = dialog.findChild(QLineEdit)
            seen["focus"] = QApplication.focusWidget() is edit
            seen["echo"] = edit.echoMode()
            qtbot.keyClicks(edit, "secret")
            qtbot.keyClick(edit, Qt.Key.Key_Return)
        elif dialog is not None:
            dialog.close()

    QTimer.singleShot(200, answer)
    qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)
    assert seen.get("dialog") is not None and seen["dialog"].objectName() == "passphraseDialog"
    assert seen["modality"] == Qt.WindowModality.ApplicationModal and seen["focus"]
    assert seen["echo"] == QLineEdit.EchoMode.Password
    [report] = outbox.list_reports(cache, study_uid)
    assert report.signed
    assert {b.text(): b.geometry() for b in (panel.preliminary_button, panel.sign_button,
                                             panel.discard_button)} == before
    panel.shutdown()


def test_a_certificate_set_in_a_terminal_works_in_the_open_window(qtbot, cache, home, study, lightbox_cmd):
    import subprocess

    from PySide6.QtCore import Qt

    from workstation.config import SettingsSource

    study_uid, _header = study
    panel = ReportPanel(ReportEditor(cache, SettingsSource(home.config_file)))
    qtbot.addWidget(panel)
    opened = []
    panel.open_settings = opened.append
    panel.open_study(study_uid)
    panel.form.line_edit("impression").setPlainText("Unauffällig.")
    qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)
    assert "No signing certificate" in panel.message() and "lightbox cert" not in panel.message()
    panel.status_label.linkActivated.emit("settings:signing")
    assert opened == ["signing"]
    done = subprocess.run(lightbox_cmd + ["cert", "create-test", "--use", "--name", "Jane Doe"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)  # no restart
    [report] = outbox.list_reports(cache, study_uid)
    assert report.signed and report.observer == "Doe^Jane"
    panel.shutdown()


def test_a_report_kept_here_is_sent_once_a_destination_exists(qtbot, cache, home, study, tmp_path):
    from PySide6.QtCore import Qt

    from workstation.config import Node, SettingsSource

    study_uid, _header = study
    source = SettingsSource(home.config_file)
    made = create_test_certificate(tmp_path / "c", "Jane Doe")
    source.update(lambda s: ReportingSettings(radiologist_name="Doe^Jane", key_path=str(made.key_pem),
                                              cert_path=str(made.cert_pem)).store(s))
    source.update(lambda s: (s.upsert_node(Node("A", "A", "127.0.0.1", 104)),
                             s.upsert_node(Node("B", "B", "127.0.0.1", 105))))
    panel = ReportPanel(ReportEditor(cache, source))
    qtbot.addWidget(panel)
    panel.show()
    panel.open_study(study_uid)
    panel.form.line_edit("impression").setPlainText("ok")
    qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)
    assert panel.delivery_state() == "local" and "no destination is known" in panel.delivery_label.text()
    assert panel.retry_button.isVisible() and panel.retry_button.text() == "Send"
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)  # two nodes, none chosen: still no destination
    assert "Settings" in panel.message() and panel.delivery_state() == "local"
    def choose_b(s):
        rs = ReportingSettings.of(s)
        rs.destination = "B"
        rs.store(s)

    source.update(choose_b)  # what Settings › Sending does
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    assert panel.delivery_state() == "queued" and panel.delivery_item().destination == "B"
    assert "Queued" in panel.delivery_label.text() and panel.retry_button.text() == "Retry"
    panel.shutdown()
