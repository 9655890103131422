"""Editing a volume rendering preset: opacity and colour points, gradient opacity and shading, applied live.

The table is the preset's own data (:class:`workstation.volume3d.presets.VrPreset`);
the editor only turns cells into numbers and hands back a new preset.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from workstation.volume3d.presets import PresetError, VrPreset


class TransferFunctionEditor(QDialog):
    """A dialog over a copy of ``preset``; ``applied(VrPreset)`` on Apply."""

    applied = Signal(object)

    def __init__(self, preset: VrPreset, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Transfer functions: {preset.label}")
        self.preset = copy.deepcopy(preset)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Opacity (value, opacity)"))
        self.opacity_table = self._table(["Value", "Opacity"], self.preset.opacity)
        layout.addWidget(self.opacity_table)
        layout.addWidget(QLabel("Colour (value, red, green, blue: 0 to 1)"))
        self.colour_table = self._table(["Value", "Red", "Green", "Blue"], self.preset.colour)
        layout.addWidget(self.colour_table)
        form = QFormLayout()
        s = self.preset.shading
        self.shade_check = QCheckBox()
        self.shade_check.setChecked(s.on)
        form.addRow("Shading", self.shade_check)
        self.spins = {}
        for name in ("ambient", "diffuse", "specular", "specular_power"):
            spin = QDoubleSpinBox()
            spin.setRange(0, 100 if name == "specular_power" else 1)
            spin.setSingleStep(0.05 if name != "specular_power" else 1)
            spin.setValue(getattr(s, name))
            self.spins[name] = spin
            form.addRow(name.replace("_", " ").capitalize(), spin)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.add_opacity = QPushButton("Add opacity point")
        self.add_opacity.clicked.connect(lambda: self._add_row(self.opacity_table))
        self.add_colour = QPushButton("Add colour point")
        self.add_colour.clicked.connect(lambda: self._add_row(self.colour_table))
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply)
        self.message = QLabel("")
        for w in (self.add_opacity, self.add_colour, self.message):
            buttons.addWidget(w)
        buttons.addStretch(1)
        buttons.addWidget(self.apply_button)
        layout.addLayout(buttons)

    def _table(self, headers, points) -> QTableWidget:
        t = QTableWidget(len(points), len(headers))
        t.setHorizontalHeaderLabels(headers)
        for r, pt in enumerate(points):
            for c, v in enumerate(pt):
                t.setItem(r, c, QTableWidgetItem(f"{v:g}"))
        return t

    def _add_row(self, table: QTableWidget) -> None:
        table.insertRow(table.rowCount())

    @staticmethod
    def _points(table: QTableWidget) -> list[list[float]]:
        out = []
        for r in range(table.rowCount()):
            cells = [table.item(r, c) for c in range(table.columnCount())]
            if all(c is None or not c.text().strip() for c in cells):
                continue  # an empty new row
            out.append([float(c.text()) if c is not None else 0.0 for c in cells])
        return sorted(out)

    def edited_preset(self) -> VrPreset:
        """The preset as edited (raises PresetError on a cell that is not a number)."""
        d = self.preset.to_dict()
        try:
            d["opacity"] = self._points(self.opacity_table)
            d["colour"] = self._points(self.colour_table)
        except ValueError as exc:
            raise PresetError(f"not a number: {exc}") from None
        d["shading"] = {"on": self.shade_check.isChecked(), **{k: s.value() for k, s in self.spins.items()}}
        return VrPreset.from_dict(d, "edited preset")

    def apply(self) -> None:
        try:
            preset = self.edited_preset()
        except PresetError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText("")
        self.applied.emit(preset)
