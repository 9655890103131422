"""The main window: menu, local study browser, room for the viewports, status bar with import progress."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from workstation.store.cache import StudyCache
from workstation.store.importer import ImportSummary
from workstation.ui import theme
from workstation.ui.import_job import ImportRunner
from workstation.ui.qvariant import signal_value
from workstation.ui.window_fit import DOCK_MINIMUM_WIDTH, MINIMUM_SIZE, fit_dock  # noqa: F401 - re-exported
from workstation.ui.study_browser import StudyBrowser
from workstation.ui.study_feed import POLL_INTERVAL_MS
from workstation.ui.study_format import first_line, import_summary_message
from workstation.ui.tool_windows import WINDOW_TITLE, ToolWindows

if TYPE_CHECKING:  # the parts the start-up attaches; each imports this module
    from workstation.ui.hanging_apply import HangingController
    from workstation.ui.idle_lock import IdleLock
    from workstation.ui.multi_monitor import MonitorLayouts
    from workstation.ui.qc_menu import QcMenu
    from workstation.ui.remote_tab import RemoteTab
    from workstation.ui.report_panel import ReportPanel
    from workstation.ui.viewer.viewer import ViewerWidget

log = logging.getLogger(__name__)

DEFAULT_SIZE = (1600, 1000)

class MainWindow(ToolWindows):
    """Lightbox's main window.

    Parameters
    ----------
    cache : StudyCache
        The GUI's connection to the index; the window does not close it.
    status_message : str
        Shown at the right of the status bar for the whole session (e.g. the demo archive's address).
    open_import_cache : callable, optional
        Opens the connection an import writes through; by default a new one on ``cache``'s files,
        so the study list's poll sees the import land.
    poll_interval_ms : int
        How often the study list looks for studies written by others.

    Signals
    -------
    study_activated(str)
        The Study Instance UID the reader opened from the study list.
    """

    # Parts the start-up (workstation.ui.app) attaches after construction.  Declared, not assigned:
    # a window without one has no such attribute (read them with getattr(window, name, None)).
    report_panel: ReportPanel
    hanging: HangingController
    monitor_layouts: MonitorLayouts
    qc: QcMenu
    idle_lock: IdleLock
    volume3d_settings: dict[str, Any]

    study_activated = Signal(str)

    def __init__(
        self,
        cache: StudyCache,
        *,
        status_message: str = "",
        open_import_cache: Callable[[], StudyCache] | None = None,
        poll_interval_ms: int = POLL_INTERVAL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(WINDOW_TITLE)
        self.resize(*DEFAULT_SIZE)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        self._cache = cache
        self._last_dir = os.path.expanduser("~")
        self._close_when_idle = False
        # Kept inside its screen once its frame is known (the application's window; tests size theirs freely).
        self.keep_on_screen = False
        self.viewer: ViewerWidget | None = None
        self.study_tabs: QTabWidget | None = None
        self.remote: RemoteTab | None = None
        self.browser = StudyBrowser(cache, poll_interval_ms=poll_interval_ms)
        self.browser.study_activated.connect(self._activate_study)
        self.viewport_area: QWidget = self._make_viewport_area()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.viewport_area)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)

        opener = open_import_cache or (lambda: StudyCache(cache.index_file, cache.cache_dir))
        self.imports = ImportRunner(opener, self)
        self.imports.started.connect(self._on_import_started)
        self.imports.progress.connect(self._on_import_progress)
        self.imports.finished.connect(self._on_import_finished)
        self.imports.failed.connect(self._on_import_failed)

        self._make_menus()
        self._make_status_bar(status_message)
        self.browser.start()

    # Construction ----------------------------------------------------------------------
    def _make_viewport_area(self) -> QFrame:
        area = QFrame()
        area.setObjectName("viewportArea")
        area.setStyleSheet(f"#viewportArea {{ background-color: {theme.VIEWPORT_BACKGROUND}; }}")
        hint = QLabel("Double-click a study to open it")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setStyleSheet("color: #7a7a7a;")
        layout = QVBoxLayout(area)
        layout.addWidget(hint)
        self.viewport_hint = hint
        return area

    def _make_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.import_files_action = QAction("Import &files…", self)
        self.import_files_action.setShortcut(QKeySequence.StandardKey.Open)
        self.import_files_action.triggered.connect(self.choose_files_to_import)
        self.import_folder_action = QAction("Import f&older…", self)
        self.import_folder_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.import_folder_action.triggered.connect(self.choose_folder_to_import)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.quit_action.triggered.connect(self.close)
        file_menu.addAction(self.import_files_action)
        file_menu.addAction(self.import_folder_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        tools_menu = self.menuBar().addMenu("&Tools")
        self.tools_menu = tools_menu
        self.volume_action = QAction("&MPR and 3D…", self)
        self.volume_action.setToolTip("MPR and 3D of the active viewport's series "
                                      "(else of the study selected in the list)")
        self.volume_action.setShortcut(QKeySequence("Ctrl+M"))
        self.volume_action.triggered.connect(lambda _=False: self.open_volume_here())
        tools_menu.addAction(self.volume_action)
        self.petct_action = QAction("PET/CT &fusion…", self)
        self.petct_action.setToolTip("CT, PET (SUV) and fused views of the active viewport's study (else the list's)")
        self.petct_action.triggered.connect(lambda _=False: self.open_petct_fusion())
        tools_menu.addAction(self.petct_action)
        self.cpr_action = QAction("&Curved MPR…", self)
        self.cpr_action.setToolTip("Curved MPR along a path clicked through the active viewport's series")
        self.cpr_action.triggered.connect(lambda _=False: self.open_curved_mpr())
        tools_menu.addAction(self.cpr_action)
        self._make_help_menu()

    def _make_help_menu(self) -> None:
        help_menu = self.menuBar().addMenu("&Help")
        self.help_menu = help_menu
        self.about_action = QAction("&About Lightbox", self)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(self.show_about)
        self.shortcuts_action = QAction("&Keyboard shortcuts", self)
        self.shortcuts_action.setShortcut(QKeySequence("F1"))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def show_shortcuts(self):
        """Help > Keyboard shortcuts: every key, read from the tables the controls use."""
        from workstation.ui.shortcuts_dialog import ShortcutsDialog

        self.shortcuts_dialog = ShortcutsDialog(self)
        self.shortcuts_dialog.show()
        return self.shortcuts_dialog

    def show_about(self):
        """Help > About: version, components, where the data lives."""
        from workstation.ui.about import show_about

        self.about_box = show_about(self, str(self._cache.index_file.parent))
        return self.about_box

    def use_placement_file(self, path) -> None:
        """Remember the window's placement per monitor in ``path`` and go back to it now."""
        from workstation.ui.window_placement import restore_placement

        self.keep_on_screen = True
        self._placement = restore_placement(self, path, DEFAULT_SIZE)

    def _make_status_bar(self, status_message: str) -> None:
        bar = self.statusBar()
        self.progress_bar = QProgressBar()
        self.progress_bar.setMaximumWidth(260)
        self.progress_bar.setFormat("%v / %m files")
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.imports.cancel)
        bar.addPermanentWidget(self.progress_bar)
        bar.addPermanentWidget(self.cancel_button)
        self.session_label = QLabel(status_message)
        self.session_label.setVisible(bool(status_message))
        bar.addPermanentWidget(self.session_label)

    # Public ----------------------------------------------------------------------------
    def attach_viewer(self, viewer: ViewerWidget) -> None:
        """Put the reading viewer below the study list and route opened studies to it.

        Opening a study gives the viewer most of the height (the list stays one drag
        away); View > Full screen and View > Study list serve reading without the list.
        """
        self.viewer = viewer
        self.replace_viewport_area(viewer)
        self.study_activated.connect(self._open_in_viewer)
        viewer.message.connect(lambda text: self.statusBar().showMessage(text, 5000))
        view_menu = self.menuBar().addMenu("&View")
        self.show_list_action = QAction("Study &list", self)
        self.show_list_action.setCheckable(True)
        self.show_list_action.setChecked(True)
        self.show_list_action.setShortcut(QKeySequence("Ctrl+L"))
        self.show_list_action.toggled.connect(lambda on: self.study_list_widget().setVisible(on))
        self.full_screen_action = QAction("&Full screen", self)
        self.full_screen_action.setCheckable(True)
        self.full_screen_action.setShortcut(QKeySequence("F11"))
        self.full_screen_action.toggled.connect(self.set_full_screen)
        self.compare_action = QAction("Add selected study for &comparison", self)
        self.compare_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.compare_action.triggered.connect(self._compare_selected)
        self.close_study_action = QAction("&Close study", self)
        self.close_study_action.setShortcut(QKeySequence("Ctrl+W"))
        self.close_study_action.triggered.connect(self.close_study)
        for action in (self.show_list_action, self.full_screen_action, self.compare_action,
                       self.close_study_action):
            view_menu.addAction(action)
        viewer.toolbar.volume_action.triggered.connect(lambda _=False: self.open_volume_here())
        # A right click without dragging (or the menu key) on a viewport.
        self.viewport_menu_actions = [self.volume_action, viewer.toolbar.key_image_action,
                                      viewer.toolbar.fit_action, viewer.toolbar.reset_action]
        for w in viewer.viewports:
            w.menu_actions = self.viewport_menu_actions
        # After the viewer has laid out the new grid, the active viewport takes the keys again.
        viewer.toolbar.grid_chooser.chosen.connect(lambda *_: self.focus_active_viewport())

    def focus_active_viewport(self) -> None:
        """Give the keyboard to the active viewport (after a stage or layout change).

        Not while the reader types somewhere else (a prior arriving changes the stage by itself).
        """
        if self.viewer is None or not self.viewer.session.studies:
            return
        from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit, QPlainTextEdit, QTextEdit

        focus = QApplication.focusWidget()
        typing = isinstance(focus, (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)) and focus.isVisible()
        if typing and focus is not None and not self.viewer.isAncestorOf(focus):
            return
        self.viewer.active_widget.setFocus()

    def _activate_study(self, study_uid: str) -> None:
        """The reader opens a study from the list: pending work of the open ones is asked about first."""
        if self.viewer is not None and not self.viewer.confirm_leave():
            return
        self.study_activated.emit(study_uid)

    def close_study(self) -> bool:
        """View › Close study: asks about pending work first; False when the reader cancelled."""
        if self.viewer is None or not self.viewer.confirm_leave():
            return False
        self.viewer.close_session()
        return True

    def _open_in_viewer(self, study_uid: str) -> None:
        if self.viewer is None:  # connected by attach_viewer: never without a viewer
            return
        if self._open_hung(study_uid) or self.viewer.open_study(study_uid):
            total = sum(self.splitter.sizes()) or self.height()
            self.splitter.setSizes([int(total * 0.22), int(total * 0.78)])

    def _open_hung(self, study_uid: str) -> bool:
        """Open the study straight into its protocol's layout; False to open it as the viewer would.

        The layout the viewer picks by itself would be laid out and painted first, then replaced
        by the protocol's: the plan first saves that paint and keeps the study's images first in line.
        """
        hanging = getattr(self, "hanging", None)
        if hanging is None or not hanging.auto:
            return False
        hanging.hang(study_uid)  # without a plan it leaves the study closed: the viewer opens it then
        patient = self.viewer.session.patient if self.viewer is not None else None
        return patient is not None and patient.study_uid == study_uid

    def _compare_selected(self) -> None:
        uid = self.browser.selected_study_uid()
        if uid is None:
            self.statusBar().showMessage("Select a study in the list first", 5000)
            return
        if self.viewer is None:  # the action comes with the viewer
            return
        if not self.viewer.session.studies:
            self._open_in_viewer(uid)
        else:
            self.viewer.add_comparison(uid)

    def set_full_screen(self, on: bool) -> None:
        """Full screen for reading: the window fills the screen and the study list hides."""
        if on:
            self.study_list_widget().setVisible(False)
            self.showFullScreen()
        else:
            self.showNormal()
            self.study_list_widget().setVisible(self.show_list_action.isChecked())

    def study_list_widget(self) -> QWidget:
        """What holds the study lists: the Local/Remote tabs once attached, else the local list."""
        return self.study_tabs if self.study_tabs is not None else self.browser

    def attach_remote_tab(self, remote: RemoteTab) -> None:
        """Put the study list in a Local tab beside a Remote tab (archive search and retrieve)."""
        tabs = QTabWidget()
        tabs.setDocumentMode(True)
        index = self.splitter.indexOf(self.browser)
        self.splitter.replaceWidget(index, tabs)
        tabs.addTab(self.browser, "Local")
        tabs.addTab(remote, "Remote")
        self.study_tabs = tabs
        self.remote = remote
        remote.retrieved.connect(lambda _uid: self.browser.refresh())

    def attach_listener(self, listener) -> None:
        """Show at the right of the status bar where the GUI's storage SCP receives, or why it does not.

        ``listener`` is a started :class:`workstation.ui.net_listener.GuiListener`; a port already in
        use leaves it stopped with a message, shown here as a warning (never an error dialog).
        """
        self.listener = listener
        self.listener_label = QLabel(listener.message)
        self.listener_label.setToolTip("The storage SCP: archives send retrieved (C-MOVE) and pushed studies here")
        if not listener.ok:
            self.listener_label.setStyleSheet(f"color: {theme.WARNING_TEXT};")
            self.statusBar().showMessage(listener.message, 15_000)
        self.statusBar().addPermanentWidget(self.listener_label)
        if hasattr(listener, "status"):
            # Refused associations (senders that are not configured nodes) show as they happen.
            self._listener_timer = QTimer(self)
            self._listener_timer.timeout.connect(self._show_listener_status)
            self._listener_timer.start(1000)

    def _show_listener_status(self) -> None:
        text, tip = self.listener.status()
        if text != self.listener_label.text():
            self.listener_label.setText(text)
            self.listener_label.setToolTip(tip)

    def replace_viewport_area(self, widget: QWidget) -> None:
        """Put the viewer in the area below the study list."""
        old: QWidget = self.viewport_area
        self.splitter.replaceWidget(self.splitter.indexOf(old), widget)
        old.deleteLater()
        self.viewport_area = widget

    def start_import(self, paths: Sequence[str | os.PathLike[str]]) -> bool:
        """Import files, folders, DICOMDIRs or zips in the background; False if one is running."""
        if self.imports.is_running():
            self.statusBar().showMessage("An import is already running", 5000)
            return False
        return self.imports.start(paths)

    def choose_files_to_import(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Import files", self._last_dir,
            "All files (*);;DICOM files (*.dcm *.DCM *.dicom DICOMDIR);;Zip archives (*.zip)",
        )
        if files:
            self._last_dir = os.path.dirname(files[0])
            self.start_import(files)

    def choose_folder_to_import(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import folder", self._last_dir)
        if folder:
            self._last_dir = folder
            self.start_import([folder])

    # Import progress ---------------------------------------------------------------------
    def _on_import_started(self, _n_paths: int) -> None:
        self.progress_bar.setRange(0, 0)  # busy until the files are counted
        self.progress_bar.setVisible(True)
        self.cancel_button.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.import_files_action.setEnabled(False)
        self.import_folder_action.setEnabled(False)
        self.statusBar().showMessage("Importing…")

    def _on_import_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)

    def _import_ended(self) -> None:
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self.import_files_action.setEnabled(True)
        self.import_folder_action.setEnabled(True)
        self.browser.refresh()
        if self._close_when_idle:
            self.close()

    def _on_import_finished(self, payload: object) -> None:
        self._import_ended()
        self.statusBar().showMessage(import_summary_message(signal_value(payload, ImportSummary)))

    def _on_import_failed(self, message: str) -> None:
        self._import_ended()
        self.statusBar().showMessage(f"Import failed: {first_line(message)}")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not getattr(self, "_docks_sized", False):
            self._docks_sized = True
            if self.keep_on_screen and not (self.isMaximized() or self.isFullScreen()):
                from workstation.ui.window_placement import clamp_to_screen

                clamp_to_screen(self)  # now that the frame's size is known
            self.size_docks()
            from workstation.ui.warmup import schedule_warmup

            # While the reader looks at the list: what the first study's open would otherwise do first.
            schedule_warmup(self)

    def size_docks(self) -> None:
        """Give the side docks about a quarter of the window: the viewports keep most of the width."""
        docks = [d for d in self.findChildren(QDockWidget) if not d.isFloating()
                 and self.dockWidgetArea(d) in (Qt.DockWidgetArea.RightDockWidgetArea,
                                                Qt.DockWidgetArea.LeftDockWidgetArea)]
        if docks and self.height() > self.width() * 1.2:
            # A portrait monitor (mammography): the docks go below, the images keep the whole width.
            tabs = [d for d in docks if self.tabifiedDockWidgets(d)]
            for d in docks:
                self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, d)
            for d in tabs[1:]:
                self.tabifyDockWidget(tabs[0], d)
            visible = [d for d in docks if d.isVisible()]
            if visible:
                self.resizeDocks(visible, [int(self.height() * 0.3)] * len(visible), Qt.Orientation.Vertical)
            return
        if docks:
            # As wide as the widest content needs (its buttons all showing), within 40 % of the window.
            need = max((getattr(d, "content", d.widget()).minimumSizeHint().width() + 24 for d in docks), default=0)
            width = max(DOCK_MINIMUM_WIDTH, min(max(need, int(self.width() * 0.25)), int(self.width() * 0.4)))
            self.resizeDocks(docks, [width] * len(docks), Qt.Orientation.Horizontal)

    # Closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self.imports.is_running():
            # Never block the GUI: stop the import and close once it has committed its chunk.
            self._close_when_idle = True
            self.imports.cancel()
            self.cancel_button.setEnabled(False)
            self.statusBar().showMessage("Stopping the import before closing…")
            event.ignore()
            return
        if self.viewer is not None and not self.viewer.confirm_leave(quitting=True):
            event.ignore()  # the reader cancelled: nothing closes
            return
        self.browser.stop()
        if self.remote is not None:
            self.remote.cancel()
            self.remote.wait(10_000)
        if self.viewer is not None:
            self.viewer.shutdown()
        if getattr(self, "report_panel", None) is not None:
            self.report_panel.shutdown()  # its timers read the index, which closes with the window
        if getattr(self, "hanging", None) is not None:
            cells = getattr(self.hanging, "volume_cells", None)
            if cells is not None:
                cells.stop()  # volume reads of MPR and 3D viewports
            self.hanging.stop_prefetch()  # its thread reports to the controller, which goes with the window
        if getattr(self, "monitor_layouts", None) is not None:
            self.monitor_layouts.shutdown()  # the normal geometry is what is remembered, never a span
        if getattr(self, "_placement", None) is not None:
            from workstation.ui.window_placement import remember_placement

            remember_placement(self, self._placement)
        super().closeEvent(event)
