"""The reject dialog: pick images, an IOCM rejection title (and what was wrong), reject, send the note.

Rejecting is :func:`workstation.qc.rejection.reject_instances`; the dialog
collects the choice and runs it off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from workstation.config import Node, Settings
from workstation.qc.codes import QUALITY_REASONS, REJECTION_TITLES
from workstation.qc.instances import QcOutcome, operator_name
from workstation.qc.rejection import reject_instances
from workstation.store.cache import StudyCache
from workstation.ui.qc_widgets import InstancePicker, chosen_node, fill_node_combo, send_after, sent_text
from workstation.ui.qc_worker import QcTask
from workstation.ui.qvariant import combo_value, signal_value


class RejectDialog(QDialog):
    """Reject instances of one study.

    Signals
    -------
    applied(object)
        ``{"outcome": QcOutcome, "result": RejectionResult, "sent": ..., "send_error": ...}``.
    """

    applied = Signal(object)
    status_label: QLabel  # made below; the task's failure slot, connected first, writes to it

    def __init__(self, cache: StudyCache, study_uid: str, settings: Settings, *,
                 checked: AbstractSet[str] = frozenset(), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reject images")
        self._cache, self._study, self._settings = cache, study_uid, settings
        self.task = QcTask(self)
        self.task.finished.connect(self._done)
        self.task.failed.connect(lambda m: self.status_label.setText(f"Failed: {m}"))
        self.picker = InstancePicker()
        self.picker.load(cache, study_uid, checked=set(checked))
        self.reason_combo = QComboBox()
        for key, code in REJECTION_TITLES.items():
            self.reason_combo.addItem(f"{code.meaning} ({code.value})", key)
        self.quality_combo = QComboBox()
        self.quality_combo.addItem("(not said)", None)
        for key, code in QUALITY_REASONS.items():
            self.quality_combo.addItem(code.meaning, key)
        self.reason_combo.currentIndexChanged.connect(
            lambda _i: self.quality_combo.setEnabled(combo_value(self.reason_combo, str) == "quality"))
        self.comment_edit = QLineEdit()
        self.comment_edit.setPlaceholderText("Free text written into the rejection note")
        self.operator_edit = QLineEdit(operator_name())
        self.send_combo = QComboBox()
        fill_node_combo(self.send_combo, settings.nodes, "Keep in the cache only")
        form = QFormLayout()
        form.addRow("Rejected for", self.reason_combo)
        form.addRow("What was wrong", self.quality_combo)
        form.addRow("Comment", self.comment_edit)
        form.addRow("Operator", self.operator_edit)
        form.addRow("Then send the note to", self.send_combo)
        self.status_label = QLabel("Check the images to reject. They stay in the cache, hidden when reading.")
        self.status_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.reject_button = self.buttons.addButton("Reject checked images", QDialogButtonBox.ButtonRole.ActionRole)
        self.reject_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker, 1)
        layout.addLayout(form)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)
        self.resize(720, 720)

    def apply(self) -> bool:
        uids = self.picker.checked_instances()
        if not uids:
            self.status_label.setText("Check at least one image first.")
            return False
        # Every reason entry has its key; "quality" is reject_instances' own default.
        reason = combo_value(self.reason_combo, str) or "quality"
        quality = combo_value(self.quality_combo, str)
        if reason != "quality":
            quality = None
        node: Node | None = chosen_node(self.send_combo, self._settings.nodes)
        comment, operator, ae = self.comment_edit.text().strip(), self.operator_edit.text(), self._settings.ae_title

        def job() -> dict[str, Any]:
            result = reject_instances(self._cache, uids, reason, description=comment, operator=operator,
                                      quality=quality)
            outcome = QcOutcome(list(result.notes), list(result.rejected))
            return {**send_after(outcome, node, ae), "result": result}

        self.reject_button.setEnabled(False)
        self.status_label.setText(f"Rejecting {len(uids)} image(s)…")
        return self.task.start(job, "reject")

    def _done(self, payload: object) -> None:
        result = signal_value(payload, dict)
        r = result["result"]
        text = f"{len(r.rejected)} image(s) rejected by {len(r.notes)} note(s)."
        if r.already_rejected:
            text += f" {len(r.already_rejected)} were already rejected."
        self.status_label.setText(text + sent_text(result))
        self.picker.load(self._cache, self._study)
        self.reject_button.setEnabled(True)
        self.applied.emit(result)
