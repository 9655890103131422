"""The report panel, docked beside the viewports: template, form, measurements, preview, Sign & Send.

All decisions are the :class:`~workstation.reporting.editor.ReportEditor`'s;
this widget shows its state and forwards the reader's actions.  Dialogs
(passphrase, amendment reason) go through replaceable callables so tests
drive the panel headless.
"""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.reporting.certificates import CertificateError, SigningIdentity, load_identity
from workstation.reporting.editor import ExistingReport, ReportEditor
from workstation.reporting.inputs import KeyImage, Measurement
from workstation.reporting.settings import ReportingSettings
from workstation.reporting.sr_build import ContentError
from workstation.reporting.templates import TemplateError
from workstation.store.outbox import OutboxError
from workstation.ui.report_form import ReportForm

log = logging.getLogger(__name__)

PREVIEW_DELAY_MS = 400
# Signature status colours on the dark theme: readable, not alarming unless it must be.
STATUS_COLORS = {"valid": "#7ec27e", "invalid – document altered": "#ff7b72", "untrusted certificate": "#e0b050",
                 "cannot be verified": "#e0b050", "unsigned": "#a0a0a0"}


class ReportPanel(QWidget):
    """The reader's report for the open study.

    Parameters
    ----------
    editor : ReportEditor
    measurement_source : callable returning a list of Measurement, optional
        What "Insert measurement" takes (the viewer's selected or all measurements).
    key_image_source : callable returning a KeyImage or None, optional
        What "Insert key image" takes (the active viewport's frame).

    Signals
    -------
    report_issued(str)
        SOP Instance UID of a report just stored (and queued).
    """

    report_issued = Signal(str)

    def __init__(self, editor: ReportEditor, *, measurement_source: Callable[[], list[Measurement]] | None = None,
                 key_image_source: Callable[[], KeyImage | None] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.measurement_source = measurement_source
        self.key_image_source = key_image_source
        self.ask_passphrase: Callable[[], str | None] = self._ask_passphrase
        self.ask_reason: Callable[[], str | None] = self._ask_reason
        self.ask_pdf_path: Callable[[], str | None] = self._ask_pdf_path
        self._build()
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self._outbox_seen: tuple = ()
        self._poll = QTimer(self)
        self._poll.setInterval(2000)
        self._poll.timeout.connect(self._poll_outbox)
        self._poll.start()
        self._show_state()

    # Construction ------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.study_label = QLabel("No study open")
        self.study_label.setWordWrap(True)
        layout.addWidget(self.study_label)

        layout.addWidget(QLabel("Reports of this study"))
        self.reports_list = QListWidget()
        self.reports_list.setMaximumHeight(96)
        self.reports_list.setWordWrap(True)
        self.reports_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.reports_list.currentItemChanged.connect(self._on_report_selected)
        layout.addWidget(self.reports_list)

        top = QHBoxLayout()
        top.addWidget(QLabel("Template"))
        self.template_combo = QComboBox()
        for t in self.editor.templates.values():
            self.template_combo.addItem(t.title, t.id)
        self.template_combo.currentIndexChanged.connect(self._on_template)
        top.addWidget(self.template_combo, 1)
        self.amend_button = QPushButton("Amend selected…")
        self.amend_button.setToolTip("Write a new report that replaces the selected one")
        self.amend_button.clicked.connect(self.amend_selected)
        top.addWidget(self.amend_button)
        self.pdf_button = QPushButton("PDF…")
        self.pdf_button.setToolTip("Export the selected report as PDF, and keep it in the study as Encapsulated PDF")
        self.pdf_button.clicked.connect(self.export_pdf)
        top.addWidget(self.pdf_button)
        layout.addLayout(top)

        self.tabs = QTabWidget()
        self.form = ReportForm()
        self.form.value_changed.connect(self._on_value)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        form_page = QWidget()
        fp = QVBoxLayout(form_page)
        fp.setContentsMargins(0, 0, 0, 0)
        fp.addWidget(scroll, 1)
        fp.addWidget(QLabel("Measurements and key images"))
        self.items_list = QListWidget()
        self.items_list.setMaximumHeight(90)
        fp.addWidget(self.items_list)
        buttons = QHBoxLayout()
        self.insert_measurement_button = QPushButton("Insert measurement")
        self.insert_measurement_button.clicked.connect(self.insert_measurement)
        self.insert_key_image_button = QPushButton("Insert key image")
        self.insert_key_image_button.clicked.connect(self.insert_key_image)
        self.remove_item_button = QPushButton("Remove")
        self.remove_item_button.clicked.connect(self.remove_item)
        for b in (self.insert_measurement_button, self.insert_key_image_button, self.remove_item_button):
            buttons.addWidget(b)
        fp.addLayout(buttons)
        self.tabs.addTab(form_page, "Report")
        self.preview = QPlainTextEdit()
        self.preview.setReadOnly(True)
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.tabs.addTab(self.preview, "SR preview")
        layout.addWidget(self.tabs, 1)

        actions = QHBoxLayout()
        self.preliminary_button = QPushButton("Save preliminary")
        self.preliminary_button.setToolTip("Store (and send) as PARTIAL / UNVERIFIED, unsigned")
        self.preliminary_button.clicked.connect(self.save_preliminary)
        self.sign_button = QPushButton("Sign && Send…")
        self.sign_button.setToolTip("Final: COMPLETE / VERIFIED, signed with your certificate, then sent")
        self.sign_button.clicked.connect(self.sign_and_send)
        self.discard_button = QPushButton("Discard draft")
        self.discard_button.clicked.connect(self.discard)
        actions.addWidget(self.preliminary_button)
        actions.addWidget(self.sign_button, 1)
        actions.addWidget(self.discard_button)
        layout.addLayout(actions)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)

    # State -> widgets --------------------------------------------------------------------
    def open_study(self, study_uid: str) -> None:
        try:
            self.editor.open_study(study_uid)
        except ContentError as exc:
            self.status_label.setText(str(exc))
            return
        study = self.editor.cache.study(study_uid)
        desc = study.description if study else ""
        self.study_label.setText(f"Report for {desc or 'study'} {_date(study.study_date) if study else ''}".strip())
        self._show_state()

    def _show_state(self) -> None:
        has_study = bool(self.editor.study_uid)
        for w in (self.template_combo, self.form, self.insert_measurement_button, self.insert_key_image_button,
                  self.remove_item_button, self.preliminary_button, self.sign_button, self.discard_button,
                  self.amend_button, self.pdf_button):
            w.setEnabled(has_study)
        self.template_combo.blockSignals(True)
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(self.editor.content.template_id)))
        self.template_combo.blockSignals(False)
        self.form.set_template(self.editor.template, self.editor.content.values)
        self._show_items()
        self.refresh_reports()
        self.refresh_preview()
        self._show_status()

    def _show_items(self) -> None:
        self.items_list.clear()
        self.items_list.addItems(self.editor.item_lines())

    def _show_status(self) -> None:
        text = self.editor.status
        missing = self.editor.missing_required() if self.editor.study_uid else []
        if missing:
            text += " · required for signing: " + ", ".join(missing)
        self.status_label.setText(text)

    def refresh_reports(self) -> None:
        self.reports_list.clear()
        reports = self.editor.existing_reports()
        if not reports and self.editor.study_uid:
            placeholder = QListWidgetItem("No report stored for this study yet")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.reports_list.addItem(placeholder)
        for r in reports:
            item = QListWidgetItem(r.line())
            item.setData(Qt.ItemDataRole.UserRole, r.sop_instance_uid)
            item.setForeground(QBrush(QColor(STATUS_COLORS.get(r.signature, "#d6d6d6"))))
            item.setToolTip(f"{r.title}\n{r.sop_instance_uid}")
            self.reports_list.addItem(item)

    def existing(self) -> list[ExistingReport]:
        return self.editor.existing_reports()

    def refresh_preview(self) -> None:
        if self.reports_list.currentItem() is None:
            self.preview.setPlainText(self.editor.preview())

    # Reader's actions ------------------------------------------------------------------------
    def _on_value(self, field_id: str, text: str) -> None:
        self.editor.set_value(field_id, text)
        self._changed()

    def _changed(self) -> None:
        self.reports_list.setCurrentItem(None)
        self._preview_timer.start()
        self._show_status()

    def _on_template(self, _index: int) -> None:
        tid = self.template_combo.currentData()
        if tid and tid != self.editor.content.template_id:
            self.editor.set_template(tid)
            self.form.set_template(self.editor.template, self.editor.content.values)
            self._changed()

    def _on_report_selected(self, current: QListWidgetItem | None, _previous=None) -> None:
        if current is None:
            return
        try:
            self.preview.setPlainText(self.editor.report_text(current.data(Qt.ItemDataRole.UserRole)))
            self.tabs.setCurrentWidget(self.preview)
        except Exception as exc:  # noqa: BLE001 - an unreadable SR is shown as such
            self.preview.setPlainText(f"Cannot show this report: {exc}")

    def insert_measurement(self) -> None:
        found = self.measurement_source() if self.measurement_source else []
        n = self.editor.add_measurements(found)
        self.editor.status = (f"{n} measurement(s) inserted" if n else
                              "No new measurement to insert: measure in the viewer first (calibrated lengths, ROIs)")
        self._show_items()
        self._changed()

    def insert_key_image(self) -> None:
        key = self.key_image_source() if self.key_image_source else None
        if key is None:
            self.editor.status = "No image to insert: show it in the active viewport first"
        elif not self.editor.add_key_image(key):
            self.editor.status = "That image is already a key image"
        else:
            self.editor.status = "Key image inserted"
        self._show_items()
        self._changed()

    def remove_item(self) -> None:
        row = self.items_list.currentRow()
        if row >= 0:
            self.editor.remove_item(row)
            self._show_items()
            self._changed()

    def amend_selected(self) -> None:
        item = self.reports_list.currentItem()
        if item is None:
            self.status_label.setText("Select the report to amend in the list above")
            return
        self.editor.start_amendment(item.data(Qt.ItemDataRole.UserRole))
        self.reports_list.setCurrentItem(None)
        self.tabs.setCurrentIndex(0)
        self._show_status()

    def export_pdf(self) -> None:
        item = self.reports_list.currentItem()
        uid = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if not uid:
            self.status_label.setText("Select the report to export in the list above")
            return
        path = self.ask_pdf_path()
        if not path:
            return
        try:
            self.status_label.setText(self.editor.export_pdf(uid, path))
        except (OSError, ValueError) as exc:
            self.status_label.setText(f"PDF not written: {exc}")

    def discard(self) -> None:
        self.editor.discard_draft()
        self._show_state()

    def save_preliminary(self) -> None:
        self._issue(final=False)

    def sign_and_send(self) -> None:
        if self.editor.missing_required():
            self.status_label.setText("Cannot sign: required fields are empty: " + ", ".join(self.editor.missing_required()))
            return
        identity = self._identity()
        if identity is not None:
            self._issue(final=True, identity=identity)

    def _identity(self) -> SigningIdentity | None:
        rs = ReportingSettings.of(self.editor.settings)
        if not rs.key_path:
            self.status_label.setText("No signing certificate: run 'lightbox cert import FILE' "
                                      "(or 'lightbox cert create-test --use' for a demo)")
            return None
        try:
            return load_identity(rs.key_path, rs.cert_path or None, None)
        except CertificateError as first:
            if "passphrase" not in str(first):
                self.status_label.setText(str(first))
                return None
        passphrase = self.ask_passphrase()  # asked each time, never stored
        if passphrase is None:
            self.status_label.setText("Signing cancelled")
            return None
        try:
            return load_identity(rs.key_path, rs.cert_path or None, passphrase)
        except CertificateError as exc:
            self.status_label.setText(str(exc))
            return None

    def _issue(self, *, final: bool, identity: SigningIdentity | None = None) -> None:
        reason = ""
        if self.editor.predecessor_uid:
            reason = self.ask_reason()
            if not reason:
                self.status_label.setText("An amendment needs a reason; nothing was stored")
                return
        try:
            result = self.editor.issue(final=final, identity=identity, reason=reason)
        except (ContentError, TemplateError, OutboxError) as exc:
            # The draft stays as it was: nothing is lost.
            self.status_label.setText(f"Not stored: {exc}")
            return
        self.report_issued.emit(result.sop_instance_uid)
        self._show_state()

    def _poll_outbox(self) -> None:
        if not self.editor.study_uid:
            return
        from workstation.store import outbox

        seen = tuple((i.pk, i.state, i.last_error) for i in outbox.list_outbox(self.editor.cache)
                     if i.study_uid == self.editor.study_uid)
        if seen != self._outbox_seen:
            self._outbox_seen = seen
            current = self.reports_list.currentRow()
            self.refresh_reports()
            if 0 <= current < self.reports_list.count():
                self.reports_list.setCurrentRow(current)

    # Dialogs -------------------------------------------------------------------------------
    def _ask_passphrase(self) -> str | None:
        text, ok = QInputDialog.getText(self, "Sign report", "Passphrase of your signing key:",
                                        QLineEdit.EchoMode.Password)
        return text if ok else None

    def _ask_reason(self) -> str | None:
        text, ok = QInputDialog.getText(self, "Amend report", "Reason for the amendment:")
        return text.strip() if ok else None

    def _ask_pdf_path(self) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self, "Export report as PDF", "report.pdf", "PDF (*.pdf)")
        return path or None

    def shutdown(self) -> None:
        self._poll.stop()
        self._preview_timer.stop()


def _date(da: str) -> str:
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) == 8 else da
