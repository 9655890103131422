"""The study correction dialog: new values, a preview of exactly what changes, then apply (and send).

Planning and applying are :func:`workstation.qc.correction.plan_correction` and
:func:`~workstation.qc.correction.apply_correction`; the dialog collects the
input, shows the plan, and runs the work off the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.config import Node, Settings
from workstation.qc.codes import DEFAULT_CORRECTION_REJECTION, REJECTION_TITLES
from workstation import audit
from workstation.qc.correction import CorrectionPlan, apply_correction, plan_correction
from workstation.qc.instances import QcError, operator_name
from workstation.store.cache import StudyCache
from workstation.ui.qc_widgets import chosen_node, fill_node_combo, send_after, sent_text
from workstation.ui.qc_worker import QcTask
from workstation.ui.qvariant import combo_value, signal_value

#: (keyword, label, StudyRow field it starts from).
FIELDS = (
    ("PatientName", "Patient name", "patient_name"),
    ("PatientID", "Patient ID", "patient_id"),
    ("IssuerOfPatientID", "Issuer of Patient ID", "issuer"),
    ("PatientBirthDate", "Birth date (YYYYMMDD)", "birth_date"),
    ("PatientSex", "Sex (M, F, O)", "sex"),
    ("AccessionNumber", "Accession number", "accession"),
    ("StudyDescription", "Study description", "description"),
    ("StudyID", "Study ID", "study_id"),
    ("ReferringPhysicianName", "Referring physician", "referring_physician"),
)


class CorrectionDialog(QDialog):
    """Correct a whole study's patient and study attributes.

    Signals
    -------
    applied(object)
        ``{"outcome": QcOutcome, "sent": SendReport or None}`` once the copies and the note are stored.
    """

    applied = Signal(object)

    def __init__(self, cache: StudyCache, study_uid: str, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Correct study")
        self._cache, self._study, self._settings = cache, study_uid, settings
        self.plan: CorrectionPlan | None = None
        self.task = QcTask(self)
        self.task.finished.connect(self._done)
        self.task.failed.connect(self._failed)
        row = cache.study(study_uid)
        self.fields: dict[str, QLineEdit] = {}
        self._initial: dict[str, str] = {}
        form = QFormLayout()
        for keyword, label, attr in FIELDS:
            edit = QLineEdit(str(getattr(row, attr, "") or "") if row else "")
            edit.setAccessibleName(label)
            edit.textChanged.connect(self._invalidate)
            self.fields[keyword] = edit
            self._initial[keyword] = edit.text()
            form.addRow(label, edit)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("Why (required): e.g. wrong worklist entry chosen at the modality")
        self.reason_edit.textChanged.connect(self._invalidate)
        self.operator_edit = QLineEdit(operator_name())
        self.rejection_combo = QComboBox()
        for key, code in REJECTION_TITLES.items():
            self.rejection_combo.addItem(f"{code.meaning} ({code.value})", key)
        self.rejection_combo.setCurrentIndex(self.rejection_combo.findData(DEFAULT_CORRECTION_REJECTION))
        self.rejection_combo.currentIndexChanged.connect(self._invalidate)
        self.new_study_check = QCheckBox("New Study Instance UID (the images belong to another order)")
        self.new_study_check.toggled.connect(self._invalidate)
        self.send_combo = QComboBox()
        fill_node_combo(self.send_combo, settings.nodes, "Keep in the cache only")
        form.addRow("Reason", self.reason_edit)
        form.addRow("Operator", self.operator_edit)
        form.addRow("Originals rejected as", self.rejection_combo)
        form.addRow("", self.new_study_check)
        form.addRow("Then send to", self.send_combo)

        self.changes_table = QTableWidget(0, 4)
        self.changes_table.setHorizontalHeaderLabels(["Attribute", "Now", "Corrected", "Instances"])
        self.changes_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.changes_table.horizontalHeader().setStretchLastSection(True)
        self.changes_table.verticalHeader().setVisible(False)
        self.summary_label = QLabel("Change values, give a reason, then Preview: nothing is written before Apply.")
        self.summary_label.setWordWrap(True)
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.preview)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)
        bottom = QHBoxLayout()
        bottom.addWidget(self.preview_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("What will change"))
        layout.addWidget(self.changes_table, 1)
        layout.addWidget(self.summary_label)
        layout.addLayout(bottom)
        self.resize(760, 680)

    def values(self) -> dict[str, str]:
        """The fields the technologist changed."""
        return {k: e.text().strip() for k, e in self.fields.items() if e.text().strip() != self._initial[k].strip()}

    def _invalidate(self, *_args) -> None:
        self.plan = None
        self.apply_button.setEnabled(False)

    def preview(self) -> CorrectionPlan | None:
        """Plan the correction and show it; Apply is offered only for what was previewed."""
        self.changes_table.setRowCount(0)
        rejection = combo_value(self.rejection_combo, str) or DEFAULT_CORRECTION_REJECTION
        try:
            self.plan = plan_correction(self._cache, self._study, self.values(), reason=self.reason_edit.text(),
                                        operator=self.operator_edit.text(), new_study=self.new_study_check.isChecked(),
                                        rejection=rejection)
        except QcError as exc:
            self.plan = None
            self.summary_label.setText(f"Cannot correct: {exc}")
            self.apply_button.setEnabled(False)
            return None
        self.changes_table.setRowCount(len(self.plan.changes))
        for r, c in enumerate(self.plan.changes):
            for col, text in enumerate((c.name, " | ".join(c.old) or "(absent)", c.new or "(empty)", str(c.instances))):
                self.changes_table.setItem(r, col, QTableWidgetItem(text))
        self.changes_table.resizeColumnsToContents()
        self.summary_label.setText("\n".join(self.plan.lines()[len(self.plan.changes):]))
        self.apply_button.setEnabled(True)
        return self.plan

    def apply(self) -> bool:
        """Write the corrected copies and the rejection note (and send) in the background."""
        if self.plan is None:
            return False
        plan, node, ae = self.plan, chosen_node(self.send_combo, self._settings.nodes), self._settings.ae_title
        self.apply_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        self.summary_label.setText("Writing corrected copies…")
        return self.task.start(lambda: _apply_and_send(self._cache, plan, node, ae), "correct")

    def _done(self, payload: object) -> None:
        result = signal_value(payload, dict)
        outcome = result["outcome"]
        text = f"{len(outcome.copies)} corrected copies stored; {len(outcome.rejected)} originals rejected."
        text += sent_text(result)
        self.summary_label.setText(text)
        self.preview_button.setEnabled(True)
        self.plan = None
        self.applied.emit(result)

    def _failed(self, message: str) -> None:
        self.summary_label.setText(f"Failed: {message}")
        self.preview_button.setEnabled(True)


def _apply_and_send(cache: StudyCache, plan: CorrectionPlan, node: Node | None, ae_title: str) -> dict:
    return send_after(audit.qc_applied(cache, apply_correction(cache, plan), "correct"), node, ae_title)
