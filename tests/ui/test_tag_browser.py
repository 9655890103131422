"""The tag browser over a real cache: the tree, search that expands and selects, copy, differences."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QGuiApplication

from tests.qc.conftest import write_ct
from workstation.store.importer import import_paths
from workstation.ui.tag_browser import NODE_ROLE, TagBrowser


@pytest.fixture
def study(cache, tmp_path):
    made = write_ct(tmp_path / "ct", 3)
    import_paths(cache, made.paths, workers=1)
    return made


@pytest.fixture
def browser(qtbot, cache, study):
    b = TagBrowser(cache)
    qtbot.addWidget(b)
    b.set_study(study.study_uid)
    return b


def test_shows_the_first_instance_of_the_study(browser, study):
    assert browser.instance_combo.count() == 3 and browser.compare_combo.count() == 4
    assert browser.instance_combo.itemText(0) == "Series 1 axial · image 1"
    assert str(browser.dataset.SOPInstanceUID) == study.sop_uids[0]
    tags = [browser.model.item(r, 0).text() for r in range(browser.model.rowCount())]
    assert tags[0] == "(0002,0000)" and "(0010,0010)" in tags and tags[-1] == "(7FE0,0010)"


def test_search_expands_selects_and_steps_through_matches(qtbot, browser):
    qtbot.keyClicks(browser.search_edit, "ReferencedSOPInstanceUID")
    assert browser.match_label.text() == "no match"
    browser.search_edit.clear()
    qtbot.keyClicks(browser.search_edit, "patient")
    matches = browser._matches
    assert len(matches) >= 4 and browser.match_label.text() == f"1 of {len(matches)}"
    assert browser.current_node() is matches[0]
    browser.next_match()
    assert browser.current_node() is matches[1] and browser.match_label.text().startswith("2 of")
    browser.search_edit.setText("(0028,0030)")
    assert browser.current_node().keyword == "PixelSpacing"


def test_search_opens_sequences(qtbot, cache, browser, study):
    from workstation.qc.correction import apply_correction, plan_correction

    outcome = apply_correction(cache, plan_correction(cache, study.study_uid, {"PatientName": "A^B"}, reason="x"))
    browser.open_instance(outcome.copies[0].sop_instance_uid)
    browser.search_edit.setText("Modifying System")
    node = browser.current_node()
    assert node.keyword == "ModifyingSystem" and node.path.startswith("(0400,0561)[1].")
    index = browser.tree.currentIndex()
    assert browser.tree.isExpanded(index.parent()) and browser.tree.isExpanded(index.parent().parent())


def test_copy_value_and_line(browser):
    browser.search_edit.setText("(0010,0010)")
    assert browser.copy_current_value() == "Test^Patient"
    assert QGuiApplication.clipboard().text() == "Test^Patient"
    assert browser.copy_current_line() == "(0010,0010) Patient's Name PN: Test^Patient"
    item = browser.model.item(0, 0)
    assert item.data(NODE_ROLE).tag == 0x00020000


def test_differences_of_two_instances(browser, study):
    browser.compare_combo.setCurrentIndex(2)
    browser.compare_combo.activated.emit(2)
    rows = browser.diff_table.rowCount()
    names = {browser.diff_table.item(r, 1).text() for r in range(rows)}
    assert {"SOP Instance UID", "Instance Number", "Image Position (Patient)"} <= names
    assert browser.tabs.tabText(1) == f"Differences ({rows})" and browser.tabs.currentIndex() == 1
    browser.compare_combo.activated.emit(0)
    assert browser.diff_table.rowCount() == 0 and browser.tabs.tabText(1) == "Differences"
