"""The walk-through: the real ``lightbox demo`` under Xvfb, driven with X events, screenshots kept.

Runs ``tests/ui/walkthrough/walk.py`` (see its docstring and ``steps.txt``) on
its own X server at 1920x1080 and at 1280x1024: open the demo CT with its prior,
scroll, window, zoom with the toolbar's Zoom tool, measure a length, open MPR of
the viewport from its menu and close it.  Fails on any failed step and on any
traceback in the application's output.  Screenshots stay in the test's tmp dir
(printed), or in $LIGHTBOX_WALK_DIR when set, to be looked at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "walkthrough"
REPO = HERE.parents[2]

pytestmark = pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                                reason="needs Xvfb and xdotool (packaging/setup-debian.sh installs both)")


def _free_display() -> int:
    for n in range(80, 120):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


@pytest.mark.slow
@pytest.mark.parametrize("size", ["1920x1080", "1280x1024"])
def test_walk_through_the_demo_with_x_events(tmp_path, size):
    out = Path(os.environ.get("LIGHTBOX_WALK_DIR", tmp_path)) / size
    out.mkdir(parents=True, exist_ok=True)
    display = _free_display()
    xvfb = subprocess.Popen(["Xvfb", f":{display}", "-screen", "0", f"{size}x24", "-nolisten", "tcp",
                             "+extension", "GLX", "+render", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not Path(f"/tmp/.X11-unix/X{display}").exists():
            assert xvfb.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.1)
        env = dict(os.environ, DISPLAY=f":{display}", QT_QPA_PLATFORM="xcb", PYTHONPATH=str(REPO))
        env.pop("LIGHTBOX_HOME", None)
        log = out / "app.log"
        with log.open("w") as sink:
            done = subprocess.run([sys.executable, str(HERE / "walk.py"), str(tmp_path / "home"), str(out),
                                   str(HERE / "steps.txt")], env=env, cwd=tmp_path, stdout=sink,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=400)
    finally:
        xvfb.terminate()
        xvfb.wait(10)
    walk = (out / "walk.log").read_text()
    app = log.read_text(errors="replace")
    print(f"\nwalk-through on {size}: screenshots in {out}\n{walk}")
    assert "walk done" in walk, walk + app[-3000:]
    assert "Traceback" not in app and "Error calling Python override" not in app, app[-5000:]
    assert done.returncode == 0, app[-3000:]
    shots = sorted(p.name for p in out.glob("*.png"))
    assert len(shots) == 7, shots
