"""The QC checklist panel of a study: pass / warn / fail items, completeness against an archive, "QC done".

The checklist is :func:`workstation.qc.checklist.build_checklist` (with
:func:`workstation.qc.completeness.check_completeness` when an archive is
chosen); checks and fetches run off the GUI thread.  The panel also opens the
correction, reject, series and tag browser windows for its study.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.config import Settings
from workstation.home import Home
from workstation.qc.checklist import Checklist, build_checklist, mark_done, unmark_done
from workstation.qc.checks import CheckItem
from workstation.qc.completeness import check_completeness, fetch_missing
from workstation.store.cache import StudyCache
from workstation.ui.qc_widgets import STATUS_TEXT, chosen_node, fill_node_combo, status_color
from workstation.ui.qc_worker import QcTask
from workstation.ui.qvariant import combo_value, signal_value, tree_value
from workstation.ui.study_format import format_da, format_person_name


def _flow_row(*widgets: QWidget) -> QWidget:
    from workstation.ui.flow_layout import FlowLayout

    row = QWidget()
    flow = FlowLayout(row, spacing=6)
    for w in widgets:
        flow.addWidget(w)
    policy = row.sizePolicy()
    policy.setHeightForWidth(True)
    row.setSizePolicy(policy)
    return row


class QcPanel(QWidget):
    """QC of one study at a time.

    Parameters
    ----------
    cache : StudyCache
    settings_loader : callable returning Settings
        Read when needed (nodes and our AE title may change while the GUI runs).
    home : Home, optional
        Needed to fetch missing instances (C-MOVE receives through this home's storage SCP).

    Signals
    -------
    checked(object)
        A fresh :class:`Checklist`.
    study_changed(str)
        QC wrote new objects into this study (corrected copies, rejection notes).
    """

    checked = Signal(object)
    study_changed = Signal(str)
    status_label: QLabel  # made below; the task's failure slot, connected first, writes to it

    def __init__(self, cache: StudyCache, settings_loader: Callable[[], Settings], home: Home | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cache, self._settings_loader, self._home = cache, settings_loader, home
        self.study_uid: str | None = None
        self.checklist: Checklist | None = None
        self.windows: list[QWidget] = []
        self.task = QcTask(self)
        self.task.finished.connect(self._show)
        self.task.failed.connect(lambda m: self.status_label.setText(f"Check failed: {m}"))

        self.title_label = QLabel("No study chosen: select one in the list, then QC ▸ QC checklist")
        self.title_label.setWordWrap(True)
        self.title_label.setStyleSheet("font-weight: bold;")
        self.node_combo = QComboBox()
        self.node_combo.setAccessibleName("Archive to compare with")
        self.check_button = QPushButton("Run checks")
        # Buttons go to lambdas that drop clicked(bool)'s argument: it must never reach a parameter.
        self.check_button.clicked.connect(lambda _checked=False: self.run_checks())
        self.fetch_button = QPushButton("Fetch missing")
        self.fetch_button.setEnabled(False)
        self.fetch_button.clicked.connect(lambda _checked=False: self.fetch_missing())
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Status", "Check", "Result"])
        self.tree.setUniformRowHeights(False)
        self.tree.setWordWrap(True)
        self.tree.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.tree.currentItemChanged.connect(self._show_details)
        # The Result column is narrow in a dock: the chosen item reads in full here.
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(130)
        self.details.setPlaceholderText("Choose an item to read it in full")
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.done_label = QLabel("")
        self.done_button = QPushButton("Mark QC done")
        self.done_button.clicked.connect(lambda _checked=False: self.mark_done())
        self.undo_button = QPushButton("Remove mark")
        self.undo_button.clicked.connect(lambda _checked=False: self.clear_done())
        self.correct_button = QPushButton("Correct study…")
        self.reject_button = QPushButton("Reject images…")
        self.series_button = QPushButton("Split / merge…")
        self.tags_button = QPushButton("Tag browser…")
        self.correct_button.clicked.connect(lambda _checked=False: self.open_correction())
        self.reject_button.clicked.connect(lambda _checked=False: self.open_reject())
        self.series_button.clicked.connect(lambda _checked=False: self.open_series())
        self.tags_button.clicked.connect(lambda _checked=False: self.open_tag_browser())

        archive = QHBoxLayout()
        archive.addWidget(QLabel("Archive"))
        archive.addWidget(self.node_combo, 1)
        # Button rows wrap in a narrow dock instead of widening the window.
        checks = _flow_row(self.check_button, self.fetch_button)
        done = _flow_row(self.undo_button, self.done_button)
        tools = _flow_row(self.correct_button, self.reject_button, self.series_button, self.tags_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addLayout(archive)
        layout.addWidget(checks)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.status_label)
        layout.addWidget(self.done_label)
        layout.addWidget(done)
        layout.addWidget(tools)
        self.reload_nodes()
        self._enable()

    # Study and settings ---------------------------------------------------------------------
    def settings(self) -> Settings:
        return self._settings_loader()

    def reload_nodes(self) -> None:
        current = combo_value(self.node_combo, str)
        fill_node_combo(self.node_combo, self.settings().nodes, "Local checks only")
        index = self.node_combo.findData(current)
        self.node_combo.setCurrentIndex(max(index, 0))

    def set_study(self, study_uid: str) -> None:
        """Show ``study_uid`` and run its checks."""
        self.study_uid = study_uid
        row = self._cache.study(study_uid)
        if row is None:
            self.title_label.setText(f"Study {study_uid} is not in the cache")
        else:
            self.title_label.setText(f"{format_person_name(row.patient_name) or '(no name)'} · "
                                     f"{row.patient_id or '(no ID)'} · {format_da(row.study_date)} · "
                                     f"{row.description or row.modalities}")
        self.tree.clear()
        self.checklist = None
        self._enable()
        self.run_checks()

    def _enable(self) -> None:
        has = self.study_uid is not None and self._cache.study(self.study_uid) is not None
        for b in (self.check_button, self.done_button, self.correct_button, self.reject_button, self.series_button,
                  self.tags_button):
            b.setEnabled(has)
        self.fetch_button.setEnabled(bool(self.checklist and self.checklist.completeness
                                          and self.checklist.completeness.missing and self._home is not None))
        self.undo_button.setEnabled(bool(self.checklist and self.checklist.mark))

    # Checks -----------------------------------------------------------------------------------
    def run_checks(self) -> bool:
        """Build the checklist in the background (with the chosen archive's completeness)."""
        if self.study_uid is None:
            return False
        settings, study, cache = self.settings(), self.study_uid, self._cache
        node = chosen_node(self.node_combo, settings.nodes)

        def job() -> Checklist:
            report = check_completeness(cache, node, settings.ae_title, study) if node is not None else None
            return build_checklist(cache, study, report)

        started = self.task.start(job, "check")
        if started:
            self.status_label.setText("Checking" + (f" against {node.name}…" if node else "…"))
            self.check_button.setEnabled(False)
        return started

    def fetch_missing(self) -> bool:
        if self.checklist is None or self.checklist.completeness is None or self._home is None:
            return False
        if self.study_uid is None:
            return False
        settings, study, cache, home = self.settings(), self.study_uid, self._cache, self._home
        node = chosen_node(self.node_combo, settings.nodes)
        report = self.checklist.completeness
        if node is None:
            return False

        def job() -> Checklist:
            fetched = fetch_missing(cache, node, settings, home, report)
            fresh = build_checklist(cache, study, check_completeness(cache, node, settings.ae_title, study))
            fresh.fetched = fetched
            return fresh

        started = self.task.start(job, "fetch")
        if started:
            self.status_label.setText(f"Fetching {len(report.missing)} missing instance(s) from {node.name}…")
            self.fetch_button.setEnabled(False)
        return started

    def _show(self, payload: object) -> None:
        checklist = signal_value(payload, Checklist)
        if checklist.study_uid != self.study_uid:
            return  # the reader moved on to another study meanwhile
        self.checklist = checklist
        self.tree.clear()
        self.details.clear()
        for item in checklist.items:
            top = QTreeWidgetItem([STATUS_TEXT[item.status], item.title, item.message])
            top.setData(1, Qt.ItemDataRole.UserRole, item)
            top.setForeground(0, status_color(item.status))
            top.setData(0, Qt.ItemDataRole.UserRole, item.key)
            top.setToolTip(2, item.message)
            for line in (d for d in item.details if d != item.message):
                child = QTreeWidgetItem(["", "", line])
                child.setToolTip(2, line)
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(item.status in ("warn", "fail"))
        self.tree.resizeColumnToContents(0)
        self.tree.resizeColumnToContents(1)
        text = f"Overall {checklist.overall.upper()}: {checklist.summary()}"
        if checklist.fetched is not None:
            text += f". Fetched: {checklist.fetched.summary()}"
        self.status_label.setText(text)
        self._show_mark()
        self.check_button.setEnabled(True)
        self._enable()
        self.checked.emit(checklist)

    def _show_details(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None = None) -> None:
        while current is not None and current.parent() is not None:
            current = current.parent()
        item = tree_value(current, CheckItem, 1)
        if item is None:
            self.details.clear()
            return
        lines = [f"{STATUS_TEXT[item.status]}  {item.title}", item.message]
        lines += [f"• {d}" for d in item.details if d != item.message]
        self.details.setPlainText("\n".join(lines))

    def _show_mark(self) -> None:
        mark = self.checklist.mark if self.checklist else None
        self.done_label.setText(f"QC done {mark.marked_at} by {mark.operator or '?'} ({mark.outcome})" if mark
                                else "QC not done")
        self.done_label.setStyleSheet(f"color: {status_color('pass').name()};" if mark else "")

    def mark_done(self) -> None:
        if self.checklist is None:
            self.status_label.setText("Run the checks first")
            return
        mark_done(self._cache, self.checklist)
        self._show_mark()
        self._enable()

    def clear_done(self) -> None:
        if self.study_uid and unmark_done(self._cache, self.study_uid) and self.checklist is not None:
            self.checklist.mark = None
        self._show_mark()
        self._enable()

    # Tools ------------------------------------------------------------------------------------
    def _window(self, widget: QWidget) -> QWidget:
        widget.setWindowFlag(Qt.WindowType.Window, True)
        self.windows = [w for w in self.windows if w.isVisible()] + [widget]
        if hasattr(widget, "applied"):
            widget.applied.connect(self._after_change)
        widget.show()
        return widget

    def _after_change(self, _result: object) -> None:
        if self.study_uid is not None:
            self.study_changed.emit(self.study_uid)
            self.run_checks()

    # The buttons are enabled only with a study chosen: without one these open nothing.
    def open_correction(self) -> QWidget | None:
        from workstation.ui.qc_correct_dialog import CorrectionDialog

        if self.study_uid is None:
            return None
        return self._window(CorrectionDialog(self._cache, self.study_uid, self.settings(), self))

    def open_reject(self, checked: AbstractSet[str] = frozenset()) -> QWidget | None:
        from workstation.ui.qc_reject_dialog import RejectDialog

        if self.study_uid is None:
            return None
        return self._window(RejectDialog(self._cache, self.study_uid, self.settings(), checked=checked, parent=self))

    def open_series(self) -> QWidget | None:
        from workstation.ui.qc_series_dialog import SeriesDialog

        if self.study_uid is None:
            return None
        return self._window(SeriesDialog(self._cache, self.study_uid, self.settings(), self))

    def open_tag_browser(self) -> QWidget | None:
        from workstation.ui.tag_browser import TagBrowser

        if self.study_uid is None:
            return None
        browser = TagBrowser(self._cache, self)
        browser.setWindowTitle("Tag browser")
        browser.resize(1100, 800)
        browser.set_study(self.study_uid)
        return self._window(browser)
