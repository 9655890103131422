"""The 3D view's controls wrap into rows as it narrows, so a hung 3D viewport leaves its neighbours their share."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QGridLayout, QWidget

from tests.volume3d.conftest import phantom
from workstation.model.volume import Volume
from workstation.ui.volume_view import VolumeView


def _pet() -> Volume:
    ct = phantom()
    return Volume(array=np.clip(ct.array, 0, None).astype(np.float32) * 10, origin=ct.origin, spacing=ct.spacing,
                  direction=ct.direction, rescaled=True, modality="PT")


def test_a_narrow_3d_view_shows_every_control_on_more_rows(qtbot):
    view = VolumeView(phantom(), "cpu")
    qtbot.addWidget(view)
    assert view.minimumSizeHint().width() <= 240
    view.resize(240, 400)
    view.show()
    qtbot.waitExposed(view)
    controls = (view.preset_box, view.blend_box, view.editor_button, view.snapshot_button, view.iso_check,
                view.iso_spin, view.smooth_spin, view.clip_check, view.clip_spin, view.cut_check)
    rows = set()
    for control in controls:
        assert control.isVisible()
        top_left = control.mapTo(view, control.rect().topLeft())
        assert top_left.x() >= 0 and top_left.x() + control.width() <= view.width(), control
        rows.add(top_left.y())
    assert len(rows) >= 3  # wrapped, not clipped
    # The label stays beside its box.
    assert view.preset_box.parentWidget() is not view and view.preset_box.parentWidget().isVisible()
    view.shutdown()


def test_a_3d_viewport_in_a_row_of_three_takes_about_a_third(qtbot):
    """As in the PET/CT protocol's 1×3 layout: CT, PET and the PET MIP side by side in 660 px."""
    host = QWidget()
    qtbot.addWidget(host)
    grid = QGridLayout(host)
    left, middle = QWidget(), QWidget()
    view = VolumeView(_pet(), "cpu")
    for column, widget in enumerate((left, middle, view)):
        grid.addWidget(widget, 0, column)
        grid.setColumnStretch(column, 1)
    host.resize(660, 500)
    host.show()
    qtbot.waitExposed(host)
    assert min(left.width(), middle.width()) >= 150, (left.width(), middle.width(), view.width())
    assert view.width() <= 1.5 * left.width()
    view.shutdown()


def test_the_blend_box_shows_the_starting_presets_blend_before_anything_is_drawn(qtbot):
    view = VolumeView(_pet(), "cpu")
    qtbot.addWidget(view)
    assert view.preset_box.currentText() == "pet-mip"
    assert view.blend_box.currentText() == "MIP"  # it said "Volume" beside a MIP preset
    view.preset_box.setCurrentText("ct-bone")  # chosen before the scene exists
    assert view.blend_box.currentText() == "Volume"
    view.shutdown()
