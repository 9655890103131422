"""Curved MPR window: points clicked on the axial planes give the CPR, the cross-section and the length."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.clinical.test_cpr import HELIX_LENGTH, T_MAX, helix, helix_volume
from workstation.ui.clinical.cpr_window import CprWindow


def _click_pixel(qtbot, view, row, col, shape):
    r = view.target()
    x = r.x() + (col + 0.5) / shape[1] * r.width()
    y = r.y() + (row + 0.5) / shape[0] * r.height()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(round(x), round(y)))


def test_clicking_along_the_helix_straightens_it(qtbot):
    volume = helix_volume()
    win = CprWindow(volume, window=(500.0, 1000.0))
    qtbot.addWidget(win)
    win.resize(1400, 900)
    win.show()
    qtbot.waitExposed(win)
    inv = np.linalg.inv(volume.index_to_patient())
    for p in helix(np.linspace(0, T_MAX, 19)):
        i, j, k = inv[:3, :3] @ p + inv[:3, 3]
        win.slice.setValue(int(round(k)))
        _click_pixel(qtbot, win.plane_view, j, i, volume.shape[1:])
    assert len(win.points) == 19
    # Clicks land on pixel centres and slices: the path's length is still the helix's within 1 %.
    assert win.path.length_mm == pytest.approx(HELIX_LENGTH, rel=0.01)
    assert "Length along the path" in win.length_label.text()
    # The straightened CPR shows the tube down its middle column.
    from workstation.clinical.cpr import straightened_cpr

    cpr = straightened_cpr(volume, win.path, width_mm=30.0)
    middle = cpr.pixels[40:-40, int(cpr.centre_column)]
    assert (middle > 500).mean() > 0.95
    qtbot.mouseClick(win.undo_button, Qt.MouseButton.LeftButton)
    assert len(win.points) == 18
    qtbot.mouseClick(win.clear_button, Qt.MouseButton.LeftButton)
    assert win.points == [] and win.path is None and "two points" in win.length_label.text()
    assert math.isfinite(HELIX_LENGTH)
    win.close()


def test_tools_menu_opens_curved_mpr_of_a_series(qtbot, cache, tmp_path):
    from tests.model.conftest import write_stack
    from workstation.store.importer import import_paths
    from workstation.ui.main_window import MainWindow

    uid = write_stack(tmp_path / "s", [(0, 0, z * 2.0) for z in range(8)], size=32)
    import_paths(cache, [tmp_path / "s"])
    win = MainWindow(cache, poll_interval_ms=60_000)
    qtbot.addWidget(win)
    action = next(a for a in win.tools_menu.actions() if a.text() == "&Curved MPR…")
    action.trigger()  # nothing shown yet: a message, no window
    assert "active viewport" in win.statusBar().currentMessage()
    loader = win.open_curved_mpr(uid)
    qtbot.waitUntil(lambda: bool(getattr(win, "cpr_windows", [])), timeout=30_000)
    cw = win.cpr_windows[-1]
    qtbot.addWidget(cw)
    assert cw.volume.shape[0] == 8 and loader is not None
    cw.close()
    win.browser.stop()
