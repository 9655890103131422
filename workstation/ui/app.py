"""Starting the GUI: the application object, the theme, the main window and the event loop."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QRect, QTimer
from PySide6.QtWidgets import QApplication

from workstation import __version__, audit
from workstation.audit.site_login import SiteLoginSettings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.hanging_menu import attach_hanging
from workstation.ui.idle_lock import attach_idle_lock
from workstation.ui.display_calibration import attach_display_calibration
from workstation.ui.display_patterns import attach_display_patterns
from workstation.ui.export_dialog import attach_export
from workstation.ui.multi_monitor import attach_monitor_layouts
from workstation.ui.main_window import DEFAULT_SIZE, MainWindow
from workstation.ui.window_fit import click_focus_text_fields, fit_dock, fit_to_screen
from workstation.ui.qt_guard import guard_none_refcount
from workstation.ui.qc_menu import attach_qc
from workstation.ui.report_dock import attach_report_panel, settings_source
from workstation.ui.worklist_tab import attach_worklist
from workstation.ui.bundled_fonts import register_bundled_fonts
from workstation.ui.theme import apply_theme
from workstation.ui.viewer.viewer import ViewerWidget

log = logging.getLogger(__name__)

# After the event loop ends, how long to wait for an import told to stop.
_EXIT_WAIT_MS = 30_000


def application() -> QApplication:
    """The process's QApplication, created (and themed) on first use."""
    guard_none_refcount()
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Lightbox")
        app.setApplicationDisplayName("Lightbox")
        app.setApplicationVersion(__version__)
        app.setOrganizationName("Lightbox")
        register_bundled_fonts()  # names in every script, where the system lacks the fonts the bundle carries
    apply_theme(app)  # type: ignore[arg-type]
    return app  # type: ignore[return-value]


def initial_geometry(available: QRect, wanted: tuple[int, int] = DEFAULT_SIZE) -> QRect:
    """The window's first geometry: ``wanted`` if the screen has room, else nearly all of it, centred."""
    width = min(wanted[0], int(available.width() * 0.96))
    height = min(wanted[1], int(available.height() * 0.94))
    x = available.x() + (available.width() - width) // 2
    y = available.y() + (available.height() - height) // 2
    return QRect(x, y, width, height)


def build_main_window(cache: StudyCache, *, status_message: str = "") -> MainWindow:
    """The themed main window on ``cache``, sized for the primary screen (not shown yet)."""
    application()
    window = MainWindow(cache, status_message=status_message)
    window.attach_viewer(ViewerWidget(cache))
    screen = QApplication.primaryScreen()
    if screen is not None:
        # The first start takes nearly all of the screen: the viewports are what the reader came for.
        available = screen.availableGeometry()
        window.setGeometry(initial_geometry(available, (available.width(), available.height())))
    return window


def _use_placement(window: MainWindow, home: Home) -> None:
    """Placement per monitor: restored when remembered (else the first-run size stays), saved at exit."""
    from workstation.placement import PlacementMemory
    from workstation.ui.window_placement import FILE_NAME

    path = home.config_dir / FILE_NAME
    if path.exists():
        window.use_placement_file(path)
    else:
        window._placement = PlacementMemory(path)  # the window's closeEvent records it


def compose_main_window(home: Home, cache: StudyCache, *, status_message: str = "", listen: bool = True,
                        background: bool = True) -> MainWindow:
    """The whole reading window as the reader gets it (not shown yet): viewer, Remote tab, listener,
    DICOM nodes, report panel, QC, hanging protocols, monitor layouts.

    Parameters
    ----------
    home : Home
    cache : StudyCache
        The GUI thread's connection; the caller closes it.
    status_message : str
        Shown at the right of the status bar for the whole session.
    listen : bool
        Start the storage SCP (``window.listener``; the caller stops it).
    background : bool
        Run the outbox sender and fetch priors in the background (tests turn both off).
    """
    _apply_name_display(home)  # before any list or viewport shows a name
    window = build_main_window(cache, status_message=status_message)
    window.volume3d_settings = _volume3d_settings(home)
    if window.viewer is not None:
        window.viewer.destination_of = _study_archive_lookup(home, cache)
        window.viewer.session.corner_text_overrides = _corner_text_settings(home)
        _keep_reading_work(window.viewer.session, home)
    window.attach_remote_tab(_remote_tab(home, cache))
    attach_worklist(window, cache, home, network=background)
    if listen:
        window.attach_listener(_start_listener(home))
    _attach_node_dialog(window, home, cache)
    report_dock = attach_report_panel(window, cache, home, start_sender=background)
    fit_dock(report_dock)
    attach_qc(window, cache, home)
    attach_hanging(window, home, prefetch=background)
    attach_monitor_layouts(window, home, cache)
    attach_display_calibration(window, settings_source(window, home))
    attach_display_patterns(window, home, settings_source(window, home))
    attach_export(window, cache)
    def switch_user() -> None:
        logout(window, from_lock=True)

    attach_idle_lock(window, home, switch_user=switch_user)
    if home.user:
        _attach_logout(window)
    click_focus_text_fields(window)
    # The report panel builds its template's fields for each study opened.
    # With the window as context: a window closed and deleted before the timer fires cancels it.
    window.study_activated.connect(
        lambda _uid: QTimer.singleShot(0, window, lambda: click_focus_text_fields(window)))
    fit_to_screen(window)
    return window


