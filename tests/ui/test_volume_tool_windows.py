"""The curved MPR and PET/CT fusion windows opened from the Tools menu while the 3D view loads.

The 3D view's workers make OpenGL contexts of their own (under ``OPENGL_SET_UP``);
the curved MPR and fusion windows draw with QPainter (no OpenGL), and the MPR and
3D views' own windows take the same lock where the GUI thread sets them up.  This
opens all three from the real menu actions, the two others while the 3D worker is
still preparing the full volume, and checks that everything comes up.
"""

from __future__ import annotations

import functools

import pytest

from tests.clinical.conftest import small_demo_dir  # noqa: F401 - the session's small demo
from workstation.demo.plan import demo_uid
from workstation.store.importer import import_paths
from workstation.ui.main_window import MainWindow
from workstation.ui.viewer.viewer import ViewerWidget
from workstation.volume3d import prepare3d

WAIT_MS = 120_000


@pytest.fixture
def petct_cache(cache, small_demo_dir):  # noqa: F811 - the fixture imported above
    import_paths(cache, [small_demo_dir / "LBX-0001" / "20240415_PETCT_FDG"], workers=1)
    return cache


def _action(win: MainWindow, text: str):
    return next(a for a in win.tools_menu.actions() if a.text() == text)


def test_curved_mpr_and_fusion_open_while_the_3d_view_loads(qtbot, petct_cache, monkeypatch):
    import workstation.ui.volume_view as volume_view

    # The small demo's CT is below the preview's budget; a smaller budget gives it the preview
    # first and the full volume from the background worker (which makes its own OpenGL context).
    monkeypatch.setattr(volume_view, "preview_volume", functools.partial(prepare3d.preview_volume,
                                                                         max_voxels=20_000))
    win = MainWindow(petct_cache, poll_interval_ms=60_000)
    qtbot.addWidget(win)
    viewer = ViewerWidget(petct_cache)
    win.attach_viewer(viewer)
    win.resize(1200, 800)
    win.show()
    study = demo_uid("small", "petct-2024")
    try:
        qtbot.waitUntil(lambda: win.browser.select_study(study), timeout=WAIT_MS)
        win.browser.activate_study(study)
        qtbot.waitUntil(lambda: viewer.active_widget.model.render() is not None, timeout=WAIT_MS)
        series = viewer.active_widget.model.display_set.series_uid

        _action(win, "&MPR and 3D…").trigger()
        workspace = win.volume_workspaces[-1]
        qtbot.addWidget(workspace)
        frames: list[str] = []
        qtbot.waitUntil(lambda: workspace.view3d is not None, timeout=WAIT_MS)
        view3d = workspace.view3d
        view3d.frame_shown.connect(frames.append)
        qtbot.waitUntil(lambda: getattr(view3d, "_prepare", None) is not None or "full" in frames, timeout=WAIT_MS)
        loading = "full" not in frames  # the worker has started on the full volume
        _action(win, "PET/CT &fusion…").trigger()
        _action(win, "&Curved MPR…").trigger()
        assert loading, frames

        fusion_loader = win.petct_loaders[-1]
        qtbot.waitUntil(lambda: fusion_loader.window is not None, timeout=WAIT_MS)
        fusion = fusion_loader.window
        qtbot.addWidget(fusion)
        qtbot.waitUntil(lambda: bool(getattr(win, "cpr_windows", [])), timeout=WAIT_MS)
        cpr = win.cpr_windows[-1]
        qtbot.addWidget(cpr)
        qtbot.waitUntil(lambda: "full" in frames and workspace.mpr.is_painted, timeout=WAIT_MS)

        assert fusion.isVisible() and fusion.windowTitle() == "PET/CT fusion"
        assert cpr.isVisible() and cpr.volume.series_uid == series
        assert view3d.full_quality and frames[-1] == "full"
        fusion.close()
        cpr.close()
        workspace.close()
    finally:
        win.close()
        viewer.shutdown()
        win.browser.stop()


def test_a_window_set_up_on_the_gui_thread_waits_for_a_workers_set_up() -> None:
    import threading

    from workstation.ui.volume_vtk import set_up_here
    from workstation.volume3d.rendering import OPENGL_SET_UP

    order: list[str] = []
    held, release = threading.Event(), threading.Event()

    def worker() -> None:
        with OPENGL_SET_UP:  # as a 3D worker holds it while its first render makes its context
            held.set()
            release.wait(10)
            order.append("worker")

    thread = threading.Thread(target=worker)
    thread.start()
    assert held.wait(10)
    threading.Timer(0.2, release.set).start()
    set_up_here(lambda: order.append("gui"))
    thread.join(10)
    assert order == ["worker", "gui"]
    assert not OPENGL_SET_UP.locked()
