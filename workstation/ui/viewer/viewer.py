"""The reading viewer: series strip, toolbar, viewport grid and measurement panel.

The state is the Qt-free :class:`~workstation.session.reading.ReadingSession`;
this widget lays it out, connects the toolbar and forwards the study the
reader opens.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

import numpy as np

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QMessageBox, QSplitter, QVBoxLayout, QWidget

from workstation.imaging.annotation_layer import Annotation
from workstation.imaging.interaction import Tool, remeasure
from workstation.session.patient import OtherPatient
from workstation.session.reading import MAX_GRID, ReadingSession
from workstation.session.unsaved import ClosingCheck
from workstation.imaging.window_presets import presets_for
from workstation.store.cache import StudyCache
from workstation.clinical.seg_overlays import SegmentationOverlays
from workstation.ui.clinical.segment_panel import SegmentPanel
from workstation.ui.qvariant import action_value, signal_value
from workstation.ui.viewer.measurement_panel import MeasurementPanel
from workstation.ui.viewer.reading_work import ReadingWorkActions
from workstation.ui.viewer.series_strip import SeriesStrip
from workstation.ui.viewer.toolbar import TOOL_SHORTCUTS, ViewerToolBar
from workstation.ui.viewer.viewport_widget import ViewportWidget
from workstation.volume3d.planes import Plane

log = logging.getLogger(__name__)

LOADING_POLL_MS = 100
# While a viewport on screen still waits for the frame it shows, its reader is polled this often: the
# image appears as soon as it is read, not up to a loading poll later (opening a study, scrolling past
# what is read).
FIRST_FRAME_POLL_MS = 10
INDEX_POLL_MS = 250  # how often the open studies are checked against the index (images arriving, rejected)
BACKGROUND_FALLBACK_MS = 300


def default_grid(n_display_sets: int) -> tuple[int, int]:
    """The grid a study opens in: room for its first display sets, at most 2 x 2."""
    if n_display_sets <= 1:
        return 1, 1
    if n_display_sets == 2:
        return 1, 2
    return 2, 2


class ViewerWidget(ReadingWorkActions):
    """Lightbox's 2D reading viewer.

    Parameters
    ----------
    cache : StudyCache
        Where studies are read from (the GUI thread's connection).

    Signals
    -------
    message(str)
        Something to tell the reader in the status bar (see :class:`ReadingWorkActions`).
    first_image_painted(float)
        Seconds from :meth:`open_study` to the first painted image.
    """

    first_image_painted = Signal(float)

    def __init__(self, cache: StudyCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = cache
        self.session = ReadingSession(cache)
        self.session.defer_background = True
        self.confirm_other_patient: Callable[[str], bool] = self._ask_other_patient
        self.ask_description: Callable[[str], str | None] = self._ask_description
        # Asks what to do with pending work before studies close (see session.unsaved); tests answer it.
        self.ask_unsaved: Callable[[ClosingCheck], str] = self._ask_unsaved
        # Which node a study's presentation states and key images are sent to (None: kept locally).
        self.destination_of: Callable[[str], str | None] = lambda study_uid: None
        self.toolbar = ViewerToolBar()
        self.strip = SeriesStrip()
        self.grid_host = QWidget()
        self.grid_host.setStyleSheet("background-color: #000000;")
        self.grid_layout = QGridLayout(self.grid_host)
        self.grid_layout.setContentsMargins(0, 0, 0, 0)
        self.grid_layout.setSpacing(2)
        self.viewports: list[ViewportWidget] = []
        for i in range(MAX_GRID * MAX_GRID):
            w = ViewportWidget(self.session, i)
            w.activated.connect(self._on_activated)
            w.key_pressed.connect(self._on_key)
            w.series_dropped.connect(self._on_series_dropped)
            w.on_image_painted = self._on_image_painted
            # Cine started anywhere (a key, a protocol, the toolbar): the toolbar shows the active one's.
            w.cine_changed.connect(lambda w=w: self._show_cine_of(w))
            self.viewports.append(w)
        # Segmentations (DICOM SEG) of the open studies, drawn over the images they reference.
        self.segmentations = SegmentationOverlays()
        for w in self.viewports:
            w.segmentation_layer = self.segmentations.layer
        self.segment_panel = SegmentPanel(self.segmentations)
        self.segmentations.subscribe(self._repaint_visible)
        self.panel = MeasurementPanel(self.session.annotations)
        self.panel.show_requested.connect(self._show_annotation)
        self.panel.text_edited.connect(self._on_text_edited)
        # Series and measurements share the left column: the viewports keep the width (a 1280 px screen).
        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.addWidget(self.strip)
        self.side.addWidget(self.panel)
        self.side.addWidget(self.segment_panel)
        self.side.setStretchFactor(0, 3)
        self.side.setStretchFactor(1, 2)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.side)
        self.splitter.addWidget(self.grid_host)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.splitter, 1)
        self._connect_toolbar()
        self.strip.series_chosen.connect(lambda uid: self.show_series(uid))
        self.strip.object_chosen.connect(self.open_saved_object)
        self.session.subscribe(self._on_session_changed)
        self.session.annotations.subscribe(self._repaint_visible)
        self._loading_timer = QTimer(self)
        self._loading_timer.setInterval(LOADING_POLL_MS)
        self._loading_timer.timeout.connect(self._poll_loading)
        self._seen_loaded: dict[int, int] = {}
        self._opened_at: float | None = None
        # The open studies follow the index (a rejected image leaves the strip and the viewports).
        self._seen_index_version: int | None = None
        self._index_timer = QTimer(self)
        self._index_timer.setInterval(INDEX_POLL_MS)
        self._index_timer.timeout.connect(self.follow_index)
        self.session.annotations.subscribe(self._tell_work_notices)
        # Measurements are saved when the mouse lets go of them, not at every move of a drag.
        self.session.work.is_editing = self._editing
        for w in self.viewports:
            w.mouse_released.connect(self._on_mouse_released)
        self._layout_grid()

    # Studies ----------------------------------------------------------------------------
    def open_study(self, study_uid: str) -> bool:
        """Open a study in the viewer, replacing what was open; False when it cannot be opened."""
        self._opened_at = time.perf_counter()
        self.strip.hold()
        # Whatever happens, the readers go soon even if no image gets painted (an empty study, an error).
        QTimer.singleShot(BACKGROUND_FALLBACK_MS, self._release_background)
        try:
            display_sets = self.session.open_study(study_uid)
        except KeyError:
            self.message.emit("The study is no longer in the cache")
            return False
        self._stop_cine()
        self.segmentations.clear()
        self.segmentations.load_study(self.cache, study_uid)
        self.session.set_grid(*default_grid(len(display_sets)))
        self.session.set_active(0)
        self._layout_grid()
        self._refresh_strip()
        self._refresh_presets()
        self._poll_loading_soon()
        self._start_following_index()
        self._tell_work_notices()
        self.viewports[0].setFocus()
        if not display_sets:
            self.message.emit("The study has no images to show")
        hidden = self.session.hidden_counts.get(study_uid, 0)
        if hidden:
            self.message.emit(f"{hidden} rejected images and notes hidden (Links ▾ › Show rejected images)")
        return True

    def add_comparison(self, study_uid: str) -> bool:
        """Add a study beside the open one (a prior); another patient's only after confirmation."""
        try:
            added = self.session.add_study(study_uid)
        except KeyError:
            self.message.emit("The study is no longer in the cache")
            return False
        except OtherPatient as exc:
            if not self.confirm_other_patient(str(exc)):
                self.message.emit("Not added: the study belongs to another patient")
                return False
            added = self.session.add_study(study_uid, allow_other_patient=True)
        self._refresh_strip()
        self.segmentations.load_study(self.cache, study_uid)
        if added and len(self.session.visible) < 2:
            self.session.set_grid(1, 2)
            self._layout_grid()
        if added:
            target = 1 if len(self.session.visible) > 1 else 0
            self.session.show(added[0], target)
            self._release_background()
            self._poll_loading_soon()
        return True

    def _ask_other_patient(self, text: str) -> bool:
        answer = QMessageBox.warning(
            self, "Another patient",
            f"This study belongs to another patient:\n\n{text}\n\n"
            "Show another patient's images beside the current patient's?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def close_session(self) -> None:
        """Close the open studies (their work is saved as made; see :meth:`confirm_leave` for asking first)."""
        self._loading_timer.stop()
        self._index_timer.stop()
        self._stop_cine()
        self.session.close()
        self.segmentations.clear()
        self._refresh_strip()

    # Following the index -------------------------------------------------------------------
    def _start_following_index(self) -> None:
        try:
            self._seen_index_version = self.cache.data_version()
        except Exception:  # noqa: BLE001 - a busy index: the next poll looks again
            self._seen_index_version = None
        self._index_timer.start()

    def follow_index(self) -> bool:
        """When the index changed, bring the open studies in line (strip, viewports); True if they changed."""
        if not self.session.studies:
            self._index_timer.stop()
            return False
        try:
            version = self.cache.data_version()
            if version == self._seen_index_version:
                return False
            self._seen_index_version = version
            changed = self.session.follow_index()
        except sqlite3.Error as exc:
            log.warning("viewer: cannot follow the index (%s)", type(exc).__name__)
            return False
        if changed:
            self._release_background()
            self._poll_loading_soon()
            self._sync_key_image_action()
        return bool(changed)

    def shutdown(self) -> None:
        """Stop every thread (before the application quits)."""
        self.close_session()
        self.strip.stop()

    def show_series(self, series_uid: str, viewport: int | None = None) -> None:
        ds = self.session.display_set(series_uid)
        if ds is None:
            return
        index = self.session.active if viewport is None else viewport
        self.session.show(ds, index)
        self._release_background()
        self.viewports[index].model.view.resize(self.viewports[index].width(), self.viewports[index].height())
        self._refresh_presets()
        self._poll_loading_soon()

    # Layout -----------------------------------------------------------------------------
    def set_grid(self, rows: int, cols: int) -> None:
        self.session.set_grid(rows, cols)
        self._release_background()
        self._layout_grid()
        self._poll_loading_soon()

    def _layout_grid(self) -> None:
        rows, cols = self.session.grid
        for w in self.viewports:
            self.grid_layout.removeWidget(w)
            w.hide()
        for i, w in enumerate(self.viewports[: rows * cols]):
            self.grid_layout.addWidget(w, i // cols, i % cols)
            w.show()
        for r in range(MAX_GRID):
            self.grid_layout.setRowStretch(r, 1 if r < rows else 0)
        for c in range(MAX_GRID):
            self.grid_layout.setColumnStretch(c, 1 if c < cols else 0)
        self.toolbar.set_grid_label(rows, cols)
        self._repaint_visible()

    def _on_session_changed(self, what: str) -> None:
        if what == "key_images":
            self._sync_key_image_action()
        elif what in ("saved", "studies"):
            self._refresh_strip()
        self._repaint_visible()

    def _repaint_visible(self) -> None:
        for w in self.viewports[: len(self.session.visible)]:
            w.update()

    # Toolbar ----------------------------------------------------------------------------
    def _connect_toolbar(self) -> None:
        tb = self.toolbar
        tb.grid_chooser.chosen.connect(self.set_grid)
        tb.tool_group.triggered.connect(lambda a: self.set_tool(action_value(a, Tool)))
        for action, key in ((tb.fit_action, "F"), (tb.one_to_one_action, "N"), (tb.rotate_action, "R"),
                            (tb.flip_h_action, "H"), (tb.flip_v_action, "V"), (tb.invert_action, "I")):
            action.triggered.connect(lambda _=False, key=key: self._send_key(key))
        tb.reset_action.triggered.connect(self._reset_view)
        tb.cine_action.triggered.connect(lambda _=False: self.toggle_cine())
        tb.fps_box.valueChanged.connect(self._on_fps)
        tb.link_scroll_action.toggled.connect(self.set_link_scroll)
        tb.link_zoom_action.toggled.connect(lambda on: setattr(self.session.links, "zoom_pan", on))
        tb.link_window_action.toggled.connect(lambda on: setattr(self.session.links, "window", on))
        tb.reference_lines_action.toggled.connect(self._set_reference_lines)
        tb.show_rejected_action.toggled.connect(self.set_show_rejected)
        tb.key_image_action.triggered.connect(lambda _=False: self.toggle_key_image())
        tb.save_state_action.triggered.connect(lambda _=False: self.save_presentation_state())
        tb.save_key_images_action.triggered.connect(lambda _=False: self.save_key_images())
        tb.register_prior_action.triggered.connect(lambda _=False: self.register_prior())
        tb.use_registration_action.toggled.connect(self.set_use_registration)
        for kind, action in tb.filter_actions.items():
            action.triggered.connect(lambda _=False, kind=kind: self.set_filter(kind))

    def register_prior(self):
        """Register the prior shown beside the active viewport to the active one's series, in the background."""
        from workstation.ui.clinical.prior_registration import PriorRegistrar, pick_pair

        active = self.active_widget.model
        pair = pick_pair([active, *[vp for vp in self.session.visible if vp is not active]])
        if pair is None:
            self.message.emit("Show a prior (another frame of reference) beside the current series first")
            return None
        current, prior = pair
        if current.display_set is None or prior.display_set is None:  # pick_pair chose two showing a stack
            return None
        cache = self.cache
        registrar = PriorRegistrar(lambda: StudyCache(cache.index_file, cache.cache_dir), self)
        registrar.done.connect(self._on_registered)
        registrar.failed.connect(self.message)
        self.message.emit("Registering the prior…")
        registrar.start(current.display_set.series_uid, prior.display_set.series_uid)
        self.registrar = registrar
        return registrar

    def _on_registered(self, current_frame: str, prior_frame: str, matrix: object, text: str) -> None:
        self.session.links.registrations.set(current_frame, prior_frame, signal_value(matrix, np.ndarray))
        if self.session.links.scroll:
            self.set_link_scroll(True)
        self.message.emit(text)

    def set_use_registration(self, on: bool) -> None:
        """The reader switches the prior registration on or off for linking and the 3D cursor."""
        self.session.links.registrations.enabled = on
        if self.session.links.scroll:
            self.set_link_scroll(True)

    def set_filter(self, kind: str, strength: float = 1.0) -> None:
        """Show the active viewport's image through a filter (see workstation.clinical.filters.KINDS)."""
        from workstation.clinical.filters import FilterSpec

        self.active_widget.model.set_spatial_filter(FilterSpec(kind, strength))
        self.toolbar.filter_actions[kind].setChecked(True)
        self.active_widget.update()

    def set_tool(self, tool: Tool) -> None:
        """Give the left button ``tool`` in every viewport (a toolbar action's data is read back as a Tool)."""
        for w in self.viewports:
            w.interaction.set_tool(tool)
        action = self.toolbar.tool_actions[tool]
        if not action.isChecked():
            action.setChecked(True)
        self._repaint_visible()

    @property
    def active_widget(self) -> ViewportWidget:
        return self.viewports[self.session.active]

    def _send_key(self, name: str) -> None:
        self.active_widget.interaction.key(name)
        self.active_widget.update()

    def _reset_view(self) -> None:
        vp = self.active_widget.model
        vp.view.reset()
        vp.changed("view")

    def show_external_planes(self, source: str, frame_of_reference_uid: str, planes: Sequence[Plane] | None) -> None:
        """Draw planes of another view (objects with ``center`` and ``normal``) as reference lines."""
        self.session.set_external_planes(source, frame_of_reference_uid,
                                         [(p.center, p.normal) for p in planes or []])
        self._repaint_visible()

    def set_show_rejected(self, on: bool) -> None:
        """Show (or hide again) instances withdrawn by rejection notes, re-opening the open studies."""
        if not self.session.studies:
            self.session.show_rejected = on
            return
        self._stop_cine()
        display_sets = self.session.set_show_rejected(on)  # the reader's work is carried over
        self.session.set_grid(*default_grid(len(display_sets)))
        self.session.set_active(0)
        self._layout_grid()
        self._release_background()
        self._refresh_strip()
        self._refresh_presets()
        self._poll_loading_soon()
        self._start_following_index()
        if self.toolbar.show_rejected_action.isChecked() != on:
            self.toolbar.show_rejected_action.setChecked(on)

    def _set_reference_lines(self, on: bool) -> None:
        self.session.show_reference_lines = on
        self._repaint_visible()

    def set_link_scroll(self, on: bool) -> None:
        self.session.links.set_scroll(on, self.session.active_viewport)
        if self.toolbar.link_scroll_action.isChecked() != on:
            self.toolbar.link_scroll_action.setChecked(on)

    def _refresh_presets(self) -> None:
        menu = self.toolbar.presets_menu
        menu.clear()
        vp = self.active_widget.model
        modality = vp.stack.series.modality if vp.stack is not None else ""
        for k, preset in enumerate(presets_for(modality), start=1):
            a = menu.addAction(f"{k}  {preset.describe()}")
            a.triggered.connect(lambda _=False, k=k: self._send_key(str(k)))
        p = vp.pipeline()
        if p is not None and p.windows:
            menu.addSeparator()
            for k, w in enumerate(p.windows):
                a = menu.addAction(f"Image: {w.explanation or w.describe()}")
                a.triggered.connect(lambda _=False, k=k: self._use_image_voi(k))
        menu.addSeparator()
        menu.addAction("0  Image default").triggered.connect(lambda: self._send_key("0"))

    def _use_image_voi(self, index: int) -> None:
        vp = self.active_widget.model
        vp.view.use_image_voi(index)
        vp.changed("view")

    # Cine -------------------------------------------------------------------------------
    def toggle_cine(self) -> None:
        self.active_widget.toggle_cine()  # the toolbar follows through cine_changed

    def _on_fps(self, fps: float) -> None:
        self.active_widget.set_cine_rate(fps)

    def _stop_cine(self) -> None:
        for w in self.viewports:
            if w.model.cine.playing:
                w.toggle_cine()
        self.toolbar.cine_action.setChecked(False)
        self.toolbar.cine_action.setText("Cine ▶")

    # Events from viewports --------------------------------------------------------------
    def _on_activated(self, index: int) -> None:
        if index != self.session.active:
            self.session.set_active(index)
            self._refresh_presets()
            self.toolbar.show_cine(self.active_widget.model.cine)
            spec = self.active_widget.model.spatial_filter
            self.toolbar.filter_actions[spec.kind if spec is not None else "none"].setChecked(True)
        self._sync_key_image_action()

    def _on_key(self, name: str, _modifiers: object) -> None:
        if name == "K":
            self.toggle_key_image()
        elif name == "Space":
            self.toggle_cine()
        else:
            tool = next((t for t, key in TOOL_SHORTCUTS.items() if key == name), None)
            if tool is not None:
                self.set_tool(tool)

    def _on_series_dropped(self, index: int, series_uid: str) -> None:
        self.session.set_active(index)
        self.show_series(series_uid, index)

    def _show_cine_of(self, w: ViewportWidget) -> None:
        if w is self.active_widget:
            self.toolbar.show_cine(w.model.cine)

    def _show_annotation(self, payload: object) -> None:
        a = signal_value(payload, Annotation)
        for w in self.viewports[: len(self.session.visible)]:
            stack = w.model.stack
            if stack is None:
                continue
            i = stack.index_of(*a.frame_key)
            if i is not None:
                w.model.set_index(i)
                w.update()
                return

    def _on_text_edited(self, payload: object) -> None:
        a = signal_value(payload, Annotation)
        for w in self.viewports[: len(self.session.visible)]:
            remeasure(w.model, a)
        self.session.annotations.changed()

    # Loading ----------------------------------------------------------------------------
    def _poll_loading_soon(self) -> None:
        """Follow the readers, at first quickly (see FIRST_FRAME_POLL_MS)."""
        self._loading_timer.setInterval(FIRST_FRAME_POLL_MS)
        self._loading_timer.start()

    def _poll_loading(self) -> None:
        """Repaint viewports whose stacks read more frames; stop polling once all are read."""
        busy = waiting = False
        for w in self.viewports[: len(self.session.visible)]:
            pixels = w.model.pixels
            if pixels is None:
                continue
            count = pixels.count_loaded
            if count != self._seen_loaded.get(w.index):
                self._seen_loaded[w.index] = count
                w.update()
            busy = busy or not pixels.done
            waiting = waiting or (len(w.model) > 0 and not w.model.is_loaded() and w.model.error() is None)
        if not busy:
            self._loading_timer.stop()
        else:
            interval = FIRST_FRAME_POLL_MS if waiting else LOADING_POLL_MS
            if self._loading_timer.interval() != interval:
                self._loading_timer.setInterval(interval)

    def _on_image_painted(self, index: int) -> None:
        if self._opened_at is not None and index == 0:
            elapsed, self._opened_at = time.perf_counter() - self._opened_at, None
            self.first_image_painted.emit(elapsed)
            self._release_background()

    def _release_background(self) -> None:
        self.session.resume_background()
        self.strip.release()

    def _refresh_strip(self) -> None:
        other = {s.study_uid for s in self.session.studies[1:]
                 if self.session.patient is not None and not _same(self.session.patient, s)}
        self.strip.set_content(self.session.studies, self.session.display_sets, other,
                               self.session.objects_by_series())
        labels: dict[tuple[str, int], str] = {}
        for ds in self.session.display_sets:
            number = ds.stack.series.series_number
            for i, f in enumerate(ds.stack.frames):
                # A frame also shown in a key-image display set keeps its own series' name.
                labels.setdefault(f.key, f"Se {number if number is not None else '?'} Im {i + 1}")
        self.panel.set_frame_labels(labels)


def _same(a, b) -> bool:
    from workstation.session.patient import same_patient

    return same_patient(a, b)
