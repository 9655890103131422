"""PET/CT fusion from the Tools menu: CT, PET, fused and MIP views.

LUT, opacity, units, slice and cine are set by their controls.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from tests.clinical.conftest import small_demo_dir  # noqa: F401 - the session's small demo
from workstation.demo.plan import demo_uid
from workstation.demo.pet_phantom import PET_LESIONS
from workstation.store.importer import import_paths


@pytest.fixture
def petct_cache(cache, small_demo_dir):  # noqa: F811
    import_paths(cache, [small_demo_dir / "LBX-0001" / "20240415_PETCT_FDG"], workers=1)
    return cache


def _menu_action(win, text):
    return next(a for a in win.tools_menu.actions() if a.text() == text)


def test_tools_menu_opens_the_fusion_and_the_controls_work(qtbot, petct_cache):
    from workstation.ui.main_window import MainWindow

    win = MainWindow(petct_cache, poll_interval_ms=60_000)
    qtbot.addWidget(win)
    study = demo_uid("small", "petct-2024")
    qtbot.waitUntil(lambda: win.browser.select_study(study), timeout=10_000)
    _menu_action(win, "PET/CT &fusion…").trigger()
    loader = win.petct_loaders[-1]
    qtbot.waitUntil(lambda: loader.window is not None, timeout=60_000)
    fw = loader.window
    qtbot.addWidget(fw)
    qtbot.waitExposed(fw)
    s = fw.state
    assert s.unit == "SUVbw" and fw.pet_view.caption == "PET (SUVbw)"
    # Scroll to the liver metastasis with the slice slider's keys; the three views follow.
    lesion = PET_LESIONS[2]
    i, j, k = np.round(s.ct.patient_to_index(lesion.centre_mm)).astype(int)
    fw.slice.setFocus()
    while fw.slice.value() != k:
        qtbot.keyClick(fw.slice, Qt.Key.Key_Right if fw.slice.value() < k else Qt.Key.Key_Left)
    assert s.index == k
    # Click the lesion on the fused view: the sphere read-out gives its SUVmax.
    r = fw.fused_view.target()
    x = r.x() + (i + 0.5) / s.ct.shape[2] * r.width()
    y = r.y() + (j + 0.5) / s.ct.shape[1] * r.height()
    qtbot.mouseClick(fw.fused_view, Qt.MouseButton.LeftButton, pos=QPoint(int(x), int(y)))
    text = fw.status.text()
    assert text.startswith("15 mm sphere: max")
    assert float(text.split("max ")[1].split()[0]) == pytest.approx(lesion.suv_bw(), rel=0.01)
    # Units: lean body mass.
    fw.method_box.setCurrentIndex(fw.method_box.findData("lbm"))
    assert s.unit == "SUVlbm" and fw.pet_view.caption == "PET (SUVlbm)"
    # LUT and opacity.
    fw.lut_box.setCurrentText("rainbow")
    assert s.lut == "rainbow"
    fw.opacity.setFocus()
    qtbot.keyClick(fw.opacity, Qt.Key.Key_End)
    assert s.opacity == 1.0
    # The MIP turns while the cine runs.
    qtbot.mouseClick(fw.cine_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: fw.mip_angle >= 20.0, timeout=10_000)
    qtbot.mouseClick(fw.cine_button, Qt.MouseButton.LeftButton)
    assert not fw._mip_timer.isActive()
    fw.close()
    win.browser.stop()


def test_a_study_without_pet_says_so(qtbot, petct_cache, small_demo_dir):  # noqa: F811
    from workstation.ui.main_window import MainWindow

    import_paths(petct_cache, [small_demo_dir / "LBX-0001" / "20240312_CT_CHEST"], workers=1)
    win = MainWindow(petct_cache, poll_interval_ms=60_000)
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.browser.select_study(demo_uid("small", "ct-chest-2024")), timeout=10_000)
    _menu_action(win, "PET/CT &fusion…").trigger()
    qtbot.waitUntil(lambda: "no PET" in win.statusBar().currentMessage(), timeout=30_000)
    win.browser.stop()
