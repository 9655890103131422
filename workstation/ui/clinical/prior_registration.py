"""Links ▾ › Register prior: the background registration of the prior shown beside the current series."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal

from workstation.clinical.prior_link import register_series, save_registration
from workstation.clinical.registration import RigidTransform
from workstation.imaging.viewport import ViewportModel
from workstation.jobs import CancelToken
from workstation.store.cache import StudyCache
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import signal_value

log = logging.getLogger(__name__)


def pick_pair(viewports: Sequence[ViewportModel]) -> tuple[ViewportModel, ViewportModel] | None:
    """(current, prior) viewport models: the active one and the first visible one in another frame of reference."""
    active, others = viewports[0], viewports[1:]
    if active.stack is None:
        return None
    for vp in others:
        if vp.stack is not None and vp.stack.frame_of_reference_uid and \
                vp.stack.frame_of_reference_uid != active.stack.frame_of_reference_uid:  # fmt: skip
            return active, vp
    return None


class PriorRegistrar(QObject):
    """Registers one prior series to one current series off the GUI thread.

    Emits ``done(current_frame_uid, prior_frame_uid, matrix, message)`` or ``failed(message)``.
    """

    done = Signal(str, str, object, str)
    failed = Signal(str)
    progress = Signal(int, int)

    def __init__(self, open_cache: Callable[[], StudyCache], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_cache = open_cache
        self._task = BackgroundTask(self, "registration")
        self._task.item.connect(self._on_item)
        self._task.finished.connect(self._on_finished)
        self._task.failed.connect(self.failed)
        self.token = CancelToken()

    def start(self, current_series_uid: str, prior_series_uid: str) -> bool:
        open_cache, token = self._open_cache, self.token

        def work(emit, _cancel):
            cache = open_cache()
            try:
                t = register_series(cache, current_series_uid, prior_series_uid,
                                    progress=lambda d, n: emit((d, n)), cancel=token)  # fmt: skip
                save_registration(cache, current_series_uid, prior_series_uid, t)
                return t
            finally:
                cache.close()

        return self._task.start(work, _describe)

    def _on_item(self, payload: object) -> None:
        done, total = signal_value(payload, tuple)
        self.progress.emit(done, total)

    def _on_finished(self, payload: object) -> None:
        t = signal_value(payload, RigidTransform)
        shift = float((t.current_to_prior((0.0, 0.0, 0.0)) ** 2).sum() ** 0.5)
        self.done.emit(t.current_frame, t.prior_frame, t.matrix,
                       f"Prior registered: turned {t.rotation_degrees:.1f}°, moved {shift:.1f} mm; saved as a "
                       "spatial registration")  # fmt: skip

    def is_running(self) -> bool:
        return self._task.is_running()

    def wait(self, timeout_s: float) -> bool:
        return self._task.wait(timeout_s)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValueError):
        return f"Prior not registered: {exc}"
    log.error("prior registration failed: %s", type(exc).__name__)
    return f"Prior not registered ({type(exc).__name__})"
