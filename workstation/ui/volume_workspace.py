"""MPR and 3D of one series: three linked MPR views and the 3D view in a 2 x 2 grid, with a series chooser.

Opened from the main window's View menu for the study selected in the study
list; it reads the volume off the GUI thread (:class:`~workstation.ui.volume_loader.VolumeLoader`).
A hanging protocol can later build the same views from :class:`MprView` and
:class:`VolumeView` with a volume it loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QVBoxLayout, QWidget

from workstation.model.volume import Volume
from workstation.store.cache import StudyCache
from workstation.store.queries import StudyRow
from workstation.ui.mpr_view import MprView
from workstation.ui.qvariant import combo_value, signal_value
from workstation.ui.study_format import format_da, format_person_name
from workstation.ui.turns import next_turn
from workstation.ui.volume_loader import VolumeLoader
from workstation.ui.volume_view import VolumeView
from workstation.volume3d.offscreen import default_window

log = logging.getLogger(__name__)


class VolumeWorkspace(QWidget):
    """Series chooser, progress, and (once loaded) the MPR views and the 3D view.

    Parameters
    ----------
    cache : StudyCache
        The GUI thread's connection (for the series list).
    open_cache : callable
        Opens a connection for the loading thread.
    study_uid : str
    mapper_setting : {"auto", "cpu", "gpu"}

    Signals
    -------
    volume_ready(object)
        The loaded :class:`Volume`, once its views are set going (they come up over the next turns).
    planes_changed(str, object)
        Frame of Reference UID and the three MPR planes, whenever they move
        (2D viewports of the same frame of reference draw them as reference lines).
    """

    volume_ready = Signal(object)
    planes_changed = Signal(str, object)

    def __init__(self, cache: StudyCache, open_cache: Callable[[], StudyCache], study_uid: str,
                 mapper_setting: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(WINDOW_TITLE)
        self._open_cache = open_cache
        self._study_uid = study_uid
        self.segment_actors: dict | None = None  # surfaces of the study's SEG segments on the 3D view
        self._mapper_setting = mapper_setting
        self.loader: VolumeLoader | None = None
        self.mpr: MprView | None = None
        self.view3d: VolumeView | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        # Whose images these are, above every MPR and 3D view (the window title carries no patient data).
        self.patient_label = QLabel(patient_line(cache.study(study_uid)))
        self.patient_label.setObjectName("volumePatient")
        self.patient_label.setStyleSheet("font-weight: bold;")
        layout.addWidget(self.patient_label)
        bar = QHBoxLayout()
        self.series_box = QComboBox()
        for s in cache.series(study_uid):
            if s.num_instances > 1 or s.modality in ("CT", "MR", "PT", "NM"):
                label = f"{s.series_number or ''} {s.modality} {s.description} ({s.num_instances})".strip()
                self.series_box.addItem(label, s.series_uid)
        self.phase_spin = QSpinBox()
        self.phase_spin.setRange(1, 999)
        self.phase_spin.setToolTip("Temporal position of a 4D series")
        self.load_button = QPushButton("Show MPR and 3D")
        self.load_button.clicked.connect(
            lambda _checked=False: self.load(combo_value(self.series_box, str), self.phase_spin.value() - 1))
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.message = QLabel("Choose a series")
        for w in (QLabel("Series"), self.series_box, QLabel("Phase"), self.phase_spin, self.load_button, self.progress,
                  self.message):
            bar.addWidget(w)
        bar.addStretch(1)
        # Closing takes the MPR crosshair off the 2D viewports too (also Ctrl+W, or the title bar).
        self.close_button = QPushButton("Close MPR")
        self.close_button.setShortcut(QKeySequence("Ctrl+W"))
        self.close_button.clicked.connect(lambda _checked=False: self.close())
        bar.addWidget(self.close_button)
        layout.addLayout(bar)
        self.body = QVBoxLayout()
        layout.addLayout(self.body, 1)

    def load(self, series_uid: str | None, phase: int = 0) -> None:
        """Read the series' main stack (temporal position ``phase`` of a 4D one) in the background, then show it."""
        if not series_uid or (self.loader is not None and self.loader.isRunning()):
            return
        self.load_button.setEnabled(False)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.message.setText("Reading the volume…")
        self.loader = VolumeLoader(self._open_cache, series_uid, phase, self)
        self.loader.progress.connect(self._on_progress)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self.loader.start()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _on_failed(self, message: str) -> None:
        self.progress.setVisible(False)
        self.load_button.setEnabled(True)
        self.message.setText(message)

    def _follow_coronal(self, _frame_uid: str, planes: object) -> None:
        if self.view3d is not None:
            self.view3d.follow_plane(signal_value(planes, list)[1])  # (axial, coronal, sagittal)

    def _on_loaded(self, payload: object) -> None:
        self.progress.setVisible(False)
        self.load_button.setEnabled(True)
        self.show_volume(signal_value(payload, Volume))

    def show_volume(self, volume: Volume) -> None:
        """Build the MPR and 3D views over ``volume`` (replacing any shown before)."""
        self.close_views()
        z, y, x = volume.shape
        notes = "; ".join(volume.notes)
        sx, sy, sz = volume.spacing
        self.message.setText(f"{x} x {y} x {z}, {sx:.2f} x {sy:.2f} x {sz:.2f} mm" + (f" — {notes}" if notes else ""))
        self.mpr = MprView(volume, default_window(volume), self)
        # The 3D view is made in a turn of its own (its controls and VTK widget: tens of milliseconds);
        # a black placeholder holds its cell so that the MPR views keep their size when it comes.
        placeholder = QWidget(self.mpr)
        placeholder.setStyleSheet("background-color: #000000;")
        self.mpr.grid.addWidget(placeholder, 1, 1)
        # The 3D cut plane follows the coronal MPR plane (crosshair centre and rotation).
        self.mpr.planes_changed.connect(self._follow_coronal)
        self.mpr.planes_changed.connect(self.planes_changed)
        self.segment_actors = None
        self.body.addWidget(self.mpr, 1)
        self.mpr.show()
        # Each view comes up in steps of its own event-loop turns; making the MPR widget was this turn's share.
        mpr = self.mpr

        def start_mpr() -> None:
            if shiboken6.isValid(mpr) and self.mpr is mpr:  # not replaced, closed or deleted meanwhile
                mpr.start()

        def make_3d() -> None:
            if not shiboken6.isValid(mpr) or self.mpr is not mpr:
                return
            view3d = self.view3d = VolumeView(volume, self._mapper_setting, mpr)
            view3d.frame_shown.connect(self._add_segment_surfaces)
            mpr.grid.replaceWidget(placeholder, view3d)
            placeholder.hide()
            placeholder.deleteLater()
            view3d.show()
            next_turn(lambda: start_3d(view3d))

        def start_3d(view3d: VolumeView) -> None:
            if shiboken6.isValid(view3d) and self.view3d is view3d:
                view3d.start()
                self.volume_ready.emit(volume)  # the views are set going (a small volume's 3D is drawn)

        next_turn(start_mpr)
        next_turn(make_3d)

    def _add_segment_surfaces(self, _kind: str) -> None:
        """The study's segmentations of this series as coloured surfaces in 3D (once per volume)."""
        view = self.view3d
        if view is None or view.scene is None or self.segment_actors is not None:
            return
        from workstation.clinical.seg_overlays import SegmentationOverlays
        from workstation.volume3d.seg_surface import add_segment_surfaces

        overlays = SegmentationOverlays()
        cache = self._open_cache()
        try:
            overlays.load_study(cache, self._study_uid)
        finally:
            cache.close()
        self.segment_actors = {}
        for seg in overlays.segmentations:
            for number, actor in add_segment_surfaces(view.scene, seg, view.volume).items():
                self.segment_actors[(str(seg.dataset.SOPInstanceUID), number)] = actor
        if self.segment_actors:
            self.message.setText(self.message.text() + f" — {len(self.segment_actors)} segment surface(s)")
            view.render_now()

    def close_views(self) -> None:
        """Close the views; their OpenGL windows are finalized only after Qt has handled the close."""
        views = [w for w in (self.view3d, self.mpr) if w is not None]
        for w in views:
            w.close()
        QCoreApplication.processEvents()
        for w in views:
            w.shutdown()
            w.setParent(None)
            w.deleteLater()
        self.mpr = self.view3d = None
        # Last: an MPR step still queued when the window closed ran in processEvents above and
        # may have sent its planes again; nothing sends any after shutdown.
        self.planes_changed.emit("", [])

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # Qt adds the application's name to every window's title on the screen ("MPR and 3D —
        # Lightbox"): a title given with the name already in it would show it twice.
        if event.type() == QEvent.Type.WindowTitleChange:
            title = window_title(self.windowTitle(), QGuiApplication.applicationDisplayName())
            if title != self.windowTitle():
                self.setWindowTitle(title)  # changes it once more, to a title this leaves alone
        super().changeEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # Closing MPR takes its crosshair off the 2D viewports and frees the OpenGL windows.
        self.stop()
        self.close_views()
        super().closeEvent(event)

    def stop(self) -> None:
        """Cancel a running load and wait for it (bounded)."""
        if self.loader is not None and self.loader.isRunning():
            self.loader.token.cancel()
            self.loader.wait(10_000)


