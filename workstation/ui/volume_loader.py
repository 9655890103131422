"""Reads a series' volume off the GUI thread and reports it as Qt signals (progress about ten times a second)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from workstation.jobs.core import CancelToken
from workstation.model.series_volume import load_series_volume
from workstation.model.volume import VolumeError
from workstation.store.cache import StudyCache
from workstation.ui.background import BackgroundTask
from workstation.ui.import_job import RateGate
from workstation.ui.qvariant import signal_value

log = logging.getLogger(__name__)


def volume_work(open_cache: Callable[[], StudyCache], series_uid: str, phase: int, token: CancelToken):
    """The work of one load (for :class:`BackgroundTask`): emits ``(done, total)``, returns the volume."""

    def work(emit, _cancel):
        gate = RateGate()

        def report(done: int, total: int) -> None:
            if gate.allow(done, total):
                emit((done, total))

        cache = open_cache()
        try:
            volume = load_series_volume(cache, series_uid, phase=phase, progress=report,
                                        cancelled=lambda: token.cancelled)
        finally:
            cache.close()
        volume.minimum()  # here rather than on the GUI thread (the MPR reslicers' background)
        return volume

    return work


def _load_failure(exc: BaseException) -> str:
    if isinstance(exc, VolumeError):
        return str(exc)
    log.error("volume load failed: %s", type(exc).__name__)  # only the type: messages can carry paths
    return f"cannot read the volume: {exc}"


class VolumeLoader(QObject):
    """Loads one stack of a cached series; emits ``loaded(Volume)`` or ``failed(str)``.

    The reading runs on a plain thread (:class:`~workstation.ui.background.BackgroundTask`) that touches
    no Qt object; the signals come on the GUI thread.

    Parameters
    ----------
    open_cache : callable
        Opens a connection to the index for this thread (SQLite connections stay on their thread).
    series_uid : str
    phase : int
        Temporal position of a 4D stack, from 0.
    """

    progress = Signal(int, int)
    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, open_cache: Callable[[], StudyCache], series_uid: str, phase: int = 0, parent=None) -> None:
        super().__init__(parent)
        self._open_cache = open_cache
        self.series_uid = series_uid
        self.phase = phase
        self.token = CancelToken()
        self._task = BackgroundTask(self, "volume")
        self._task.item.connect(self._on_counts)  # a bound method: see BackgroundTask on lambdas
        self._task.finished.connect(self.loaded)
        self._task.failed.connect(self.failed)

    def _on_counts(self, payload: object) -> None:
        done, total = signal_value(payload, tuple)
        self.progress.emit(done, total)

    def start(self) -> bool:
        return self._task.start(volume_work(self._open_cache, self.series_uid, self.phase, self.token), _load_failure)

    def isRunning(self) -> bool:  # noqa: N802 - the QThread spelling its callers use
        """Reading, or the volume not delivered yet."""
        return self._task.is_running()

    def wait(self, timeout_ms: int) -> bool:
        """Block until the reading thread ends (at most ``timeout_ms``); True when it has."""
        return self._task.wait(timeout_ms / 1000)
