"""A radiologist signs and sends a report from the window alone: no command line, no settings file by hand.

From a fresh home (no settings at all) the test drives the composed window by
its controls: opens the demo CT from the study list, types findings and the
impression, sets the reader's name, the storage port and the archive in
Tools › Settings (the node through the DICOM nodes dialog it opens), imports a
PKCS#12 identity made here with ``cryptography``, and presses Sign & Send.

The archive (Orthanc, started by the test on 127.0.0.1) is down at first: the
panel says "queued" and the status bar's outbox count is 1.  Once it is up,
Retry delivers: the panel shows the report committed and the count goes to 0.
The file Orthanc holds (fetched over its REST API) passes ``dcmsign --verify``;
the SR has one CONTAINER per template heading and no NUM with more decimals
than its unit supports.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pydicom import dcmread
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.hanging.conftest import demo  # noqa: F401 - the session's small demo studies
from tests.interop.peers import ORTHANC, ArchiveProcess, Modality, free_port, start_orthanc
from tests.reporting.conftest import run_tool
from tests.reporting.sr_tree import containers, rounded_values
from workstation.store.importer import import_paths
from workstation.ui.app import compose_main_window

pytestmark = [pytest.mark.gui, pytest.mark.interop, pytest.mark.slow, pytest.mark.timeout(300)]

WAIT_MS = 20_000
DELIVERY_MS = 90_000
PASSPHRASE = "Geheim-42"


def make_pkcs12(folder, name: str) -> tuple:
    """A PKCS#12 signing identity (RSA 2048, self-signed) protected by :data:`PASSPHRASE`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "St. Elsewhere")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    p12 = folder / "reader.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None, serialization.BestAvailableEncryption(PASSPHRASE.encode())))
    pem = folder / "reader-cert.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12, pem


