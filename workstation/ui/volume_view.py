"""The 3D view: volume rendering with presets, MIP/MinIP, isosurface, clipping, snapshot; logic in VolumeScene."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shiboken6
from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workstation.ui.flow_layout import FlowLayout
from workstation.ui.turns import next_turn
from workstation.ui.volume_vtk import first_frame_off_thread, first_frames, make_vtk_widget, set_up_here

from workstation.model.volume import Volume
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import optional, signal_value
from workstation.volume3d.prepare3d import (
    FrameRequest,
    FullFrames,
    Prepared,
    camera_of,
    prepare_full,
    preview_volume,
    render_preview,
    yield_to_gui,
)
from workstation.volume3d.presets import VrPreset, default_preset, load_preset, preset_names
from workstation.volume3d.rendering import (
    capture,
    choose_mapper,
    renderer_string,
    worker_window_maker,
    write_png,
)
from workstation.volume3d.scene3d import VolumeScene, warm_up_renderer

BLENDS = ("composite", "mip", "minip")


class VolumeView(QWidget):
    """The 3D view and its controls.

    Parameters
    ----------
    volume : Volume
    mapper_setting : {"auto", "cpu", "gpu"}
        From ``Settings.extra["volume3d"]["mapper"]``; "auto" decides by the OpenGL renderer.

    Signals
    -------
    frame_shown(str)
        "preview" once the first (quick) frame is drawn, "full" once the full volume is.
    full_frame_shown()
        A change (control, transfer functions, end of a rotation) drawn at interactive
        quality at once now shows in full quality, rendered by a worker.

    After loading, a change is drawn at once with coarse rays (as while rotating) and its
    full-quality frame is ray cast in the background, in a window of the view's kind with a
    ray caster of its own (:class:`~workstation.volume3d.prepare3d.FullFrames`): one frame at
    a time, only the latest change's (those asked meanwhile are dropped), shown only if the
    view still shows that state.  Where no worker may render (GPU ray caster, windows that
    cannot be shared) or the scene holds surfaces the worker does not draw, the change is
    rendered in full quality here, as before.  ``refine_in_background`` False turns this off.
    Once the full volume is shown, the worker renders it once more so that its ray caster has
    its gradients before the first change (``full_frame_shown`` then comes once by itself).
    """

    frame_shown = Signal(str)
    full_frame_shown = Signal()

    def __init__(self, volume: Volume, mapper_setting: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.volume = volume
        self.vtk_widget = make_vtk_widget(self)
        window = self.vtk_widget.GetRenderWindow()
        self._mapper_setting = mapper_setting
        self.scene: VolumeScene | None = None
        self._preview_drawn = False
        self._early_prepared: Prepared | None = None  # the worker's result when it came before the preview was drawn
        self._pending_preview: Volume | None = None
        self.refine_in_background = True
        self._full_frames: FullFrames | None = None  # made with the full volume, where a worker may render
        self._refining = False  # a worker renders a full-quality frame
        self._next_full_frame: tuple[VrPreset, FrameRequest] | None = None  # the latest asked meanwhile
        self._revision = 0  # counts changes: a frame asked before the latest change is stale
        self._rotating = False
        self.initial_view = (0.0, 0.0)  # azimuth, elevation from the front
        # "Cut front" keeps what lies behind this plane (origin, normal towards the kept side);
        # the workspace moves it with the coronal MPR plane.
        self.cut_plane = (volume.center(), (0.0, 1.0, 0.0))
        self._window = window
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._make_controls())
        layout.addWidget(self.vtk_widget, 1)
        self.status = QLabel("")
        # A longer status must not widen the view: the frame prepared in the background is for its size.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.status)

    def _make_controls(self) -> QWidget:
        """The preset, blend, surface, clipping and snapshot controls, wrapping into rows as the view narrows.

        On one fixed row they made the view at least 500 px wide: in a hung 1×3
        layout beside the report on a 1280 px screen, the other two viewports
        were squeezed to slivers too narrow to show whose images they are.
        """
        controls = QWidget()
        flow = FlowLayout(controls, spacing=4)
        self.preset_box = QComboBox()
        self.preset_box.addItems(preset_names())
        self.preset_box.setCurrentText(default_preset(self.volume.modality))
        self.preset_box.currentTextChanged.connect(self._apply_preset)
        self.blend_box = QComboBox()
        self.blend_box.addItems(["Volume", "MIP", "MinIP"])
        self._show_blend(self.preset_box.currentText())
        self.blend_box.currentIndexChanged.connect(self._set_blend)
        self.iso_check = QCheckBox("Surface")
        self.iso_spin = QDoubleSpinBox()
        self.iso_spin.setRange(-5000, 30000)
        if self.volume.modality.upper() == "CT":
            self.iso_spin.setValue(200)
        else:  # a sample: the mean of a whole 500-slice volume would hold the GUI for a tenth of a second
            self.iso_spin.setValue(float(self.volume.modality_value(self.volume.array[::4, ::4, ::4].mean())))
        self.smooth_spin = QSpinBox()
        self.smooth_spin.setRange(0, 100)
        self.smooth_spin.setValue(15)
        self.iso_check.toggled.connect(lambda *_: self._update_surface())
        for spin in (self.iso_spin, self.smooth_spin):
            spin.valueChanged.connect(lambda *_: self._update_surface())
        self.clip_check = QCheckBox("Clip box")
        self.clip_spin = QSpinBox()
        self.clip_spin.setRange(0, 49)
        self.clip_spin.setSuffix(" %")
        self.clip_spin.setValue(15)
        self.cut_check = QCheckBox("Cut front")
        for check in (self.clip_check, self.cut_check):
            check.toggled.connect(lambda *_: self._update_clipping())
        self.clip_spin.valueChanged.connect(lambda *_: self._update_clipping())
        self.editor_button = QPushButton("Edit transfer functions…")
        self.editor_button.clicked.connect(self.edit_transfer_functions)
        self.snapshot_button = QPushButton("Snapshot…")
        self.snapshot_button.clicked.connect(self._choose_snapshot)
        groups = ((QLabel("Preset"), self.preset_box), (self.blend_box,), (self.editor_button,),
                  (self.snapshot_button,), (self.iso_check, self.iso_spin), (QLabel("smooth"), self.smooth_spin),
                  (self.clip_check, self.clip_spin), (self.cut_check,))
        for group in groups:  # a label stays beside its box when the row wraps
            flow.addWidget(group[0] if len(group) == 1 else _side_by_side(*group))
        return controls

    def start(self) -> None:
        """Create the scene once the window is shown (the mapper choice needs the OpenGL renderer).

        A small volume is drawn at once.  A large one first as a preview (a few million voxels,
        unshaded, coarse rays: tens of milliseconds), one step per event-loop turn; the full
        volume and its gradients are made ready in the background
        (:mod:`workstation.volume3d.prepare3d`) and replace the preview when they arrive, so
        the event loop never waits on them.  ``frame_shown`` says when each frame is drawn.
        """
        preview = preview_volume(self.volume)
        if preview is self.volume:
            self._set_up(preview)
            self.render_now()
            self._show_status()
            self.frame_shown.emit("full")
            return
        self._pending_preview = preview
        next_turn(self._set_up_preview)

    def _set_up(self, volume: Volume, initialized: bool = False) -> None:
        if not initialized:
            # The interactor's: renders the window once (OpenGL is known then).
            set_up_here(self.vtk_widget.Initialize)
        self._gl = renderer_string(self._window)
        mapper = choose_mapper(self._gl, self._mapper_setting)
        self.scene = VolumeScene(volume, mapper=mapper)
        self.scene.attach(self._window)
        self.scene.bind_interactor(self._window.GetInteractor(), self._interaction_started, self._interaction_ended)
        self.scene.apply_preset(load_preset(self.preset_box.currentText()))
        self.scene.view(*self.initial_view)

    def _set_up_preview(self) -> None:
        # The window's OpenGL context and first frame (its buffers and their shaders: a tenth of a
        # second or more on an X display with a software rasteriser): on a plain thread where that
        # pays (see volume_vtk), else in a turn of its own.
        if self._gone() or self._hidden(self._set_up_preview):
            return
        if first_frame_off_thread(self.vtk_widget):
            self._first_frame = BackgroundTask(self, "volume3d-window", poll_ms=5)
            self._first_frame.finished.connect(self._on_first_frame)
            self._first_frame.failed.connect(self._on_first_frame)  # then made here
            kind = "gpu" if self._mapper_setting == "gpu" else "cpu"  # "auto" picks the CPU caster on X's rasteriser
            self._first_frame.start(first_frames([self._window], lambda _i: warm_up_renderer(kind)))
            return
        set_up_here(self._window.Initialize)
        next_turn(self._first_render)

    def _on_first_frame(self, _payload: object) -> None:
        if not self._gone():
            next_turn(self._first_render)

    def _first_render(self) -> None:
        if self._gone() or self._hidden(self._first_render):
            return
        self.vtk_widget.Initialize()  # the interactor's: renders the (still empty) window once
        next_turn(self._draw_preview)

    def _draw_preview(self) -> None:
        if self._gone() or self._pending_preview is None:
            return
        self._set_up(self._pending_preview, initialized=True)
        self._pending_preview = None
        scene = self.scene
        if scene is None:  # made by _set_up
            return
        scene.set_preview(True)
        scene.set_interactive(True)  # coarse rays as while rotating: the preview is about speed
        render_in = worker_window_maker(self._window)
        if scene.mapper_kind == "cpu" and render_in is not None and scene.preset is not None:
            # The preview's rays are cast in the background too (tens to hundreds of milliseconds):
            # this thread only shows the frame.  Asked first, so that its window is made first.
            request, preview, preset = self._frame_request(scene), scene.volume, scene.preset
            self._quick = BackgroundTask(self, "volume3d-preview", poll_ms=5)
            self._quick.finished.connect(self._on_preview_frame)
            self._quick.failed.connect(self._on_preview_failed)
            self._quick.start(lambda _emit, _cancel: (request.key, render_preview(preview, preset, request, render_in)))
            self._start_preparing()
            return
        self._start_preparing()  # the view's camera and size are set: the worker may begin at once
        next_turn(self._render_preview)  # the scene's set-up was this turn's share

    def _on_preview_frame(self, payload: object) -> None:
        # Shown in a turn of its own: other timers due with this delivery do not add to its time.
        next_turn(lambda: self._show_preview_frame(payload))

    def _show_preview_frame(self, payload: object) -> None:
        key, frame = signal_value(payload, tuple)
        scene = self.scene
        if self._gone() or scene is None or self._preview_drawn:
            return
        if scene.preview and key == self._frame_key(scene):
            scene.show_frame(frame)
            self._window.Render()
            self._preview_shown()
        else:  # the view changed meanwhile (preset, size, camera): its own render shows it
            self._render_preview()

    def _on_preview_failed(self, _message: str) -> None:
        if not self._gone() and not self._preview_drawn:
            self._render_preview()

    def _render_preview(self) -> None:
        if self._gone() or self.scene is None:
            return
        self.render_now()
        self._preview_shown()

    def _preview_shown(self) -> None:
        scene = self.scene
        if scene is None:
            return
        self.status.setText(f"{scene.mapper_kind.upper()} ray casting on {self._gl or 'unknown OpenGL'}; preview, "
                            "preparing the full volume…")
        self.frame_shown.emit("preview")
        self._preview_drawn = True
        early, self._early_prepared = self._early_prepared, None
        if early is not None:  # the worker was quicker than the preview's turn: its result shows now
            self._on_prepared(early)

    def _start_preparing(self) -> None:
        """The full volume, its gradients and (where the worker may render) its first frame, in the background."""
        scene = self.scene
        if scene is None:  # called once the preview's scene is made
            return
        volume, kind, preset = self.volume, scene.mapper_kind, scene.preset
        request = self._frame_request(scene)
        # The worker renders in a window of the kind this view draws with (OSMesa beside OSMesa,
        # GLX beside GLX); where it may not, the first full render runs here.
        render_in = worker_window_maker(self._window)

        def work(_emit, cancel):
            yield_to_gui()  # this thread ends with the work: its lower priority goes with it
            return prepare_full(volume, kind, preset, request, cancelled=cancel.is_set, render_in=render_in)

        self._prepare = BackgroundTask(self, "volume3d")
        self._prepare.finished.connect(self._on_prepared)
        self._prepare.failed.connect(self._on_prepare_failed)
        self._prepare.start(work)

    def _hidden(self, step) -> bool:
        """True (and ``step`` kept for the next show) when the view is hidden: VTK's OpenGL set-up of a
        window hidden before it crashes."""
        if self.isVisible():
            return False
        self._when_shown = step
        return True

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        step, self._when_shown = getattr(self, "_when_shown", None), None
        if step is not None:
            next_turn(step)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        first = getattr(self, "_first_frame", None)
        if first is not None:  # the thread sets up the window, which must not vanish under it
            first.wait(2)
        super().hideEvent(event)

    def _gone(self) -> bool:
        """Closed, or deleted with its window, since a step was queued: the step does nothing."""
        return getattr(self, "_closed", False) or not shiboken6.isValid(self)

    def _on_prepared(self, payload: object) -> None:
        # Adopted in a turn of its own: other timers due with this delivery do not add to its time.
        next_turn(lambda: self._adopt_prepared(payload))

    def _adopt_prepared(self, payload: object) -> None:
        prepared = optional(payload, Prepared)  # None: cancelled
        if prepared is None or self._gone() or self.scene is None:
            return
        if not self._preview_drawn:
            self._early_prepared = prepared  # shown after the preview, in its turn
            return
        self.scene.adopt(prepared.volume, prepared.image, prepared.mapper)
        render_in = worker_window_maker(self._window)
        if self.scene.mapper_kind == "cpu" and render_in is not None:
            self._full_frames = FullFrames(prepared.volume, render_in)
        self.scene.set_interactive(False)
        self._show_status()
        if prepared.frame is not None and prepared.key == self._frame_key(self.scene):
            # Rendered in the background for exactly this view: shown as it is, the volume is
            # rendered again at the next change or interaction (its gradients are ready by then).
            self.scene.show_frame(prepared.frame)
            self._window.Render()
        else:
            self.render_now()
        self.frame_shown.emit("full")
        if self._refines():
            # The worker's ray caster computes its gradients at its first frame (seconds for a large
            # CT): that first frame is of what the view shows now, so that the reader's first change
            # finds it ready.  It is shown (the same picture) unless a change came meanwhile.
            self._ask_full_frame()

    def _frame_key(self, scene: VolumeScene) -> tuple:
        cam = camera_of(scene.renderer)
        return (scene.preset.name if scene.preset else "", scene.blend, self.iso_check.isChecked(),
                tuple(tuple(np.round(np.concatenate(p), 4)) for p in scene.clipping_planes()),
                tuple(round(v, 4) for key in ("position", "focal_point", "view_up") for v in cam[key]),
                tuple(self._window.GetSize()))

    def _frame_request(self, scene: VolumeScene) -> FrameRequest:
        width, height = self._window.GetSize()
        return FrameRequest(width, height, camera_of(scene.renderer), scene.blend,
                            [(np.array(o), np.array(n)) for o, n in scene.clipping_planes()],
                            tuple(scene.renderer.GetBackground()), self._frame_key(scene))

    def _on_prepare_failed(self, message: str) -> None:
        self.status.setText(f"3D preview only: {message}")

    def _show_status(self) -> None:
        scene = self.scene
        if scene is None:
            return
        reduced = "" if scene.volume is self.volume else f"; {scene.volume.notes[-1]}"
        self.status.setText(f"{scene.mapper_kind.upper()} ray casting on {self._gl or 'unknown OpenGL'}{reduced}")

    @property
    def full_quality(self) -> bool:
        """The full volume is shown (not the preview)."""
        return self.scene is not None and not self.scene.preview and self._prepare_done()

    def _prepare_done(self) -> bool:
        task = getattr(self, "_prepare", None)
        return task is None or not task.is_running()

    def render_now(self) -> None:
        """Draw the 3D view again at once, in full quality, on this thread (after any change to the scene)."""
        if self.scene is not None:
            self.scene.clear_frame()  # something changed: a frame rendered before no longer shows it
            if self.scene.interactive and not self._rotating:  # a full-quality frame was awaited: drawn now
                self.scene.set_interactive(False)
            self._revision += 1  # a frame asked before is not shown over this one
        self._window.Render()

    def _changed(self) -> None:
        """A change to the scene: drawn at interactive quality at once, in full quality by a worker shortly after."""
        scene = self.scene
        if scene is None:
            return
        scene.clear_frame()  # something changed: a frame rendered before no longer shows it
        if not self._refines():
            self.render_now()
            return
        scene.set_interactive(True)
        self._window.Render()
        self._ask_full_frame()

    def _refines(self) -> bool:
        """True where a worker renders the full-quality frames of changes (see the class's notes)."""
        scene = self.scene
        return (self.refine_in_background and scene is not None and self._full_frames is not None
                and scene.preset is not None and not scene.preview and scene.volume_shown
                and scene.renderer.GetActors().GetNumberOfItems() == 0)  # no surfaces: the worker draws none

    def _interaction_started(self) -> None:
        self._rotating = True
        self._revision += 1  # a frame asked before is stale: the end of the interaction asks again
        self._next_full_frame = None

    def _interaction_ended(self) -> None:
        self._rotating = False
        scene = self.scene
        if scene is None:
            return
        if self._refines():
            self._ask_full_frame()  # the last coarse frame stays until the worker's comes
        else:
            scene.set_interactive(False)
            self._window.Render()

    def _full_frame_key(self, scene: VolumeScene) -> tuple:
        return (self._revision, *self._frame_key(scene))

    def _ask_full_frame(self) -> None:
        scene = self.scene
        if scene is None or scene.preset is None:
            return
        self._revision += 1
        request = self._frame_request(scene)
        request.key = self._full_frame_key(scene)
        job = (scene.preset, request)
        if self._refining:
            self._next_full_frame = job  # replaces an older one: only the latest is rendered
            return
        self._start_full_frame(job)

    def _start_full_frame(self, job: tuple[VrPreset, FrameRequest]) -> None:
        frames = self._full_frames
        if frames is None:
            return
        preset, request = job

        def work(_emit, _cancel):
            yield_to_gui()  # this thread ends with the work: its lower priority goes with it
            return request.key, frames.render(preset, request)

        self._refining = True
        task = BackgroundTask(self, "volume3d-frame", poll_ms=5)
        task.finished.connect(lambda payload: next_turn(lambda: self._show_full_frame(payload)))
        task.failed.connect(self._on_full_frame_failed)
        self._full_frame_task = task
        task.start(work)

    def _show_full_frame(self, payload: object) -> None:
        self._refining = False
        job, self._next_full_frame = self._next_full_frame, None
        scene = self.scene
        if self._gone() or scene is None:
            return
        if job is not None:  # this frame is stale: the latest change's is rendered now
            self._start_full_frame(job)
            return
        key, frame = signal_value(payload, tuple)
        if key == self._full_frame_key(scene) and not self._rotating:
            scene.set_interactive(False)
            scene.show_frame(frame)
            self._window.Render()
            self.full_frame_shown.emit()
        elif scene.interactive and not self._rotating and self._refines():
            self._ask_full_frame()  # the view changed another way (its size): the frame of what it shows now

    def _on_full_frame_failed(self, _message: str) -> None:
        self._refining = False
        self._next_full_frame = None
        if not self._gone() and self.scene is not None and not self._rotating:
            self.render_now()  # drawn here instead

    def _apply_preset(self, name: str) -> None:
        preset = self._show_blend(name)
        if self.scene is not None:
            self.scene.apply_preset(preset)
            self._changed()

    def _show_blend(self, name: str) -> VrPreset:
        """Preset ``name``, its blend mode shown in the blend box (set with it, whether drawn yet or not)."""
        preset = load_preset(name)
        with QSignalBlocker(self.blend_box):  # the preset set the blend mode: drawn once, by the caller
            self.blend_box.setCurrentIndex(BLENDS.index(preset.blend))
        return preset

    def _set_blend(self, index: int) -> None:
        if self.scene is not None:
            self.scene.set_blend(BLENDS[index])
            if BLENDS[index] == "composite" and self.scene.preset is not None:
                self.scene.property.SetShade(self.scene.preset.shading.on)
            self._changed()

    def _update_surface(self) -> None:
        if self.scene is None:
            return
        on = self.iso_check.isChecked()
        self.scene.set_isosurface(self.iso_spin.value() if on else None, self.smooth_spin.value())
        self.scene.set_volume_visible(not on)
        self._changed()

    def _update_clipping(self) -> None:
        if self.scene is None:
            return
        f = self.clip_spin.value() / 100.0
        self.scene.set_clip_box((f, 1 - f, f, 1 - f, f, 1 - f) if self.clip_check.isChecked() else None)
        if self.cut_check.isChecked():
            self.scene.set_clip_plane(*self.cut_plane)
        else:
            self.scene.set_clip_plane(None)
        self._changed()

    def edit_transfer_functions(self) -> None:
        from workstation.ui.volume_tf_editor import TransferFunctionEditor

        if self.scene is None or self.scene.preset is None:
            return
        editor = TransferFunctionEditor(self.scene.preset, self)
        editor.applied.connect(self._apply_edited_preset)
        editor.show()
        self.editor = editor

    def _apply_edited_preset(self, payload: object) -> None:
        if self.scene is not None:
            self.scene.apply_preset(signal_value(payload, VrPreset))
            self._changed()

    def snapshot(self, path: str | Path) -> Path:
        """Write the current 3D view to PNG (VTK's own buffer, not a widget grab)."""
        self.render_now()
        return write_png(capture(self._window), path)

    def _choose_snapshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save snapshot", "snapshot.png", "PNG images (*.png)")
        if path:
            self.snapshot(path)

    def shutdown(self) -> None:
        task = getattr(self, "_prepare", None)
        self._closed = True
        if task is not None:
            task.cancel()  # its result, if any, goes nowhere
        refine = getattr(self, "_full_frame_task", None)
        if refine is not None:
            refine.cancel()  # a frame in the making goes nowhere (the worker's window is its own)
        first = getattr(self, "_first_frame", None)
        if first is not None:  # the window is not finalized while the thread draws its first frame
            first.wait(10)
        self.vtk_widget.Finalize()

    def follow_plane(self, plane) -> None:
        """Put the cut plane on an MPR plane (keeping what lies behind it as seen in that view)."""
        self.cut_plane = (plane.center, tuple(-plane.normal))
        if self.cut_check.isChecked():
            self._update_clipping()


def _side_by_side(*widgets: QWidget) -> QWidget:
    """``widgets`` in one row that a wrapping layout keeps together."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(4)
    for widget in widgets:
        row.addWidget(widget)
    return box
