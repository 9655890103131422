"""The calibrated display in the window: Settings › Display sets a monitor's GSDF, the viewer paints through it
at 10 bits per channel (Qt's 30-bit image format, on the offscreen platform), About and the status bar say so,
and the window follows the monitor it is on."""

from __future__ import annotations

import glob

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QTabBar

from tests.ui.viewer_helpers import WAIT_MS, view_point_of
from tests.viewer_phantom import phantom_study
from workstation.config import SettingsSource
from workstation.display.settings import DisplaySettings, MonitorCalibration
from workstation.ui import display_calibration as dc
from workstation.ui.main_window import MainWindow
from workstation.ui.settings_dialog import attach_settings
from workstation.ui.viewer.viewer import ViewerWidget

pytestmark = pytest.mark.gui
MONITOR_LUT = (sorted(glob.glob("/usr/share/dcmtk*/monitor.lut")) or [""])[0]


@pytest.fixture
def window(qtbot, cache, home, tmp_path):
    uid = phantom_study(cache, tmp_path / "p", 3)
    w = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(w)
    w.attach_viewer(ViewerWidget(cache))
    source = SettingsSource(home.config_file)
    attach_settings(w, home, source)
    dc.attach_display_calibration(w, source)
    w.resize(1200, 850)
    w.show()
    qtbot.waitExposed(w)
    assert w.viewer.open_study(uid)
    vp = w.viewer.viewports[0]
    qtbot.waitUntil(lambda: vp.model.pixels is not None and vp.model.pixels.done, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: vp.paint_count > 0 and vp.model.render() is not None, timeout=WAIT_MS)
    yield w
    w.viewer.shutdown()


def _settings_dialog(qtbot, window):
    window.settings_action.trigger()
    dialog = window.settings_dialog
    bar = dialog.tabs.findChild(QTabBar)
    index = [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())].index("Display")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentWidget() is dialog.display_page
    return dialog


def _choose(qtbot, combo, data) -> None:
    combo.setFocus()
    index = combo.findData(data)
    assert index >= 0
    while combo.currentIndex() != index:  # the keys a reader would press
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < index else Qt.Key.Key_Up)


@pytest.mark.skipif(not MONITOR_LUT, reason="DCMTK's monitor.lut is not installed")
def test_gsdf_set_in_settings_is_painted_at_10_bits(qtbot, window):
    calibration = window.display_calibration
    assert calibration.label.text() == "Display: no display function, 8-bit"
    dialog = _settings_dialog(qtbot, window)
    page = dialog.display_page
    assert page.monitor.currentData() == calibration.monitor != ""
    _choose(qtbot, page.mode, "gsdf")
    page.ask_open_file = lambda _title, _filters: MONITOR_LUT
    qtbot.mouseClick(page.browse, Qt.MouseButton.LeftButton)
    assert "GSDF from 1.19 to 116.9 cd/m²" in page.summary.text()
    _choose(qtbot, page.surface, "10")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert "Saved" in dialog.message.text()
    saved = DisplaySettings.from_extra(dialog.source.current().extra)
    assert saved.surface_bits == "10"
    assert saved.for_monitor(calibration.monitor).characteristic_file == MONITOR_LUT
    assert calibration.label.text() == "Display: GSDF, 10-bit"
    dialog.close()

    vp = window.viewer.viewports[0]
    output = window.viewer.session.display.output
    assert output is calibration.output and output.bits == 10
    vp.repaint()
    assert vp._image.format() == QImage.Format.Format_RGB30
    # Paint the viewport into a 30-bit image: the 10-bit levels survive Qt's painting.
    target = QImage(vp.size(), QImage.Format.Format_RGB30)
    vp.smooth = False
    vp.render(target)
    frame = vp.model.render().pixels
    painted = []
    for x, y in ((30, 30), (5, 40)):  # inside the phantom's square, and air
        at = view_point_of(vp, x + 0.5, y + 0.5)
        painted.append(_pixel30(target, at) & 0x3FF)
        assert painted[-1] == int(frame[y, x]) & 0x3FF
    assert painted[0] != painted[1]
    # The phantom's grey levels went through the GSDF table, not straight to the screen.
    levels = {int(v) & 0x3FF for v in np.unique(frame)}
    assert levels <= {int(v) & 0x3FF for v in output.grey_table}

    window.about_action.trigger()
    assert "Display: GSDF, 10-bit on " + calibration.monitor in window.about_box.text()
    window.about_box.close()


