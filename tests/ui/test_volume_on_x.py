"""MPR and 3D views on an X display (GLX windows): their windows' first frames are made on a plain thread.

The views run in a child process on an X server this test starts (Xvfb), with
Qt's xcb platform, so the test needs no display and this process's OSMesa
windows are not disturbed.  The child checks that the views come up (every MPR
plane drawn, the 3D preview then the full-quality frame rendered by the worker
in a GLX window of its own), that a view hidden before its windows were set up
comes up once shown again, and that closing and finalizing leaves nothing
running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

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


def test_views_come_up_on_an_x_display(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x1024x24", "-nolisten", "tcp",
                             "+extension", "GLX", "-noreset"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            display = pipe.readline().strip()  # Xvfb writes the display number once it listens
        assert display.isdigit(), "Xvfb did not start"
        env = dict(os.environ, DISPLAY=f":{display}", QT_QPA_PLATFORM="xcb", PYTHONPATH=str(REPO))
        done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", _CHILD], env=env, cwd=tmp_path,
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert "views up" in done.stdout and "hidden view up" in done.stdout and "closed" in done.stdout, out[-4000:]
