"""Docking the report panel into the main window, wired to the viewer, the settings and the outbox.

Settings are read through the window's one :class:`~workstation.config.SettingsSource`
(created here when the window has none), so what the reader changes in
Tools › Settings applies to the next report at once.  Delivery runs on the
window's :class:`~workstation.ui.outbox_view.DeliveryService` (a
BackgroundTask): Sign & Send stores, queues and starts delivering; the panel
follows the report's state as the sender records it.
"""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget

from workstation.config import SettingsSource
from workstation.home import Home
from workstation.reporting.editor import ReportEditor
from workstation.reporting.inputs import KeyImage, Measurement
from workstation.reporting.viewer_input import key_image
from workstation.session.study_work import report_measurements
from workstation.store.cache import StudyCache
from workstation.ui.outbox_view import attach_outbox
from workstation.ui.report_panel import ReportPanel

log = logging.getLogger(__name__)


def settings_source(window, home: Home) -> SettingsSource:
    """The window's settings source (one per window, made on first use)."""
    source = getattr(window, "settings_source", None)
    if source is None:
        source = SettingsSource(home.config_file)
        window.settings_source = source
    return source


def _lookup(cache: StudyCache):
    def find(uid: str):
        row = cache.instance(uid)
        return (row.sop_class_uid, row.number_of_frames or 1) if row else None
    return find


def viewer_measurements(viewer, cache: StudyCache) -> list[Measurement]:
    """The viewer's selected measurement, or all of them."""
    layer = viewer.session.annotations
    chosen = [layer.selected] if getattr(layer, "selected", None) is not None else list(layer)
    return report_measurements(chosen, _lookup(cache))


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
        Settings are read from it; the outbox is delivered for it.
    start_sender : bool
        Deliver the outbox while the application runs (tests turn it off and start ``window.delivery`` themselves).
    """
    source = settings_source(window, home)
    viewer = getattr(window, "viewer", None)
    panel = ReportPanel(
        ReportEditor(cache, source),
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
    session = getattr(viewer, "session", None)
    if viewer is not None and hasattr(viewer, "first_image_painted"):
        from workstation.ui.warmup import after_images

        # The form of the study opened is built once its images are painted: the reader looks at them first.
        def defer(work) -> None:
            def shown() -> None:
                with contextlib.suppress(RuntimeError):  # the panel's widgets are gone (window closing)
                    work()
            after_images(viewer, shown)

        panel.defer = defer
    if session is not None:
        panel.prior_source = lambda: list(session.studies)

        refresh_due = [False]

        def refresh() -> None:
            refresh_due[0] = False
            if getattr(window, "report_panel", None) is panel:
                with contextlib.suppress(RuntimeError):  # the panel's widgets are gone (window closing)
                    panel.refresh_priors()

        def on_session(what: str) -> None:
            # Once the session's studies have settled (an open adds the study and its priors one by one,
            # and the panel then follows the new study, its form built after the images): not mid-open.
            if what == "studies" and not refresh_due[0]:
                refresh_due[0] = True
                QTimer.singleShot(0, panel, refresh)

        session.subscribe(on_session)
    def on_settings() -> None:
        # A new trust store or identity changes what the list says about signatures: show it at once.
        try:
            if panel.editor.study_uid:
                panel.refresh_reports()
        except RuntimeError:  # the panel's widgets are gone (window closing)
            pass

    source.subscribe(on_settings)
    service = attach_outbox(window, cache, home, source, start=start_sender)
    panel.set_delivery(service)
    from workstation.ui.settings_dialog import attach_settings

    attach_settings(window, home, source, cache)
    panel.open_settings = window.show_settings
    view_menu = window.menuBar().addMenu("&Report")
    view_menu.addAction(dock.toggleViewAction())
    return dock
