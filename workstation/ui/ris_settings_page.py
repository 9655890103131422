"""Settings › RIS: HL7 with the RIS (listener, where reports go, version, character set, names) and which
DICOM nodes are Modality Worklist providers.  A page of :class:`workstation.ui.settings_dialog.SettingsDialog`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QWidget,
)

from workstation.config import ConfigError, Settings
from workstation.hl7.settings import CHARSETS, VERSIONS, HL7Settings
from workstation.ui.qvariant import item_value
from workstation.worklist.settings import WorklistSettings


class RisPage(QWidget):
    """The RIS page: read with :meth:`load`, checked and written with :meth:`apply_to`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.listen_port = QSpinBox()
        self.listen_port.setRange(0, 65535)
        self.listen_port.setSpecialValueText("off")
        self.listen_port.setToolTip("Orders (ORM/OMI) and patient updates (ADT) from the RIS arrive here (MLLP)")
        self.ris_host = QLineEdit()
        self.ris_host.setPlaceholderText("RIS host name or address (empty: reports are not sent to a RIS)")
        self.ris_port = QSpinBox()
        self.ris_port.setRange(0, 65535)
        self.ris_port.setSpecialValueText("not set")
        self.version = QComboBox()
        self.version.addItems(VERSIONS)
        self.charset = QComboBox()
        self.charset.addItems(list(CHARSETS))
        self.sending_application = QLineEdit()
        self.sending_facility = QLineEdit()
        self.receiving_application = QLineEdit()
        self.receiving_facility = QLineEdit()
        self.refresh = QSpinBox()
        self.refresh.setRange(5, 3600)
        self.refresh.setSuffix(" s")
        self.worklist_nodes = QListWidget()
        self.worklist_nodes.setToolTip("Checked nodes are asked for the Modality Worklist (orders), not for studies")
        self.worklist_nodes.setMaximumHeight(110)
        form.addRow("HL7 listener port", self.listen_port)
        form.addRow("RIS host (reports)", self.ris_host)
        form.addRow("RIS port", self.ris_port)
        form.addRow("HL7 version", self.version)
        form.addRow("Character set", self.charset)
        form.addRow("Our application", self.sending_application)
        form.addRow("Our facility", self.sending_facility)
        form.addRow("RIS application", self.receiving_application)
        form.addRow("RIS facility", self.receiving_facility)
        form.addRow("Worklist refresh", self.refresh)
        form.addRow("Modality Worklist from", self.worklist_nodes)
        hint = QLabel("Nodes are added in Tools › DICOM nodes; check those that are worklist providers.")
        hint.setWordWrap(True)
        form.addRow("", hint)

    def load(self, s: Settings) -> None:
        hs = HL7Settings.of(s)
        self.listen_port.setValue(int(hs.listen_port or 0))
        self.ris_host.setText(hs.ris_host)
        self.ris_port.setValue(int(hs.ris_port or 0))
        self.version.setCurrentText(hs.version)
        self.charset.setCurrentText(hs.charset)
        self.sending_application.setText(hs.sending_application)
        self.sending_facility.setText(hs.sending_facility)
        self.receiving_application.setText(hs.receiving_application)
        self.receiving_facility.setText(hs.receiving_facility)
        self.refresh.setValue(int(WorklistSettings.of(s).refresh_s))
        self.worklist_nodes.clear()
        for node in s.nodes:
            item = QListWidgetItem(f"{node.name} ({node.ae_title}@{node.host}:{node.port})")
            item.setData(Qt.ItemDataRole.UserRole, node.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if node.worklist else Qt.CheckState.Unchecked)
            self.worklist_nodes.addItem(item)

    def checked(self) -> HL7Settings:
        """The HL7 settings shown, checked (ConfigError with the reason)."""
        if bool(self.ris_host.text().strip()) != bool(self.ris_port.value()):
            raise ConfigError("the RIS needs both a host and a port (or neither)")
        return HL7Settings(
            listen_port=self.listen_port.value(), ris_host=self.ris_host.text().strip(),
            ris_port=self.ris_port.value(), version=self.version.currentText(), charset=self.charset.currentText(),
            sending_application=self.sending_application.text().strip() or "LIGHTBOX",
            sending_facility=self.sending_facility.text().strip(),
            receiving_application=self.receiving_application.text().strip() or "RIS",
            receiving_facility=self.receiving_facility.text().strip()).check()

    def apply_to(self, s: Settings, hs: HL7Settings) -> None:
        """Write the page into ``s`` (inside the dialog's settings update)."""
        old = HL7Settings.of(s)
        hs.listen_address, hs.timeout_s = old.listen_address, old.timeout_s
        hs.store(s)
        wl = WorklistSettings.of(s)
        wl.refresh_s = float(self.refresh.value())
        wl.store(s)
        items = [self.worklist_nodes.item(i) for i in range(self.worklist_nodes.count())]
        flags = {name: item.checkState() == Qt.CheckState.Checked
                 for item in items if (name := item_value(item, str)) is not None}
        for node in s.nodes:
            if node.name in flags:
                node.worklist = flags[node.name]
