"""The main window's other windows: MPR and 3D, PET/CT fusion, curved MPR, each of a study or the active series.

The base class of :class:`~workstation.ui.main_window.MainWindow`: it uses the window's
``viewer``, ``browser``, status bar and study cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from workstation.store.cache import StudyCache
from workstation.ui.qvariant import combo_value, signal_value

if TYPE_CHECKING:
    from workstation.ui.study_browser import StudyBrowser
    from workstation.ui.viewer.viewer import ViewerWidget

WINDOW_TITLE = "Lightbox"


class ToolWindows(QMainWindow):
    """Opens the study's or the active series' windows beside the main window (a base of MainWindow)."""

    viewer: ViewerWidget | None
    browser: StudyBrowser
    _cache: StudyCache

    def open_volume_here(self):
        """MPR and 3D of the active viewport's series, loaded at once; with no study open, of the list's study."""
        viewer = self.viewer
        if viewer is not None and viewer.session.studies:
            ds = viewer.active_widget.model.display_set
            if ds is not None and not ds.key:
                return self.open_volume_workspace(ds.study.study_uid, ds.series_uid)
            self.statusBar().showMessage("Show a series in the active viewport first", 5000)
            return None
        return self.open_volume_workspace()

    def open_petct_fusion(self, study_uid: str | None = None):
        """PET/CT fusion of a study (default: the active viewport's, else the list's), read in the background."""
        from workstation.ui.clinical.fusion_window import FusionLoader

        if study_uid is None and self.viewer is not None and self.viewer.session.studies:
            ds = self.viewer.active_widget.model.display_set
            study_uid = ds.study.study_uid if ds is not None else None
        uid = study_uid or self.browser.selected_study_uid()
        if uid is None:
            self.statusBar().showMessage("Select a PET/CT study first", 5000)
            return None
        cache = self._cache
        loader = FusionLoader(lambda: StudyCache(cache.index_file, cache.cache_dir), uid, self)
        loader.failed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        loader.ready.connect(self._show_fusion)
        self.statusBar().showMessage("Reading the PET and the CT…", 5000)
        loader.start()
        self.petct_loaders = [*getattr(self, "petct_loaders", []), loader]
        return loader

    def open_curved_mpr(self, series_uid: str | None = None):
        """Curved MPR of a series (default: the active viewport's), its volume read in the background."""
        from workstation.ui.volume_loader import VolumeLoader

        if series_uid is None and self.viewer is not None and self.viewer.session.studies:
            ds = self.viewer.active_widget.model.display_set
            series_uid = ds.series_uid if ds is not None and not ds.key else None
        if series_uid is None:
            self.statusBar().showMessage("Show a series in the active viewport first", 5000)
            return None
        cache = self._cache
        loader = VolumeLoader(lambda: StudyCache(cache.index_file, cache.cache_dir), series_uid, parent=self)
        loader.failed.connect(lambda text: self.statusBar().showMessage(text, 8000))
        loader.loaded.connect(self._show_curved_mpr)
        loader.start()
        self.cpr_loaders = [*getattr(self, "cpr_loaders", []), loader]
        return loader

    def _show_curved_mpr(self, payload: object) -> None:
        from workstation.model.volume import Volume
        from workstation.ui.clinical.cpr_window import CprWindow

        window = CprWindow(signal_value(payload, Volume))
        window.setWindowFlag(Qt.WindowType.Window, True)
        window.setWindowTitle("Curved MPR")  # Qt adds " — Lightbox" (the display name)
        self._fit_on_screen(window, 1300, 850)
        self.cpr_windows = [w for w in getattr(self, "cpr_windows", []) if w.isVisible()] + [window]
        window.show()

    def _fit_on_screen(self, window: QWidget, width: int, height: int) -> None:
        """As large as asked, never larger than the screen the main window is on, centred on it."""
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        window.resize(min(width, int(screen.width() * 0.96)), min(height, int(screen.height() * 0.94)))
        window.move(screen.x() + (screen.width() - window.width()) // 2,
                    screen.y() + (screen.height() - window.height()) // 2)

    def _show_fusion(self, payload: object) -> None:
        from workstation.ui.clinical.fusion_window import FusionWindow

        window = signal_value(payload, FusionWindow)
        window.setWindowTitle("PET/CT fusion")
        self._fit_on_screen(window, 1200, 900)
        self.fusion_windows = [w for w in getattr(self, "fusion_windows", []) if w.isVisible()] + [window]
        window.show()

    def open_volume_workspace(self, study_uid: str | None = None, series_uid: str | None = None):
        """Open MPR and 3D of a study (default: the one selected in the list) in a window of its own.

        With ``series_uid`` that series is chosen and its volume read at once.

        ``volume3d_settings`` (``Settings.extra["volume3d"]``, set by the GUI's start-up) may name the
        volume mapper: {"mapper": "auto" | "cpu" | "gpu"}.
        """
        from workstation.ui.volume_workspace import VolumeWorkspace

        uid = study_uid or self.browser.selected_study_uid()
        if uid is None:
            self.statusBar().showMessage("Select a study in the list first", 5000)
            return None
        mapper = str(getattr(self, "volume3d_settings", {}).get("mapper", "auto"))
        cache = self._cache
        workspace = VolumeWorkspace(cache, lambda: StudyCache(cache.index_file, cache.cache_dir), uid, mapper)
        workspace.setWindowFlag(Qt.WindowType.Window, True)
        workspace.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        workspace.setWindowTitle("MPR and 3D")
        # As large as it needs on a big monitor, never larger than the screen the main window is on.
        screen = (self.screen() or QApplication.primaryScreen()).availableGeometry()
        workspace.resize(min(1400, int(screen.width() * 0.96)), min(950, int(screen.height() * 0.94)))
        workspace.move(screen.x() + (screen.width() - workspace.width()) // 2,
                       screen.y() + (screen.height() - workspace.height()) // 2)
        viewer = self.viewer
        if viewer is not None:  # attached once, never replaced
            # The MPR planes show as reference lines in 2D viewports of the same frame of reference
            # (the workspace sends no planes once closed: the lines go).
            workspace.planes_changed.connect(
                lambda frame_uid, planes: viewer.show_external_planes("mpr", frame_uid, signal_value(planes, list)))
        self.volume_workspaces = [w for w in getattr(self, "volume_workspaces", []) if w.isVisible()] + [workspace]
        workspace.show()
        if series_uid is None:
            # From the list: the study's largest stack, read at once (another is one choice away).
            counts = {s.series_uid: s.num_instances for s in cache.series(uid)}
            offered = [uid for i in range(workspace.series_box.count())
                       if (uid := combo_value(workspace.series_box, str, i)) is not None]
            series_uid = max(offered, key=lambda u: counts.get(u, 0), default=None)
        if series_uid is not None:
            index = workspace.series_box.findData(series_uid)
            if index >= 0:
                workspace.series_box.setCurrentIndex(index)
                workspace.load(series_uid)
            else:
                workspace.message.setText("This series cannot be shown as a volume")
        return workspace
