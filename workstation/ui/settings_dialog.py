"""Tools › Settings: who reads and signs, what to trust, where reports go, our AE title and port, the nodes.

The dialog holds no logic of its own: names and ports are checked by
:mod:`workstation.config` and :func:`~workstation.reporting.identity_setup.validate_person_name`,
certificates are read, imported and made by :mod:`workstation.reporting.identity_setup`,
and every change is saved through the window's
:class:`~workstation.config.SettingsSource`, which tells the report panel, the
outbox and the storage SCP at once: nothing needs a restart.

File pickers and passphrase prompts go through replaceable callables
(``ask_open_file``, ``ask_passphrase``, ``ask_text``) so tests answer them.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.config import ConfigError, Settings, SettingsSource, validate_ae_title, validate_port
from workstation.home import Home
from workstation.reporting import identity_setup
from workstation.reporting.certificates import CertificateError
from workstation.reporting.settings import ReportingSettings
from workstation.ui import theme
from workstation.ui.qvariant import combo_value

log = logging.getLogger(__name__)

AUTOMATIC = ""  # the destination combo's data for "the study's archive"
PAGES = ("reader", "signing", "trust", "destination", "network")
WATCH_MS = 2000  # how often the settings file is checked for changes made outside the window


class SettingsDialog(QDialog):
    """The reader's settings, saved through ``source`` (Apply or OK).

    Parameters
    ----------
    home : Home
        Imported and test identities are kept in its configuration folder.
    source : SettingsSource
    open_nodes : callable, optional
        Opens the DICOM nodes dialog (the window's Tools › DICOM nodes…).
    """

    def __init__(self, home: Home, source: SettingsSource, open_nodes: Callable[[], None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.home = home
        self.source = source
        self.open_nodes = open_nodes
        self.ask_open_file: Callable[[str, str], str | None] = self._ask_open_file
        self.ask_passphrase: Callable[[str], str | None] = self._ask_passphrase
        self.ask_text: Callable[[str, str, str], str | None] = self._ask_text
        self._build()
        self._unsubscribe = source.subscribe(self._settings_saved)
        self.load()

    # Construction -------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)

        reader = QWidget()
        form = QFormLayout(reader)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("Family^Given, or Given Family")
        self.name_edit.setToolTip("Your name as it goes into reports (DICOM person name: Family^Given)")
        self.id_edit = QLineEdit()
        self.id_edit.setPlaceholderText("Login or staff number")
        self.institution_edit = QLineEdit()
        self.institution_edit.setPlaceholderText("Hospital or practice")
        form.addRow("Name", self.name_edit)
        form.addRow("Reader ID", self.id_edit)
        form.addRow("Institution", self.institution_edit)
        self.name_preview = QLabel()
        form.addRow("", self.name_preview)
        self.name_edit.textChanged.connect(self._preview_name)
        self.tabs.addTab(reader, "Reader")

        signing = QWidget()
        sv = QVBoxLayout(signing)
        self.identity_label = QLabel()
        self.identity_label.setObjectName("signingIdentity")
        self.identity_label.setWordWrap(True)
        self.identity_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.identity_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.identity_label.setMinimumHeight(self.fontMetrics().lineSpacing() * 6)
        sv.addWidget(self.identity_label)
        row = QHBoxLayout()
        self.import_p12_button = QPushButton("Import PKCS#12…")
        self.import_p12_button.setToolTip("Your signing key and certificate in one .p12/.pfx file")
        self.import_p12_button.clicked.connect(self.import_pkcs12)
        self.import_pem_button = QPushButton("Import PEM key + certificate…")
        self.import_pem_button.clicked.connect(self.import_pem)
        self.create_test_button = QPushButton("Create test identity…")
        self.create_test_button.setToolTip("A self-signed identity for trying Lightbox out: NOT for clinical use")
        self.create_test_button.clicked.connect(self.create_test_identity)
        for b in (self.import_p12_button, self.import_pem_button, self.create_test_button):
            row.addWidget(b)
        row.addStretch(1)
        sv.addLayout(row)
        sv.addStretch(1)
        self.tabs.addTab(signing, "Signing")

        trust = QWidget()
        tv = QVBoxLayout(trust)
        tv.addWidget(QLabel("Certificates (files or folders) whose signatures you trust, and what they issued:"))
        self.trust_list = QListWidget()
        tv.addWidget(self.trust_list, 1)
        row = QHBoxLayout()
        self.add_trust_button = QPushButton("Add certificate…")
        self.add_trust_button.clicked.connect(self.add_trust_file)
        self.add_trust_folder_button = QPushButton("Add folder…")
        self.add_trust_folder_button.clicked.connect(self.add_trust_folder)
        self.remove_trust_button = QPushButton("Remove")
        self.remove_trust_button.clicked.connect(self.remove_trust)
        for b in (self.add_trust_button, self.add_trust_folder_button, self.remove_trust_button):
            row.addWidget(b)
        row.addStretch(1)
        tv.addLayout(row)
        self.tabs.addTab(trust, "Trust")

        sending = QWidget()
        nf = QFormLayout(sending)
        self.destination_combo = QComboBox()
        self.destination_combo.setToolTip("Where signed reports are sent")
        nf.addRow("Reports go to", self.destination_combo)
        self.ae_edit = QLineEdit()
        self.ae_edit.setMaxLength(16)
        self.ae_edit.setToolTip("This workstation's AE title (archives must know it)")
        nf.addRow("Our AE title", self.ae_edit)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setToolTip("The port archives send retrieved studies and commitment reports to")
        nf.addRow("Storage port", self.port_spin)
        self.nodes_button = QPushButton("DICOM nodes…")
        self.nodes_button.setToolTip("Add, edit, echo and test archives")
        self.nodes_button.clicked.connect(self._open_nodes)
        nf.addRow("Archives", self.nodes_button)
        self.tabs.addTab(sending, "Sending")

        from workstation.ui.ris_settings_page import RisPage  # HL7 and the Modality Worklist

        self.ris_page = RisPage()
        self.tabs.addTab(self.ris_page, "RIS")

        from workstation.ui.display_page import DisplayPage  # monitor calibration (GSDF)

        calibration = getattr(self.parent(), "display_calibration", None)
        self.display_page = DisplayPage(lambda: calibration.monitor if calibration is not None else "")
        self.tabs.addTab(self.display_page, "Display")

        from workstation.ui.site_login_page import SiteLoginPage  # who reads: LDAP bind at start and unlock

        self.site_login_page = SiteLoginPage(getattr(self.home, "station_config_file", self.home.config_file))
        self.tabs.addTab(self.site_login_page, "Site login")

        self.message = QLabel()
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)
        self.message.setFixedHeight(self.fontMetrics().lineSpacing() * 2 + 4)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Apply
                                        | QDialogButtonBox.StandardButton.Close)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.close_button = self.buttons.button(QDialogButtonBox.StandardButton.Close)
        self.ok_button.clicked.connect(self.accept_changes)
        self.apply_button.clicked.connect(self.apply)
        self.close_button.clicked.connect(self.close)
        layout.addWidget(self.buttons)
        self.resize(640, 440)

    def show_page(self, page: str) -> None:
        """Open on ``page``: reader, signing, trust, destination, network, ris, display or site-login."""
        index = {"reader": 0, "signing": 1, "trust": 2, "destination": 3, "network": 3, "ris": 4, "display": 5,
                 "site-login": 6}.get(page, 0)
        self.tabs.setCurrentIndex(index)

    # Settings -> widgets ---------------------------------------------------------------------
    def load(self) -> None:
        """Fill the pages from the saved settings."""
        s = self.source.current()
        rs = ReportingSettings.of(s)
        self.name_edit.setText(rs.radiologist_name)
        self.id_edit.setText(rs.radiologist_id)
        self.institution_edit.setText(rs.organisation)
        self.trust_list.clear()
        self.trust_list.addItems(rs.trust_store)
        self._fill_destinations(s, rs.destination)
        self.ae_edit.setText(s.ae_title)
        self.port_spin.setValue(s.storage_port)
        self.show_identity(rs)
        self.ris_page.load(s)
        self.display_page.load(s)
        self.site_login_page.load()
        if self.source.error:
            self.say(f"The settings file cannot be read ({self.source.error}); saving writes a good one", warn=True)

    def _fill_destinations(self, s: Settings, chosen: str) -> None:
        self.destination_combo.clear()
        site = ReportingSettings.of(s).site_destination
        fallback = f"the site's {site}" if site else ("the only node" if len(s.nodes) == 1 else "kept here")
        self.destination_combo.addItem(f"Automatic: the study's archive, else {fallback}", AUTOMATIC)
        for n in s.nodes:
            self.destination_combo.addItem(f"{n.name} ({n.ae_title}@{n.host}:{n.port})", n.name)
        if chosen and self.destination_combo.findData(chosen) < 0:
            self.destination_combo.addItem(f"{chosen} (not configured)", chosen)
        self.destination_combo.setCurrentIndex(max(0, self.destination_combo.findData(chosen)))

    def show_identity(self, rs: ReportingSettings | None = None) -> None:
        rs = rs or ReportingSettings.of(self.source.current())
        summary = identity_setup.describe_identity(rs)
        lines = [html.escape(line) for line in summary.lines()]
        if summary.test_identity:
            lines = [f'<span style="color:{theme.WARNING_TEXT}; font-weight:bold">{line}</span>'
                     if "NOT FOR CLINICAL USE" in line else line for line in lines]
        if summary.warning:
            lines = [f'<span style="color:{theme.WARNING_TEXT}">{line}</span>' if line.startswith("Warning") else line
                     for line in lines]
        self.identity_label.setText("<br>".join(lines))
        self.identity = summary

    def _preview_name(self, text: str) -> None:
        try:
            pn = identity_setup.validate_person_name(text)
            self.name_preview.setText(f"In reports: {pn}" if pn else "")
        except ValueError as exc:
            self.name_preview.setText(str(exc))

    def _settings_saved(self) -> None:
        # Another part of the window (the node dialog) saved: keep the destination list current.
        s = self.source.current()
        self._fill_destinations(s, combo_value(self.destination_combo, str) or ReportingSettings.of(s).destination)
        self.show_identity()

    # Widgets -> settings ---------------------------------------------------------------------
    def say(self, text: str, *, warn: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {theme.WARNING_TEXT};" if warn else "")

    def apply(self) -> bool:
        """Check and save every page; False (nothing saved, the reason shown) when a value is wrong."""
        try:
            name = identity_setup.validate_person_name(self.name_edit.text())
            ae = validate_ae_title(self.ae_edit.text())
            port = validate_port(self.port_spin.value())
            hl7 = self.ris_page.checked()
            display = self.display_page.checked()
            site_login = self.site_login_page.checked()
        except (ValueError, ConfigError) as exc:
            self.say(f"Not saved: {exc}", warn=True)
            return False
        trust = [self.trust_list.item(i).text() for i in range(self.trust_list.count())]
        destination = combo_value(self.destination_combo, str) or ""

        def change(s: Settings) -> None:
            rs = ReportingSettings.of(s)
            rs.radiologist_name = name
            rs.radiologist_id = self.id_edit.text().strip()
            rs.organisation = self.institution_edit.text().strip()
            rs.trust_store = trust
            rs.destination = destination
            rs.store(s)
            s.ae_title, s.storage_port = ae, port
            self.ris_page.apply_to(s, hl7)
            self.display_page.apply_to(s, display)

        try:
            self.source.update(change)
            self.site_login_page.save(site_login)  # the station's file, read before anyone logs in
        except OSError as exc:
            self.say(f"Not saved: cannot write the settings ({exc.strerror or exc})", warn=True)
            return False
        self.name_edit.setText(name)
        self.say("Saved: in use from now on")
        return True

    def accept_changes(self) -> None:
        if self.apply():
            self.close()

    def _use_identity(self, paths: ReportingSettings, summary: identity_setup.IdentitySummary) -> None:
        def change(s: Settings) -> None:
            rs = ReportingSettings.of(s)
            rs.key_path, rs.cert_path = paths.key_path, paths.cert_path
            # Our own certificate is trusted here, so our reports show "signature valid".
            if paths.cert_path not in rs.trust_store:
                rs.trust_store.append(paths.cert_path)
            rs.store(s)

        self.source.update(change)
        rs = ReportingSettings.of(self.source.current())
        self.trust_list.clear()
        self.trust_list.addItems(rs.trust_store)
        self.show_identity(rs)
        note = f" — {summary.warning}" if summary.warning else ""
        self.say(f"Signing with {summary.subject}, valid to {summary.valid_to}{note}", warn=bool(summary.warning))

    def import_pkcs12(self) -> bool:
        path = self.ask_open_file("Import signing identity (PKCS#12)", "PKCS#12 (*.p12 *.pfx);;All files (*)")
        if not path:
            return False
        return self._import(path, None)

    def import_pem(self) -> bool:
        key = self.ask_open_file("Import signing key (PEM)", "PEM key (*.pem *.key);;All files (*)")
        if not key:
            return False
        cert = self.ask_open_file("Its certificate", "Certificate (*.pem *.crt *.cer *.der);;All files (*)")
        if not cert:
            return False
        return self._import(key, cert)

    def _import(self, key: str, cert: str | None) -> bool:
        passphrase: str | None = None
        for _attempt in range(3):
            try:
                paths, summary = identity_setup.import_identity(self.home.config_dir, key, cert, passphrase)
            except CertificateError as exc:
                if "passphrase" in str(exc):
                    passphrase = self.ask_passphrase(
                        "Passphrase of the key file (checked now, never stored):" if passphrase is None else
                        "Wrong passphrase; try again:")
                    if passphrase is None:
                        self.say("Import cancelled")
                        return False
                    continue
                self.say(f"Not imported: {exc}", warn=True)
                return False
            except OSError as exc:
                self.say(f"Not imported: cannot copy it into the settings folder ({exc.strerror or exc})", warn=True)
                return False
            self._use_identity(paths, summary)
            return True
        self.say("Not imported: wrong passphrase", warn=True)
        return False

    def create_test_identity(self) -> bool:
        try:
            family_given = identity_setup.validate_person_name(self.name_edit.text()).split("^")[:2]
            suggested = " ".join(reversed(family_given)).strip()
        except ValueError:
            suggested = ""
        name = self.ask_text("Create a test identity", "Name on the test certificate (NOT for clinical use):",
                             suggested or "Test Reader")
        if not name:
            return False
        try:
            paths, summary = identity_setup.create_test_identity(self.home.config_dir, name,
                                                                 self.institution_edit.text().strip())
        except (OSError, CertificateError) as exc:
            self.say(f"No test identity made: {exc}", warn=True)
            return False
        self._use_identity(paths, summary)
        self.say("Test identity in use: reports signed with it are NOT for clinical use", warn=True)
        return True

    def add_trust_file(self) -> None:
        path = self.ask_open_file("Trust a certificate", "Certificates (*.pem *.crt *.cer *.der);;All files (*)")
        if path:
            self.trust_list.addItem(path)
            self.say("Press Apply to use the new trust list")

    def add_trust_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Trust the certificates in a folder")
        if folder:
            self.trust_list.addItem(folder)
            self.say("Press Apply to use the new trust list")

    def remove_trust(self) -> None:
        row = self.trust_list.currentRow()
        if row >= 0:
            self.trust_list.takeItem(row)
            self.say("Press Apply to use the new trust list")

    def _open_nodes(self) -> None:
        if self.open_nodes is not None:
            self.open_nodes()

    # Dialogs ---------------------------------------------------------------------------------
    def _ask_open_file(self, title: str, filters: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self, title, "", filters)
        return path or None

    def _ask_passphrase(self, prompt: str) -> str | None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Passphrase")
        dialog.setLabelText(prompt)
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        ok = dialog.exec() == QInputDialog.DialogCode.Accepted
        text = dialog.textValue()
        dialog.deleteLater()
        return text if ok else None

    def _ask_text(self, title: str, label: str, default: str) -> str | None:
        text, ok = QInputDialog.getText(self, title, label, QLineEdit.EchoMode.Normal, default)
        return text.strip() if ok and text.strip() else None

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        self._unsubscribe()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._unsubscribe()
        super().closeEvent(event)


def _restart_listener(window) -> None:
    """The storage SCP takes a changed AE title or port at once (no restart of the program)."""
    listener = getattr(window, "listener", None)
    if listener is None:
        return
    listener.stop()
    listener.start()
    label = getattr(window, "listener_label", None)
    if label is not None:
        label.setText(listener.message)
        label.setStyleSheet("" if listener.ok else f"color: {theme.WARNING_TEXT};")
    window.statusBar().showMessage(listener.message, 10_000)


def attach_settings(window, home: Home, source: SettingsSource, cache=None) -> QAction:
    """Tools › Settings… on ``window``; ``window.show_settings(page)`` opens it (links in messages use it)."""
    action = QAction("&Settings…", window)
    action.setToolTip("Reader, signing certificate, trust, report destination, AE title and port, nodes")
    network = [(lambda s: (s.ae_title, s.storage_port, s.storage_bind_address))(source.current())]

    def on_saved() -> None:
        now = source.current()
        key = (now.ae_title, now.storage_port, now.storage_bind_address)
        if key != network[0]:
            network[0] = key
            _restart_listener(window)

    source.subscribe(on_saved)
    # Changes saved by another process (the command line, the node dialog's own writes) reach the window too.
    watch = QTimer(window)
    watch.setInterval(WATCH_MS)
    watch.timeout.connect(source.poll)
    watch.start()
    window.settings_watch = watch

    def open_nodes() -> None:
        nodes_action = getattr(window, "node_dialog_action", None)
        if nodes_action is not None:
            nodes_action.trigger()
            dialog = getattr(window, "node_dialog", None)
            if dialog is not None and hasattr(dialog, "nodes_changed"):
                dialog.nodes_changed.connect(source.notify)

    def show(page: str = "") -> SettingsDialog:
        dialog = getattr(window, "settings_dialog", None)
        if dialog is None or not dialog.isVisible():
            dialog = SettingsDialog(home, source, open_nodes, window)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
            window.settings_dialog = dialog
        if page:
            dialog.show_page(page)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    action.triggered.connect(lambda _checked=False: show())
    menu = getattr(window, "tools_menu", None)
    (menu if menu is not None else window.menuBar().addMenu("&Tools")).addAction(action)
    window.settings_action = action
    window.show_settings = show
    return action
