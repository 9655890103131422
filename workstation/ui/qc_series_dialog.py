"""The series dialog: split a series or merge series, with a preview of the new series before applying.

Planning and applying are :mod:`workstation.qc.restructure`; the dialog turns
the checked series or images and the chosen operation into a plan, shows it,
and applies it off the GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from workstation.config import Settings
from workstation.qc.instances import QcError, operator_name
from workstation import audit
from workstation.qc.restructure import RestructurePlan, apply_restructure, plan_merge, plan_split
from workstation.store.cache import StudyCache
from workstation.ui.qc_widgets import InstancePicker, chosen_node, fill_node_combo, send_after, sent_text
from workstation.ui.qc_worker import QcTask
from workstation.ui.qvariant import combo_value, signal_value

#: Operations: (key, label).
OPERATIONS = (
    ("orientation", "Split the checked series by orientation"),
    ("position", "Split the checked series by slice position (passes, stations)"),
    ("acquisition", "Split the checked series by acquisition"),
    ("instances", "Move the checked images to a new series"),
    ("merge", "Merge the checked series into one"),
)


class SeriesDialog(QDialog):
    """Split or merge series of one study.

    Signals
    -------
    applied(object)
        ``{"outcome": QcOutcome, "sent": ..., "send_error": ...}``.
    """

    applied = Signal(object)

    def __init__(self, cache: StudyCache, study_uid: str, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Split or merge series")
        self._cache, self._study, self._settings = cache, study_uid, settings
        self.plan: RestructurePlan | None = None
        self.task = QcTask(self)
        self.task.finished.connect(self._done)
        self.task.failed.connect(self._failed)
        self.picker = InstancePicker()
        self.picker.load(cache, study_uid)
        self.picker.itemChanged.connect(self._invalidate)
        self.operation_combo = QComboBox()
        for key, label in OPERATIONS:
            self.operation_combo.addItem(label, key)
        self.operation_combo.currentIndexChanged.connect(self._invalidate)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Why (optional): written into the rejection note of the originals")
        self.reason_edit.textChanged.connect(self._invalidate)
        self.operator_edit = QLineEdit(operator_name())
        self.send_combo = QComboBox()
        fill_node_combo(self.send_combo, settings.nodes, "Keep in the cache only")
        form = QFormLayout()
        form.addRow("Operation", self.operation_combo)
        form.addRow("Reason", self.reason_edit)
        form.addRow("Operator", self.operator_edit)
        form.addRow("Then send to", self.send_combo)
        self.plan_text = QPlainTextEdit()
        self.plan_text.setReadOnly(True)
        self.plan_text.setPlaceholderText("Check series (or images), choose the operation, then Preview.")
        self.plan_text.setMaximumHeight(160)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.preview)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        self.buttons.addButton(self.preview_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker, 1)
        layout.addLayout(form)
        layout.addWidget(self.plan_text)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.resize(760, 760)

    def _invalidate(self, *_args) -> None:
        self.plan = None
        self.apply_button.setEnabled(False)

    def make_plan(self) -> RestructurePlan:
        """The plan for the checked items and the chosen operation (QcError says what is missing)."""
        op = combo_value(self.operation_combo, str)
        reason, operator = self.reason_edit.text(), self.operator_edit.text()
        if op == "merge":
            return plan_merge(self._cache, self.picker.checked_series(), reason=reason, operator=operator)
        if op == "instances":
            uids = self.picker.checked_instances()
            series = {row.series_uid for u in uids if (row := self._cache.instance(u)) is not None}
            if len(series) != 1:
                raise QcError("check images of exactly one series to move them to a new series")
            return plan_split(self._cache, series.pop(), "instances", uids, reason=reason, operator=operator)
        checked = self.picker.checked_series()
        if len(checked) != 1:
            raise QcError("check exactly one whole series to split")
        if op is None:  # every operation entry has its key
            raise QcError("choose how to split the series")
        return plan_split(self._cache, checked[0], op, reason=reason, operator=operator)

    def preview(self) -> RestructurePlan | None:
        try:
            self.plan = self.make_plan()
        except QcError as exc:
            self.plan = None
            self.plan_text.setPlainText(f"Cannot do that: {exc}")
            self.apply_button.setEnabled(False)
            return None
        self.plan_text.setPlainText("\n".join(self.plan.lines()))
        self.apply_button.setEnabled(True)
        return self.plan

    def apply(self) -> bool:
        if self.plan is None:
            return False
        plan, node, ae = self.plan, chosen_node(self.send_combo, self._settings.nodes), self._settings.ae_title
        self.apply_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        self.status_label.setText("Writing the new series…")

        def job() -> dict[str, Any]:
            return send_after(audit.qc_applied(self._cache, apply_restructure(self._cache, plan), plan.kind), node, ae)

        return self.task.start(job, plan.kind)

    def _done(self, payload: object) -> None:
        result = signal_value(payload, dict)
        outcome = result["outcome"]
        series = len({p.series_uid for p in outcome.copies})
        self.status_label.setText(f"{len(outcome.copies)} copies in {series} new series; "
                                  f"{len(outcome.rejected)} originals rejected." + sent_text(result))
        self.plan = None
        self.preview_button.setEnabled(True)
        self.picker.load(self._cache, self._study)
        self.applied.emit(result)

    def _failed(self, message: str) -> None:
        self.status_label.setText(f"Failed: {message}")
        self.preview_button.setEnabled(True)
