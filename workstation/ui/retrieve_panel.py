"""The retrieve queue panel: one row per job with its progress, Cancel and Retry.

The rows show what :class:`workstation.ui.retrieve_queue.RetrieveQueue` holds;
the text of each cell comes from :func:`job_cells` (plain Python).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workstation.ui.retrieve_queue import CANCELLED, DONE, FAILED, QUEUED, RUNNING, RetrieveJob, RetrieveQueue

COLUMNS = ("Study", "Archive", "State", "Progress", "Received", "To come", "Failed", "MB/s", "Result")
PROGRESS_COLUMN = 3
STATE_TEXT = {QUEUED: "Waiting", RUNNING: "Retrieving", DONE: "Done", FAILED: "Failed", CANCELLED: "Cancelled"}


def job_cells(job: RetrieveJob) -> tuple[str, ...]:
    """The texts of a job's row (the progress column is a bar; its cell text is empty)."""
    p = job.progress
    counts = ("", "", "", "")
    if p is not None:
        counts = (str(p.completed), str(p.remaining), str(p.failed), f"{p.mb_per_s:.1f}" if p.bytes else "")
    state = STATE_TEXT.get(job.state, job.state)
    if job.state == RUNNING and job.associations > 1:
        state += f" ({job.associations} associations)"
    return (job.label or job.study_uid, job.node.name, state, "", *counts, job.summary)


def job_fraction(job: RetrieveJob) -> tuple[int, int]:
    """(done, total) for the progress bar; (0, 0) means busy without a count yet."""
    p = job.progress
    if job.state == DONE:
        return 1, 1
    if p is None:
        return 0, 0
    done = p.completed + p.failed + p.warning
    total = max(done + p.remaining, p.total, 1)
    return done, total


class RetrievePanel(QWidget):
    """Shows a :class:`RetrieveQueue` and lets the reader cancel and retry its jobs."""

    def __init__(self, queue: RetrieveQueue, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 220)
        self.table.setColumnWidth(2, 170)
        self.table.setColumnWidth(PROGRESS_COLUMN, 160)
        self.cancel_button = QPushButton("Cancel")
        self.retry_button = QPushButton("Retry")
        self.clear_button = QPushButton("Clear finished")
        self.summary = QLabel("No retrieves")
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Retrieve queue"))
        buttons.addWidget(self.summary, 1)
        for b in (self.cancel_button, self.retry_button, self.clear_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.table, 1)
        self._rows: list[int] = []  # job id of each table row
        queue.job_added.connect(self._add_row)
        queue.job_changed.connect(self._update_row)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.clear_button.clicked.connect(self.clear_finished)

    def selected_job_ids(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self._rows[r] for r in rows if r < len(self._rows)]

    def cancel_selected(self) -> None:
        for job_id in self.selected_job_ids():
            self.queue.cancel(job_id)

    def retry_selected(self) -> None:
        for job_id in self.selected_job_ids():
            self.queue.retry(job_id)

    def clear_finished(self) -> None:
        self.queue.remove_finished()
        for r in reversed(range(len(self._rows))):
            if self._rows[r] not in self.queue.jobs:
                self.table.removeRow(r)
                del self._rows[r]
        self._update_summary()

    def row_texts(self, job_id: int) -> list[str]:
        """What the row of ``job_id`` shows (tests and accessibility)."""
        r = self._rows.index(job_id)
        return [item.text() if (item := self.table.item(r, c)) else "" for c in range(len(COLUMNS))]

    def _add_row(self, job_id: int) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self._rows.append(job_id)
        bar = QProgressBar()
        bar.setTextVisible(True)
        self.table.setCellWidget(r, PROGRESS_COLUMN, bar)
        self._update_row(job_id)

    def _update_row(self, job_id: int) -> None:
        if job_id not in self._rows or job_id not in self.queue.jobs:
            return
        r = self._rows.index(job_id)
        job = self.queue.job(job_id)
        for c, text in enumerate(job_cells(job)):
            if c == PROGRESS_COLUMN:
                continue
            item = self.table.item(r, c)
            if item is None:
                self.table.setItem(r, c, QTableWidgetItem(text))
            elif item.text() != text:
                item.setText(text)
        bar = self.table.cellWidget(r, PROGRESS_COLUMN)
        done, total = job_fraction(job)
        if not isinstance(bar, QProgressBar):  # _add_row puts one in every row
            pass
        elif job.state == QUEUED or (job.finished and total == 0):
            bar.setRange(0, 1)
            bar.setValue(0)
        else:
            bar.setRange(0, total)
            bar.setValue(done)
        self._update_summary()

    def _update_summary(self) -> None:
        jobs = list(self.queue.jobs.values())
        if not jobs:
            self.summary.setText("No retrieves")
            return
        counts = {s: sum(1 for j in jobs if j.state == s) for s in STATE_TEXT}
        parts = [f"{n} {STATE_TEXT[s].lower()}" for s, n in counts.items() if n]
        self.summary.setText(", ".join(parts))
