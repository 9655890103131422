"""MPR and 3D views on an X display (GLX windows): their windows' first frames are made on a plain thread.

The views run in a child process on an X server this test starts (Xvfb), with
Qt's xcb platform, so the test needs no display and this process's OSMesa
windows are not disturbed.  The child checks that the views come up (every MPR
plane drawn, the 3D preview then the full-quality frame rendered by the worker
in a GLX window of its own), that a view hidden before its windows were set up
comes up once shown again, and that closing and finalizing leaves nothing
running.  A second child opens MPR and 3D, then the PET/CT fusion and curved MPR
windows from the Tools menu while the 3D worker makes its GLX window and frame.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.xvfb import xvfb_display

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb (packaging/setup-debian.sh installs it)")

_CHILD = textwrap.dedent("""
    import time

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    assert app.platformName() == "xcb", app.platformName()

    from tests.volume3d.conftest import phantom
    from workstation.ui.mpr_view import MprView
    from workstation.ui.volume_view import VolumeView
    from workstation.ui.volume_vtk import first_frame_off_thread

    def run_until(done, seconds=60):
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
        return done()

    vol = phantom(shape=(132, 128, 128))  # above the 3D preview's budget: preview, then the worker's frame
    mpr = MprView(vol, (0.0, 1000.0))
    view3d = VolumeView(vol, "cpu")
    frames = []
    view3d.frame_shown.connect(frames.append)
    for w in (mpr, view3d):
        w.resize(500, 400)
        w.show()
    mpr.start()
    view3d.start()
    assert run_until(lambda: mpr.is_painted and frames[-1:] == ["full"]), (mpr.is_painted, frames)
    assert all(first_frame_off_thread(w) for w in mpr.vtk_widgets.values())
    assert mpr._first_frames is not None and frames == ["preview", "full"]
    assert view3d.scene.showing_frame  # the worker's own frame, rendered beside the GLX windows
    print("views up")

    hidden = MprView(vol, (0.0, 1000.0), planes=("axial",))
    hidden.resize(300, 300)
    hidden.show()
    hidden.start()  # the widget is made now; its window is set up in a later turn
    hidden.hide()
    assert not run_until(lambda: hidden.is_painted, 1)
    hidden.show()
    assert run_until(lambda: hidden.is_painted), "a view shown again comes up"
    print("hidden view up")

    for w in (mpr, view3d, hidden):
        w.close()
    app.processEvents()
    for w in (mpr, view3d, hidden):
        w.shutdown()
    print("closed")
""")


_TOOL_WINDOWS_CHILD = textwrap.dedent("""
    import functools
    import os
    import time
    from pathlib import Path

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    assert app.platformName() == "xcb", app.platformName()

    import workstation.ui.volume_view as volume_view
    from workstation.demo.plan import demo_uid
    from workstation.demo.studies import generate_demo_studies
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.store.importer import import_paths
    from workstation.ui.main_window import MainWindow
    from workstation.ui.viewer.viewer import ViewerWidget
    from workstation.volume3d import prepare3d

    def run_until(done, seconds=120):
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
        return done()

    def action(win, text):
        return next(a for a in win.tools_menu.actions() if a.text() == text)

    # The preview first and the full volume from the worker (in a GLX window of its own).
    volume_view.preview_volume = functools.partial(prepare3d.preview_volume, max_voxels=20_000)
    generate_demo_studies(Path("demo"), size="small")
    with StudyCache.open(Home.single(Path(os.environ["LIGHTBOX_HOME"])).ensure()) as cache:
        import_paths(cache, [Path("demo") / "LBX-0001" / "20240415_PETCT_FDG"], workers=1)
        win = MainWindow(cache, poll_interval_ms=60_000)
        viewer = ViewerWidget(cache)
        win.attach_viewer(viewer)
        win.resize(1200, 800)
        win.show()
        study = demo_uid("small", "petct-2024")
        assert run_until(lambda: win.browser.select_study(study))
        win.browser.activate_study(study)
        assert run_until(lambda: viewer.active_widget.model.render() is not None)
        action(win, "&MPR and 3D…").trigger()
        workspace = win.volume_workspaces[-1]
        assert run_until(lambda: workspace.view3d is not None)
        view3d = workspace.view3d
        frames = []
        view3d.frame_shown.connect(frames.append)
        assert run_until(lambda: getattr(view3d, "_prepare", None) is not None or "full" in frames)
        assert "full" not in frames, frames
        action(win, "PET/CT &fusion…").trigger()
        action(win, "&Curved MPR…").trigger()
        fusion_loader = win.petct_loaders[-1]
        assert run_until(lambda: fusion_loader.window is not None
                         and bool(getattr(win, "cpr_windows", []))
                         and "full" in frames and workspace.mpr.is_painted), frames
        assert fusion_loader.window.isVisible() and win.cpr_windows[-1].isVisible()
        assert view3d.full_quality and view3d.scene.showing_frame
        print("tool windows up")
        for w in (fusion_loader.window, win.cpr_windows[-1], workspace):
            w.close()
        app.processEvents()
        workspace.stop()
        win.close()
        viewer.shutdown()
        win.browser.stop()
        app.processEvents()
    print("closed")
""")


def _run_on_xvfb(child: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run ``child`` in a Python process on an Xvfb server started (and stopped) here, with Qt's xcb platform.

    The child's home (``LIGHTBOX_HOME``) is a folder of ``tmp_path``, as in-process tests get theirs.
    """
    home = tmp_path / "lightbox-home"
    home.mkdir(exist_ok=True)
    with xvfb_display("1280x1024") as display:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(REPO),
                   LIGHTBOX_HOME=str(home), LIGHTBOX_SYSTEM_CONFIG=str(tmp_path / "no-system-config.json"),
                   LIGHTBOX_ASK_UNSAVED="0")
        return subprocess.run([sys.executable, "-X", "faulthandler", "-c", child], env=env, cwd=tmp_path,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def test_views_come_up_on_an_x_display(tmp_path: Path) -> None:
    done = _run_on_xvfb(_CHILD, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "views up" in done.stdout and "hidden view up" in done.stdout and "closed" in done.stdout, out[-4000:]


def test_curved_mpr_and_fusion_open_while_the_3d_view_loads_on_an_x_display(tmp_path: Path) -> None:
    done = _run_on_xvfb(_TOOL_WINDOWS_CHILD, tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "tool windows up" in done.stdout and "closed" in done.stdout, out[-4000:]
