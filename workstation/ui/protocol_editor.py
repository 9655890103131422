"""The protocol manager: list, edit (rules in a form), duplicate, delete, import and export protocols.

Built-in protocols are read-only files; saving one writes the user's copy
under the same id into ``<home>/hanging_protocols``, which then replaces it
(deleting that copy brings the built-in back).  Everything the dialog does
goes through :mod:`workstation.hanging.editing` and
:mod:`workstation.hanging.library`, which validate exactly as loading does: the
dialog cannot save a protocol the library would skip, and says which field
is wrong.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.hanging.attributes import STUDY_ATTRIBUTES, StudyFacts
from workstation.hanging.capture import DEFAULT_MATCH
from workstation.hanging.editing import FORM_KINDS, ProtocolDraft, RuleRow, duplicate, export_protocol, import_protocol
from workstation.hanging.library import ProtocolLibrary, delete_user_protocol, save_user_protocol
from workstation.hanging.protocol import Protocol, ProtocolError
from workstation.home import Home
from workstation.ui.qvariant import item_value

_COLUMNS = ("Attribute", "Constraint", "Value", "Weight", "Required", "Not")
_W = TypeVar("_W", bound=QWidget)


class RulesTable(QTableWidget):
    """The matching rules, one row each: attribute, constraint, value, weight, required, not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(_COLUMNS), parent)
        self.setHorizontalHeaderLabels(_COLUMNS)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)

    def set_rows(self, rows: list[RuleRow]) -> None:
        self.setRowCount(0)
        for r in rows:
            self.add_row(r)

    def add_row(self, row: RuleRow | None = None) -> None:
        row = row or RuleRow()
        i = self.rowCount()
        self.insertRow(i)
        attribute = QComboBox()
        attribute.addItems(list(STUDY_ATTRIBUTES))
        attribute.setCurrentText(row.attribute)
        kind = QComboBox()
        kind.addItems(list(FORM_KINDS))
        kind.setCurrentText(row.kind)
        value = QLineEdit(row.value)
        value.setPlaceholderText("CT  ·  CR, DX  ·  1..5  ·  regular expression")
        weight = QDoubleSpinBox()
        weight.setRange(0, 1000)
        weight.setDecimals(1)
        weight.setValue(row.weight)
        required, negate = QCheckBox(), QCheckBox()
        required.setChecked(row.required)
        negate.setChecked(row.negate)
        for col, w in enumerate((attribute, kind, value, weight, required, negate)):
            self.setCellWidget(i, col, w)

    def remove_current(self) -> None:
        if self.currentRow() >= 0:
            self.removeRow(self.currentRow())

    def _cell(self, row: int, column: int, kind: type[_W]) -> _W:
        w = self.cellWidget(row, column)
        if not isinstance(w, kind):  # add_row puts one of each in every row
            raise TypeError(f"rule {row + 1}, column {column + 1}: {type(w).__name__}, not {kind.__name__}")
        return w

    def rows(self) -> list[RuleRow]:
        out = []
        for i in range(self.rowCount()):
            out.append(RuleRow(self._cell(i, 0, QComboBox).currentText(), self._cell(i, 1, QComboBox).currentText(),
                               self._cell(i, 2, QLineEdit).text(), self._cell(i, 3, QDoubleSpinBox).value(),
                               self._cell(i, 4, QCheckBox).isChecked(), self._cell(i, 5, QCheckBox).isChecked()))
        return out


