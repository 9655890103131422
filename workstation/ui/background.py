"""Background work for the GUI: a plain Python thread, its results collected on the GUI thread.

A :class:`BackgroundTask` runs one Qt-free function at a time on a daemon
:class:`threading.Thread`.  The function hands out what it produces through an
``emit(item)`` callback that only puts the item into a :class:`queue.Queue`; a
:class:`~PySide6.QtCore.QTimer` of the task, ticking only while work runs,
drains that queue on the GUI thread and turns each item into a Qt signal.

So no Qt object is ever touched off the GUI thread: no signal is emitted from
the worker, no ``QThread`` has to be waited for before it may be deleted, and a
task (or the widget owning it) that goes while its thread still runs costs
nothing but the thread's remaining work, which ends in a queue nobody reads.
A daemon thread cannot hold the application at exit.

The work function must hold no Qt object either (capture plain values: nodes,
paths, callables that open a database connection), because the worker drops
its references when it ends.  The task keeps the function alive until the GUI
thread has collected the end of the run, so its last reference is never
dropped on the worker.

Connect a task's signals to bound methods of a QObject, not to lambdas, when
the task may be deleted (``deleteLater``) before its owner: PySide6 keeps a
lambda's connection in a shared helper object, and a task deleted from its own
signal followed by its owner's deletion deletes that helper twice
(``QObject: shared QObject was deleted directly`` and a segmentation fault in
the next event processing).  ``tests/ui/test_retrieve_queue.py`` crashed this
way every time while the retrieve queue connected lambdas.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from workstation.ui.study_format import first_line

log = logging.getLogger(__name__)

POLL_MS = 40

#: ``work(emit, cancel) -> result``: ``emit(item)`` hands an item to the GUI thread, ``cancel`` is set to ask it
#: to stop.
Work = Callable[[Callable[[Any], None], threading.Event], Any]

_END = object()  # marks the last entry of a run's queue: (_END, "finished" | "failed", payload)

# Runs whose thread may still hold them: their work function is only ever released on the GUI thread (see
# _sweep), never by a worker thread dropping the last reference to it.
_live_runs: set[_Run] = set()


def describe(exc: BaseException) -> str:
    """The default message of a failed run: the exception's first line (cut to fit a status bar), or its type."""
    text = str(exc).strip()
    return first_line(text) if text else type(exc).__name__


class _Run:
    """One run: its thread, queue and cancel flag.  Plain Python: the worker sees nothing else."""

    def __init__(self, work: Work, name: str, describe_failure: Callable[[BaseException], str]) -> None:
        self.work: Work | None = work
        self.describe = describe_failure
        self.queue: queue.Queue = queue.Queue()
        self.cancel = threading.Event()
        self.thread = threading.Thread(target=self._main, name=f"lightbox-{name}", daemon=True)
        self.name = name

    def _main(self) -> None:
        outcome: tuple[Any, str, Any]
        work = self.work  # released (None) only on the GUI thread, after this thread has ended
        try:
            if work is None:
                raise RuntimeError("background work already released")
            result = work(self.queue.put, self.cancel)
            outcome = (_END, "finished", result)
            del result
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a message for the user
            # Only the type in the log: messages of file and network errors can carry patients' names.
            log.warning("background task %s failed: %s", self.name, type(exc).__name__)
            try:
                message = self.describe(exc)
            except Exception:  # noqa: BLE001 - a faulty describe must not lose the end of the run
                message = type(exc).__name__
            outcome = (_END, "failed", message)
        self.queue.put(outcome)


def _sweep() -> None:
    """Forget runs whose thread has ended (on the GUI thread; an owner still holding one keeps it)."""
    for run in [r for r in _live_runs if not r.thread.is_alive()]:
        _live_runs.discard(run)


class BackgroundTask(QObject):
    """Runs one Qt-free function at a time on a daemon thread; its output arrives as signals on the GUI thread.

    Parameters
    ----------
    parent : QObject, optional
    name : str
        Names the thread (``lightbox-<name>``) and the log lines.
    poll_ms : int
        How often the queue is drained while work runs.

    Signals
    -------
    item(object)
        Something the work function passed to ``emit``, in order.
    finished(object)
        The work function's return value; every item came before it, and the thread has ended.
    failed(str)
        The work function raised; the argument says why in one line (no traceback).
    """

    item = Signal(object)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, name: str = "background", poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.name = name
        self._run: _Run | None = None
        self._draining = False
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.drain)

    # Public -------------------------------------------------------------------------------
    def start(self, work: Work, describe_failure: Callable[[BaseException], str] = describe) -> bool:
        """Run ``work(emit, cancel)`` in the background; False (and nothing started) while a run is not over.

        Call from the GUI thread.  ``describe_failure(exc)`` makes the ``failed`` message.
        """
        if self._run is not None:
            return False
        _sweep()
        run = _Run(work, self.name, describe_failure)
        _live_runs.add(run)
        self._run = run
        run.thread.start()
        self._timer.start()
        return True

    def is_running(self) -> bool:
        """A run was started and its end has not been delivered yet."""
        return self._run is not None

    def thread_alive(self) -> bool:
        return self._run is not None and self._run.thread.is_alive()

    def cancel(self) -> None:
        """Ask the running work to stop (it sees its ``cancel`` event set); it ends when it next looks."""
        if self._run is not None:
            self._run.cancel.set()

    def cancelled(self) -> bool:
        return self._run is not None and self._run.cancel.is_set()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until the thread ends (at most ``timeout_s``); True when no thread runs any more.

        The signals of what it produced still come from the event loop, or at once by :meth:`drain`.
        """
        run = self._run
        if run is not None:
            run.thread.join(timeout_s)
            return not run.thread.is_alive()
        return True

    def drain(self) -> None:
        """Deliver what the work produced so far (the timer calls this; callable by hand on the GUI thread)."""
        if self._draining:  # a slot spun the event loop: the outer call goes on delivering
            return
        run = self._run
        if run is None:
            self._timer.stop()
            return
        self._draining = True
        try:
            while self._run is run:
                try:
                    entry = run.queue.get_nowait()
                except queue.Empty:
                    return
                if isinstance(entry, tuple) and len(entry) == 3 and entry[0] is _END:
                    self._end(run, entry[1], entry[2])
                    return
                self.item.emit(entry)
        finally:
            self._draining = False

    # Internal -----------------------------------------------------------------------------
    def _end(self, run: _Run, kind: str, payload: Any) -> None:
        self._timer.stop()
        run.thread.join(5)  # it has put its last entry: it is returning
        run.work = None  # released here, on the GUI thread
        self._run = None
        _sweep()
        if kind == "finished":
            self.finished.emit(payload)
        else:
            self.failed.emit(payload)
