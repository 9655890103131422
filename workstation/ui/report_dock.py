"""Docking the report panel into the main window, wired to the viewer and the outbox sender.

The sender (:class:`~workstation.reporting.sender.OutboxSender`) runs on a
plain thread with its own index connection for as long as the window lives;
the panel polls the outbox to show each report's delivery state.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget

from workstation import config as config_mod
from workstation.home import Home
from workstation.jobs.core import CancelToken
from workstation.reporting.editor import ReportEditor
from workstation.reporting.inputs import KeyImage, Measurement
from workstation.reporting.sender import OutboxSender, storage_commitment
from workstation.reporting.viewer_input import key_image, measurements_from_annotations
from workstation.store.cache import StudyCache
from workstation.ui.report_panel import ReportPanel

log = logging.getLogger(__name__)

_SENDER_STOP_WAIT_S = 10.0


class OutboxThread:
    """The outbox sender on a background thread (its own cache connection)."""

    def __init__(self, home: Home, settings: config_mod.Settings, cache: StudyCache) -> None:
        self._cache = StudyCache(cache.index_file, cache.cache_dir)
        self._cancel = CancelToken()
        sender = OutboxSender(self._cache, settings, storage_commitment(home, settings, self._cache),
                              reload_settings=lambda: config_mod.load(home.config_file))
        self._thread = threading.Thread(target=self._run, args=(sender,), name="outbox-sender", daemon=True)

    def _run(self, sender: OutboxSender) -> None:
        try:
            sender.run(self._cancel, poll_s=5.0)
        except Exception:  # noqa: BLE001 - the sender must not take the GUI down; the items stay queued
            log.exception("outbox sender stopped")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._cancel.cancel()
        self._thread.join(_SENDER_STOP_WAIT_S)
        if not self._thread.is_alive():
            self._cache.close()


def _lookup(cache: StudyCache):
    def find(uid: str):
        row = cache.instance(uid)
        return (row.sop_class_uid, row.number_of_frames or 1) if row else None
    return find


def viewer_measurements(viewer, cache: StudyCache) -> list[Measurement]:
    """The viewer's selected measurement, or all of them."""
    layer = viewer.session.annotations
    chosen = [layer.selected] if getattr(layer, "selected", None) is not None else list(layer)
    out: list[Measurement] = []
    for a in chosen:
        shown = " ".join(a.lines)
        out += measurements_from_annotations([a], _lookup(cache), length_unit="mm" if " mm" in shown else "px",
                                             value_unit="HU" if " HU" in shown else "")
    return out


def viewer_key_image(viewer, cache: StudyCache) -> KeyImage | None:
    frame = viewer.active_widget.model.frame
    return key_image(frame.sop_instance_uid, frame.frame, _lookup(cache)) if frame is not None else None


def attach_report_panel(window, cache: StudyCache, home: Home, *, start_sender: bool = True) -> QDockWidget:
    """Dock a report panel on the right of ``window``, following the study the reader opens.

    Parameters
    ----------
    window : MainWindow
        Its ``study_activated`` signal opens the study in the panel; its viewer (when attached)
        feeds "insert measurement" and "insert key image".
    cache : StudyCache
    home : Home
        Settings are read from it; the outbox sender delivers for it.
    start_sender : bool
        Run the outbox sender while the application runs (tests turn it off).
    """
    try:
        settings = config_mod.load(home.config_file)
    except config_mod.ConfigError as exc:
        log.warning("settings unreadable, reporting uses defaults: %s", exc)
        settings = config_mod.Settings()
    viewer = getattr(window, "viewer", None)
    panel = ReportPanel(
        ReportEditor(cache, settings),
        measurement_source=(lambda: viewer_measurements(viewer, cache)) if viewer is not None else None,
        key_image_source=(lambda: viewer_key_image(viewer, cache)) if viewer is not None else None,
    )
    dock = QDockWidget("Report", window)
    dock.setObjectName("reportDock")
    dock.setWidget(panel)
    dock.setMinimumWidth(420)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetClosable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.study_activated.connect(panel.open_study)
    window.report_panel = panel
    if start_sender:
        sender = OutboxThread(home, settings, cache)
        sender.start()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(sender.stop)
        dock.destroyed.connect(lambda *_: sender.stop())
        window.outbox_thread = sender
    view_menu = window.menuBar().addMenu("&Report")
    view_menu.addAction(dock.toggleViewAction())
    return dock
