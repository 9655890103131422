"""Runs one QC job at a time off the GUI thread and hands its result back as a Qt signal.

QC jobs (checks reading every header, completeness queries, writing corrected
copies, sending) are the Qt-free functions of :mod:`workstation.qc`; this
adapter only moves them off the GUI thread, on a
:class:`~workstation.ui.background.BackgroundTask` (no Qt object is touched off
the GUI thread).  The cache they use is safe to share between threads.
"""

from __future__ import annotations

import logging
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from workstation.ui.background import BackgroundTask, describe

log = logging.getLogger(__name__)


class QcTask(QObject):
    """A worker for one job at a time.

    Signals
    -------
    finished(object)
        The job's return value (delivered on the GUI thread).
    failed(str)
        The job raised; the argument is its message (one line, no traceback).
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._task = BackgroundTask(self, "qc")
        self._task.finished.connect(self.finished)
        self._task.failed.connect(self.failed)

    def is_running(self) -> bool:
        """A job runs, or its result is not delivered yet."""
        return self._task.is_running()

    def start(self, job: Callable[[], Any], name: str = "qc") -> bool:
        """Run ``job()`` in the background; False (and nothing started) while another job runs."""

        def failure(exc: BaseException) -> str:
            log.warning("QC job %s failed: %s", name, type(exc).__name__)
            return describe(exc)

        return self._task.start(lambda _emit, _cancel: job(), failure)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the running job's thread ends; True when none runs any more.

        The result still comes from the event loop.
        """
        return self._task.wait(timeout_s)
