"""The QC menu of the main window and the QC dock: what technologists reach QC through.

:func:`attach_qc` is called once by the GUI's start-up (the composition root);
it adds a "QC" menu whose actions work on the study selected in the list, and a
dock holding the :class:`~workstation.ui.qc_panel.QcPanel`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow

from workstation import config as config_mod
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.window_fit import fit_dock
from workstation.ui.qc_panel import QcPanel

if TYPE_CHECKING:  # the window imports this module
    from workstation.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class QcMenu:
    """The QC menu's actions and the dock they show (kept on the window as ``window.qc``)."""

    def __init__(self, window: QMainWindow, cache: StudyCache, home: Home | None) -> None:
        self.window = window
        self.home = home
        self.panel = QcPanel(cache, self.settings, home)
        self.dock = QDockWidget("QC", window)
        self.dock.setObjectName("qcDock")
        self.dock.setWidget(self.panel)
        fit_dock(self.dock)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        report = window.findChild(QDockWidget, "reportDock")
        if report is not None:
            window.tabifyDockWidget(report, self.dock)
        self.dock.hide()
        self.panel.study_changed.connect(self._study_changed)

        menu = window.menuBar().addMenu("&QC")
        self.menu = menu
        self.checklist_action = self._action("QC &checklist of the selected study", "Ctrl+Shift+Q", self.show_checklist)
        self.tags_action = self._action("&Tag browser…", "Ctrl+Shift+T", lambda: self._tool("open_tag_browser"))
        self.correct_action = self._action("C&orrect study…", None, lambda: self._tool("open_correction"))
        self.reject_action = self._action("&Reject images…", None, lambda: self._tool("open_reject"))
        self.series_action = self._action("&Split or merge series…", None, lambda: self._tool("open_series"))
        for a in (self.checklist_action, self.tags_action):
            menu.addAction(a)
        menu.addSeparator()
        for a in (self.correct_action, self.reject_action, self.series_action):
            menu.addAction(a)

    def _action(self, text: str, shortcut: str | None, slot) -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def settings(self) -> config_mod.Settings:
        if self.home is None:
            return config_mod.Settings()
        try:
            return config_mod.load(self.home.config_file)
        except config_mod.ConfigError as exc:
            log.warning("settings unreadable, QC uses defaults: %s", exc)
            return config_mod.Settings()

    def selected_study(self) -> str | None:
        browser = getattr(self.window, "browser", None)
        uid = browser.selected_study_uid() if browser is not None else None
        return uid or self.panel.study_uid

    def show_checklist(self) -> bool:
        """Show the QC dock for the selected study (False when no study is selected)."""
        uid = self.selected_study()
        if uid is None:
            self.window.statusBar().showMessage("Select a study in the list first", 5000)
            return False
        self.panel.reload_nodes()
        self.dock.show()
        self.dock.raise_()
        if uid != self.panel.study_uid:
            self.panel.set_study(uid)
        return True

    def _tool(self, opener: str):
        if not self.show_checklist():
            return None
        return getattr(self.panel, opener)()

    def _study_changed(self, study_uid: str) -> None:
        browser = getattr(self.window, "browser", None)
        if browser is not None:
            browser.refresh()
        self.window.statusBar().showMessage("QC stored new objects in the study", 5000)


def attach_qc(window: MainWindow, cache: StudyCache, home: Home | None) -> QcMenu:
    """Add the QC menu and dock to ``window`` (kept as ``window.qc``)."""
    qc = QcMenu(window, cache, home)
    window.qc = qc
    return qc
