"""The report panel of a study opened from the list: its draft at once, its form once the images are painted."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.hanging.conftest import demo  # noqa: F401 - the session's demo studies
from workstation.store.importer import import_paths

WAIT_MS = 30_000


@pytest.fixture
def window(qtbot, cache, home, demo):  # noqa: F811
    from workstation.ui.app import compose_main_window

    for key in ("ct-chest-2024", "ct-chest-2023", "mr-brain-2024"):
        assert import_paths(cache, demo.files[key], workers=1).imported == len(demo.files[key])
    w = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=WAIT_MS)


def _open_from_list(qtbot, window, uid: str) -> None:
    browser = window.browser
    qtbot.waitUntil(lambda: uid in browser.shown_study_uids(), timeout=WAIT_MS)
    assert browser.select_study(uid)
    browser.table.setFocus()
    with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS):
        qtbot.keyClick(browser.table, Qt.Key.Key_Return)


def test_the_form_is_built_after_the_images_and_filled_from_the_prior(qtbot, window, demo):  # noqa: F811
    panel, viewer = window.report_panel, window.viewer
    at_paint: list[bool] = []
    original = viewer.viewports[0].on_image_painted

    def painted(index: int) -> None:
        at_paint.append(panel.pending)
        original(index)

    viewer.viewports[0].on_image_painted = painted
    uid = demo.uids["ct-chest-2024"]
    _open_from_list(qtbot, window, uid)
    # The draft follows the study at once; the previous form is hidden and nothing can be typed meanwhile.
    assert panel.editor.study_uid == uid and panel.template_combo.currentData() == "ct_chest"
    assert panel.pending and not panel.form.isVisible() and not panel.sign_button.isEnabled()
    assert panel.reports_list.count() == 0
    qtbot.waitUntil(lambda: not panel.pending, timeout=WAIT_MS)
    assert at_paint and at_paint[0]  # the first image was painted before the form was built
    assert panel.form.isVisible() and panel.sign_button.isEnabled()
    # The prior hung beside it filled the comparison (the panel looked at the hung studies once shown).
    prior = window.viewer.session.studies[1]
    assert panel.form.line_edit("comparison_date").text().replace("-", "") == prior.study_date
    assert panel.reports_list.count() >= 1  # "No report stored for this study yet", or the reports


def test_a_study_opened_before_the_last_ones_form_was_shown_shows_only_its_own(qtbot, window, demo):  # noqa: F811
    panel = window.report_panel
    _open_from_list(qtbot, window, demo.uids["ct-chest-2024"])
    assert panel.pending
    # The reader goes straight to another study (the MR) before the CT's form is built.
    window.viewer.ask_unsaved = lambda check: "discard"
    _open_from_list(qtbot, window, demo.uids["mr-brain-2024"])
    qtbot.waitUntil(lambda: not panel.pending, timeout=WAIT_MS)
    assert panel.editor.study_uid == demo.uids["mr-brain-2024"]
    assert panel.template_combo.currentData() == panel.editor.content.template_id != "ct_chest"
    qtbot.wait(200)  # the CT's turn, if it came, changed nothing
    assert panel.editor.study_uid == demo.uids["mr-brain-2024"] and not panel.pending


def test_the_open_study_activated_again_gets_its_form_back(qtbot, window, demo):  # noqa: F811
    panel = window.report_panel
    uid = demo.uids["ct-chest-2024"]
    _open_from_list(qtbot, window, uid)
    qtbot.waitUntil(lambda: not panel.pending, timeout=WAIT_MS)
    _open_from_list(qtbot, window, uid)  # no new image to paint: the form comes back all the same
    qtbot.waitUntil(lambda: not panel.pending, timeout=WAIT_MS)
    assert panel.editor.study_uid == uid and panel.form.isVisible() and panel.sign_button.isEnabled()
    assert panel.form.line_edit("comparison_date").text()  # still filled from the prior
