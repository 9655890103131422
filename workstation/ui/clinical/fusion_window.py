"""The PET/CT fusion window: CT, PET, fused and rotating-MIP views linked by patient position.

Everything shown comes from :class:`workstation.clinical.fusion_view.FusionState`;
this module only wires controls to it and paints its arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from workstation.clinical.fusion import LUT_NAMES
from workstation.clinical.fusion_view import FusionState, load_petct
from workstation.store.cache import StudyCache
from workstation.ui.background import BackgroundTask
from workstation.ui.clinical.image_view import ImageView
from workstation.ui.qvariant import combo_value, signal_value

log = logging.getLogger(__name__)

METHOD_LABELS = {"bw": "SUV body weight", "lbm": "SUV lean body mass", "bsa": "SUV body surface area"}
MIP_STEP_DEG = 10.0
MIP_INTERVAL_MS = 120


class FusionWindow(QWidget):
    """PET/CT fusion of one study (CT and PET volumes already read)."""

    def __init__(self, state: FusionState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.setWindowTitle("PET/CT fusion")
        self.ct_view, self.pet_view = ImageView("CT"), ImageView("PET")
        self.fused_view, self.mip_view = ImageView("Fused"), ImageView("PET MIP")
        self.lut_box = QComboBox()
        self.lut_box.addItems(list(LUT_NAMES))
        self.lut_box.setToolTip("Colour table of the PET")
        self.method_box = QComboBox()
        for key, label in METHOD_LABELS.items():
            self.method_box.addItem(label, key)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(round(state.opacity * 100)))
        self.opacity.setToolTip("PET opacity over the CT")
        self.pet_max = QDoubleSpinBox()
        self.pet_max.setRange(0.1, 1e7)
        self.pet_max.setDecimals(1)
        self.pet_max.setValue(state.pet_range[1])
        self.pet_max.setToolTip("PET value shown at full colour")
        self.slice = QSlider(Qt.Orientation.Horizontal)
        self.slice.setRange(0, state.ct.shape[0] - 1)
        self.slice.setValue(state.index)
        self.cine_button = QPushButton("Rotate MIP")
        self.cine_button.setCheckable(True)
        self.status = QLabel()
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        controls = QHBoxLayout()
        for label, w in (("LUT", self.lut_box), ("Units", self.method_box), ("Opacity", self.opacity),
                         ("PET max", self.pet_max), ("Slice", self.slice)):  # fmt: skip
            controls.addWidget(QLabel(label))
            controls.addWidget(w, 1 if isinstance(w, QSlider) else 0)
        controls.addWidget(self.cine_button)
        grid = QGridLayout()
        grid.addWidget(self.ct_view, 0, 0)
        grid.addWidget(self.pet_view, 0, 1)
        grid.addWidget(self.fused_view, 1, 0)
        grid.addWidget(self.mip_view, 1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        layout.addWidget(self.status)
        self.mip_angle = 0.0
        self._mip_timer = QTimer(self)
        self._mip_timer.setInterval(MIP_INTERVAL_MS)
        self._mip_timer.timeout.connect(self._next_mip)
        self.lut_box.currentTextChanged.connect(self._on_lut)
        self.method_box.currentIndexChanged.connect(self._on_method)
        self.opacity.valueChanged.connect(self._on_opacity)
        self.pet_max.valueChanged.connect(self._on_pet_max)
        self.slice.valueChanged.connect(self._on_slice)
        self.cine_button.toggled.connect(self._on_cine)
        for view in (self.ct_view, self.pet_view, self.fused_view):
            view.hovered.connect(self._on_hover)
            view.clicked.connect(self._on_click)
            view.wheeled.connect(lambda d: self.slice.setValue(self.slice.value() + d))
        self.refresh()
        self._show_mip()

    def refresh(self) -> None:
        """Repaint the three plane views from the state."""
        s = self.state
        aspect = s.ct.spacing[1] / s.ct.spacing[0]
        self.ct_view.set_image(s.ct_8bit(), aspect)
        self.pet_view.set_image(s.pet_rgb(), aspect)
        self.fused_view.set_image(s.fused_rgb(), aspect)
        z = s.point_at(0, 0)[2]
        for view in (self.ct_view, self.pet_view, self.fused_view):
            view.text = f"z {z:.1f} mm  ({s.index + 1}/{s.ct.shape[0]})"
        self.pet_view.caption = f"PET ({s.unit})"
        if s.refusal:
            self.status.setText(s.refusal)

    def _show_mip(self) -> None:
        s = self.state
        self.mip_view.set_image(s.mip_rgb(self.mip_angle), 1.0)
        self.mip_view.text = f"{self.mip_angle:.0f}°"

    def _next_mip(self) -> None:
        self.mip_angle = (self.mip_angle + MIP_STEP_DEG) % 360.0
        self._show_mip()

    def _on_cine(self, on: bool) -> None:
        if on:
            self._mip_timer.start()
        else:
            self._mip_timer.stop()

    def _on_lut(self, name: str) -> None:
        self.state.set_lut(name)
        self.refresh()

    def _on_method(self, _index: int) -> None:
        method = combo_value(self.method_box, str)
        if method is None:  # every entry has its method
            return
        self.state.set_method(method)
        self.pet_max.setValue(self.state.pet_range[1])
        self.refresh()
        self._show_mip()

    def _on_opacity(self, value: int) -> None:
        self.state.opacity = value / 100.0
        self.fused_view.set_image(self.state.fused_rgb(), self.state.ct.spacing[1] / self.state.ct.spacing[0])

    def _on_pet_max(self, value: float) -> None:
        low = self.state.pet_range[0]
        if value > low:
            self.state.pet_range = (low, float(value))
            self.refresh()
            self._show_mip()

    def _on_slice(self, value: int) -> None:
        self.state.index = int(value)
        self.refresh()

    def _on_hover(self, row: float, column: float) -> None:
        self.status.setText(self.state.probe(row, column))

    def _on_click(self, row: float, column: float) -> None:
        """A click measures the uptake in a 15 mm sphere around the point (SUVmax, SUVpeak, SUVmean)."""
        try:
            st = self.state.sphere_statistics(row, column)
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        u = self.state.unit
        self.status.setText(f"15 mm sphere: max {st.maximum:.2f}  peak {st.peak:.2f}  mean {st.mean:.2f} {u}")
        for view in (self.ct_view, self.pet_view, self.fused_view):
            view.marks = [(row, column)]
            view.update()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._mip_timer.stop()
        super().closeEvent(event)


class FusionLoader(QObject):
    """Reads a study's CT and PET off the GUI thread; emits ``ready(FusionWindow)`` or ``failed(str)``."""

    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, open_cache: Callable[[], StudyCache], study_uid: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._task = BackgroundTask(self, "petct")
        self._task.finished.connect(self._on_loaded)
        self._task.failed.connect(self.failed)
        self._open_cache = open_cache
        self.study_uid = study_uid
        self.window: FusionWindow | None = None

    def start(self) -> bool:
        open_cache, study_uid = self._open_cache, self.study_uid

        def work(_emit, cancelled):
            cache = open_cache()
            try:
                return load_petct(cache, study_uid, cancelled=cancelled.is_set)
            finally:
                cache.close()

        return self._task.start(work, _describe)

    def _on_loaded(self, payload: object) -> None:
        self.window = FusionWindow(signal_value(payload, FusionState))
        self.window.setWindowFlag(Qt.WindowType.Window, True)
        self.ready.emit(self.window)

    def wait(self, timeout_s: float) -> bool:
        return self._task.wait(timeout_s)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValueError):
        return f"PET/CT fusion: {exc}"
    log.error("PET/CT loading failed: %s", type(exc).__name__)  # only the type: messages can carry paths
    return f"PET/CT fusion: cannot read the study ({type(exc).__name__})"
