"""Hanging-protocol viewports of type MPR or 3D, shown as MPR and 3D views in the viewer's grid.

A stage's viewport ``{"type": "mpr", "plane": "coronal", ...}`` or ``{"type": "3d", ...}``
is filled by the engine like any other (a series of the study); here its cell
of the grid gets a :class:`VolumeCell` instead of the 2D viewport: it reads the
series' volume off the GUI thread (:class:`~workstation.ui.volume_loader.VolumeLoader`,
once per series while the study stays open) and then shows the view
:func:`~workstation.ui.volume_workspace.volume_viewport` builds.  MPR cells of
one volume share one crosshair.  Another stage, another layout or another study
takes the cells away and gives the 2D viewports their cells back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from workstation.model.volume import Volume
from workstation.store.cache import StudyCache
from workstation.ui.qvariant import signal_value
from workstation.volume3d.viewports import VolumeViewportSpec

if TYPE_CHECKING:  # VTK is loaded when the first cell shows a volume
    from workstation.ui.mpr_view import MprView
    from workstation.ui.volume_loader import VolumeLoader
    from workstation.ui.volume_view import VolumeView
    from workstation.volume3d.mpr_controller import MprController

log = logging.getLogger(__name__)

VOLUME_TYPES = ("mpr", "3d")


class VolumeCell(QWidget):
    """One MPR or 3D viewport of a stage: a note while the volume is read, then the view."""

    def __init__(self, spec: VolumeViewportSpec, series_uid: str, label: str = "", parent=None) -> None:
        super().__init__(parent)
        self.spec, self.series_uid = spec, series_uid
        self.view: MprView | VolumeView | None = None
        self.setStyleSheet("background-color: #000000;")
        self.note = QLabel(f"{label}\n" if label else "")
        kind = f"MPR {spec.plane}" if spec.type == "mpr" else "3D"
        self.note.setText(self.note.text() + f"{kind}: reading the volume…")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #c8c8c8;")
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(self.note)

    def show_volume(self, volume: Volume, controller: MprController | None = None,
                    mapper_setting: str = "auto") -> MprView | VolumeView:
        from workstation.ui.mpr_view import MprView
        from workstation.ui.volume_view import VolumeView
        from workstation.ui.volume_workspace import volume_viewport

        view = volume_viewport(self.spec, volume, controller=controller, mapper_setting=mapper_setting, parent=self)
        if not isinstance(view, MprView | VolumeView):  # volume_viewport makes one or the other
            raise TypeError(f"volume viewport {self.spec.type}: {type(view).__name__}")
        self.view = view
        self.note.hide()
        self.box.addWidget(view, 1)
        view.show()
        view.start()
        return view

    def fail(self, message: str) -> None:
        self.note.setText(f"{self.note.text().split(':')[0]}: {message}")

    def shutdown(self) -> None:
        """Close the view; its OpenGL window is finalized only after Qt has handled the close."""
        if self.view is not None:
            self.view.close()
            QCoreApplication.processEvents()
            self.view.shutdown()


class VolumeCells(QObject):
    """The MPR and 3D cells of the stage shown in a viewer (``controller.volume_cells``).

    Parameters
    ----------
    viewer : ViewerWidget
    open_cache : callable
        Opens a connection for the loading thread.
    mapper_setting : {"auto", "cpu", "gpu"}
    """

    def __init__(self, viewer, open_cache: Callable[[], StudyCache], mapper_setting: str = "auto") -> None:
        super().__init__(viewer)
        self.viewer = viewer
        self._open_cache = open_cache
        self._mapper = mapper_setting
        self.cells: dict[int, VolumeCell] = {}
        self.volumes: dict[str, Volume] = {}
        self._loaders: dict[str, VolumeLoader] = {}
        self._controllers: dict[str, MprController] = {}
        self._study: str | None = None
        viewer.session.subscribe(self._on_session_changed)

    def show(self, viewports: Sequence, cells: Sequence[tuple[int, int, int, int]]) -> None:
        """Put a volume cell over each MPR or 3D viewport of the stage just laid out."""
        self.clear()
        patient = self.viewer.session.patient
        study = patient.study_uid if patient is not None else None
        if study != self._study:
            self.volumes.clear()
            self._study = study
        for i, (vp, (r, c, rs, cs)) in enumerate(zip(viewports, cells, strict=False)):
            if getattr(vp, "viewport_type", "stack") not in VOLUME_TYPES or not vp.filled or not vp.series_uid:
                continue
            try:
                spec = VolumeViewportSpec.from_dict({**(vp.volume or {}), "type": vp.viewport_type})
            except ValueError as exc:
                log.warning("volume viewport not shown: %s", exc)
                continue
            cell = VolumeCell(spec, vp.series_uid, vp.label)
            self.viewer.viewports[i].hide()
            self.viewer.grid_layout.addWidget(cell, r, c, rs, cs)
            self.cells[i] = cell
            self._fill(cell)

    def _fill(self, cell: VolumeCell) -> None:
        volume = self.volumes.get(cell.series_uid)
        if volume is not None:
            from workstation.ui.mpr_view import MprView  # VTK: loaded with the first volume shown

            controller = self._controllers.get(cell.series_uid) if cell.spec.type == "mpr" else None
            view = cell.show_volume(volume, controller, self._mapper)
            if isinstance(view, MprView) and controller is None:
                self._controllers[cell.series_uid] = view.controller  # the next MPR cells share its crosshair
            return
        if cell.series_uid in self._loaders:
            return
        from workstation.ui.volume_loader import VolumeLoader

        loader = VolumeLoader(self._open_cache, cell.series_uid, 0, self)
        uid = cell.series_uid
        loader.loaded.connect(lambda volume, uid=uid: self._on_loaded(uid, signal_value(volume, Volume)))
        loader.failed.connect(lambda message, uid=uid: self._on_failed(uid, message))
        self._loaders[uid] = loader
        loader.start()

    def _on_loaded(self, series_uid: str, volume: Volume) -> None:
        self._loaders.pop(series_uid, None)
        self.volumes[series_uid] = volume
        for cell in list(self.cells.values()):
            if cell.series_uid == series_uid and cell.view is None:
                self._fill(cell)

    def _on_failed(self, series_uid: str, message: str) -> None:
        self._loaders.pop(series_uid, None)
        for cell in self.cells.values():
            if cell.series_uid == series_uid:
                cell.fail(message)

    def _on_session_changed(self, what: str) -> None:
        # Another layout or another study: the 2D viewports take their cells back.
        if what in ("grid", "studies") and self.cells:
            self.clear()

    def clear(self) -> None:
        cells, self.cells = self.cells, {}
        self._controllers.clear()
        for i, cell in cells.items():
            self.viewer.grid_layout.removeWidget(cell)
            cell.shutdown()
            cell.hide()
            cell.setParent(None)
            cell.deleteLater()
            if i < len(self.viewer.session.visible):
                self.viewer.viewports[i].show()

    def stop(self) -> None:
        """Cancel volume reads in progress (before the viewer goes)."""
        for loader in list(self._loaders.values()):
            loader.token.cancel()
            loader.wait(10_000)
        self._loaders.clear()
        self.clear()
