"""Nothing the reader made is lost, in the real window: measurements come back with their study, and
closing or quitting with pending work asks first (Save / Discard / Cancel)."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.ui.viewer_helpers import drag, view_point_of
from tests.viewer_phantom import phantom_study
from workstation.home import Home
from workstation.imaging.annotation_layer import Kind
from workstation.imaging.interaction import Tool
from workstation.ui.main_window import MainWindow
from workstation.ui.viewer.viewer import ViewerWidget

pytestmark = pytest.mark.gui

WAIT_MS = 20_000


@pytest.fixture
def window(qtbot, cache):
    # Not handed to qtbot: its teardown would close the window before this fixture stops the prompt.
    w = MainWindow(cache, poll_interval_ms=100)
    w.attach_viewer(ViewerWidget(cache))
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.viewer.ask_unsaved = lambda check: check.choices[0]
    w.close()
    w.viewer.shutdown()
    w.browser.stop()
    panel = getattr(w, "report_panel", None)
    if panel is not None:
        panel.shutdown()  # its timers must not read the index after the test closed it
    w.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def _double_click_study(qtbot, window, study_uid):
    browser = window.browser
    qtbot.waitUntil(lambda: browser.model.row_of(study_uid) is not None, timeout=WAIT_MS)
    index = browser.proxy.mapFromSource(browser.model.index(browser.model.row_of(study_uid), 1))
    browser.table.scrollTo(index)
    at = browser.table.visualRect(index).center()
    qtbot.mouseClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=at)


def _open(qtbot, window, study_uid):
    _double_click_study(qtbot, window, study_uid)
    viewer = window.viewer
    qtbot.waitUntil(lambda: viewer.session.patient is not None and viewer.session.patient.study_uid == study_uid,
                    timeout=WAIT_MS)
    w = viewer.viewports[0]
    qtbot.waitUntil(lambda: w.model.pixels is not None and w.model.pixels.done and w.paint_count > 0,
                    timeout=WAIT_MS)
    return w


def _measure_by_drag(window) -> None:
    viewer = window.viewer
    viewer.toolbar.tool_actions[Tool.LENGTH].trigger()  # the toolbar's Length tool, as a reader picks it
    w = viewer.viewports[0]
    drag(w, view_point_of(w, 20.5, 40.5), view_point_of(w, 40.5, 40.5))


def test_measurements_are_there_again_when_the_study_is_opened_again(qtbot, window, cache, lightbox_home, tmp_path):
    a_uid = phantom_study(cache, tmp_path / "a", 4)
    b_uid = phantom_study(cache, tmp_path / "b", 3)
    _open(qtbot, window, a_uid)
    _measure_by_drag(window)
    [made] = list(window.viewer.session.annotations)
    assert made.kind is Kind.LENGTH and made.lines[0].endswith(" mm")

    _open(qtbot, window, b_uid)
    assert list(window.viewer.session.annotations) == []
    _open(qtbot, window, a_uid)
    [again] = list(window.viewer.session.annotations)
    assert (again.points, again.frame_key, again.lines) == (made.points, made.frame_key, made.lines)
    assert window.viewer.panel.tree.topLevelItemCount() == 1  # listed in the measurement panel again

    saved = json.loads((Home.single(lightbox_home).data_dir / "measurements" / f"{a_uid}.json").read_text("utf-8"))
    assert [m["kind"] for m in saved["measurements"]] == ["length"]


def test_restored_measurements_are_offered_to_the_report(qtbot, window, cache, lightbox_home, tmp_path):
    from workstation.ui.report_dock import attach_report_panel

    attach_report_panel(window, cache, Home.single(lightbox_home), start_sender=False)
    panel = window.report_panel
    a_uid = phantom_study(cache, tmp_path / "a", 4)
    b_uid = phantom_study(cache, tmp_path / "b", 3)
    _open(qtbot, window, a_uid)
    _measure_by_drag(window)
    _open(qtbot, window, b_uid)
    _open(qtbot, window, a_uid)
    qtbot.waitUntil(lambda: panel.insert_measurement_button.isEnabled(), timeout=WAIT_MS)
    panel.insert_measurement_button.click()
    items = [panel.items_list.item(i).text() for i in range(panel.items_list.count())]
    assert len(items) == 1 and items[0].startswith("Length") and items[0].endswith("mm")


class _Answer:
    """Answers the unsaved-work prompt by clicking one of its buttons once it shows."""

    def __init__(self, button: QMessageBox.StandardButton) -> None:
        self.button = button
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._look)
        self.timer.start()

    def _look(self) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "unsavedWorkPrompt":
            self.timer.stop()
            self.seen.append(box.informativeText())
            box.button(self.button).click()


def _quit_with_an_unsaved_measurement(qtbot, window, cache, tmp_path, monkeypatch):
    monkeypatch.setenv("LIGHTBOX_ASK_UNSAVED", "1")
    a_uid = phantom_study(cache, tmp_path / "a", 4)
    _open(qtbot, window, a_uid)
    window.viewer.session.work.autosave = False  # so the measurement is unsaved at quit
    _measure_by_drag(window)
    assert window.viewer.session.work.unsaved() == [a_uid]
    return a_uid


def test_quitting_with_an_unsaved_measurement_asks_and_cancel_keeps_the_window(qtbot, window, cache, tmp_path,
                                                                               monkeypatch, lightbox_home):
    a_uid = _quit_with_an_unsaved_measurement(qtbot, window, cache, tmp_path, monkeypatch)
    answer = _Answer(QMessageBox.StandardButton.Cancel)
    window.quit_action.trigger()  # Ctrl+Q's action
    answer.timer.stop()
    assert answer.seen and "1 measurement or annotation not saved" in answer.seen[0]
    assert window.isVisible() and window.viewer.session.studies  # nothing closed
    assert len(window.viewer.session.annotations) == 1
    assert not (Home.single(lightbox_home).data_dir / "measurements" / f"{a_uid}.json").exists()

    answer = _Answer(QMessageBox.StandardButton.Save)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=WAIT_MS)
    # The shortcut, this time, typed where the reader works.
    QTest.keyClick(window.viewer.viewports[0], Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    answer.timer.stop()
    assert answer.seen
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    saved = json.loads((Home.single(lightbox_home).data_dir / "measurements" / f"{a_uid}.json").read_text("utf-8"))
    assert len(saved["annotations"]) == 1


def test_discard_drops_the_unsaved_measurement(qtbot, window, cache, tmp_path, monkeypatch, lightbox_home):
    a_uid = _quit_with_an_unsaved_measurement(qtbot, window, cache, tmp_path, monkeypatch)
    answer = _Answer(QMessageBox.StandardButton.Discard)
    window.quit_action.trigger()
    answer.timer.stop()
    assert answer.seen
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
    assert not (Home.single(lightbox_home).data_dir / "measurements" / f"{a_uid}.json").exists()


def test_opening_another_study_or_closing_asks_about_unsaved_work(qtbot, window, cache, tmp_path, monkeypatch):
    a_uid = _quit_with_an_unsaved_measurement(qtbot, window, cache, tmp_path, monkeypatch)
    b_uid = phantom_study(cache, tmp_path / "b", 3)
    answer = _Answer(QMessageBox.StandardButton.Cancel)
    _double_click_study(qtbot, window, b_uid)
    qtbot.waitUntil(lambda: bool(answer.seen), timeout=WAIT_MS)
    assert window.viewer.session.patient.study_uid == a_uid  # cancelled: A stays open with its measurement
    assert len(window.viewer.session.annotations) == 1

    answer = _Answer(QMessageBox.StandardButton.Cancel)
    window.close_study_action.trigger()
    assert answer.seen and window.viewer.session.studies

    answer = _Answer(QMessageBox.StandardButton.Save)
    window.close_study_action.trigger()
    assert answer.seen and window.viewer.session.studies == []
    _open(qtbot, window, a_uid)
    assert len(window.viewer.session.annotations) == 1


def test_measurements_autosaved_as_made_need_no_question(qtbot, window, cache, tmp_path, monkeypatch):
    monkeypatch.setenv("LIGHTBOX_ASK_UNSAVED", "1")
    asked = []
    window.viewer.ask_unsaved = lambda check: asked.append(check) or "cancel"
    a_uid = phantom_study(cache, tmp_path / "a", 4)
    _open(qtbot, window, a_uid)
    _measure_by_drag(window)
    window.close_study_action.trigger()
    assert asked == [] and window.viewer.session.studies == []


def test_the_site_can_turn_autosave_off(cache, lightbox_home):
    from workstation import config
    from workstation.session.reading import ReadingSession
    from workstation.ui.app import _keep_reading_work

    home = Home.single(lightbox_home)
    session = ReadingSession(cache)
    _keep_reading_work(session, home)
    assert session.work.autosave and session.work.directory == home.data_dir / "measurements"
    settings = config.Settings()
    settings.extra["reading"] = {"autosave_measurements": False}
    config.save(settings, home.config_file)
    _keep_reading_work(session, home)
    assert not session.work.autosave


def test_a_drag_is_saved_once_when_the_mouse_lets_go(qtbot, window, cache, tmp_path, monkeypatch, lightbox_home):
    import workstation.session.work_keeper as keeper

    writes = []
    real = keeper.write_work
    monkeypatch.setattr(keeper, "write_work", lambda *a, **k: writes.append(1) or real(*a, **k))
    a_uid = phantom_study(cache, tmp_path / "a", 4)
    w = _open(qtbot, window, a_uid)
    _measure_by_drag(window)  # six mouse moves
    qtbot.waitUntil(lambda: len(writes) == 1, timeout=WAIT_MS)
    [made] = list(window.viewer.session.annotations)
    # Moving it by its body: saved again once, where it was left.
    drag(w, view_point_of(w, 30.5, 40.5), view_point_of(w, 30.5, 50.5))
    qtbot.waitUntil(lambda: len(writes) == 2, timeout=WAIT_MS)
    saved = json.loads((Home.single(lightbox_home).data_dir / "measurements" / f"{a_uid}.json").read_text("utf-8"))
    assert saved["annotations"][0]["points"] == [list(p) for p in made.points]
    assert made.points[0][1] == pytest.approx(50.5, abs=1)