#: The MPR and 3D window's title: no patient data (the patient line above the views says whose images they are).
WINDOW_TITLE = "MPR and 3D"


def window_title(title: str, app_name: str) -> str:
    """``title`` without ``app_name`` at its start or end (Qt adds the application's name to it on the screen)."""
    if not app_name:
        return title
    for separator in (" — ", " - ", ": "):
        title = title.removeprefix(app_name + separator).removesuffix(separator + app_name)
    return title.strip() or WINDOW_TITLE


def patient_line(row: StudyRow | None) -> str:
    """Name, ID, birth date and sex of the study's patient, and the study's date and description."""
    if row is None:
        return "Patient unknown (the study is not in the cache)"
    parts = [format_person_name(row.patient_name) or "(no name)", f"ID {row.patient_id or '-'}"]
    if row.birth_date:
        parts.append(f"born {format_da(row.birth_date)}")
    if row.sex:
        parts.append(row.sex)
    study = " ".join(x for x in (format_da(row.study_date), row.description) if x)
    if study:
        parts.append(f"study {study}")
    return "  ·  ".join(parts)


def volume_viewport(spec, volume: Volume, *, controller=None, mapper_setting: str = "auto", parent=None) -> QWidget:
    """The widget a hanging protocol's MPR or 3D viewport asks for (call its ``start()`` once shown).

    Parameters
    ----------
    spec : workstation.volume3d.viewports.VolumeViewportSpec
    volume : Volume
    controller : MprController, optional
        Pass the same controller to every MPR viewport of one volume to link them.
    """
    if spec.type == "mpr":
        view = MprView(volume, default_window(volume), parent, planes=(spec.plane,), controller=controller)
        if controller is not None:
            return view  # the slab belongs to the shared controller: the first viewport set it
        view.controller.slab_mm, view.controller.slab_mode = spec.slab_mm, spec.slab_mode
        for widget, set_value in ((view.slab_spin, lambda: view.slab_spin.setValue(spec.slab_mm)),
                                  (view.slab_mode_box,
                                   lambda: view.slab_mode_box.setCurrentText(spec.slab_mode.upper()))):
            widget.blockSignals(True)
            set_value()
            widget.blockSignals(False)
        return view
    view3d = VolumeView(volume, mapper_setting, parent)
    if spec.preset:
        view3d.preset_box.setCurrentText(spec.preset)
    view3d.initial_view = (spec.azimuth, spec.elevation)
    return view3d
