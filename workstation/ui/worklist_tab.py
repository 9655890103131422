"""The Worklist tab: what to read next, STAT first, with the order's context; and the order header in the viewer.

The tab only shows what :mod:`workstation.worklist` computes: the network part
(worklist providers and archives) runs on a :class:`BackgroundTask` with its own
cache connection; filtering again is a pure rebuild from the index and the
archives' last answer.  Double-click (or Enter) opens an item: retrieved first
when it is only at an archive, marked "in progress" for this reader, then hung
in the viewer.  Next/Previous study (Ctrl+Alt+Right/Left) go down the list
without returning to it.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.config import Settings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui import theme
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import signal_value
from workstation.ui.study_format import first_line, format_da, format_person_name
from workstation.worklist.build import NOT_ACQUIRED, WORKLIST_STATUSES, WorklistFilter, WorklistItem
from workstation.worklist.context import study_context
from workstation.worklist.gather import load_worklist, rebuild
from workstation.worklist.opening import OpenRefused, ensure_local, taken_words
from workstation.worklist.orders import PRIORITIES
from workstation.worklist.settings import WorklistSettings

if TYPE_CHECKING:  # HL7 (hl7apy) loads when a listener starts or a reading is marked, not when the window starts
    from workstation.hl7.mllp import MllpListener

log = logging.getLogger(__name__)

# What the reader decides on first (priority, who, what was asked and why) comes first: on a 1280 px screen
# the columns from the study date on may need the horizontal scroll bar.
COLUMNS = ("Priority", "Status", "Patient name", "Patient ID", "Requested procedure", "Reason", "Study date",
           "Modality", "Body part", "Waiting", "Accession", "Where")
STATUS_COLUMN, REASON_COLUMN = 1, 5
MODALITIES = ("Any", "CT", "MR", "CR", "DX", "US", "MG", "NM", "PT", "XA", "RF")
STAT_COLOUR = QColor("#e0524a")
NEXT_KEY, PREVIOUS_KEY = "Ctrl+Alt+Right", "Ctrl+Alt+Left"


def waiting_words(since: str, now: dt.datetime | None = None) -> str:
    """How long an item has waited, in the largest useful unit ("3 h 20 min", "2 d")."""
    if not since:
        return ""
    try:
        start = dt.datetime.fromisoformat(since)
    except ValueError:
        return ""
    minutes = int(((now or dt.datetime.now()) - start).total_seconds() // 60)
    if minutes < 0:
        return "scheduled"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d"


class WorklistTab(QWidget):
    """The reading worklist.

    Parameters
    ----------
    cache : StudyCache
        The GUI thread's connection (claims, orders, rebuilds).
    home : Home
        Where settings are read and where a worker opens its own cache connection.
    open_study : callable(str)
        Opens a cached study in the viewer (the window's own path: pending work is asked about first).
    network : bool
        Ask the worklist providers and archives (tests of the widget alone turn it off).

    Signals
    -------
    opened(str)
        A study was opened from the worklist (after any retrieve).
    """

    opened = Signal(str)

    def __init__(self, cache: StudyCache, home: Home, open_study: Callable[[str], object], *,
                 settings: Callable[[], Settings] | None = None, network: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache, self.home, self.open_study = cache, home, open_study
        self.network = network
        self._settings = settings or self._load_settings
        self.items: list[WorklistItem] = []
        # The table is filled when the tab shows: 1,000 rows of cells and the column fit took 0.45 s of
        # the window's start-up while the Local tab was what the reader saw.
        self._fill_pending = False
        self.remote: list = []
        self.current_key = ""
        #: Asked before opening a study another reader has in progress; tests replace it.
        self.ask_open_anyway: Callable[[WorklistItem], bool] = self._ask_open_anyway
        #: The study this reader opened from the worklist (claimed, and told to the RIS) until it is left.
        self.reading_uid = ""
        self._pending_open: WorklistItem | None = None

        self.date_from = QLineEdit()
        self.date_from.setPlaceholderText("from YYYYMMDD")
        self.date_to = QLineEdit()
        self.date_to.setPlaceholderText("to YYYYMMDD")
        for edit in (self.date_from, self.date_to):
            edit.setMaximumWidth(130)
            edit.editingFinished.connect(self.apply_filters)
        self.modality = QComboBox()
        self.modality.addItems(MODALITIES)
        self.body_part = QLineEdit()
        self.body_part.setPlaceholderText("body part")
        self.body_part.setMaximumWidth(120)
        self.body_part.editingFinished.connect(self.apply_filters)
        self.status = QComboBox()
        self.status.addItems(("Any status",) + WORKLIST_STATUSES)
        self.priority = QComboBox()
        self.priority.addItems(("Any priority",) + PRIORITIES)
        self.mine = QCheckBox("Mine")
        self.mine.setToolTip("Studies in progress or reported by you (the reader set in Settings › Reporting)")
        for combo in (self.modality, self.status, self.priority):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.mine.toggled.connect(self.apply_filters)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Ask the worklist providers and archives again (F5)")
        self.refresh_button.clicked.connect(lambda _=False: self.refresh())
        self.open_button = QPushButton("Open")
        self.open_button.clicked.connect(lambda _=False: self.open_selected())

        bar = QHBoxLayout()
        for w in (self.date_from, self.date_to, self.modality, self.body_part, self.status, self.priority, self.mine):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.open_button)
        bar.addWidget(self.refresh_button)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._on_double_click)
        self.note = QLabel("")
        self.note.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)

        self.fetcher = BackgroundTask(self, "worklist")
        self.fetcher.finished.connect(self._on_fetched)
        self.fetcher.failed.connect(self._on_failed)
        self.retriever = BackgroundTask(self, "worklist-retrieve")
        self.retriever.finished.connect(self._on_retrieved)
        self.retriever.failed.connect(self._on_retrieve_failed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._on_timer)
        self.timer.start(int(WorklistSettings.of(self._settings()).refresh_s * 1000))
        # Messages from the RIS land through the HL7 listener's own thread and connection: it only sets
        # this flag (no Qt object is touched off the GUI thread); the tab rebuilds within a second.
        self.ris_changed = False
        self.ris_news = ""
        self.hl7_listener: MllpListener | None = None
        self._ris_timer = QTimer(self)
        self._ris_timer.timeout.connect(self._on_ris_timer)
        self._ris_timer.start(1000)

    # Settings and filters ------------------------------------------------------------------
    def _load_settings(self) -> Settings:
        from workstation import config

        try:
            return config.load(self.home.config_file)
        except config.ConfigError:
            return Settings()

    def current_filter(self) -> WorklistFilter:
        status = self.status.currentText()
        priority = self.priority.currentText()
        modality = self.modality.currentText()
        return WorklistFilter(
            date_from=self.date_from.text().strip().replace("-", ""),
            date_to=self.date_to.text().strip().replace("-", ""),
            modality="" if modality == "Any" else modality, body_part=self.body_part.text().strip(),
            reading_status="" if status == "Any status" else status,
            priority="" if priority == "Any priority" else priority, mine=self.mine.isChecked())

    # Refreshing --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask the providers and archives (off the GUI thread); the list shows the index's state meanwhile."""
        self.apply_filters()
        if not self.network or self.fetcher.is_running():
            return
        home, flt = self.home, self.current_filter()
        settings = self._settings()

        def work(emit, cancel):
            with StudyCache.open(home) as worker_cache:
                result = load_worklist(worker_cache, settings, WorklistFilter(date_from=flt.date_from,
                                                                              date_to=flt.date_to), cancel=cancel)
            return result.remote, result.notes

        self.note.setText("Asking the worklist providers and archives…")
        self.fetcher.start(work)

    def _on_timer(self) -> None:
        if self.isVisible():
            self.refresh()

    def start_hl7_listener(self) -> str:
        """Start the inbound HL7 listener when a port is set; returns what the status bar says ("" when off)."""
        from workstation.hl7.inbound import start_listener
        from workstation.hl7.settings import HL7Settings

        hs = HL7Settings.of(self._settings())
        if not hs.listen_port or self.hl7_listener is not None:
            return ""
        listener_cache = StudyCache.open(self.home)
        try:
            self.hl7_listener = start_listener(listener_cache, hs, on_applied=self._on_ris_message)
        except OSError as exc:
            listener_cache.close()
            return f"HL7 listener not started: port {hs.listen_port} ({exc.strerror or exc})"
        self._listener_cache = listener_cache
        return f"HL7 from the RIS on port {self.hl7_listener.port}"

    def stop_hl7_listener(self) -> None:
        if self.hl7_listener is not None:
            self.hl7_listener.stop()
            self.hl7_listener = None
            self._listener_cache.close()

    def _on_ris_message(self, applied) -> None:  # on the listener's thread: plain attributes only
        self.ris_news = f"From the RIS: {applied.message_type} {'applied' if applied.ack_code == 'AA' else 'refused'}"
        self.ris_changed = True

    def _on_ris_timer(self) -> None:
        if self.ris_changed:
            self.ris_changed = False
            self.apply_filters()
            self.note.setText(self.ris_news)

    def _on_fetched(self, result: object) -> None:
        self.remote, notes = signal_value(result, tuple)  # the work's (remote items, notes)
        self.apply_filters()
        self.note.setText("; ".join(first_line(n) for n in notes))

    def _on_failed(self, message: str) -> None:
        self.note.setText(f"The worklist could not be refreshed: {message}")

    def apply_filters(self) -> None:
        """Rebuild the list from the index and the archives' last answer with the filters shown (no network)."""
        try:
            self.items = rebuild(self.cache, self._settings(), self.remote, self.current_filter())
        except Exception as exc:  # noqa: BLE001 - a broken filter or index must not crash the tab
            log.exception("worklist rebuild failed")
            self.note.setText(f"The worklist could not be shown: {first_line(str(exc))}")
            return
        if self.isVisible():
            self._fill()
        else:
            self._fill_pending = True

    def showEvent(self, event) -> None:
        if self._fill_pending:
            self._fill()
        super().showEvent(event)

    def _fill(self) -> None:
        selected = self.selected_item()
        self._fill_pending = False
        keep = selected.key if selected is not None else self.current_key
        self.table.setRowCount(len(self.items))
        now = dt.datetime.now()
        for row, item in enumerate(self.items):
            values = (item.priority, item.status_words, format_person_name(item.patient_name), item.patient_id,
                      item.requested_procedure or item.description, item.reason, format_da(item.study_date),
                      item.modalities.replace("\\", ", "), item.body_part, waiting_words(item.waiting_since, now),
                      item.accession, item.location)
            for col, text in enumerate(values):
                cell = QTableWidgetItem(text)
                if item.priority == "STAT":
                    cell.setForeground(QBrush(STAT_COLOUR))
                elif item.location == NOT_ACQUIRED:
                    cell.setForeground(QBrush(QColor(theme.WARNING_TEXT)))
                if col == REASON_COLUMN and item.clinical_history:
                    cell.setToolTip(f"History: {item.clinical_history}")
                if col == STATUS_COLUMN and item.busy_elsewhere:
                    cell.setForeground(QBrush(QColor(theme.WARNING_TEXT)))
                    cell.setToolTip(f"{taken_words(item)}: opening it asks first")
                self.table.setItem(row, col, cell)
            if item.key == keep:
                self.table.selectRow(row)
        self.table.resizeColumnsToContents()

    def selected_item(self) -> WorklistItem | None:
        if self._fill_pending:  # the rows shown are older than the items
            return None
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.items):
            return None
        return self.items[rows[0].row()]

    # Opening -------------------------------------------------------------------------------------
    def _on_double_click(self, row: int, _col: int) -> None:
        if 0 <= row < len(self.items):
            self.open_item(self.items[row])

    def open_selected(self) -> None:
        item = self.selected_item()
        if item is None:
            self.note.setText("Select a study in the worklist first")
            return
        self.open_item(item)

    def open_item(self, item: WorklistItem) -> None:
        """Open ``item``: ask first if another reader has it; retrieve it when only an archive has it."""
        if item.busy_elsewhere and not self.ask_open_anyway(item):
            return
        if item.location == NOT_ACQUIRED:
            self.note.setText(f"No images yet for accession {item.accession}: the study has not been acquired")
            return
        self.current_key = item.key
        if self.cache.study(item.study_uid) is not None:
            self._open_local(item)
            return
        if self.retriever.is_running():
            self.note.setText("Still retrieving the previous study…")
            return
        home, settings = self.home, self._settings()
        self._pending_open = item

        def work(emit, cancel):
            with StudyCache.open(home) as worker_cache:
                return ensure_local(item, settings, home, worker_cache, cancel=cancel)

        self.note.setText(f"Retrieving {item.accession or item.study_uid} from {item.location}…")
        self.retriever.start(work, describe_failure=lambda exc: first_line(str(exc)) if isinstance(
            exc, OpenRefused) else f"{type(exc).__name__}: {first_line(str(exc))}")

    def _on_retrieved(self, payload: object) -> None:
        count = signal_value(payload, int)  # instances retrieved
        item, self._pending_open = self._pending_open, None
        if item is None:
            return
        self.note.setText(f"Retrieved {count} images of {item.accession or item.study_uid}")
        self._open_local(item)

    def _on_retrieve_failed(self, message: str) -> None:
        self._pending_open = None
        self.note.setText(message)

    def _open_local(self, item: WorklistItem) -> None:
        if self.open_study(item.study_uid) is False:
            return  # the reader kept the study that was open
        settings = self._settings()
        left, self.reading_uid = self.reading_uid, item.study_uid
        if left and left != item.study_uid:
            self._stop_reading(left, settings)
        from workstation.worklist.reading import start_reading

        try:
            start_reading(self.cache, settings, item.study_uid)
        except Exception as exc:  # noqa: BLE001 - the study is open; only the shared status failed
            log.exception("reading status not recorded")
            self.note.setText(f"Opened, but not marked in progress: {first_line(str(exc))}")
        self.apply_filters()
        self.opened.emit(item.study_uid)

    def _stop_reading(self, study_uid: str, settings: Settings | None = None) -> None:
        from workstation.worklist.reading import stop_reading

        try:
            stop_reading(self.cache, settings or self._settings(), study_uid)
        except Exception as exc:  # noqa: BLE001 - leaving a study never fails because of the RIS
            log.exception("reading status not released")
            self.note.setText(f"The study was not released for others: {first_line(str(exc))}")

    def viewer_shows(self, open_uids: set[str]) -> None:
        """The viewer now shows ``open_uids``: the study opened from the worklist, if gone, is released."""
        if self.reading_uid and self.reading_uid not in open_uids:
            left, self.reading_uid = self.reading_uid, ""
            self._stop_reading(left)
            self.apply_filters()

    def _ask_open_anyway(self, item: WorklistItem) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, "Study being read" if item.reading_status == "in progress"
                          else "Study already reported", f"{taken_words(item)}.\n\nOpen it anyway?",
                          QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("readByAnother")
        open_anyway = box.addButton("Open anyway", QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.exec()
        return box.clickedButton() is open_anyway

    # Next / previous -----------------------------------------------------------------------------
    def step(self, delta: int) -> None:
        """Open the next (``delta`` 1) or previous (-1) study of the list after the current one."""
        self.apply_filters()
        if not self.items:
            self.note.setText("The worklist is empty")
            return
        keys = [i.key for i in self.items]
        index = keys.index(self.current_key) + delta if self.current_key in keys else (0 if delta > 0 else -1)
        while 0 <= index < len(self.items) and self.items[index].location == NOT_ACQUIRED:
            index += delta
        if not 0 <= index < len(self.items):
            self.note.setText("No more studies in the worklist" if delta > 0 else "This is the first study")
            return
        self.table.selectRow(index)
        self.open_item(self.items[index])


class OrderHeader(QLabel):
    """The order's context above the viewer's grid: priority, procedure, reason, history, referrer; RIS corrections."""

    def __init__(self, cache: StudyCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self.setObjectName("orderHeader")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setStyleSheet("#orderHeader { background-color: #20262e; color: #e8e8e8; padding: 4px 8px; }")
        self.setVisible(False)

    def show_study(self, study_uid: str) -> None:
        try:
            lines = study_context(self.cache, study_uid).header_lines()
        except Exception:  # noqa: BLE001 - the header is a help; it never stops a study from opening
            log.exception("order context unavailable")
            lines = []
        shown = []
        for line in lines:
            text = html.escape(line)
            if text.startswith("STAT"):  # the one word a reader must not miss
                text = f'<b style="color:{STAT_COLOUR.name()}">STAT</b>' + text[4:]
            shown.append(text)
        self.setText("<br>".join(shown))
        self.setVisible(bool(lines))


def attach_worklist(window, cache: StudyCache, home: Home, *, network: bool = True) -> WorklistTab | None:
    """Add the Worklist tab beside Local and Remote, the order header above the viewer, and the
    Next/Previous study keys; the report's clinical information is prefilled from the order."""
    tabs = getattr(window, "study_tabs", None)
    if tabs is None:
        return None

    def open_study(uid: str):
        if window.viewer is not None and not window.viewer.confirm_leave():
            return False
        window.study_activated.emit(uid)
        return True

    tab = WorklistTab(cache, home, open_study, network=network)
    tabs.addTab(tab, "Worklist")
    window.worklist = tab
    tab.retriever.finished.connect(lambda _n: window.browser.refresh())
    if window.viewer is not None:
        header = OrderHeader(cache)
        layout = window.viewer.layout()
        layout.insertWidget(0, header)
        window.order_header = header
        window.study_activated.connect(header.show_study)
    menu = None
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == "View":
            menu = action.menu()
    window.next_study_action = QAction("&Next study in worklist", window)
    window.next_study_action.setShortcut(QKeySequence(NEXT_KEY))
    window.next_study_action.triggered.connect(lambda _=False: tab.step(1))
    window.previous_study_action = QAction("&Previous study in worklist", window)
    window.previous_study_action.setShortcut(QKeySequence(PREVIOUS_KEY))
    window.previous_study_action.triggered.connect(lambda _=False: tab.step(-1))
    window.refresh_worklist_action = QAction("&Refresh worklist", window)
    window.refresh_worklist_action.setShortcut(QKeySequence("F5"))
    window.refresh_worklist_action.triggered.connect(lambda _=False: tab.refresh())
    for action in (window.next_study_action, window.previous_study_action, window.refresh_worklist_action):
        window.addAction(action)  # the keys work while the viewer has the focus
        if menu is not None:
            menu.addAction(action)
    def check_left(*_args: object) -> None:
        # after the viewer has acted (the reader may have cancelled closing): what does it show now?
        def check() -> None:
            viewer = window.viewer
            tab.viewer_shows({s.study_uid for s in viewer.session.studies} if viewer is not None else set())

        QTimer.singleShot(0, check)

    window.study_activated.connect(check_left)
    close_action = getattr(window, "close_study_action", None)
    if close_action is not None:
        close_action.triggered.connect(check_left)
    tab.apply_filters()
    if network:
        QTimer.singleShot(0, tab.refresh)
        message = tab.start_hl7_listener()
        if message:
            window.statusBar().showMessage(message, 10_000)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(tab.stop_hl7_listener)
            app.aboutToQuit.connect(lambda: tab.viewer_shows(set()))  # quitting leaves the study
    return tab
