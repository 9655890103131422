"""Delivery in the window: the outbox sender off the GUI thread, the Outbox view and its status-bar indicator.

:class:`DeliveryService` runs rounds of the Qt-free
:class:`~workstation.reporting.sender.OutboxSender` on a
:class:`~workstation.ui.background.BackgroundTask` (its own index connection per
round): at once when asked (Sign & Send, Retry), and whenever an item falls due
(automatic retry with the sender's backoff).  Each item's new state arrives as
it is recorded, so the report panel shows queued → sent → committed live.

:class:`OutboxView` (Tools › Outbox) lists every object waiting or failed —
reports, presentation states, key images, rejection notes, PDF copies — with
Retry, Change destination and Discard; :class:`OutboxIndicator` in the status
bar counts them and opens the view.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydicom import dcmread
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.config import ConfigError, SettingsSource
from workstation.home import Home
from workstation.jobs.core import CancelToken
from workstation.reporting import kinds
from workstation.reporting.documents import delivery_words
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.outbox import OutboxError
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import item_value, signal_value

if TYPE_CHECKING:  # the sender brings the network layer (pynetdicom): loaded by the first round, off the GUI thread
    from workstation.reporting.sender import RoundReport

log = logging.getLogger(__name__)

TICK_MS = 1000
COMMIT_TIMEOUT_S = 60.0


class _EventToken(CancelToken):
    """The sender's cancel token on the background run's event."""

    def __init__(self, event: threading.Event) -> None:  # noqa: D107 - a view on an existing event
        self._event = event


class DeliveryService(QObject):
    """Delivers the outbox while the window runs.

    Parameters
    ----------
    cache : StudyCache
        The GUI's index connection (read on the GUI thread only); rounds open their own.
    home : Home
        Whose storage SCP receives the commitment reports.
    source : SettingsSource
        Nodes, our AE title: read at every round.
    commit_timeout : float
        Seconds a round waits for a commitment report before trying again later.

    Signals
    -------
    changed()
        The outbox changed (an item's state, a new item, a removed one).
    item_changed(str, str, str)
        SOP Instance UID, new state, message: as the sender records it.
    """

    changed = Signal()
    item_changed = Signal(str, str, str)

    def __init__(self, cache: StudyCache, home: Home, source: SettingsSource, *,
                 commit_timeout: float = COMMIT_TIMEOUT_S, tick_ms: int = TICK_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self.home = home
        self.source = source
        self.commit_timeout = commit_timeout
        self._task = BackgroundTask(self, name="outbox")
        self._task.item.connect(self._on_item)
        self._task.finished.connect(self._on_finished)
        self._task.failed.connect(self._on_failed)
        self._again = False
        self._seen: tuple = ()
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self.tick)
        #: The last round's failure in one line ("" after a good round).
        self.error = ""

    # Control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Deliver what is due now and keep delivering as items fall due."""
        self._timer.start()
        self.tick()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop: the running round is asked to end (an item it leaves stays in the outbox)."""
        self._timer.stop()
        self._again = False
        self._task.cancel()
        self._task.wait(timeout_s)

    def busy(self) -> bool:
        return self._task.is_running()

    def deliver_now(self) -> None:
        """Run a round at once (after the current one when one runs)."""
        if not self._task.is_running():
            self._start_round()
        else:
            self._again = True

    def wait(self, timeout_s: float) -> bool:
        """Block until the running round's thread ends (tests); its signals come from the event loop."""
        return self._task.wait(timeout_s)

    def tick(self) -> None:
        """Start a round when an item is due; tell watchers when the outbox changed (also by other processes)."""
        self._check_changed()
        try:
            due = None if self._task.is_running() else outbox.next_due(self.cache)
        except sqlite3.ProgrammingError:  # the index was closed (the program is ending)
            self._timer.stop()
            return
        if due is None:
            return
        try:
            when = dt.datetime.fromisoformat(due)
        except ValueError:
            when = dt.datetime.now(dt.UTC)
        if when <= dt.datetime.now(dt.UTC):
            self._start_round()

    # The rounds ------------------------------------------------------------------------
    def _start_round(self) -> None:
        index_file, cache_dir = self.cache.index_file, self.cache.cache_dir
        home, source, timeout = self.home, self.source, self.commit_timeout

        def work(emit, cancel: threading.Event) -> RoundReport:
            from workstation.reporting.sender import OutboxSender, storage_commitment

            worker = StudyCache(index_file, cache_dir)
            try:
                settings = source.current()
                sender = OutboxSender(worker, source, storage_commitment(home, settings, worker, timeout=timeout),
                                      on_change=lambda uid, state, message: emit((uid, state, message)))
                return sender.run_once(_EventToken(cancel))
            finally:
                worker.close()

        self._task.start(work)

    def _on_item(self, change: object) -> None:
        uid, state, message = signal_value(change, tuple)
        self.item_changed.emit(uid, state, message)
        self._check_changed(force=True)

    def _on_finished(self, _report: object) -> None:
        self.error = ""
        self._after_round()

    def _on_failed(self, message: str) -> None:
        self.error = message
        log.warning("an outbox round failed")
        self._after_round()

    def _after_round(self) -> None:
        self._check_changed(force=True)
        if self._again:
            self._again = False
            self._start_round()

    def _check_changed(self, force: bool = False) -> None:
        try:
            items = outbox.list_outbox(self.cache)
        except sqlite3.ProgrammingError:  # the index was closed (the program is ending): nothing to tell
            self._timer.stop()
            return
        seen = tuple((i.pk, i.state, i.last_error, i.destination) for i in items)
        if force or seen != self._seen:
            self._seen = seen
            self.changed.emit()

    # Reader's actions --------------------------------------------------------------------
    def waiting_count(self) -> int:
        return outbox.waiting_count(self.cache)

    def retry(self, pk: int) -> None:
        outbox.retry_now(self.cache, pk)
        self._check_changed(force=True)
        self.deliver_now()

    def change_destination(self, pk: int, destination: str) -> None:
        outbox.change_destination(self.cache, pk, destination)
        self._check_changed(force=True)
        self.deliver_now()

    def discard(self, pk: int) -> None:
        outbox.discard(self.cache, pk)
        self._check_changed(force=True)


# What an item is --------------------------------------------------------------------------

def item_kind(cache: StudyCache, item: outbox.OutboxItem) -> str:
    """Report, key images, rejection note … of an outbox item (read from its header when it is a KOS or SR)."""
    row = cache.instance(item.sop_instance_uid)
    if row is None:
        return kinds.kind_of(item.sop_class_uid)
    header = None
    if item.sop_class_uid.startswith(kinds.SR_CLASS_PREFIX):
        try:
            header = dcmread(cache.path_of(row), stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - an unreadable file is still listed, by its class
            header = None
    return kinds.kind_of(item.sop_class_uid, header)


def _study_words(cache: StudyCache, study_uid: str) -> str:
    study = cache.study(study_uid)
    if study is None:
        return "study no longer in the cache"
    date = study.study_date
    when = f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else date
    return " ".join(x for x in (study.description or "Study", when) if x)


class OutboxView(QDialog):
    """Every object waiting or failed, with Retry, Change destination and Discard.

    The dialogs it opens go through replaceable callables (``ask_destination``,
    ``confirm``) so tests answer them.
    """

    COLUMNS = ("What", "Study", "Destination", "State", "Attempts", "Archive's answer")

    def __init__(self, service: DeliveryService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Outbox")
        self.setObjectName("outboxView")
        self.service = service
        self.ask_destination: Callable[[list[str], str], str | None] = self._ask_destination
        self.confirm: Callable[[str], bool] = self._confirm
        self._kinds: dict[str, str] = {}
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col in range(len(self.COLUMNS) - 1):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._enable)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.show_delivered = QCheckBox("Show delivered")
        self.show_delivered.setToolTip("Also list objects the archive committed to keep")
        self.show_delivered.toggled.connect(self.refresh)
        row.addWidget(self.show_delivered)
        row.addStretch(1)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Send the selected object again now")
        self.retry_button.clicked.connect(self.retry_selected)
        self.destination_button = QPushButton("Change destination…")
        self.destination_button.clicked.connect(self.change_selected)
        self.discard_button = QPushButton("Discard…")
        self.discard_button.setToolTip("Take the selected object out of the outbox (it stays in the local cache)")
        self.discard_button.clicked.connect(self.discard_selected)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.close)
        for b in (self.retry_button, self.destination_button, self.discard_button, self.close_button):
            row.addWidget(b)
        layout.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(self.fontMetrics().lineSpacing() * 2)
        layout.addWidget(self.message)
        service.changed.connect(self.refresh)
        self.resize(900, 420)
        self.refresh()

    # Content ----------------------------------------------------------------------------
    def items(self) -> list[outbox.OutboxItem]:
        states = outbox.OUTBOX_STATES if self.show_delivered.isChecked() else outbox.WAITING
        return outbox.list_outbox(self.service.cache, states)

    def refresh(self) -> None:
        selected = self.selected_pk()
        cache = self.service.cache
        items = self.items()
        self.table.setRowCount(len(items))
        for r, item in enumerate(items):
            kind = self._kinds.get(item.sop_instance_uid)
            if kind is None:
                kind = self._kinds[item.sop_instance_uid] = item_kind(cache, item)
            cells = (kind.capitalize(), _study_words(cache, item.study_uid), item.destination,
                     delivery_words(item.state), str(item.attempts), item.last_error)
            for c, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.pk)
                if c == len(cells) - 1:
                    cell.setToolTip(text)
                self.table.setItem(r, c, cell)
            if item.pk == selected:
                self.table.selectRow(r)
        waiting = outbox.waiting_count(cache)
        self.summary.setText("Nothing waits to be sent" if not waiting else
                             f"{waiting} object{'s' if waiting != 1 else ''} not yet safe at the archive")
        self._enable()

    def selected_pk(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return item_value(self.table.item(rows[0].row(), 0), int)

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _enable(self) -> None:
        has = self.selected_pk() is not None
        for b in (self.retry_button, self.destination_button, self.discard_button):
            b.setEnabled(has)

    # Actions -----------------------------------------------------------------------------
    def retry_selected(self) -> None:
        pk = self.selected_pk()
        if pk is None:
            return
        self.service.retry(pk)
        self.message.setText("Sending again…")

    def change_selected(self) -> None:
        pk = self.selected_pk()
        item = outbox.get_item(self.service.cache, pk) if pk is not None else None
        if pk is None or item is None:
            return
        try:
            names = [n.name for n in self.service.source.current().nodes]
        except ConfigError as exc:
            self.message.setText(f"Settings cannot be read: {exc}")
            return
        if not names:
            self.message.setText("No DICOM node is configured: add one in Tools › Settings › Nodes")
            return
        chosen = self.ask_destination(names, item.destination)
        if not chosen:
            return
        try:
            self.service.change_destination(pk, chosen)
        except OutboxError as exc:
            self.message.setText(str(exc))
            return
        self.message.setText(f"Sending to {chosen}…")

    def discard_selected(self) -> None:
        pk = self.selected_pk()
        item = outbox.get_item(self.service.cache, pk) if pk is not None else None
        if pk is None or item is None:
            return
        kind = self._kinds.get(item.sop_instance_uid) or item_kind(self.service.cache, item)
        signed = any(r.signed and r.sop_instance_uid == item.sop_instance_uid
                     for r in outbox.list_reports(self.service.cache, item.study_uid))
        if not self.confirm(f"Take this {kind} out of the outbox? It stays in the local cache but is not sent "
                            f"to {item.destination}."):
            return
        if signed and not self.confirm("This is a signed final report: the archive will not have it. "
                                       "Discard it from the outbox anyway?"):
            return
        self.service.discard(pk)
        self.message.setText(f"The {kind} was taken out of the outbox")

    # Dialogs ------------------------------------------------------------------------------
    def _ask_destination(self, names: list[str], current: str) -> str | None:
        index = names.index(current) if current in names else 0
        name, ok = QInputDialog.getItem(self, "Change destination", "Send to:", names, index, False)
        return name if ok else None

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Discard from the outbox", text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes


class OutboxIndicator(QPushButton):
    """``Outbox: 2`` in the status bar (objects not yet safe at the archive); a click opens the Outbox."""

    def __init__(self, service: DeliveryService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outboxIndicator")
        self.setFlat(True)
        self.service = service
        self.count = 0
        service.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.count = self.service.waiting_count()
        failed = len(outbox.list_outbox(self.service.cache, (outbox.FAILED,))) if self.count else 0
        self.setText(f"Outbox: {self.count}" + (f" ({failed} failed)" if failed else ""))
        self.setToolTip("Objects waiting to be sent or committed, or refused; click to open the Outbox"
                        if self.count else "Everything sent has been committed by its archive")
        self.setStyleSheet("color: #e0b050;" if failed else "")


def attach_outbox(window, cache: StudyCache, home: Home, source: SettingsSource, *,
                  start: bool = True, commit_timeout: float = COMMIT_TIMEOUT_S) -> DeliveryService:
    """Give ``window`` the delivery service, Tools › Outbox… and the status-bar indicator.

    Parameters
    ----------
    start : bool
        Start delivering at once (tests may start it later).
    """
    service = DeliveryService(cache, home, source, commit_timeout=commit_timeout, parent=window)
    indicator = OutboxIndicator(service)
    window.statusBar().addPermanentWidget(indicator)

    def show() -> OutboxView:
        view = getattr(window, "outbox_view", None)
        if view is None:
            view = OutboxView(service, window)
            window.outbox_view = view
        view.refresh()
        view.show()
        view.raise_()
        return view

    action = QAction("&Outbox…", window)
    action.setToolTip("Reports, presentation states, key images and rejection notes waiting to be sent")
    action.triggered.connect(show)
    indicator.clicked.connect(show)
    menu = getattr(window, "tools_menu", None)
    (menu if menu is not None else window.menuBar().addMenu("&Tools")).addAction(action)
    window.delivery = service
    window.outbox_indicator = indicator
    window.outbox_action = action
    window.show_outbox = show
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(service.stop)
    if start:
        service.start()
    return service
