"""The MPR and 3D window: loads a series off the GUI thread, shows linked MPR views and the 3D view, snapshots."""

from __future__ import annotations

import numpy as np
import pytest

from tests.model.conftest import write_stack
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.ui.volume_workspace import VolumeWorkspace, window_title


@pytest.fixture
def ct_series(cache, tmp_path):
    def values(i):
        yy, xx = np.mgrid[:32, :32]
        return np.where((xx - 16) ** 2 + (yy - 16) ** 2 + (i - 8) ** 2 * 4 <= 100, 1300, 24)

    uid = write_stack(tmp_path / "s", [(0, 0, 2.0 * z) for z in range(16)], size=32, values=values,
                      extra=lambda i, ds: setattr(ds, "RescaleIntercept", -1024))
    import_paths(cache, [tmp_path / "s"])
    return cache.studies()[0].study_uid, uid


def _workspace(qtbot, cache, study_uid):
    ws = VolumeWorkspace(cache, lambda: StudyCache(cache.index_file, cache.cache_dir), study_uid, "auto")
    qtbot.addWidget(ws)
    ws.resize(900, 700)
    ws.show()
    return ws


def test_workspace_loads_and_links_the_views(qtbot, cache, ct_series, tmp_path):
    study, series = ct_series
    ws = _workspace(qtbot, cache, study)
    assert ws.series_box.currentData() == series
    with qtbot.waitSignal(ws.volume_ready, timeout=30_000):
        ws.load(series)
    assert "32 x 32 x 16" in ws.message.text()
    mpr, view3d = ws.mpr, ws.view3d
    # Four equal quadrants: the 3D view's controls (one wide row when there is room) widen no column.
    qtbot.waitUntil(lambda: view3d.isVisible() and view3d.width() > 100, timeout=10_000)
    cells = [mpr.grid.cellRect(r, c).width() for r in range(2) for c in range(2)]
    assert max(cells) - min(cells) <= 0.05 * max(cells), cells
    seen = []
    mpr.planes_changed.connect(lambda frame, planes: seen.append(planes))
    mpr.slab_spin.setValue(6.0)
    assert mpr.controller.slab_mm == 6.0 and seen and len(seen[-1]) == 3
    mpr.tool_box.setCurrentIndex(2)  # length
    assert mpr.controller.tool == "length"
    assert view3d.scene is not None and view3d.scene.mapper_kind == "cpu"
    view3d.preset_box.setCurrentText("mip")
    assert view3d.blend_box.currentText() == "MIP"
    view3d.cut_check.setChecked(True)
    mpr.controller.geometry.scroll("coronal", 3.0)
    mpr.controller.refresh()
    origin, normal = view3d.scene.clipping_planes()[-1]
    assert normal.tolist() == [0, 1, 0] and origin[1] == pytest.approx(mpr.controller.geometry.center[1])
    view3d.iso_check.setChecked(True)
    view3d.clip_check.setChecked(True)
    shot = view3d.snapshot(tmp_path / "shot.png")
    assert shot.is_file() and shot.stat().st_size > 500
    ws.close()
    ws.close_views()
    assert ws.mpr is None


def test_transfer_function_editor_applies_edits_and_refuses_text(qtbot, cache, ct_series):
    from PySide6.QtWidgets import QTableWidgetItem

    study, series = ct_series
    ws = _workspace(qtbot, cache, study)
    with qtbot.waitSignal(ws.volume_ready, timeout=30_000):
        ws.load(series)
    ws.view3d.edit_transfer_functions()
    editor = ws.view3d.editor
    editor.opacity_table.setItem(0, 1, QTableWidgetItem("0.5"))
    with qtbot.waitSignal(editor.applied, timeout=5_000) as blocker:
        editor.apply()
    assert blocker.args[0].opacity[0][1] == 0.5
    editor.opacity_table.setItem(0, 1, QTableWidgetItem("lots"))
    editor.apply()
    assert "not a number" in editor.message.text()
    editor.close()
    ws.close()
    ws.close_views()


def test_a_series_without_a_volume_says_why(qtbot, cache, tmp_path):
    write_stack(tmp_path / "one", [(0, 0, 0)])
    import_paths(cache, [tmp_path / "one"])
    ws = _workspace(qtbot, cache, cache.studies()[0].study_uid)
    ws.load(ws.series_box.currentData())
    qtbot.waitUntil(lambda: "no stack of two or more" in ws.message.text(), timeout=30_000)
    assert ws.mpr is None and ws.load_button.isEnabled()


def test_tools_menu_opens_mpr_and_3d_for_a_study(qtbot, cache, ct_series):
    from workstation.ui.main_window import MainWindow

    win = MainWindow(cache, poll_interval_ms=60_000)
    qtbot.addWidget(win)
    assert win.volume_action.shortcut().toString() == "Ctrl+M"
    assert win.open_volume_workspace() is None  # nothing selected yet
    ws = win.open_volume_workspace(ct_series[0])
    qtbot.addWidget(ws)
    assert ws.isWindow() and ws.series_box.count() == 1
    ws.close()
    win.browser.stop()


