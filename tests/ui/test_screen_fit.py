"""The reading window on real reading-room screens: it opens inside the screen, and its main controls show.

Each screen size runs the whole window (as ``lightbox`` composes it) in a
child process on Qt's offscreen platform configured with one screen of that
size, opens the demo CT (hung by its protocol, prior beside it) and reports
where the window and its main controls are.  A control counts as shown when
its whole rectangle lies inside the screen and inside every widget around it
(a button scrolled out of a dock, or cut off by a narrow window, does not).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.hanging.conftest import demo  # noqa: F401 - the session's small demo in a home
from workstation.placement import Rect
from workstation.ui.main_window import MINIMUM_SIZE

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import json, sys, time
    from PySide6.QtCore import QEventLoop, QRect
    from PySide6.QtWidgets import QPushButton
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.ui.app import application, compose_main_window

    app = application()
    home = Home.single(sys.argv[1])
    cache = StudyCache.open(home)
    window = compose_main_window(home, cache, listen=False, background=False)
    if len(sys.argv) > 3 and sys.argv[3] != "--dialogs":  # a placement remembered on a larger monitor
        from workstation.placement import PlacementMemory, Rect
        from workstation.ui.window_placement import current_screens
        memory = PlacementMemory(sys.argv[3])
        memory.remember(Rect(300, 200, 2400, 1500), current_screens())
        memory.save()
        window.use_placement_file(sys.argv[3])
    window.show()

    def pump(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def shown(widget):
        # The widget's rectangle on the screen, clipped by every widget around it.
        if not widget.isVisible():
            return None
        rect = QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())
        whole = QRect(rect)
        parent = widget.parentWidget()
        while parent is not None:
            rect = rect.intersected(QRect(parent.mapToGlobal(parent.rect().topLeft()), parent.size()))
            parent = parent.parentWidget()
        return [rect.x(), rect.y(), rect.width(), rect.height()] if rect == whole else \\
            ["clipped", whole.x(), whole.y(), whole.width(), whole.height()]

    pump(0.5)
    window.browser.select_study(sys.argv[2])  # as a click on its row does (QC works on the selection)
    window.browser.activate_study(sys.argv[2])
    end = time.monotonic() + 20
    while time.monotonic() < end and (window.hanging.plan is None
                                      or window.viewer.viewports[0].model.render() is None):
        pump(0.1)
    pump(0.5)
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    out = {"screen": [screen.x(), screen.y(), screen.width(), screen.height()],
           "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
           "minimum": [window.minimumWidth(), window.minimumHeight()],
           "plan": window.hanging.plan.protocol_id if window.hanging.plan else None}
    controls = {}
    sign = [b for b in window.report_panel.findChildren(QPushButton) if b.text().startswith("Sign")]
    controls["Sign & Send"] = shown(sign[0]) if sign else None
    for i, vp in enumerate(window.viewer.viewports[:len(window.viewer.session.visible)]):
        controls[f"viewport {i + 1}"] = shown(vp)
    controls["next stage"] = shown(window.hanging.next_button)
    controls["stage"] = shown(window.hanging.stage_label)
    controls["Save layout"] = shown(window.hanging.save_layout_button)
    window.study_tabs.setCurrentWidget(window.remote)
    pump(0.3)
    controls["Search"] = shown(window.remote.search_button)
    controls["Retrieve"] = shown(window.remote.retrieve_button)
    out["controls"] = controls
    if "--dialogs" in sys.argv:
        # Every window the menus open, closed again at once (modal ones by a timer).
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication, QFileDialog, QMenu

        QFileDialog.getOpenFileNames = staticmethod(lambda *a, **k: ([], ""))
        QFileDialog.getExistingDirectory = staticmethod(lambda *a, **k: "")
        seen = {}

        def close_modal():
            modal = QApplication.activeModalWidget()
            if modal is not None:
                g = modal.frameGeometry()
                seen[modal.windowTitle()] = [g.x(), g.y(), g.width(), g.height()]
                modal.reject()

        timer = QTimer()
        timer.timeout.connect(close_modal)
        timer.start(50)
        skip = ("Quit", "Full screen", "Span two diagnostic monitors", "One stage per monitor")
        for top in window.menuBar().actions():
            for action in top.menu().actions():
                if action.menu() or action.isSeparator() or action.text().replace("&", "") in skip:
                    continue
                before = {id(x) for x in QApplication.topLevelWidgets() if x.isVisible()}
                action.trigger()
                pump(0.6)
                for x in QApplication.topLevelWidgets():
                    if x.isVisible() and id(x) not in before and not isinstance(x, QMenu) and x is not window:
                        g = x.frameGeometry()
                        seen[x.windowTitle()] = [g.x(), g.y(), g.width(), g.height()]
                        x.close()
        timer.stop()
        out["dialogs"] = seen
    window.close()
    pump(0.2)
    cache.close()
    print(json.dumps(out))
""")

SCREENS = {"1024x768": (1024, 768), "1280x1024": (1280, 1024), "1920x1080": (1920, 1080), "2560x1440": (2560, 1440),
           "portrait 1200x1920": (1200, 1920)}


def _run(tmp_path: Path, size: tuple[int, int], home: Path, study_uid: str, *extra: str) -> dict:
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [{"name": "READ", "x": 0, "y": 0, "width": size[0],
                                               "height": size[1], "logicalDpi": 96, "logicalBaseDpi": 96,
                                               "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CHILD, str(home), study_uid, *extra], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _inside(rect, area) -> bool:
    return Rect(*rect).clamped_into(Rect(*area)) == Rect(*rect)


@pytest.mark.parametrize("name", list(SCREENS))
def test_the_window_and_its_main_controls_lie_inside_the_screen(tmp_path, demo, name):  # noqa: F811
    out = _run(tmp_path, SCREENS[name], demo.root / "home", demo.uids["ct-chest-2024"])
    assert out["plan"] == "ct-chest"
    assert _inside(out["frame"], out["screen"]), out
    assert out["minimum"][0] <= MINIMUM_SIZE[0] and out["minimum"][1] <= MINIMUM_SIZE[1]
    print(name, "window", out["frame"], "minimum", out["minimum"])
    for control, rect in out["controls"].items():
        assert rect is not None and rect[0] != "clipped", f"{control} not fully shown on {name}: {rect}"
        assert _inside(rect, out["screen"]), f"{control} outside the screen on {name}: {rect}"
    assert sum(1 for c in out["controls"] if c.startswith("viewport")) >= 2


def test_a_placement_from_a_larger_monitor_is_pulled_onto_the_screen(tmp_path, demo):  # noqa: F811
    out = _run(tmp_path, (1280, 1024), demo.root / "home", demo.uids["ct-chest-2024"],
               str(tmp_path / "window_placement.json"))
    assert _inside(out["frame"], out["screen"]), out


def test_every_window_the_menus_open_fits_a_1280_screen(tmp_path, demo):  # noqa: F811
    out = _run(tmp_path, (1280, 1024), demo.root / "home", demo.uids["ct-chest-2024"], "--dialogs")
    print("windows:", out["dialogs"])
    assert len(out["dialogs"]) >= 8
    for title, rect in out["dialogs"].items():
        assert _inside(rect, out["screen"]), f"{title} does not fit: {rect}"
