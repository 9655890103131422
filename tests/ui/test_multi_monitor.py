"""Layouts across monitors: one reading window spanning two diagnostic monitors, or one protocol stage on each.

The in-process tests hand the layouts a made-up set of monitors; the last test
starts Lightbox's window in a child process on Qt's offscreen platform
configured with three real (virtual) screens, so the monitors come from Qt.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.hanging.conftest import demo  # noqa: F401 - the session's demo studies
from workstation.placement import Rect, Screen
from workstation.store.importer import import_paths
from workstation.ui.hanging_menu import attach_hanging
from workstation.ui.main_window import MainWindow
from workstation.ui.multi_monitor import NEEDS_TWO, attach_monitor_layouts
from workstation.ui.viewer.viewer import ViewerWidget

WAIT_MS = 20_000
REPO = Path(__file__).resolve().parents[2]

# Two 1600x1200 diagnostic monitors side by side and a smaller colour monitor for the worklist.
STATION = [
    Screen("DIAG-L", Rect(0, 0, 1600, 1200), Rect(0, 0, 1600, 1200), primary=True),
    Screen("DIAG-R", Rect(1600, 0, 1600, 1200), Rect(1600, 0, 1600, 1200)),
    Screen("WORKLIST", Rect(3200, 0, 1280, 1024), Rect(3200, 0, 1280, 984)),
]
LAPTOP = [Screen("LAPTOP", Rect(0, 0, 1920, 1080), Rect(0, 0, 1920, 1040), primary=True)]


def _window(qtbot, cache, home, screens):
    window = MainWindow(cache, poll_interval_ms=10_000)
    qtbot.addWidget(window)
    window.attach_viewer(ViewerWidget(cache))
    attach_hanging(window, home, prefetch=False)
    layouts = attach_monitor_layouts(window, home, cache, screens=lambda: screens)
    window.show()
    # After the first show, which keeps the window inside Qt's own (offscreen) screen: the made-up
    # monitors above are larger than it.
    window.setGeometry(100, 100, 1200, 800)
    return window, layouts


def _close(qtbot, window):
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)


def _geometry(w):
    g = w.geometry()
    return (g.x(), g.y(), g.width(), g.height())


def test_span_covers_both_diagnostic_monitors_and_gives_the_window_back(qtbot, cache, home):
    window, layouts = _window(qtbot, cache, home, STATION)
    try:
        view = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View")
        assert layouts.span_action in view.actions() and layouts.stages_action in view.actions()
        before = _geometry(window)
        assert layouts.span(True) and layouts.mode == "span"
        assert _geometry(window) == (0, 0, 3200, 1200)  # both diagnostic monitors, not the worklist one
        assert not window.study_list_widget().isVisible()
        assert layouts.span(False) and layouts.mode == "normal"
        assert _geometry(window) == before and window.study_list_widget().isVisible()
    finally:
        _close(qtbot, window)


def test_one_monitor_refuses_with_a_message_and_changes_nothing(qtbot, cache, home):
    window, layouts = _window(qtbot, cache, home, LAPTOP)
    try:
        before = _geometry(window)
        messages = []
        window.statusBar().messageChanged.connect(messages.append)
        assert not layouts.span(True)
        assert not layouts.stages(True)
        assert layouts.mode == "normal" and layouts.stage_window is None
        assert not layouts.span_action.isChecked() and not layouts.stages_action.isChecked()
        assert NEEDS_TWO in messages and _geometry(window) == before
    finally:
        _close(qtbot, window)


def test_one_stage_per_monitor_follows_the_main_window(qtbot, cache, home, demo):  # noqa: F811
    for key in ("ct-chest-2024", "ct-chest-2023"):
        assert import_paths(cache, demo.files[key], workers=1).imported == len(demo.files[key])
    window, layouts = _window(qtbot, cache, home, STATION)
    try:
        assert layouts.stages(True) and layouts.mode == "stages"
        sw = layouts.stage_window
        assert _geometry(window) == (0, 0, 1600, 1200) and _geometry(sw) == (1600, 0, 1600, 1200)
        assert sw.note.isVisibleTo(sw) and "No study open" in sw.note.text()

        window.viewer.open_study(demo.uids["ct-chest-2024"])
        controller = window.hanging
        qtbot.waitUntil(lambda: controller.plan is not None and sw.hanging.plan is not None, timeout=WAIT_MS)
        assert controller.plan.protocol_id == "ct-chest" and controller.stage == 0
        assert sw.hanging.plan.protocol_id == "ct-chest" and sw.hanging.stage == 1  # stage 2 on the right
        assert sw.viewer.session.patient.study_uid == demo.uids["ct-chest-2024"]
        assert not sw.note.isVisibleTo(sw)
        # every viewport of the second window says whose images they are
        assert sw.viewer.session.patient.patient_id == window.viewer.session.patient.patient_id

        controller.show_stage(1)
        assert sw.hanging.stage == 2
        controller.show_stage(2)  # the last stage: nothing after it for the right monitor
        assert sw.hanging.plan is None and "has no stage 4" in sw.note.text()
        controller.show_stage(0)
        assert sw.hanging.stage == 1 and not sw.note.isVisibleTo(sw)

        window.viewer.close_session()
        qtbot.waitUntil(lambda: "No study open" in sw.note.text(), timeout=WAIT_MS)
        assert sw.viewer.session.patient is None

        # span takes over from stages: the second window goes away
        assert layouts.stages(False) and layouts.mode == "normal"
        before = _geometry(window)  # the normal geometry (its width may have grown to fit the hung layout's bars)
        assert layouts.span(True) and layouts.mode == "span" and layouts.stage_window is None
        assert layouts.stages(True) and layouts.mode == "stages" and not layouts.span_action.isChecked()
        assert layouts.stages(False) and layouts.mode == "normal" and layouts.stage_window is None
        assert _geometry(window) == before and before[:2] == (100, 100)
    finally:
        _close(qtbot, window)
    assert layouts.stage_window is None


def test_the_layout_in_use_at_exit_comes_back_at_the_next_start(qtbot, cache, home, tmp_path):
    path = tmp_path / "window_placement.json"
    window, layouts = _window(qtbot, cache, home, STATION)
    window.use_placement_file(path)
    window.setGeometry(100, 100, 1300, 800)
    normal = _geometry(window)
    assert layouts.span(True)
    _close(qtbot, window)
    saved = json.loads(path.read_text())
    assert saved["monitor_layout"] == "span"
    assert list(saved["screens"].values())[0]["width"] == normal[2]  # the normal geometry, never the span

    again, layouts = _window(qtbot, cache, home, STATION)
    again.use_placement_file(path)
    assert layouts.restore() == "span" and _geometry(again) == (0, 0, 3200, 1200)
    _close(qtbot, again)

    # at a station with one monitor the window simply opens normally, without a complaint
    laptop, layouts = _window(qtbot, cache, home, LAPTOP)
    laptop.use_placement_file(path)
    messages = []
    laptop.statusBar().messageChanged.connect(messages.append)
    assert layouts.restore() == "normal" and NEEDS_TWO not in messages
    _close(qtbot, laptop)
    assert json.loads(path.read_text())["monitor_layout"] == "normal"


CHILD = textwrap.dedent("""
    import json, sys
    from PySide6.QtWidgets import QApplication
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.ui.hanging_menu import attach_hanging
    from workstation.ui.main_window import MainWindow
    from workstation.ui.multi_monitor import attach_monitor_layouts
    from workstation.ui.viewer.viewer import ViewerWidget
    from workstation.ui.window_placement import current_screens

    app = QApplication([])
    home = Home.single(sys.argv[1]).ensure()
    cache = StudyCache.open(home)
    window = MainWindow(cache, poll_interval_ms=10_000)
    window.attach_viewer(ViewerWidget(cache))
    attach_hanging(window, home, prefetch=False)
    layouts = attach_monitor_layouts(window, home, cache)
    window.setGeometry(3220, 50, 1240, 700)
    window.show()
    app.processEvents()
    out = {"screens": [s.name for s in current_screens()]}
    g = lambda w: [w.geometry().x(), w.geometry().y(), w.geometry().width(), w.geometry().height()]
    out["span"] = layouts.span(True)
    app.processEvents()
    out["span_geometry"] = g(window)
    out["span_screen"] = window.screen().name()
    out["stages"] = layouts.stages(True)
    app.processEvents()
    out["main_geometry"] = g(window)
    out["second_geometry"] = g(layouts.stage_window)
    out["second_screen"] = layouts.stage_window.screen().name()
    window.close()
    app.processEvents()
    out["after_close"] = layouts.mode
    out["restored_geometry"] = g(window)
    window.viewer.shutdown()
    cache.close()
    print(json.dumps(out))
""")


def test_with_three_screens_from_qt(tmp_path):
    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [
        {"name": name, "x": x, "y": 0, "width": w, "height": h, "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}
        for name, x, w, h in (("DIAG-L", 0, 1600, 1200), ("DIAG-R", 1600, 1600, 1200),
                              ("WORKLIST", 3200, 1280, 1024))]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "home")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["screens"] == ["DIAG-L", "DIAG-R", "WORKLIST"]
    assert out["span"] and out["span_geometry"] == [0, 0, 3200, 1200]
    assert out["stages"] and out["main_geometry"] == [0, 0, 1600, 1200]
    assert out["second_geometry"] == [1600, 0, 1600, 1200] and out["second_screen"] == "DIAG-R"
    assert out["after_close"] == "normal" and out["restored_geometry"] == [3220, 50, 1240, 700]
