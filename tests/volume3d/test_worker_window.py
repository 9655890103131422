"""The 3D worker renders in a window of the kind the view draws with: OSMesa beside OSMesa, GLX beside GLX.

VTK loads the OpenGL functions once per process, so a worker's window of the
other kind would crash the process; one of the same kind renders beside the
view's window, each context current in its own thread.  The GLX case runs in a
child process on an X server this test starts (Xvfb), so it needs no display
and cannot disturb this process's OSMesa windows.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from vtkmodules.vtkRenderingOpenGL2 import vtkXOpenGLRenderWindow

from tests.xvfb import xvfb_display

from workstation.volume3d.rendering import offscreen_window, worker_window_maker, x_offscreen_window

REPO = Path(__file__).resolve().parents[2]


def test_the_worker_window_is_of_the_views_kind() -> None:
    assert worker_window_maker(offscreen_window(8, 8)) is offscreen_window
    assert worker_window_maker(vtkXOpenGLRenderWindow()) is x_offscreen_window  # no display needed to ask


# Run in the child process, on the test's X server: the view's window renders on the main
# thread (GLX) while the worker prepares the full volume and renders its frame in a GLX
# window of its own; the frame must be the view's own render.
_CHILD = textwrap.dedent("""
    import threading

    import numpy as np

    from tests.volume3d.conftest import phantom
    from workstation.volume3d.prepare3d import FrameRequest, camera_of, prepare_full
    from workstation.volume3d.presets import load_preset
    from workstation.volume3d.rendering import capture, worker_window_maker, x_offscreen_window
    from workstation.volume3d.scene3d import VolumeScene

    vol = phantom(shape=(40, 40, 40))
    preset = load_preset("ct-bone")
    window = x_offscreen_window(80, 60)
    scene = VolumeScene(vol, mapper="cpu")
    scene.attach(window)
    scene.apply_preset(preset)
    scene.view(30, 10)
    scene.cube_renderer.SetDraw(False)  # the worker draws the volume only
    window.Render()
    expected = capture(window)
    request = FrameRequest(80, 60, camera_of(scene.renderer), scene.blend, scene.clipping_planes(),
                           tuple(scene.renderer.GetBackground()), ("key",))
    render_in = worker_window_maker(window)
    assert render_in is x_offscreen_window, render_in
    out = {}
    worker = threading.Thread(target=lambda: out.setdefault("p", prepare_full(vol, "cpu", preset, request,
                                                                                render_in=render_in)))
    worker.start()
    for _ in range(20):  # the view's window keeps rendering meanwhile
        scene.renderer.GetActiveCamera().Azimuth(0.0)
        window.Render()
    worker.join(120)
    prepared = out["p"]
    assert prepared.frame is not None and prepared.frame.shape == (60, 80, 3)
    assert int(expected.max()) > 50, "the view rendered nothing"
    diff = int(np.abs(prepared.frame.astype(int) - expected.astype(int)).max())
    assert diff <= 2, diff
    window.Finalize()
    print("worker frame ok")
""")


@pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb (packaging/setup-debian.sh installs it)")
def test_beside_a_glx_view_the_worker_renders_the_same_frame_with_glx(tmp_path: Path) -> None:
    with xvfb_display("640x480") as display:
        env = dict(os.environ, DISPLAY=display, PYTHONPATH=str(REPO))
        done = subprocess.run([sys.executable, "-c", _CHILD], env=env, cwd=tmp_path, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 0 and "worker frame ok" in done.stdout, (done.stdout + done.stderr)[-3000:]