def restart(arc: ArchiveProcess) -> ArchiveProcess:
    """Start the stopped Orthanc again with its configuration (same ports, same storage)."""
    with open(arc.log_path, "ab") as log:
        proc = subprocess.Popen([ORTHANC, str(arc.root / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT,
                                cwd=arc.root, start_new_session=True)
    again = ArchiveProcess(arc.name, arc.ae_title, arc.port, arc.root, proc, arc.http_port, arc.log_path)
    try:
        again.wait_ready(30)
    except BaseException:
        again.stop()
        raise
    return again


def orthanc_file(arc: ArchiveProcess, sop_uid: str) -> bytes:
    """The file Orthanc keeps for ``sop_uid`` (REST API on 127.0.0.1)."""
    base = f"http://127.0.0.1:{arc.http_port}"
    query = json.dumps({"Level": "Instance", "Query": {"SOPInstanceUID": sop_uid}}).encode()
    request = urllib.request.Request(f"{base}/tools/find", data=query, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=15) as rsp:
        ids = json.loads(rsp.read())
    assert len(ids) == 1, ids
    with urllib.request.urlopen(f"{base}/instances/{ids[0]}/file", timeout=15) as rsp:
        return rsp.read()


def click(qtbot, button) -> None:
    assert button.isVisible() and button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_tab(qtbot, tabs, title: str) -> None:
    bar = tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert tabs.currentIndex() == index


def type_into(qtbot, widget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def test_sign_and_send_from_the_window_alone(qtbot, home, cache, demo, tmp_path):  # noqa: F811
    assert not home.config_file.exists()  # a fresh home: nothing set
    study_uid = demo.uids["ct-chest-2024"]
    assert import_paths(cache, demo.files["ct-chest-2024"], workers=1).imported
    assert import_paths(cache, demo.files["ct-chest-2023"], workers=1).imported  # the prior the protocol hangs
    p12, cert_pem = make_pkcs12(tmp_path / "identity", "Jane Doe")
    storage_port = free_port()
    arc = start_orthanc(tmp_path / "orthanc", [Modality("LIGHTBOX", storage_port)], dicomweb=False)
    arc.stop()  # the archive is down when the reader signs
    window = compose_main_window(home, cache, listen=True, background=True)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    try:
        # Open the CT from the study list.
        browser = window.browser
        qtbot.waitUntil(lambda: study_uid in browser.shown_study_uids(), timeout=WAIT_MS)
        assert browser.select_study(study_uid)
        browser.table.setFocus()
        with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS):
            qtbot.keyClick(browser.table, Qt.Key.Key_Return)
        panel = window.report_panel
        assert panel.editor.study_uid == study_uid and panel.template_combo.currentData() == "ct_chest"
        # The form of the study is built once its images are painted.
        qtbot.waitUntil(lambda: not panel.pending, timeout=WAIT_MS)
        # The prior hung beside it fills the comparison fields (editable).
        prior = cache.study(demo.uids["ct-chest-2023"])
        shown_date = f"{prior.study_date[:4]}-{prior.study_date[4:6]}-{prior.study_date[6:]}"
        qtbot.waitUntil(lambda: panel.form.line_edit("comparison_date").text() == shown_date, timeout=WAIT_MS)
        comparison = panel.form.line_edit("comparison").toPlainText()
        assert comparison == f"{prior.description} of {shown_date}"  # "CT CHEST …"
        assert "Comparison filled from the prior" in panel.message()
        type_into(qtbot, panel.form.line_edit("comparison"), "CT Thorax of last year")

        # Type the report.
        type_into(qtbot, panel.form.line_edit("lungs"), "Kein Rundherd, Bronchien frei.")
        type_into(qtbot, panel.form.line_edit("nodule_diameter"), "4.46")
        type_into(qtbot, panel.form.line_edit("mediastinum"), "Unauffaellig.")
        type_into(qtbot, panel.form.line_edit("impression"), "Kein Hinweis auf Malignitaet.")

        # Sign & Send before anything is set: the message leads to the settings.
        click(qtbot, panel.sign_button)
        assert "Settings" in panel.message() and 'href="settings:signing"' in panel.status_label.text()
        panel.status_label.linkActivated.emit("settings:signing")  # what clicking the link does
        dialog = window.settings_dialog
        qtbot.waitUntil(dialog.isVisible, timeout=WAIT_MS)
        assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Signing"
        assert "No signing identity" in dialog.identity_label.text()

        # Reader: the name as typed becomes a DICOM person name.
        click_tab(qtbot, dialog.tabs, "Reader")
        type_into(qtbot, dialog.name_edit, "Jane Doe")
        type_into(qtbot, dialog.institution_edit, "St. Elsewhere")
        # Sending: our storage port, and the archive through the DICOM nodes dialog.
        click_tab(qtbot, dialog.tabs, "Sending")
        type_into(qtbot, dialog.port_spin, str(storage_port))
        click(qtbot, dialog.nodes_button)
        nodes = window.node_dialog
        qtbot.waitUntil(nodes.isVisible, timeout=WAIT_MS)
        click(qtbot, nodes.new_button)
        type_into(qtbot, nodes.name_edit, "PACS")
        type_into(qtbot, nodes.ae_edit, arc.ae_title)
        type_into(qtbot, nodes.host_edit, "127.0.0.1")
        type_into(qtbot, nodes.port_spin, str(arc.port))
        type_into(qtbot, nodes.timeout_spin, "5")
        click(qtbot, nodes.save_button)
        assert "Saved PACS" in nodes.status.text()
        click(qtbot, nodes.close_button)
        qtbot.waitUntil(lambda: dialog.destination_combo.findData("PACS") >= 0, timeout=WAIT_MS)
        click(qtbot, dialog.apply_button)
        assert "Saved" in dialog.message.text(), dialog.message.text()
        # The storage SCP moved to the new port at once.
        qtbot.waitUntil(lambda: window.listener.port == storage_port, timeout=WAIT_MS)

        # Signing: import the PKCS#12 file; the passphrase is asked, checked, not stored.
        click_tab(qtbot, dialog.tabs, "Signing")
        dialog.ask_open_file = lambda _title, _filters: str(p12)
        asked = []
        dialog.ask_passphrase = lambda prompt: asked.append(prompt) or PASSPHRASE
        click(qtbot, dialog.import_p12_button)
        assert asked and "Signing with" in dialog.message.text(), dialog.message.text()
        shown = dialog.identity_label.text()
        assert "CN=Jane Doe" in shown and "days left" in shown and "NOT FOR CLINICAL USE" not in shown
        click(qtbot, dialog.ok_button)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
        saved = home.config_file.read_text()
        assert PASSPHRASE not in saved and "Doe^Jane" in saved

        # Sign & Send with the archive down: queued, and the outbox counts it.
        panel.ask_passphrase = lambda: PASSPHRASE
        buttons_before = {b.text(): b.geometry() for b in (panel.preliminary_button, panel.sign_button,
                                                           panel.discard_button)}
        click(qtbot, panel.sign_button)
        [report] = panel.editor.existing_reports()
        assert report.state == "final" and report.signature == "valid"
        qtbot.waitUntil(lambda: "not reached yet" in panel.delivery_label.text(), timeout=DELIVERY_MS)
        assert panel.delivery_state() == "queued" and "Queued" in panel.delivery_label.text()
        qtbot.waitUntil(lambda: window.outbox_indicator.count == 1, timeout=WAIT_MS)
        assert window.outbox_indicator.text().startswith("Outbox: 1")
        assert panel.retry_button.isVisible()
        # Messages changed; the buttons did not move.
        assert {b.text(): b.geometry() for b in (panel.preliminary_button, panel.sign_button,
                                                 panel.discard_button)} == buttons_before

        # The archive comes up; Retry delivers and the archive commits.
        arc = restart(arc)
        click(qtbot, panel.retry_button)
        qtbot.waitUntil(lambda: "Committed" in panel.delivery_label.text(), timeout=DELIVERY_MS)
        assert panel.delivery_state() == "committed" and not panel.retry_button.isVisible()
        qtbot.waitUntil(lambda: window.outbox_indicator.count == 0, timeout=WAIT_MS)
        assert "committed" in panel.reports_list.item(0).text()

        # What Orthanc holds: signed and valid, the template's headings, rounded numbers.
        held = tmp_path / "held.dcm"
        held.write_bytes(orthanc_file(arc, report.sop_instance_uid))
        check = run_tool("dcmsign", "--verify", "+cf", str(cert_pem), "+rs", str(held))
        assert check.returncode == 0, check.stdout + check.stderr
        ds = dcmread(held)
        assert containers(ds) == [(0, "Prior Procedure Descriptions"), (0, "Findings"), (1, "Lungs and airways"),
                                  (1, "Mediastinum, heart and vessels"), (0, "Impressions")]
        assert rounded_values(ds) == ["4.5"]
        assert ds.VerifyingObserverSequence[0].VerifyingObserverName == "Doe^Jane"
    finally:
        arc.stop()
        window.delivery.stop()
        window.report_panel.shutdown()
        for w in QApplication.topLevelWidgets():
            if w is not window and w.isVisible():
                w.close()
        window.close()
        if window.listener is not None:
            window.listener.stop()
        if window.viewer is not None:
            window.viewer.shutdown()
        window.browser.stop()
