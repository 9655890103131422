"""Reads a series' volume off the GUI thread and reports it as Qt signals (progress about ten times a second)."""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import QThread, Signal

from workstation.jobs.core import CancelToken
from workstation.model.series_volume import load_series_volume
from workstation.model.volume import VolumeError
from workstation.store.cache import StudyCache
from workstation.ui.import_job import RateGate

log = logging.getLogger(__name__)


class VolumeLoader(QThread):
    """Loads one stack of a cached series; emits ``loaded(Volume)`` or ``failed(str)``.

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
        self._gate = RateGate()

    def _report(self, done: int, total: int) -> None:
        if self._gate.allow(done, total):
            self.progress.emit(done, total)

    def run(self) -> None:
        cache = None
        try:
            cache = self._open_cache()
            vol = load_series_volume(cache, self.series_uid, phase=self.phase, progress=self._report, cancelled=lambda: self.token.cancelled)
            self.loaded.emit(vol)
        except VolumeError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # shown in the status bar; the traceback goes to the log
            log.exception("volume load failed for series %s", self.series_uid)
            self.failed.emit(f"cannot read the volume: {exc}")
        finally:
            if cache is not None:
                cache.close()
