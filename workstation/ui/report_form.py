"""The form of a report template: one group per section, one editor per field.

Each editor reports its text through :attr:`ReportForm.value_changed`
(field id, text); the form holds no report logic (the ReportEditor does).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from workstation.reporting.templates import FieldSpec, ReportTemplate
from workstation.ui.qvariant import combo_value

_TEXT_HEIGHT = 64


class ReportForm(QWidget):
    """Editors for the fields of ``template``.

    Signals
    -------
    value_changed(str, str)
        Field id and its new text (a code value for coded choices, "" when cleared).
    """

    value_changed = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, QWidget] = {}
        self._loading = False

    def set_template(self, template: ReportTemplate, values: dict[str, str]) -> None:
        """Rebuild the editors for ``template`` and fill them with ``values``."""
        self._loading = True
        while self._layout.count():
            item = self._layout.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.editors = {}
        for section in template.sections:
            box = QGroupBox(section.label)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            # Labels above their editors: the dock is narrow and the editors line up.
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
            only = section.fields[0] if len(section.fields) == 1 else None
            if only is not None and only.label == section.label:
                # One field named like its section: the group's title is its label.
                box.setTitle(section.label + (" *" if only.required else ""))
            for spec in section.fields:
                editor = self._editor(spec, values.get(spec.id, ""))
                self.editors[spec.id] = editor
                editor.setToolTip(f"{spec.concept} — {'required' if spec.required else 'optional'}")
                if spec is only and only.label == section.label:
                    form.addRow(editor)
                else:
                    form.addRow(QLabel(spec.label + (" *" if spec.required else "")), editor)
            self._layout.addWidget(box)
        self._layout.addStretch(1)
        self._loading = False

    def _emit(self, field_id: str, text: str) -> None:
        if not self._loading:
            self.value_changed.emit(field_id, text)

    def _editor(self, spec: FieldSpec, value: str) -> QWidget:
        if spec.type == "code":
            combo = QComboBox()
            combo.addItem("—", "")
            for o in spec.options:
                combo.addItem(o.meaning, o.value)
                combo.setItemData(combo.count() - 1, str(o), Qt.ItemDataRole.ToolTipRole)
            index = max(0, combo.findData(value)) if value else 0
            if value and combo.findData(value) < 0:
                try:  # a draft may hold the meaning rather than the code
                    index = max(0, combo.findData(spec.option(value).value))
                except ValueError:
                    index = 0
            combo.setCurrentIndex(index)
            combo.currentIndexChanged.connect(lambda _i, c=combo, f=spec.id: self._emit(f, combo_value(c, str) or ""))
            return combo
        if spec.type == "text" and spec.multiline:
            edit = QPlainTextEdit(value)
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(_TEXT_HEIGHT)
            edit.textChanged.connect(lambda e=edit, f=spec.id: self._emit(f, e.toPlainText()))
            return edit
        line = QLineEdit(value)
        if spec.type == "date":
            line.setPlaceholderText("YYYY-MM-DD")
        line.textChanged.connect(lambda text, f=spec.id: self._emit(f, text))
        if spec.type == "numeric" and spec.unit is not None:
            row = QWidget()
            h = QHBoxLayout(row)
            h.setContentsMargins(0, 0, 0, 0)
            h.addWidget(line, 1)
            h.addWidget(QLabel(spec.unit.meaning))
            row.setFocusProxy(line)
            self.editors[spec.id + ":line"] = line
            return row
        return line

    def line_edit(self, field_id: str) -> QWidget:
        """The text widget of a field (tests type into it)."""
        return self.editors.get(field_id + ":line") or self.editors[field_id]