def test_the_mpr_window_names_the_application_once_and_no_patient(qtbot, cache, ct_series):
    from PySide6.QtGui import QGuiApplication
    from workstation.ui.main_window import MainWindow

    before = QGuiApplication.applicationDisplayName()
    QGuiApplication.setApplicationDisplayName("Lightbox")  # as the application sets it (pytest-qt names its own)
    try:
        win = MainWindow(cache, poll_interval_ms=60_000)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitUntil(lambda: ct_series[0] in win.browser.shown_study_uids(), timeout=10_000)
        assert win.browser.select_study(ct_series[0])
        tools = next(a.menu() for a in win.menuBar().actions() if a.text().replace("&", "") == "Tools")
        item = next(a for a in tools.actions() if a.text().replace("&", "").startswith("MPR and 3D"))
        assert item.shortcut().toString() == "Ctrl+M"
        item.trigger()  # Tools › MPR and 3D…
        qtbot.waitUntil(lambda: bool(getattr(win, "volume_workspaces", [])), timeout=10_000)
        ws = win.volume_workspaces[-1]
        qtbot.addWidget(ws)
        assert ws.windowTitle() == "MPR and 3D"  # on the screen Qt makes it "MPR and 3D — Lightbox"
    finally:
        QGuiApplication.setApplicationDisplayName(before)
    study = cache.study(ct_series[0])
    for value in (study.patient_name, study.patient_id):
        if value:
            assert str(value) not in ws.windowTitle()
    assert window_title("Lightbox — MPR and 3D", "Lightbox") == "MPR and 3D"
    assert window_title("MPR and 3D — Lightbox", "Lightbox") == "MPR and 3D"
    assert window_title("Lightbox", "Lightbox") == "Lightbox"
    ws.stop()
    ws.close()
    win.browser.stop()


def test_protocol_viewports_share_one_crosshair(qtbot, tmp_path):
    from tests.volume3d.conftest import phantom
    from workstation.ui.volume_workspace import volume_viewport
    from workstation.volume3d.viewports import VolumeViewportSpec

    vol = phantom(shape=(24, 24, 24))
    coronal = volume_viewport(VolumeViewportSpec("mpr", "coronal", slab_mm=4), vol)
    sagittal = volume_viewport(VolumeViewportSpec("mpr", "sagittal"), vol, controller=coronal.controller)
    three_d = volume_viewport(VolumeViewportSpec("3d", preset="mip", azimuth=90), vol)
    for w in (coronal, sagittal, three_d):
        qtbot.addWidget(w)
        w.show()
        w.start()
    assert list(coronal.vtk_widgets) == ["coronal"] and list(sagittal.vtk_widgets) == ["sagittal"]
    assert coronal.slab_spin.value() == 4 and coronal.controller.slab_mm == 4
    coronal.controller.geometry.rotate("coronal", 20)
    coronal.controller.refresh()
    assert sagittal.controller is coronal.controller
    assert three_d.scene.preset.name == "mip"
    for w in (coronal, sagittal, three_d):
        w.close()
    qtbot.wait(10)
    for w in (coronal, sagittal, three_d):
        w.shutdown()


def test_a_missing_temporal_position_is_named(qtbot, cache, ct_series):
    study, series = ct_series
    ws = _workspace(qtbot, cache, study)
    ws.load(series, phase=2)
    qtbot.waitUntil(lambda: "temporal position 3 does not exist" in ws.message.text(), timeout=30_000)


def test_the_mpr_window_names_whose_images_it_shows(qtbot, cache, tmp_path):
    """Opened from the study list with Ctrl+M, the MPR and 3D window shows the patient above its views."""
    from PySide6.QtCore import Qt

    from workstation.ui.main_window import MainWindow
    from workstation.ui.volume_workspace import VolumeWorkspace as Workspace

    def greek(i, ds):
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = "Ηλίας^Νίκος"
        ds.PatientID = "GR-77"
        ds.PatientBirthDate = "19610203"
        ds.RescaleIntercept = -1024

    write_stack(tmp_path / "g", [(0, 0, 2.0 * z) for z in range(8)], size=16, extra=greek)
    import_paths(cache, [tmp_path / "g"])
    win = MainWindow(cache, poll_interval_ms=60_000)
    qtbot.addWidget(win)
    win.show()
    browser = win.browser
    qtbot.waitUntil(lambda: browser.proxy.rowCount() == 1, timeout=10_000)
    rect = browser.table.visualRect(browser.proxy.index(0, 1))
    qtbot.mouseClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(win, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(isinstance(w, Workspace) and w.isVisible()
                                for w in getattr(win, "volume_workspaces", [])), timeout=10_000)
    ws = next(w for w in win.volume_workspaces if w.isVisible())
    text = ws.patient_label.text()
    assert "Ηλίας" in text and "Νίκος" in text and "GR-77" in text and ws.patient_label.isVisible()
    assert "Ηλίας" not in ws.windowTitle()  # window titles carry no patient data
    ws.close()
    win.browser.stop()
