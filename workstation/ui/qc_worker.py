"""Runs one QC job at a time off the GUI thread and hands its result back as a Qt signal.

QC jobs (checks reading every header, completeness queries, writing corrected
copies, sending) are the Qt-free functions of :mod:`workstation.qc`; this
adapter only moves them off the GUI thread.  The cache they use is safe to
share between threads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

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
        self._thread: threading.Thread | None = None

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, job: Callable[[], Any], name: str = "qc") -> bool:
        """Run ``job()`` in the background; False (and nothing started) while another job runs."""
        if self.is_running():
            return False

        def run() -> None:
            try:
                result = job()
            except Exception as exc:  # noqa: BLE001 - every failure becomes a message for the user
                log.warning("QC job %s failed: %s", name, type(exc).__name__)
                self.failed.emit(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            else:
                self.finished.emit(result)

        self._thread = threading.Thread(target=run, name=f"lightbox-qc-{name}", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the running job ends; True when none runs any more."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.is_running()