def run_gui(home: Home, *, status_message: str = "", on_quit: Callable[[], None] | None = None) -> int:
    """Open the main window and run the event loop until the reader quits.

    When the station's settings configure a site login (``site_login``), the login dialog comes first;
    each reader then works in their own home (:meth:`Home.for_user`: settings, measurements, drafts)
    over the station's shared study cache, and File › Log out brings the dialog back for the next one.

    Parameters
    ----------
    home : Home
        The installation whose study cache the window browses.
    status_message : str
        Shown in the status bar for the whole session (``lightbox demo`` names its archive here).
    on_quit : callable, optional
        Called once the event loop has ended, before this returns (e.g. to stop a demo archive).

    Returns
    -------
    int
        The event loop's exit code.
    """
    app = application()
    site = _site_login(home)
    if not site.configured:
        return _run_window(app, home, status_message=status_message, on_quit=on_quit)[0]
    from workstation.ui.login_dialog import ask_site_login

    station = home.station()
    code = 0
    audit.application_started(station)
    try:
        while True:
            user = ask_site_login(site)
            if user is None:
                break
            audit.session_started(user.login, user.display_name)
            code, logout = _run_window(app, station.for_user(user.login), status_message=status_message,
                                       on_quit=None, record_application=False)
            audit.session_ended("logout" if logout else "application closed")
            _forget_reader_queries()
            if not logout:
                break
    finally:
        audit.application_stopped()
        if on_quit is not None:
            on_quit()
    return code


def _forget_reader_queries() -> None:
    """A reader's session ended: what their archive searches showed is not carried to the next reader.

    The Patient ID each study was answered with (:mod:`workstation.net.study_patients`, PHI kept in
    memory for a Patient Root retrieve) goes; a module never loaded remembered nothing, and is not
    loaded now (it brings pynetdicom in).
    """
    study_patients = sys.modules.get("workstation.net.study_patients")
    if study_patients is not None:
        study_patients.forget()


def _site_login(home: Home) -> SiteLoginSettings:
    """The station's site login settings (not configured when the settings cannot be read)."""
    from workstation import config

    try:
        return SiteLoginSettings.of(config.load(home.station_config_file).extra)
    except (config.ConfigError, OSError):
        return SiteLoginSettings()


def logout(window: MainWindow, *, from_lock: bool = False) -> bool:
    """Log the reader out: the window closes (their work kept as theirs) and the login dialog comes back.

    From the lock screen nothing is shown to whoever switches user: pending measurements are saved for
    the reader who locked (drafts are kept anyway), without asking.  Returns whether the window closed.
    """
    setattr(window, "logout_requested", True)  # noqa: B010 - read by run_gui after the event loop
    viewer = getattr(window, "viewer", None)
    if from_lock and viewer is not None:
        from workstation.session.unsaved import SAVE

        viewer.ask_unsaved = lambda _check: SAVE
    closed = window.close()
    if not closed:
        setattr(window, "logout_requested", False)  # noqa: B010 - the reader cancelled
    return closed


def _run_window(app: QApplication, home: Home, *, status_message: str = "", on_quit: Callable[[], None] | None,
                record_application: bool = True) -> tuple[int, bool]:
    """One window on ``home`` until it closes: (exit code, whether the reader logged out)."""
    cache = StudyCache.open(home)
    code = 1
    logout_requested = False
    listener = None
    try:
        window = compose_main_window(home, cache, status_message=status_message)
        listener = getattr(window, "listener", None)
        _use_placement(window, home)
        layouts = getattr(window, "monitor_layouts", None)
        window.show()
        if layouts is not None:
            layouts.restore()  # span or a stage per monitor, as at the last exit
        log.info("GUI started (Lightbox %s)", __version__)
        if record_application:
            audit.application_started(home)
        code = int(app.exec())
        logout_requested = bool(getattr(window, "logout_requested", False))
        # Quitting by other means than the window (a signal, app.quit) may leave an import running.
        window.imports.cancel()
        if not window.imports.wait(_EXIT_WAIT_MS):
            log.warning("an import was still running at exit")
        window.browser.stop()
        if window.remote is not None:
            window.remote.cancel()
            window.remote.wait(_EXIT_WAIT_MS)
        if window.viewer is not None:
            window.viewer.shutdown()
        window.deleteLater()
        log.info("GUI closed (exit code %d)", code)
        if record_application:
            audit.application_stopped()
    finally:
        try:
            if listener is not None:
                listener.stop()
            if on_quit is not None:
                on_quit()
        finally:
            cache.close()
    return code, logout_requested


