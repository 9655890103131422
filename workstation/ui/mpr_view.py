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
from workstation.ui.volume_vtk import make_vtk_widget
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleUser

from workstation.model.volume import Volume
from workstation.volume3d.mpr_controller import TOOLS, MprController
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
        """Initialise the interactors and draw (call once the widget is shown); ``painted`` follows.

        One step per event-loop turn, so the window never freezes while the views come up:
        a view's VTK widget, its OpenGL context, then its first (empty) frame, which sets up the window's
        buffers and their shaders (the costliest step on a software rasteriser: about a
        tenth of a second, in every window), then its first reslice and render; the first
        view is drawn before the second is set up.
        """
        self._started = True
        self._steps = []
        for name in self.planes:
            self._steps.append(lambda name=name: self._make_view(name))
            self._steps.append(lambda name=name: self.vtk_widgets[name].GetRenderWindow().Initialize())
            # The interactor's, with the window's first render (no scene yet).
            self._steps.append(lambda name=name: self.vtk_widgets[name].Initialize())
            self._steps.append(lambda name=name: self._first_draw(name))
        # Drawn first with linear interpolation (half the time of cubic); cubic once all are up.
        self._steps.extend(lambda name=name: self._refine(name) for name in self.planes)
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

    def _first_draw(self, name: str) -> None:
        window = self.vtk_widgets[name].GetRenderWindow()
        window.AddRenderer(self.controller.scenes[name].renderer)
        interacting, self.controller.interacting = self.controller.interacting, True
        try:
            self.controller.refresh([name])  # not rendered yet: fitted first, then drawn once
        finally:
            self.controller.interacting = interacting
        self._drawn.add(name)
        self.controller.scenes[name].fit()
        window.Render()

    def _refine(self, name: str) -> None:
        if not self.controller.interacting:
            self.controller.refresh([name])

    def _next_step(self) -> None:
        if self._closed or not shiboken6.isValid(self):  # closed, or deleted with its window, meanwhile
            return
        if not self._steps:
            return
        self._steps.pop(0)()
        if len(self._drawn) == len(self.planes) and not self._painted:
            self._painted = True
            self.painted.emit()
        next_turn(self._next_step)

    @property
    def is_painted(self) -> bool:
        """Every view has drawn its plane."""
        return self._painted

    def shutdown(self) -> None:
        """Release the OpenGL windows (after the widget is closed and events have run)."""
        self._closed = True
        self._steps = []
        for w in self.vtk_widgets.values():
            w.Finalize()
