"""Three linked MPR views (axial, coronal, sagittal) in QVTK windows; every decision is the controller's.

The widget forwards mouse events to :class:`workstation.volume3d.mpr_controller.MprController`
and shows its scenes.  ``planes_changed`` tells 2D viewports of the same frame of
reference where the planes are, for their reference lines
(:func:`workstation.volume3d.planes.image_plane_segment`).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor

from workstation.ui.turns import next_turn
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import signal_value
from workstation.ui.volume_vtk import first_frame_off_thread, first_frames, make_vtk_widget, set_up_here
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleUser

from workstation.model.volume import Volume
from workstation.volume3d.mpr_controller import TOOLS, MprController
from workstation.volume3d.mpr_scene import warm_up_renderer
from workstation.volume3d.planes import PLANE_NAMES
from workstation.volume3d.reslice import SLAB_MODES


class MprView(QWidget):
    """The three MPR views and their tool bar.

    Parameters
    ----------
    volume : Volume
    window : (centre, width)
        First window, modality values.
    planes : tuple of str
        The views to show (default all three).
    controller : MprController, optional
        Share the crosshair, window and slab with other MPR views of the same volume.

    Signals
    -------
    planes_changed(str, object)
        Frame of Reference UID and the list of :class:`~workstation.volume3d.planes.Plane`.
    """

    planes_changed = Signal(str, object)
    painted = Signal()  # the views drew their planes for the first time (start)

    def __init__(
        self,
        volume: Volume,
        window: tuple[float, float],
        parent: QWidget | None = None,
        *,
        planes: tuple[str, ...] = PLANE_NAMES,
        controller: MprController | None = None,
    ) -> None:
        super().__init__(parent)
        self.volume = volume
        self.vtk_widgets: dict[str, QVTKRenderWindowInteractor] = {}
        # Several views may share one controller (a hanging protocol's MPR viewports of one volume).
        self.controller = controller or MprController(volume, window)
        self.controller.renderers.append(self._render)
        self.controller.listeners.append(lambda planes: self.planes_changed.emit(volume.frame_of_reference_uid, planes))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._make_toolbar())
        self.grid = QGridLayout()
        self.grid.setSpacing(2)
        for i in range(2):  # four equal quadrants, whatever each view's controls would like
            self.grid.setColumnStretch(i, 1)
            self.grid.setRowStretch(i, 1)
        layout.addLayout(self.grid, 1)
        # Each view's VTK widget (a native window: tens of milliseconds each) is made in its own
        # event-loop turn by start(); until then a black placeholder holds its place in the grid.
        self.planes = tuple(planes)
        self._placeholders: dict[str, QWidget] = {}
        for i, name in enumerate(self.planes):
            placeholder = QWidget(self)
            placeholder.setStyleSheet("background-color: #000000;")
            self._placeholders[name] = placeholder
            self.grid.addWidget(placeholder, i // 2, i % 2)
        self._started = False
        self._closed = False
        self._steps: list = []
        self._stepping = False
        self._first_frames: BackgroundTask | None = None
        self._ready: set[str] = set()  # views whose window's first frame the thread made
        self._drawn: set[str] = set()
        self._painted = False

    def _make_toolbar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        self.tool_box = QComboBox()
        self.tool_box.addItems([t.capitalize() for t in TOOLS])
        self.tool_box.currentIndexChanged.connect(lambda i: self.controller.set_tool(TOOLS[i]))
        self.slab_spin = QDoubleSpinBox()
        self.slab_spin.setRange(0.0, 100.0)
        self.slab_spin.setSingleStep(1.0)
        self.slab_spin.setSuffix(" mm")
        self.slab_spin.valueChanged.connect(lambda v: self.controller.set_slab(v))
        self.slab_mode_box = QComboBox()
        self.slab_mode_box.addItems([m.upper() for m in SLAB_MODES])
        self.slab_mode_box.currentIndexChanged.connect(
            lambda i: self.controller.set_slab(self.slab_spin.value(), SLAB_MODES[i]))
        self.reset_button = QPushButton("Reset planes")
        self.reset_button.clicked.connect(self.controller.reset)
        self.clear_button = QPushButton("Clear measurements")
        self.clear_button.clicked.connect(self.controller.clear_measurements)
        for label, widget in (("Tool", self.tool_box), ("Slab", self.slab_spin), ("", self.slab_mode_box)):
            if label:
                bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.reset_button)
        return bar

    def _bind(self, name: str, interactor) -> None:
        c = self.controller

        def pos() -> tuple[float, float]:
            x, y = interactor.GetEventPosition()
            return x, y

        def press(button: str) -> None:
            x, y = pos()
            c.press(name, x, y, button)

        interactor.AddObserver("LeftButtonPressEvent", lambda *_: press("left"))
        interactor.AddObserver("RightButtonPressEvent", lambda *_: press("right"))
        interactor.AddObserver("MouseMoveEvent", lambda *_: c.move(name, *pos()))
        interactor.AddObserver("LeftButtonReleaseEvent", lambda *_: c.release(name))
        interactor.AddObserver("RightButtonReleaseEvent", lambda *_: c.release(name))
        interactor.AddObserver("MouseWheelForwardEvent", lambda *_: c.wheel(name, 1))
        interactor.AddObserver("MouseWheelBackwardEvent", lambda *_: c.wheel(name, -1))

    def _render(self, name: str) -> None:
        w = self.vtk_widgets.get(name)
        if w is not None and name in self._drawn:
            w.GetRenderWindow().Render()

    def start(self) -> None:
        """Make the views' windows and draw them (call once the widget is shown); ``painted`` follows.

        One step per event-loop turn, so the window never freezes while the views come up:
        each view's VTK widget; then each window's first frame (its OpenGL context, buffers
        and their shaders: a tenth of a second or more per window on an X display with a
        software rasteriser), on a plain thread where that pays (:mod:`workstation.ui.volume_vtk`),
        else in turns of its own; then, as each window is ready, its interactor and the
        first drawing of its plane (linear interpolation); cubic once all are drawn.
        """
        self._started = True
        self._steps = [lambda name=name: self._make_view(name) for name in self.planes]
        self._steps.append(self._set_up_windows)
        self._stepping = True
        self._next_step()

    def _make_view(self, name: str) -> None:
        """The VTK widget of view ``name``, in its placeholder's place; its scene joins it at the first draw."""
        w = make_vtk_widget(self)
        interactor = w.GetRenderWindow().GetInteractor()
        interactor.SetInteractorStyle(vtkInteractorStyleUser())
        self._bind(name, interactor)
        self.vtk_widgets[name] = w
        placeholder = self._placeholders.pop(name)
        self.grid.replaceWidget(placeholder, w)
        placeholder.hide()
        placeholder.deleteLater()
        w.show()

    def _set_up_windows(self) -> None:
        widgets = [self.vtk_widgets[name] for name in self.planes]
        if widgets and first_frame_off_thread(widgets[0]):
            self._first_frames = BackgroundTask(self, "mpr-windows", poll_ms=5)
            self._first_frames.item.connect(self._on_window_ready)
            self._first_frames.finished.connect(self._on_windows_ready)
            self._first_frames.failed.connect(self._on_windows_failed)
            planes = self.planes
            self._first_frames.start(first_frames([w.GetRenderWindow() for w in widgets],
                                                  lambda i: warm_up_renderer(planes[i])))
            return
        for name in self.planes:
            self._queue(self._set_up_step(name), *self._draw_steps(name))
        self._queue(*self._refine_steps())

    def _set_up_step(self, name: str):
        # The window's OpenGL context, made here under the lock the 3D view's workers take for theirs.
        window = self.vtk_widgets[name].GetRenderWindow()
        return lambda: set_up_here(window.Initialize)

    def _draw_steps(self, name: str) -> list:
        # The interactor's initialisation renders the window once (no scene yet); then the plane is
        # resliced, and drawn in the next turn.
        return [self.vtk_widgets[name].Initialize, lambda: self._first_reslice(name), lambda: self._first_draw(name)]

    def _refine_steps(self) -> list:
        # Drawn first with linear interpolation (half the time of cubic); cubic once all are up.
        return [lambda name=name: self._refine(name) for name in self.planes]

    def _on_window_ready(self, payload: object) -> None:
        name = self.planes[signal_value(payload, int)]
        self._ready.add(name)
        self._queue(*self._draw_steps(name))

    def _on_windows_ready(self, _payload: object) -> None:
        self._on_windows_failed("")

    def _on_windows_failed(self, _message: str) -> None:
        # The windows the thread did not set up (it failed, or was stopped by a hide) get their
        # first frame on this thread.
        if self._closed:
            return
        for name in self.planes:
            if name not in self._ready:
                self._queue(self._set_up_step(name), *self._draw_steps(name))
        self._queue(*self._refine_steps())

    def _queue(self, *steps) -> None:
        self._steps.extend(steps)
        if not self._stepping:
            self._stepping = True
            next_turn(self._next_step)

    def _first_reslice(self, name: str) -> None:
        window = self.vtk_widgets[name].GetRenderWindow()
        window.AddRenderer(self.controller.scenes[name].renderer)
        interacting, self.controller.interacting = self.controller.interacting, True
        try:
            self.controller.refresh([name])  # not rendered yet: fitted first (which reslices), then drawn once
        finally:
            self.controller.interacting = interacting
        self.controller.scenes[name].fit()

    def _first_draw(self, name: str) -> None:
        self._drawn.add(name)
        self.vtk_widgets[name].GetRenderWindow().Render()

    def _refine(self, name: str) -> None:
        if not self.controller.interacting:
            self.controller.refresh([name])

    def _next_step(self) -> None:
        if self._closed or not shiboken6.isValid(self):  # closed, or deleted with its window, meanwhile
            return
        if not self._steps or not self.isVisible():
            # A window hidden before its OpenGL set-up crashes VTK's: the steps go on once it is shown.
            self._stepping = False
            return
        self._steps.pop(0)()
        if len(self._drawn) == len(self.planes) and not self._painted:
            self._painted = True
            self.painted.emit()
        next_turn(self._next_step)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._started and self._steps and not self._stepping:
            self._queue()  # steps left when the view was hidden

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        task = self._first_frames
        if task is not None:  # the thread sets up windows that must not vanish under it (a fraction of a second)
            task.cancel()
            task.wait(2)
        super().hideEvent(event)

    @property
    def is_painted(self) -> bool:
        """Every view has drawn its plane."""
        return self._painted

    def shutdown(self) -> None:
        """Release the OpenGL windows (after the widget is closed and events have run)."""
        self._closed = True
        self._steps = []
        task = self._first_frames
        if task is not None:  # a window is not finalized while the thread draws its first frame
            task.cancel()
            task.wait(10)
        for w in self.vtk_widgets.values():
            w.Finalize()
