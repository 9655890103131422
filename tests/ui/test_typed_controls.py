"""Controls whose values cross Qt's QVariant boundary, clicked for real: each slot gets the Python type it wants.

Two buttons of the viewer broke this way (a tool's name where a Tool was expected; a ``clicked(bool)``
where a set of instances was expected); :mod:`workstation.ui.qvariant` converts such values back.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.qc.conftest import write_ct
from tests.ui.viewer_helpers import drag, open_viewer, view_point_of, wheel
from tests.viewer_phantom import phantom_study
from workstation.config import Settings
from workstation.imaging.interaction import Tool
from workstation.store.importer import import_paths
from workstation.ui.qc_correct_dialog import CorrectionDialog
from workstation.ui.qc_panel import QcPanel
from workstation.ui.qc_reject_dialog import RejectDialog
from workstation.ui.qc_series_dialog import SeriesDialog
from workstation.ui.tag_browser import TagBrowser

WAIT_MS = 30_000


@pytest.fixture
def viewer(qtbot, cache, tmp_path):
    v = open_viewer(qtbot, cache, phantom_study(cache, tmp_path / "phantom", 4))
    yield v
    v.shutdown()


def test_each_toolbar_tool_button_gives_every_viewport_that_tool(qtbot, viewer):
    viewer.set_grid(1, 2)
    for tool, action in viewer.toolbar.tool_actions.items():
        button = viewer.toolbar.button_for(action)
        if button is not None:
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        else:  # a tool of the Measure ▾ menu: its action, as the menu triggers it
            assert action in viewer.toolbar.measure_button.menu().actions(), tool
            action.trigger()
        for w in viewer.viewports:
            picked = w.interaction.tool
            assert picked is tool and type(picked) is Tool, (tool, picked)
        assert action.isChecked()


def test_a_measurement_row_clicked_in_the_panel_brings_its_image_back(qtbot, viewer):
    w = viewer.viewports[0]
    viewer.toolbar.tool_actions[Tool.LENGTH].trigger()  # from the Measure ▾ menu
    drag(w, view_point_of(w, 20.5, 40.5), view_point_of(w, 40.5, 40.5))
    assert len(viewer.session.annotations) == 1
    wheel(w, -2)
    assert w.model.index == 2
    viewer.panel.tree.clearSelection()
    item = viewer.panel.tree.topLevelItem(0)
    rect = viewer.panel.tree.visualItemRect(item)
    row = QPoint(rect.x() + 5, rect.center().y())
    qtbot.mouseClick(viewer.panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=row)
    assert w.model.index == 0  # the measurement's own image, found from the annotation the signal carried


@pytest.fixture
def qc_panel(qtbot, cache, tmp_path, home):
    made = write_ct(tmp_path / "ct", 4)
    import_paths(cache, made.paths, workers=1)
    p = QcPanel(cache, Settings, home)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.checked, timeout=WAIT_MS):
        p.set_study(made.study_uid)
    yield p
    for window in p.windows:
        window.close()
    p.task.wait(30)


@pytest.mark.parametrize(("button", "kind"), [("correct_button", CorrectionDialog), ("reject_button", RejectDialog),
                                              ("series_button", SeriesDialog), ("tags_button", TagBrowser)])
def test_qc_panel_buttons_open_their_windows(qtbot, qc_panel, button, kind):
    # clicked(bool) must not reach the methods behind the buttons (Reject images… took it for its instances).
    qtbot.mouseClick(getattr(qc_panel, button), Qt.MouseButton.LeftButton)
    window = qc_panel.windows[-1]
    assert isinstance(window, kind) and window.isVisible()
    if isinstance(window, RejectDialog):
        assert window.picker.checked_instances() == []


def test_conformance_dialog_keeps_qdialog_result_after_a_check(qtbot, tmp_path):
    # The check's outcome was kept as ``self.result``, hiding QDialog.result() (the accepted/rejected code).
    from workstation.display.gsdf import gsdf_luminances
    from workstation.ui.display_patterns import ConformanceDialog

    dialog = ConformanceDialog(tmp_path / "qa.jsonl", monitor="screen 1")
    qtbot.addWidget(dialog)
    dialog.set_values([float(v) for v in gsdf_luminances(0.8, 400.0, 256)[::15]])
    dialog.display_class.setCurrentIndex(dialog.display_class.findData("secondary"))
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    assert dialog.verdict.text().startswith("PASS")
    assert dialog.conformance is not None and dialog.conformance.passed
    assert dialog.result() == 0  # still Qt's method: not accepted (yet)
    dialog.accept()
    assert dialog.result() == 1


def test_curved_mpr_window_is_still_its_own_qt_window(qtbot):
    # Its grey-scale window was kept as ``self.window``, hiding QWidget.window() (a tuple is not callable).
    from tests.clinical.test_cpr import helix_volume
    from workstation.ui.clinical.cpr_window import CprWindow

    win = CprWindow(helix_volume(), window=(500.0, 1000.0))
    qtbot.addWidget(win)
    assert win.window() is win
    assert win.plane_view.window() is win
    assert win.voi_window == (500.0, 1000.0)


def test_tag_browser_search_leaves_qwidget_find_alone(qtbot):
    # The search was named find, hiding QWidget.find(window id).
    browser = TagBrowser()
    qtbot.addWidget(browser)
    assert browser.find(0) is None  # Qt's: no widget has window id 0
    assert browser.find_text("PatientName") == []  # nothing shown yet
