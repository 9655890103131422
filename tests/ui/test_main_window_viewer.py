"""The viewer in the main window: a study opened from the list shows, list and full screen toggles, remote tab."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.viewer_phantom import phantom_study
from workstation.config import Settings
from workstation.ui.main_window import MainWindow
from workstation.ui.remote_tab import RemoteTab
from workstation.ui.viewer.viewer import ViewerWidget

WAIT_MS = 20_000


def test_opening_from_the_list_shows_the_study_in_the_viewer(qtbot, cache, tmp_path):
    uid = phantom_study(cache, tmp_path / "p", 4)
    window = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(window)
    viewer = ViewerWidget(cache)
    window.attach_viewer(viewer)
    window.attach_remote_tab(RemoteTab(cache, lambda: Settings(), lambda *a: None))
    window.resize(1400, 900)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.browser.proxy.rowCount() == 1, timeout=WAIT_MS)
        assert window.study_tabs.tabText(0) == "Local" and window.study_tabs.tabText(1) == "Remote"
        window.browser.activate_study(uid)
        qtbot.waitUntil(lambda: viewer.viewports[0].model.render() is not None, timeout=WAIT_MS)
        assert viewer.session.patient.study_uid == uid
        top, bottom = window.splitter.sizes()
        assert bottom > 2 * top  # the viewer gets the room once a study is open
        window.show_list_action.trigger()
        assert not window.study_tabs.isVisible()
        window.show_list_action.trigger()
        assert window.study_tabs.isVisible()
        window.close_study_action.trigger()
        assert viewer.session.studies == [] and viewer.viewports[0].model.display_set is None
        messages = []
        window.statusBar().messageChanged.connect(messages.append)
        window.compare_action.trigger()  # nothing selected in the list -> opens the selection or says so
        assert messages or viewer.session.studies
    finally:
        window.close()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
        viewer.shutdown()


def test_full_screen_hides_the_study_list(qtbot, cache):
    window = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(window)
    viewer = ViewerWidget(cache)
    window.attach_viewer(viewer)
    window.show()
    try:
        window.full_screen_action.trigger()
        assert window.isFullScreen() or window.windowState() & Qt.WindowState.WindowFullScreen
        assert not window.browser.isVisible()
        window.full_screen_action.trigger()
        assert window.browser.isVisible()
    finally:
        window.close()
        viewer.shutdown()
