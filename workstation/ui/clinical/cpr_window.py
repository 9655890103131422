"""The curved MPR window: click a path on the axial planes, see the straightened and stretched CPR and cross-sections.

The logic is :mod:`workstation.clinical.cpr`; this window keeps the clicked
points (patient coordinates) and repaints the images it computes.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from workstation.clinical.cpr import CurvedPath, PathError, cross_section, straightened_cpr, stretched_cpr
from workstation.clinical.fusion import window_to_8bit
from workstation.model.volume import Volume
from workstation.ui.clinical.image_view import ImageView


class CprWindow(QWidget):
    """Curved MPR of one volume.

    Parameters
    ----------
    volume : Volume
    window : tuple of float, optional
        Display window (centre, width) in modality values (default: by modality, else the 1-99 % range).
    """

    def __init__(self, volume: Volume, window: tuple[float, float] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        if window is None:
            if volume.modality == "CT":
                window = (150.0, 700.0)
            else:
                lo, hi = np.percentile(volume.modality_value(volume.array[:: max(1, volume.shape[0] // 16)]), [1, 99])
                window = ((lo + hi) / 2, max(float(hi - lo), 1.0))
        self.setWindowTitle("Curved MPR")
        self.volume = volume
        # (centre, width) of the grey scale; not "window", which would hide QWidget.window().
        self.voi_window = window
        self.points: list[np.ndarray] = []
        self.path: CurvedPath | None = None
        self.plane_view = ImageView("Axial: click along the vessel, scroll between clicks")
        self.straight_view = ImageView("Straightened CPR")
        self.stretched_view = ImageView("Stretched CPR")
        self.section_view = ImageView("Cross-section")
        self.slice = QSlider(Qt.Orientation.Horizontal)
        self.slice.setRange(0, volume.shape[0] - 1)
        self.slice.setValue(volume.shape[0] // 2)
        self.angle = QSlider(Qt.Orientation.Horizontal)
        self.angle.setRange(0, 179)
        self.angle.setToolTip("Turn the straightened CPR about the centre line")
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setRange(0, 0)
        self.position.setToolTip("Where along the path the cross-section is cut")
        self.clear_button = QPushButton("Clear path")
        self.undo_button = QPushButton("Remove last point")
        self.length_label = QLabel("Click at least two points")
        controls = QHBoxLayout()
        for label, w in (("Slice", self.slice), ("Turn", self.angle), ("Along path", self.position)):
            controls.addWidget(QLabel(label))
            controls.addWidget(w, 1)
        controls.addWidget(self.undo_button)
        controls.addWidget(self.clear_button)
        grid = QGridLayout()
        grid.addWidget(self.plane_view, 0, 0, 2, 1)
        grid.addWidget(self.straight_view, 0, 1)
        grid.addWidget(self.stretched_view, 0, 2)
        grid.addWidget(self.section_view, 1, 1, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(grid, 1)
        layout.addWidget(self.length_label)
        self.slice.valueChanged.connect(self._show_plane)
        self.plane_view.clicked.connect(self._on_click)
        self.plane_view.wheeled.connect(lambda d: self.slice.setValue(self.slice.value() + d))
        self.angle.valueChanged.connect(lambda _v: self._show_cpr())
        self.position.valueChanged.connect(lambda _v: self._show_section())
        self.clear_button.clicked.connect(self.clear)
        self.undo_button.clicked.connect(self.remove_last)
        self._show_plane()

    def _8bit(self, values: np.ndarray) -> np.ndarray:
        c, w = self.voi_window
        return window_to_8bit(values, c - w / 2, c + w / 2)

    def point_at(self, row: float, column: float) -> np.ndarray:
        m = self.volume.index_to_patient()
        return m[:3, :3] @ np.array([column, row, self.slice.value()], float) + m[:3, 3]

    def _show_plane(self) -> None:
        k = self.slice.value()
        v = self.volume
        self.plane_view.set_image(self._8bit(v.modality_value(v.array[k])), v.spacing[1] / v.spacing[0])
        inv = np.linalg.inv(v.index_to_patient())
        marks = []
        for p in self.points:
            i, j, kk = inv[:3, :3] @ p + inv[:3, 3]
            if abs(kk - k) < 0.5:
                marks.append((j, i))
        self.plane_view.marks = marks
        self.plane_view.text = f"{len(self.points)} point(s)"
        self.plane_view.update()

    def _on_click(self, row: float, column: float) -> None:
        self.add_point(self.point_at(row, column))

    def add_point(self, point) -> None:
        """Add a path point (patient mm) and recompute the CPR."""
        self.points.append(np.asarray(point, float))
        self._rebuild()

    def remove_last(self) -> None:
        if self.points:
            self.points.pop()
            self._rebuild()

    def clear(self) -> None:
        self.points.clear()
        self._rebuild()

    def _rebuild(self) -> None:
        self._show_plane()
        try:
            self.path = CurvedPath.through(self.points, step_mm=float(min(self.volume.spacing)))
        except PathError as exc:
            self.path = None
            self.length_label.setText(str(exc) if self.points else "Click at least two points")
            for view in (self.straight_view, self.stretched_view, self.section_view):
                view.set_image(np.zeros((2, 2), np.uint8))
            return
        self.length_label.setText(f"Length along the path: {self.path.length_mm:.1f} mm ({len(self.points)} points)")
        self.position.setRange(0, len(self.path.positions) - 1)
        self.position.setValue(len(self.path.positions) // 2)
        self._show_cpr()
        self._show_section()

    def _show_cpr(self) -> None:
        if self.path is None:
            return
        width = 80.0
        straight = straightened_cpr(self.volume, self.path, width_mm=width, angle_deg=float(self.angle.value()))
        self.straight_view.set_image(self._8bit(straight.pixels), 1.0)
        self.straight_view.text = f"{self.path.length_mm:.1f} mm, turned {self.angle.value()}°"
        # Stretched: rows along the patient's left-right axis made perpendicular to the path's mean direction.
        mean = self.path.positions[-1] - self.path.positions[0]
        d = np.array([1.0, 0.0, 0.0])
        if np.linalg.norm(mean) > 1e-6:
            mean /= np.linalg.norm(mean)
            d = d - np.dot(d, mean) * mean if abs(np.dot(d, mean)) < 0.95 else np.array([0.0, 1.0, 0.0])
        stretched = stretched_cpr(self.volume, self.path, d, width_mm=width)
        self.stretched_view.set_image(self._8bit(stretched.pixels), 1.0)
        self.straight_view.marks = [(self.position.value(), straight.centre_column)]

    def _show_section(self) -> None:
        if self.path is None:
            return
        distance = self.position.value() * self.path.step_mm
        section = cross_section(self.volume, self.path, distance, size_mm=50.0,
                                pixel_mm=float(min(self.volume.spacing)))
        self.section_view.set_image(self._8bit(section), 1.0)
        self.section_view.text = f"at {distance:.1f} mm along the path"
        self._show_cpr()
