"""View › Display test patterns: TG18-QC full screen, one pattern pixel per screen pixel, through the monitor's
GSDF at 10 bits; keys page through the patterns; the conformance check typed in or read from a CSV goes to the
station's QA log."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from workstation.config import SettingsSource
from workstation.display.conformance import QA_LOG_NAME, read_qa_log
from workstation.display.gsdf import gsdf_luminances
from workstation.display.settings import DisplaySettings, MonitorCalibration
from workstation.ui.display_calibration import attach_display_calibration
from workstation.ui.display_patterns import attach_display_patterns
from workstation.ui.main_window import MainWindow
from workstation.ui.viewer.viewer import ViewerWidget

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, cache, home):
    w = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(w)
    w.attach_viewer(ViewerWidget(cache))
    source = SettingsSource(home.config_file)
    attach_display_calibration(w, source)
    attach_display_patterns(w, home, source)
    w.resize(900, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.viewer.shutdown()


def _view_action(window, text):
    view = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "View")
    return next(a for a in view.actions() if a.text().replace("&", "").startswith(text))


def _pixel(image: QImage, x: int, y: int) -> int:
    row = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.height() * image.bytesPerLine() // 4)
    return int(row[y * image.bytesPerLine() // 4 + x])


def _linear(v: float) -> int:  # PS3.3 C.11.2.1.2.1 with TG18-QC's WL/WW 2048/4096
    return int(np.floor(((v - 2047.5) / 4095 + 0.5) * 255))


def test_tg18_qc_full_screen_through_the_monitors_gsdf_at_10_bits(qtbot, window):
    calibration = window.display_calibration
    settings = DisplaySettings("10", False, ()).with_monitor(
        calibration.monitor, MonitorCalibration(mode="gsdf", l_min=0.6, l_max=350.0, gamma=2.2, ambient=0.4))
    calibration.source.update(lambda s: setattr(s, "extra", settings.to_extra(s.extra)))
    _view_action(window, "Display test patterns").trigger()
    patterns = window.pattern_window
    qtbot.waitExposed(patterns)
    assert patterns.isFullScreen() and patterns.screen() is QApplication.primaryScreen()
    assert patterns.pattern.name == "TG18-QC" and patterns.output.bits == 10
    screen = patterns.screen().geometry()
    target = QImage(patterns.size(), QImage.Format.Format_RGB30)
    patterns.render(target)
    # 1:1 and centred: pattern pixel (x, y) is screen pixel (x + dx, y + dy).
    dx, dy = (screen.width() - 1024) // 2, (screen.height() - 1024) // 2
    table = patterns.output.grey_table
    for x, y, value in ((257, 257, 1408),     # the 1408 step, top-left cell of the ring
                        (208, 208, 1408 - 64),  # its upper-left corner square
                        (306, 208, 1408 + 64),  # its upper-right corner square
                        (360, 360, 2048)):    # background, inside the ring
        got = _pixel(target, x + dx, y + dy) & 0x3FF
        assert got == int(table[_linear(value)]) & 0x3FF, (x, y)
    # The GSDF, not the identity: the step's level differs from the plain 10-bit value of its P-value.
    assert int(table[_linear(1408)]) & 0x3FF != round(_linear(1408) * 1023 / 255)
    qtbot.keyClick(patterns, Qt.Key.Key_Right)
    assert patterns.pattern.name == "TG18-LN12-01"
    qtbot.keyClick(patterns, Qt.Key.Key_Left)
    qtbot.keyClick(patterns, Qt.Key.Key_Left)
    assert patterns.pattern.name == "TG18-AD"
    qtbot.keyClick(patterns, Qt.Key.Key_H)
    assert not patterns.caption
    qtbot.keyClick(patterns, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not patterns.isVisible(), timeout=5000)


def test_conformance_typed_in_and_from_csv_is_logged(qtbot, window, home, tmp_path):
    _view_action(window, "Display conformance check").trigger()
    dialog = window.conformance_dialog
    qtbot.waitExposed(dialog)
    good = gsdf_luminances(0.8, 400.0, 256)[::15]
    for spin, value in zip(dialog.inputs, good, strict=True):
        spin.selectAll()
        qtbot.keyClicks(spin, f"{value:.3f}")
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    assert dialog.verdict.text().startswith("PASS") and "Kept in the QA log" in dialog.verdict.text()
    csv = tmp_path / "messung.csv"
    gamma = 0.8 + 399.2 * (np.arange(18) / 17) ** 2.2
    csv.write_text("LN;cd/m2\n" + "".join(f"{i + 1};{v:.3f}\n" for i, v in enumerate(gamma)), encoding="utf-8")
    dialog.ask_open_file = lambda _title, _filters: str(csv)
    qtbot.mouseClick(dialog.csv_button, Qt.MouseButton.LeftButton)
    assert "Read 18 luminances" in dialog.verdict.text()
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    assert dialog.verdict.text().startswith("FAIL")
    entries = read_qa_log(home.data_dir / QA_LOG_NAME)
    assert [e["passed"] for e in entries] == [True, False]
    assert entries[0]["monitor"] == window.display_calibration.monitor
    # Bad input: a CSV with too few values, then readings that do not rise.
    csv.write_text("1,2\n2,3\n", encoding="utf-8")
    qtbot.mouseClick(dialog.csv_button, Qt.MouseButton.LeftButton)
    assert "holds 2 luminances; 18 are needed" in dialog.verdict.text()
    dialog.inputs[5].setValue(0.1)
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    assert dialog.verdict.text().startswith("Not checked") and len(read_qa_log(home.data_dir / QA_LOG_NAME)) == 2


def test_caption_never_covers_the_pattern(qtbot, window):
    _view_action(window, "Display test patterns").trigger()
    patterns = window.pattern_window
    qtbot.waitExposed(patterns)
    box = patterns.caption_rect()
    w, h = patterns.width(), patterns.height()
    pattern_box = ((w - 1024) / 2, (h - 1024) / 2, (w + 1024) / 2, (h + 1024) / 2)
    if box is not None:
        overlap_x = min(box.right(), pattern_box[2]) - max(box.left(), pattern_box[0])
        overlap_y = min(box.bottom(), pattern_box[3]) - max(box.top(), pattern_box[1])
        assert overlap_x <= 0 or overlap_y <= 0
    patterns.close()


CHILD = r"""
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from workstation.config import SettingsSource
from workstation.display.settings import DisplaySettings, MonitorCalibration
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.display_calibration import attach_display_calibration
from workstation.ui.display_patterns import attach_display_patterns
from workstation.ui.main_window import MainWindow
from workstation.ui.viewer.viewer import ViewerWidget