def _pixel30(image: QImage, at: QPoint) -> int:
    bits = image.constBits()
    row = np.frombuffer(bits, dtype=np.uint32, count=image.height() * image.bytesPerLine() // 4)
    return int(row[at.y() * image.bytesPerLine() // 4 + at.x()])


def test_moving_to_another_monitor_switches_its_calibration(qtbot, window, monkeypatch):
    calibration = window.display_calibration
    here = calibration.monitor
    settings = DisplaySettings("8", True, ()).with_monitor("RIGHT@2048x2560", MonitorCalibration(mode="calibrated"))
    settings = settings.with_monitor(here, MonitorCalibration(mode="gsdf", l_min=0.5, l_max=300.0, gamma=2.2))
    calibration.source.update(lambda s: setattr(s, "extra", settings.to_extra(s.extra)))
    assert calibration.label.text() == "Display: GSDF, 8-bit, dithered"
    assert window.viewer.session.display.output.dithered
    # The window lands on the other monitor: Qt tells the window's QWindow.
    monkeypatch.setattr(dc, "monitor_key", lambda _screen: "RIGHT@2048x2560")
    window.windowHandle().screenChanged.emit(QApplication.primaryScreen())
    assert calibration.monitor == "RIGHT@2048x2560"
    assert calibration.label.text() == "Display: calibrated in the display, 8-bit, dithered"
    assert window.viewer.session.display.output is calibration.output


def test_unusable_calibration_still_shows_images_and_says_why(qtbot, window, tmp_path):
    calibration = window.display_calibration
    bad = DisplaySettings().with_monitor(calibration.monitor,
                                         MonitorCalibration(mode="gsdf", characteristic_file=str(tmp_path / "no.lut")))
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    calibration.source.update(lambda s: setattr(s, "extra", bad.to_extra(s.extra)))
    assert calibration.label.text() == "Display: no display function, 8-bit"
    assert any("GSDF not applied" in m and "cannot read" in m for m in messages)
    assert window.viewer.viewports[0].model.render() is not None


def test_second_monitor_window_gets_its_own_monitors_calibration(qtbot, cache, home, caplog):
    from tests.ui.test_multi_monitor import STATION
    from workstation.ui.hanging_menu import attach_hanging
    from workstation.ui.multi_monitor import attach_monitor_layouts

    w = MainWindow(cache, poll_interval_ms=10_000)
    qtbot.addWidget(w)
    w.attach_viewer(ViewerWidget(cache))
    attach_hanging(w, home, prefetch=False)
    layouts = attach_monitor_layouts(w, home, cache, screens=lambda: STATION)
    source = SettingsSource(home.config_file)
    main = dc.attach_display_calibration(w, source)
    w.show()
    try:
        layouts.stages_action.trigger()
        second = layouts.stage_window
        assert second is not None and second.display_calibration.monitor == main.monitor
        assert second.viewer.session.display.output is second.display_calibration.output
        settings = DisplaySettings("8", True, ()).with_monitor(main.monitor, MonitorCalibration(mode="calibrated"))
        source.update(lambda s: setattr(s, "extra", settings.to_extra(s.extra)))
        assert second.display_calibration.label.text() == "Display: calibrated in the display, 8-bit, dithered"
        assert second.viewer.session.display.output.dithered
        layouts.stages_action.trigger()  # closes the second window
        qtbot.waitUntil(lambda: layouts.stage_window is None, timeout=5000)
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        assert not shiboken6.isValid(second)  # gone: its calibration must not be called any more
        source.update(lambda s: setattr(s, "extra", DisplaySettings().to_extra(s.extra)))
        assert "subscriber failed" not in caplog.text  # the closed window's calibration was not called
        assert main.label.text() == "Display: no display function, 8-bit"
    finally:
        w.viewer.shutdown()


def test_display_page_keeps_each_monitors_values(qtbot, home, tmp_path):
    from workstation.ui.settings_dialog import SettingsDialog

    source = SettingsSource(home.config_file)
    first = dc.monitor_keys()[0]
    start = DisplaySettings().with_monitor("RIGHT@2048x2560", MonitorCalibration(mode="calibrated"))
    source.update(lambda s: setattr(s, "extra", start.to_extra(s.extra)))
    dialog = SettingsDialog(home, source)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_page("display")
    page = dialog.display_page
    assert [page.monitor.itemData(i) for i in range(page.monitor.count())] == [first, "RIGHT@2048x2560"]
    _choose(qtbot, page.mode, "gsdf")
    page.l_max.setValue(300.0)
    page.l_min.setValue(0.5)
    assert not page.lut_file.text() and page.l_min.isEnabled()
    _choose(qtbot, page.monitor, "RIGHT@2048x2560")
    assert page.mode.currentData() == "calibrated" and not page.l_min.isEnabled()
    _choose(qtbot, page.monitor, first)
    assert page.mode.currentData() == "gsdf" and page.l_max.value() == 300.0
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    saved = DisplaySettings.from_extra(source.current().extra)
    assert saved.for_monitor("RIGHT@2048x2560").mode == "calibrated"
    assert (saved.for_monitor(first).mode, saved.for_monitor(first).l_max) == ("gsdf", 300.0)
    # A GSDF that cannot be computed is not saved, and says why.
    page.l_max.setValue(0.0)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert "Not saved" in dialog.message.text() and "Lmin and Lmax" in dialog.message.text()
    assert DisplaySettings.from_extra(source.current().extra).for_monitor(first).l_max == 300.0