class ProtocolEditorDialog(QDialog):
    """Lists the hanging protocols and edits the selected one.

    Parameters
    ----------
    home : Home
        Where the user's protocols are saved.

    Signals
    -------
    saved(str)
        The id of a protocol just saved, imported or deleted.
    """

    saved = Signal(str)

    def __init__(self, home: Home, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hanging protocols")
        self.home = home
        self.library = ProtocolLibrary()
        self.current: Protocol | None = None

        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._on_selected)
        self.skipped = QLabel("")
        self.skipped.setWordWrap(True)
        self.skipped.setStyleSheet("color: #d08770;")
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.import_button = QPushButton("Import…")
        self.export_button = QPushButton("Export…")
        for b in (self.new_button, self.duplicate_button, self.delete_button, self.import_button, self.export_button):
            buttons.addWidget(b)
        self.new_button.clicked.connect(self.new_protocol)
        self.duplicate_button.clicked.connect(self.duplicate_current)
        self.delete_button.clicked.connect(self._confirm_delete)
        self.import_button.clicked.connect(self._choose_import)
        self.export_button.clicked.connect(self._choose_export)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.list, 1)
        lv.addLayout(buttons)
        lv.addWidget(self.skipped)

        self.id_edit, self.name_edit, self.description_edit = QLineEdit(), QLineEdit(), QLineEdit()
        self.default_box = QCheckBox("Default: used when no other protocol matches")
        self.origin_label = QLabel("")
        form = QFormLayout()
        form.addRow("Id", self.id_edit)
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.description_edit)
        form.addRow("", self.default_box)
        form.addRow("", self.origin_label)
        self.rules = RulesTable()
        rule_buttons = QHBoxLayout()
        add_rule, remove_rule = QPushButton("Add rule"), QPushButton("Remove rule")
        add_rule.clicked.connect(lambda: self.rules.add_row())
        remove_rule.clicked.connect(self.rules.remove_current)
        rule_buttons.addWidget(add_rule)
        rule_buttons.addWidget(remove_rule)
        rule_buttons.addStretch(1)
        self.body = QPlainTextEdit()
        self.body.setFont(QFont("monospace"))
        self.body.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        bottom.addWidget(close)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(form)
        rv.addWidget(QLabel("Matching rules (the best total weight wins; a failed required rule excludes):"))
        rv.addWidget(self.rules, 1)
        rv.addLayout(rule_buttons)
        rv.addWidget(QLabel("Priors, display sets and stages (YAML):"))
        rv.addWidget(self.body, 2)
        rv.addLayout(bottom)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.resize(1150, 780)
        self.reload()

    # The list ------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        """Read the protocols again and select ``select`` (else the current one)."""
        keep = select or (self.current.id if self.current else None)
        self.library = ProtocolLibrary.load(self.home)
        self.list.blockSignals(True)
        self.list.clear()
        for p in self.library.protocols:
            item = QListWidgetItem(f"{p.name}  —  {'yours' if p.origin == 'user' else 'built-in'}")
            item.setData(Qt.ItemDataRole.UserRole, p.id)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.skipped.setText("\n".join(f"Skipped: {e}" for e in self.library.errors))
        ids = [p.id for p in self.library.protocols]
        self.list.setCurrentRow(ids.index(keep) if keep in ids else 0)

    def _on_selected(self, item: QListWidgetItem | None, _previous=None) -> None:
        protocol_id = item_value(item, str)
        protocol = self.library.get(protocol_id) if protocol_id is not None else None
        self.current = protocol
        if protocol is not None:
            self.show_draft(ProtocolDraft.of(protocol), protocol)

    def show_draft(self, draft: ProtocolDraft, protocol: Protocol | None = None) -> None:
        """Fill the form with ``draft``."""
        self.id_edit.setText(draft.id)
        self.name_edit.setText(draft.name)
        self.description_edit.setText(draft.description)
        self.default_box.setChecked(draft.default)
        self.rules.set_rows(draft.rules)
        self.body.setPlainText(draft.body)
        if protocol is None:
            self.origin_label.setText("New: saved among your protocols")
        elif protocol.origin == "user":
            self.origin_label.setText(f"Yours: {protocol.source}")
        else:
            self.origin_label.setText("Built-in: saving keeps your copy, which replaces it")
        self.delete_button.setEnabled(protocol is not None and protocol.origin == "user")
        self.status.setText("")

    def draft(self) -> ProtocolDraft:
        """The form as a draft."""
        return ProtocolDraft(self.id_edit.text(), self.name_edit.text(), self.description_edit.text(),
                             self.default_box.isChecked(), self.rules.rows(), self.body.toPlainText())

    # Actions -------------------------------------------------------------------------------
    def save(self) -> Protocol | None:
        """Validate the form and save it as the user's protocol; None (and the error shown) when invalid."""
        try:
            protocol = self.draft().build()
            save_user_protocol(self.home, protocol)
        except ProtocolError as exc:
            where = f"{exc.field}: " if exc.field else ""
            self._say(f"Not saved — {where}{exc.message}", error=True)
            return None
        except OSError as exc:
            self._say(f"Not saved — {exc}", error=True)
            return None
        self.reload(protocol.id)
        self._say(f"Saved {protocol.name}")
        self.saved.emit(protocol.id)
        return protocol

    def new_protocol(self) -> None:
        template = self.library.get("default")
        draft = ProtocolDraft.of(template) if template else ProtocolDraft(body="stages: []")
        taken = {p.id for p in self.library.protocols}
        draft.id, n = "my-protocol", 2
        while draft.id in taken:
            draft.id, n = f"my-protocol-{n}", n + 1
        draft.name, draft.description, draft.default = "My protocol", "", False
        draft.rules = [RuleRow("ModalitiesInStudy", "equals", "", 2, True)]
        self.current = None
        self.list.clearSelection()
        self.show_draft(draft)

    def duplicate_current(self) -> None:
        if self.current is not None:
            draft = duplicate(self.current, {p.id for p in self.library.protocols})
            self.current = None
            self.show_draft(draft)

    def _confirm_delete(self) -> None:
        if self.current is None or self.current.origin != "user":
            return
        answer = QMessageBox.question(self, "Delete protocol", f"Delete your protocol “{self.current.name}”?")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_current()

    def delete_current(self) -> bool:
        """Delete the selected user protocol (a built-in of the same id comes back)."""
        if self.current is None or self.current.origin != "user":
            return False
        protocol_id = self.current.id
        delete_user_protocol(self.home, protocol_id)
        self.current = None
        self.reload(protocol_id)
        self._say("Deleted")
        self.saved.emit(protocol_id)
        return True

    def import_file(self, path: str) -> Protocol | None:
        try:
            protocol = import_protocol(self.home, path)
        except (ProtocolError, OSError) as exc:
            self._say(f"Not imported — {exc}", error=True)
            return None
        self.reload(protocol.id)
        self._say(f"Imported {protocol.name}")
        self.saved.emit(protocol.id)
        return protocol

    def export_file(self, path: str) -> bool:
        try:
            export_protocol(self.draft().build(), path)
        except (ProtocolError, OSError) as exc:
            self._say(f"Not exported — {exc}", error=True)
            return False
        self._say(f"Exported to {path}")
        return True

    def _choose_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a hanging protocol", "",
                                              "Hanging protocols (*.json *.yaml *.yml *.dcm)")
        if path:
            self.import_file(path)

    def _choose_export(self) -> None:
        name = f"{self.id_edit.text() or 'protocol'}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Export the hanging protocol", name,
                                              "JSON (*.json);;YAML (*.yaml);;DICOM Hanging Protocol (*.dcm)")
        if path:
            self.export_file(path)

    def _say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #bf616a;" if error else "color: #a3be8c;")
        self.status.setText(text)


class SaveLayoutDialog(QDialog):
    """Asks a name for the layout and which study attributes make a study similar."""

    def __init__(self, current: StudyFacts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save layout as protocol")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. My CT chest with prior")
        form = QFormLayout(self)
        form.addRow("Name", self.name_edit)
        form.addRow(QLabel("Use it for studies with the same:"))
        self.boxes: dict[str, QCheckBox] = {}
        for attribute in STUDY_ATTRIBUTES:
            value = current.get(attribute)
            if attribute in ("RelevantPriorCount", "StudyDate") or value in (None, (), ""):
                continue
            shown = "/".join(map(str, value)) if isinstance(value, tuple) else str(value)
            box = QCheckBox(f"{attribute}: {shown}")
            box.setChecked(attribute in DEFAULT_MATCH)
            self.boxes[attribute] = box
            form.addRow(box)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #bf616a;")
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def name(self) -> str:
        return self.name_edit.text()

    def match(self) -> list[str]:
        return [a for a, box in self.boxes.items() if box.isChecked()]

    def show_error(self, text: str) -> None:
        self.error.setText(text)