home = Home.single(sys.argv[1]).ensure()
cache = StudyCache.open(home)
source = SettingsSource(home.config_file)
settings = (DisplaySettings().with_monitor("DIAG-L@1600x1200", MonitorCalibration(mode="gsdf", l_min=0.5, l_max=400.0))
            .with_monitor("DIAG-R@1600x1200", MonitorCalibration(mode="calibrated")))
source.update(lambda s: setattr(s, "extra", settings.to_extra(s.extra)))
window = MainWindow(cache, poll_interval_ms=10_000)
window.attach_viewer(ViewerWidget(cache))
calibration = attach_display_calibration(window, source)
attach_display_patterns(window, home, source)
window.setGeometry(100, 100, 1200, 800)
window.show()
app.processEvents()
out = {"first": calibration.monitor, "first_output": calibration.output.description,
       "viewer_output": window.viewer.session.display.output.description}
# The reader drags the window onto the right-hand monitor: Qt reports the new screen.
window.setGeometry(1700, 100, 1200, 800)
for _ in range(20):
    app.processEvents()
out["moved"] = calibration.monitor
out["moved_output"] = window.viewer.session.display.output.description
asked = []
window.ask_pattern_monitor = lambda parent, keys, current: (
    asked.append((keys, current)), keys.index("DIAG-L@1600x1200"))[1]
window.display_patterns_action.trigger()
app.processEvents()
patterns = window.pattern_window
g = patterns.geometry()
out["asked"] = asked[0]
out["pattern_screen"] = patterns.screen().name()
out["pattern_geometry"] = [g.x(), g.y(), g.width(), g.height()]
out["pattern_output"] = patterns.output.description
from workstation.ui.display_patterns import pattern_size_for
out["sizes"] = [pattern_size_for(s) for s in app.screens()]
patterns.close()
window.viewer.shutdown()
window.close()
cache.close()
print(json.dumps(out))
"""


def test_patterns_on_the_chosen_monitor_and_the_viewer_follows_its_window(tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    config = tmp_path / "screens.json"
    config.write_text(json.dumps({"screens": [
        {"name": name, "x": x, "y": 0, "width": 1600, "height": 1200, "logicalDpi": 96, "logicalBaseDpi": 96,
         "dpr": 1} for name, x in (("DIAG-L", 0), ("DIAG-R", 1600))]
        + [{"name": "MAMMO", "x": 3200, "y": 0, "width": 2048, "height": 2560, "logicalDpi": 96,
            "logicalBaseDpi": 96, "dpr": 1}]}))
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", PYTHONPATH=str(repo))
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "home")], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["first"] == "DIAG-L@1600x1200" and out["first_output"] == "GSDF, 8-bit"
    assert out["viewer_output"] == "GSDF, 8-bit"
    assert out["moved"] == "DIAG-R@1600x1200" and out["moved_output"] == "calibrated in the display, 8-bit"
    assert out["asked"] == [["DIAG-L@1600x1200", "DIAG-R@1600x1200", "MAMMO@2048x2560"], 1]  # the window's first
    assert out["sizes"] == [1024, 1024, 2048]  # the 2k patterns on the 2k monitor
    assert out["pattern_screen"] == "DIAG-L" and out["pattern_geometry"] == [0, 0, 1600, 1200]
    assert out["pattern_output"] == "GSDF, 8-bit"