def _start_listener(home: Home):
    """The storage SCP for as long as the GUI runs; a taken port leaves it stopped with a message."""
    from workstation import config
    from workstation.ui.net_listener import GuiListener

    listener = GuiListener(home, lambda: config.load(home.config_file))
    listener.start()
    return listener


def _attach_node_dialog(window: MainWindow, home: Home, cache: StudyCache) -> None:
    """Tools > DICOM nodes…: add, edit, remove, echo and test archives; the Remote tab follows the changes."""
    from workstation.ui.net_nodes_dialog import attach_node_dialog

    attach_node_dialog(window, home, lambda: StudyCache.open(home))


def _remote_tab(home: Home, cache: StudyCache):
    """The Remote tab on the configured archives; each retrieve writes through its own connection."""
    from workstation import config
    from workstation.ui.remote_tab import RemoteTab

    def settings():
        return config.load(home.config_file)

    def retrieve_study(node, study_uid, progress, cancel):
        from workstation.net.retrieve import retrieve  # pynetdicom: loaded by the first retrieve, on its worker

        with StudyCache.open(home) as worker_cache:
            return audit.retrieved(node, worker_cache, retrieve(node, settings(), home, worker_cache, study_uid,
                                                                progress=progress, cancel=cancel))

    return RemoteTab(cache, settings, retrieve_study)


def _attach_logout(window: MainWindow) -> None:
    """File › Log out (a site login's reader): the window closes and the login dialog comes back."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    file_menu = next((a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File"), None)
    action = QAction("Log &out", window)
    action.setObjectName("siteLogoutAction")
    action.setToolTip("Close your session and let the next reader log in (your drafts and measurements stay yours)")
    action.triggered.connect(lambda _checked=False: logout(window))
    if isinstance(file_menu, QMenu):
        file_menu.insertAction(window.quit_action, action)
    setattr(window, "logout_action", action)  # noqa: B010 - for tests and the shortcut list


def _apply_name_display(home: Home) -> None:
    """``Settings.extra["name_display"]``: which PN component groups the site shows (see dicom.person_name)."""
    from workstation import config
    from workstation.dicom.person_name import set_name_style

    try:
        value = config.load(home.config_file).extra.get("name_display")
    except (config.ConfigError, OSError):
        return
    if value:
        try:
            set_name_style(str(value))
        except ValueError as exc:
            logging.getLogger(__name__).warning("setting name_display ignored: %s", exc)


def _keep_reading_work(session, home: Home) -> None:
    """Measurements are kept under ``<home>/measurements``, saved as made unless
    ``Settings.extra["reading"]["autosave_measurements"]`` is false (see session.work_keeper)."""
    from workstation import config
    from workstation.session.study_work import DIRECTORY_NAME

    session.work.directory = home.user_data_dir / DIRECTORY_NAME  # a reader's own on a shared station
    try:
        reading = config.load(home.config_file).extra.get("reading") or {}
    except (config.ConfigError, OSError):
        reading = {}
    if isinstance(reading, dict) and reading.get("autosave_measurements") is False:
        session.work.autosave = False


def _corner_text_settings(home: Home) -> dict:
    """``Settings.extra["corner_text"]``: the site's corner layouts per modality (see imaging.corner_text)."""
    from workstation import config

    try:
        value = config.load(home.config_file).extra.get("corner_text") or {}
    except (config.ConfigError, OSError):
        return {}
    return value if isinstance(value, dict) else {}


def _study_archive_lookup(home: Home, cache: StudyCache):
    """Where the viewer sends a study's presentation states and key images: the node that sent its images."""
    from workstation import config
    from workstation.session.saved_views import study_archive

    def lookup(study_uid: str) -> str | None:
        try:
            nodes = config.load(home.config_file).nodes
        except (config.ConfigError, OSError):
            return None
        return study_archive(cache, nodes, study_uid)

    return lookup


def _volume3d_settings(home: Home) -> dict:
    """``Settings.extra["volume3d"]`` (the 3D mapper override); empty when the settings cannot be read."""
    from workstation import config

    try:
        return dict(config.load(home.config_file).extra.get("volume3d") or {})
    except (config.ConfigError, OSError):
        return {}
