"""The report panel, docked beside the viewports: template, form, measurements, preview, Sign & Send.

All decisions are the :class:`~workstation.reporting.editor.ReportEditor`'s;
this widget shows its state and forwards the reader's actions.  Dialogs
(passphrase, amendment reason) go through replaceable callables so tests
drive the panel headless.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
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
from workstation.reporting.documents import ExistingReport
from workstation.reporting.editor import ReportEditor
from workstation.reporting.inputs import KeyImage, Measurement
from workstation.reporting.settings import ReportingSettings
from workstation.reporting.sr_build import ContentError
from workstation.reporting.templates import TemplateError
from workstation.store import outbox
from workstation.store.outbox import OutboxError
from workstation.ui.qvariant import combo_value, item_value

if TYPE_CHECKING:  # the outbox view imports this module
    from workstation.ui.outbox_view import DeliveryService
from workstation.ui.report_dialogs import ask_passphrase, ask_pdf_path, ask_reason
from workstation.ui.report_form import ReportForm
from workstation.ui.report_messages import ReportMessages

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
        self.ask_passphrase: Callable[[], str | None] = lambda: ask_passphrase(self)
        self.ask_reason: Callable[[], str | None] = lambda: ask_reason(self)
        self.ask_pdf_path: Callable[[], str | None] = lambda: ask_pdf_path(self)
        #: Opens the settings dialog on a page ("reader", "signing", "destination" …); set by the window.
        self.open_settings: Callable[[str], None] | None = None
        #: The window's :class:`~workstation.ui.outbox_view.DeliveryService` (None: the outbox is only written).
        self.delivery: DeliveryService | None = None
        self._tracked = ""  # SOP Instance UID of the report whose delivery the panel shows
        self._just_issued = False
        #: The studies hung beside the current one (the viewer's open studies); priors fill the comparison.
        self.prior_source: Callable[[], list] | None = None
        #: Runs the panel's work for a study just opened when the reader has seen its images
        #: (``defer(work)``; the window's report dock sets it).  None: at once.
        self.defer: Callable[[Callable[[], None]], None] | None = None
        self._pending = ""  # the study opened whose form waits for its turn (see open_study)
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
        # Long template titles must not widen the dock: the combo shortens them (full title in its list).
        self.template_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.template_combo.setMinimumContentsLength(10)
        for t in self.editor.templates.values():
            self.template_combo.addItem(t.title, t.id)
        self.template_combo.currentIndexChanged.connect(self._on_template)
        top.addWidget(self.template_combo, 1)
        self.amend_button = QPushButton("Amend…")
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
        self.insert_measurement_button = QPushButton("+ Measurement")
        self.insert_measurement_button.setToolTip("Insert the viewer's selected measurement (or all of them)")
        self.insert_measurement_button.clicked.connect(self.insert_measurement)
        self.insert_key_image_button = QPushButton("+ Key image")
        self.insert_key_image_button.setToolTip("Insert the image of the active viewport as a key image")
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
        # The preview is built when its tab is shown: building the SR (highdicom's tables, read on first
        # use) took 0.4 s of every first study open while the reader waited for the images.
        self._preview_stale = False
        self.tabs.currentChanged.connect(self._on_tab)
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
        # Messages live in a frame of fixed height below the buttons: a long message never moves a button.
        self.messages = ReportMessages()
        self.messages.link_activated.connect(self._on_link)
        self.messages.retry_clicked.connect(self.retry_delivery)
        self.status_label = self.messages.status_label
        self.delivery_label = self.messages.delivery_label
        self.retry_button = self.messages.retry_button
        layout.addWidget(self.messages)

    # Messages ------------------------------------------------------------------------------
    def say(self, text: str, *, setting: str = "") -> None:
        """Show ``text`` in the message area; with ``setting``, a link to that page of the settings."""
        self.messages.say(text, setting=setting)

    def message(self) -> str:
        """The message shown, as plain text."""
        return self.messages.message()

    def _on_link(self, link: str) -> None:
        if link.startswith("settings:") and self.open_settings is not None:
            self.open_settings(link.split(":", 1)[1])
        elif link == "outbox" and callable(show_outbox := getattr(self.window(), "show_outbox", None)):
            show_outbox()  # set on the window by workstation.ui.outbox_view

    # State -> widgets --------------------------------------------------------------------
    def open_study(self, study_uid: str) -> None:
        """Follow ``study_uid``: its draft at once; its form, reports and priors when :attr:`defer` runs them.

        Building the template's fields and listing the study's documents took a good part of a study's
        open before its images were painted; until they are shown, the previous study's form is hidden
        and nothing can be typed into it.
        """
        try:
            self.editor.open_study(study_uid)
        except ContentError as exc:
            self.say(str(exc))
            return
        study = self.editor.cache.study(study_uid)
        desc = study.description if study else ""
        self.study_label.setText(f"Report for {desc or 'study'} {_date(study.study_date) if study else ''}".strip())
        self._tracked = ""
        self._just_issued = False
        if self.defer is None:
            self._show_opened(study_uid)
            return
        self._pending = study_uid
        self._set_enabled(False)
        self.form.hide()
        self.reports_list.clear()
        self.items_list.clear()
        self._show_template()
        self.defer(lambda: self._show_opened(study_uid))

    def _show_opened(self, study_uid: str) -> None:
        if self.editor.study_uid != study_uid:
            return  # another study was opened meanwhile: its own turn shows it
        self._pending = ""
        self.form.show()
        self._show_state()
        self.refresh_priors()

    @property
    def pending(self) -> bool:
        """True while the open study's form waits to be shown (see :meth:`open_study`)."""
        return bool(self._pending)

    def refresh_priors(self) -> None:
        """Fill the empty comparison fields from the latest prior hung beside the study (editable)."""
        if not self.editor.study_uid or self.prior_source is None or self._pending:
            return
        current = self.editor.cache.study(self.editor.study_uid)
        try:
            hung = [s for s in self.prior_source() if s.study_uid != self.editor.study_uid]
        except Exception:  # noqa: BLE001 - no prior known is no reason to fail the panel
            log.exception("the hung priors could not be read")
            return
        if current is not None:
            earlier = [s for s in hung if (s.study_date or "") <= (current.study_date or "")]
            hung = earlier or hung
        if not hung:
            return
        prior = max(hung, key=lambda s: (s.study_date or "", s.study_time or ""))
        if self.editor.prefill_comparison(prior):
            self.form.set_template(self.editor.template, self.editor.content.values)
            self._preview_timer.start()
            if not self._tracked:  # after Sign & Send the message says what became of the report
                date = prior.study_date or ""
                self.editor.status = (f"Comparison filled from the prior of "
                                      f"{_date(date) or 'unknown date'}: edit it if needed")
                self._show_status()

    def _set_enabled(self, on: bool) -> None:
        for w in (self.template_combo, self.form, self.insert_measurement_button, self.insert_key_image_button,
                  self.remove_item_button, self.preliminary_button, self.sign_button, self.discard_button,
                  self.amend_button, self.pdf_button):
            w.setEnabled(on)

    def _show_template(self) -> None:
        self.template_combo.blockSignals(True)
        self.template_combo.setCurrentIndex(max(0, self.template_combo.findData(self.editor.content.template_id)))
        self.template_combo.blockSignals(False)

    def _show_state(self) -> None:
        self._set_enabled(bool(self.editor.study_uid))
        self._show_template()
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
        if missing and not self._just_issued:  # right after Sign & Send the new draft is not the news
            text += " · required for signing: " + ", ".join(missing)
        self.say(text, setting=self._setting_for(text))
        self._show_delivery()

    def refresh_reports(self) -> None:
        self.reports_list.clear()
        reports, others = self.editor.documents()
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
        for o in others:
            # Not reports: listed under their own kind, with their delivery state, but not selectable here.
            item = QListWidgetItem(o.line())
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setForeground(QBrush(QColor("#8a8a8a")))
            item.setToolTip(f"{o.kind}{': ' + o.title if o.title else ''}\n{o.sop_instance_uid}")
            self.reports_list.addItem(item)

    def existing(self) -> list[ExistingReport]:
        return self.editor.existing_reports()

    def refresh_preview(self) -> None:
        """Show the draft's SR text in the preview tab; while another tab is shown, when it is shown next."""
        if self.reports_list.currentItem() is not None:
            return  # the preview shows a stored report the reader picked
        if self.tabs.currentWidget() is not self.preview:
            self._preview_stale = True
            return
        self._preview_stale = False
        self.preview.setPlainText(self.editor.preview())

    def _on_tab(self, _index: int) -> None:
        if self._preview_stale and self.tabs.currentWidget() is self.preview:
            self.refresh_preview()

    # Reader's actions ------------------------------------------------------------------------
    def _on_value(self, field_id: str, text: str) -> None:
        self.editor.set_value(field_id, text)
        self._changed()

    def _changed(self) -> None:
        self._just_issued = False
        self.reports_list.setCurrentRow(-1)  # Qt's setCurrentItem(None): no report chosen
        self._preview_timer.start()
        self._show_status()

    def _on_template(self, _index: int) -> None:
        tid = combo_value(self.template_combo, str)
        if tid and tid != self.editor.content.template_id:
            self.editor.set_template(tid)
            self.form.set_template(self.editor.template, self.editor.content.values)
            self._changed()

    def _on_report_selected(self, current: QListWidgetItem | None, _previous=None) -> None:
        if current is None:
            return
        try:
            uid = item_value(current, str)
            if uid is None:  # the placeholder row of a study without reports
                return
            self.preview.setPlainText(self.editor.report_text(uid))
            self.tabs.setCurrentWidget(self.preview)
        except Exception as exc:  # noqa: BLE001 - an unreadable SR is shown as such
            self.preview.setPlainText(f"Cannot show this report: {exc}")

    def insert_measurement(self) -> None:
        found = self.measurement_source() if self.measurement_source else []
        n = self.editor.add_measurements(found)
        self.editor.status = (f"{n} measurement(s) inserted" if n else
                              "No new measurement to insert: measure in the viewer first (calibrated lengths, ROIs)")
        if self.editor.refusal:  # another patient's image: both patients named
            self.editor.status = self.editor.refusal
        self._show_items()
        self._changed()

    def insert_key_image(self) -> None:
        key = self.key_image_source() if self.key_image_source else None
        if key is None:
            self.editor.status = "No image to insert: show it in the active viewport first"
        elif not self.editor.add_key_image(key):
            self.editor.status = self.editor.refusal or "That image is already a key image"
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
        # The stubs say currentItem() is never None; Qt returns None when no row is current.
        uid = item_value(self.reports_list.currentItem(), str)
        if uid is None:  # nothing chosen, or the placeholder row of a study without reports
            self.say("Select the report to amend in the list above")
            return
        self.editor.start_amendment(uid)
        self.reports_list.setCurrentRow(-1)
        self.tabs.setCurrentIndex(0)
        self._show_status()

    def export_pdf(self) -> None:
        item = self.reports_list.currentItem()
        uid = item_value(item, str)
        if not uid:
            self.say("Select the report to export in the list above")
            return
        path = self.ask_pdf_path()
        if not path:
            return
        try:
            self.say(self.editor.export_pdf(uid, path))
        except (OSError, ValueError) as exc:
            self.say(f"PDF not written: {exc}")

    def discard(self) -> None:
        self.editor.discard_draft()
        self._show_state()

    def save_preliminary(self) -> None:
        self._issue(final=False)

    def sign_and_send(self) -> None:
        if self.editor.missing_required():
            self.say("Cannot sign: required fields are empty: " + ", ".join(self.editor.missing_required()))
            return
        identity = self._identity()
        if identity is not None:
            self._issue(final=True, identity=identity)

    def _identity(self) -> SigningIdentity | None:
        rs = ReportingSettings.of(self.editor.settings)
        if not rs.key_path:
            self.say("No signing certificate: import yours (or create a test identity) in Settings › Signing",
                     setting="signing")
            return None
        try:
            return load_identity(rs.key_path, rs.cert_path or None, None)
        except CertificateError as first:
            if "passphrase" not in str(first):
                self.say(f"{first} — check Settings › Signing", setting="signing")
                return None
        passphrase = self.ask_passphrase()  # asked each time, never stored
        if passphrase is None:
            self.say("Signing cancelled")
            return None
        try:
            return load_identity(rs.key_path, rs.cert_path or None, passphrase)
        except CertificateError as exc:
            self.say(str(exc))
            return None

    def _issue(self, *, final: bool, identity: SigningIdentity | None = None) -> None:
        reason = ""
        if self.editor.predecessor_uid:
            reason = self.ask_reason() or ""
            if not reason:
                self.say("An amendment needs a reason; nothing was stored")
                return
        try:
            result = self.editor.issue(final=final, identity=identity, reason=reason)
        except (ContentError, TemplateError, OutboxError) as exc:
            # The draft stays as it was: nothing is lost.
            text = f"Not stored: {exc}"
            self.say(text, setting=self._setting_for(text))
            return
        self._tracked = result.sop_instance_uid
        self._just_issued = True
        self.report_issued.emit(result.sop_instance_uid)
        if result.destination and self.delivery is not None:
            self.delivery.deliver_now()
        self._show_state()

    @staticmethod
    def _setting_for(text: str) -> str:
        """The settings page a message is about ("" when it is about none)."""
        low = text.lower()
        if "certificate" in low or "signing key" in low:
            return "signing"
        if "radiologist" in low or "reporting settings" in low:
            return "reader"
        if "destination" in low:
            return "destination"
        return ""

    # Delivery ---------------------------------------------------------------------------------
    def set_delivery(self, service: DeliveryService) -> None:
        """Follow ``service`` (a DeliveryService): the report's state updates as the sender records it."""
        self.delivery = service
        service.changed.connect(self._on_outbox_changed)
        self._poll.stop()  # the service watches the outbox (also for other processes' changes)

    def _on_outbox_changed(self) -> None:
        self._poll_outbox()
        self._show_delivery()

    def delivery_item(self) -> outbox.OutboxItem | None:
        """The outbox item of the report the panel follows (the last issued one)."""
        if not self._tracked:
            return None
        items = [i for i in outbox.list_outbox(self.editor.cache) if i.sop_instance_uid == self._tracked]
        return items[-1] if items else None

    def delivery_state(self) -> str:
        """queued / stored / committed / failed for the followed report; "local" when not queued; "" when none."""
        if not self._tracked:
            return ""
        item = self.delivery_item()
        return item.state if item is not None else "local"

    def _show_delivery(self) -> None:
        self.messages.show_delivery(bool(self._tracked), self.delivery_item())

    def retry_delivery(self) -> None:
        """Retry the followed report's delivery; one kept here (no destination then) is queued now."""
        if not self._tracked:
            return
        item = self.delivery_item()
        if item is None:
            try:
                destination = self.editor.destination()
            except ContentError as exc:
                self.say(str(exc), setting="destination")
                return
            if not destination:
                self.say("No destination yet: choose one in Settings (or add the archive as a DICOM node)",
                         setting="destination")
                return
            try:
                outbox.enqueue(self.editor.cache, self._tracked, destination)
            except OutboxError as exc:
                self.say(f"Not queued: {exc}")
                return
            self.say(f"Queued for {destination}")
            if self.delivery is not None:
                self.delivery.deliver_now()
        elif self.delivery is not None:
            self.delivery.retry(item.pk)
        else:
            outbox.retry_now(self.editor.cache, item.pk)
        self._poll_outbox()
        self._show_delivery()

    def _poll_outbox(self) -> None:
        if not self.editor.study_uid:
            return
        try:
            items = outbox.list_outbox(self.editor.cache)
        except sqlite3.ProgrammingError:  # the index was closed (the program is ending): stop watching
            self._poll.stop()
            return
        seen = tuple((i.pk, i.state, i.last_error) for i in items if i.study_uid == self.editor.study_uid)
        if seen != self._outbox_seen:
            self._outbox_seen = seen
            current = self.reports_list.currentRow()
            self.refresh_reports()
            if 0 <= current < self.reports_list.count():
                self.reports_list.setCurrentRow(current)
            self._show_delivery()

    def shutdown(self) -> None:
        self._poll.stop()
        self._preview_timer.stop()


def _date(da: str) -> str:
    return f"{da[:4]}-{da[4:6]}-{da[6:8]}" if len(da) == 8 else da
