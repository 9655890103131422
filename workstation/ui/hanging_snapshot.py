"""``lightbox snapshot``: the hung layout of a study rendered headless, as the viewer shows it.

Builds the real viewer on Qt's offscreen platform (unless a display is set),
hangs the study with :class:`~workstation.ui.hanging_apply.HangingController`,
waits until every viewport of the stage has read its first image, and saves
the viewer as a PNG.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from workstation.home import Home

#: How long to wait for the viewports' first images.
LOAD_TIMEOUT_S = 60.0


def snapshot(home: Home, study_uid: str, out: str | os.PathLike[str], *, size: tuple[int, int] = (1920, 1080),
             stage: int | None = None, protocol_id: str | None = None) -> dict:
    """Render the hung study to ``out``.

    Parameters
    ----------
    home : Home
    study_uid : str
        A cached study.
    out : path
        The PNG to write.
    size : (int, int)
        Width and height of the viewer.
    stage : int, optional
        1-based stage; default the protocol's first stage.
    protocol_id : str, optional
        Hang this protocol instead of the best-scoring one.

    Returns
    -------
    dict
        The protocol, the stage shown and each viewport's series (or note).

    Raises
    ------
    KeyError
        The study is not cached, or ``protocol_id`` names no protocol.
    IndexError
        ``stage`` is not a stage of the protocol.
    """
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from workstation.hanging.service import plan_study
    from workstation.hanging.library import ProtocolLibrary
    from workstation.store.cache import StudyCache
    from workstation.ui.hanging_apply import HangingController
    from workstation.ui.qt_guard import guard_none_refcount
    from workstation.ui.theme import apply_theme
    from workstation.ui.viewer.viewer import ViewerWidget

    guard_none_refcount()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    apply_theme(app)
    with StudyCache.open(home) as cache:
        # Check first, without a window: a wrong UID or protocol is a one-line error.
        plan = plan_study(cache, ProtocolLibrary.load(home), study_uid, protocol_id=protocol_id)
        index = plan.initial_stage if stage is None else plan.stage_index(stage - 1)
        viewer = ViewerWidget(cache)
        try:
            viewer.resize(*size)
            viewer.show()
            controller = HangingController(viewer, home, auto=False)
            controller.hang(study_uid, protocol_id)
            controller.show_stage(index)
            for w in viewer.viewports:
                if w.model.cine.playing:
                    # A picture shows one frame: the protocol's initial one (else the first), on every run.
                    w.toggle_cine()
            _wait_for_images(app, viewer)
            image = viewer.grab()
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            if not image.save(str(out), "PNG"):
                raise OSError(f"could not write {out}")
            hung = controller.plan
            if hung is None:  # hang() refused the study: nothing was shown
                raise RuntimeError(f"study {study_uid} could not be hung")
            shown = hung.stages[controller.stage]
            return {
                "file": str(out), "protocol": hung.protocol_id, "score": hung.score,
                "stage": controller.stage + 1, "stage_name": shown.name,
                "viewports": [{"series_uid": v.series_uid, "series": v.series_label, "status": v.status,
                               "note": v.note} for v in shown.viewports],
            }
        finally:
            viewer.shutdown()
            viewer.close()
            viewer.deleteLater()
            app.processEvents()


def _wait_for_images(app, viewer) -> None:
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    visible = viewer.session.visible
    while time.monotonic() < deadline:
        app.processEvents()
        if all(m.display_set is None or m.is_loaded() or m.error() for m in visible):
            break
        time.sleep(0.02)
    for _ in range(5):  # let the last images paint
        app.processEvents()
        time.sleep(0.02)
