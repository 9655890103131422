"""A patient merge from the RIS (ADT^A40 over MLLP) seen in the real window: the merged study, opened from the
study list, names the surviving patient in its images' corners without a PATIENT MISMATCH banner although its
files still carry the prior patient's ID and name; an image of the same study that names someone else still
raises the banner.  The files are not rewritten: what they said stays recorded."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt

from tests.factories import write_series
from tests.hl7.peer import free_port, message, send_mllp
from workstation.hl7.messages import read_ack
from workstation import config
from workstation.hl7.settings import HL7Settings
from workstation.imaging import overlay_model
from workstation.imaging.corner_text import person_name
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.store.queries import StudyFilter
from workstation.ui.app import compose_main_window
from workstation.worklist.patients import patient_changes

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]

WAIT_MS = 20_000
SURVIVOR = ("Παπαδόπουλος^Νίκος", "MRG-S")
PRIOR = ("Papadopoulos^Nikos", "MRG-P")
STRANGER = "Fremd^Franz"  # same Patient ID as the prior, another name: a genuine mismatch


@pytest.fixture
def studies(home, tmp_path):
    """The survivor's study; the prior patient's study with a series of its own and a series naming a stranger."""
    c = StudyCache.open(home)
    own = write_series(tmp_path / "s", 2, patient_name=SURVIVOR[0], patient_id=SURVIVOR[1])
    prior_study = "1.2.826.0.1.3680043.8.498.4040"
    prior = write_series(tmp_path / "p", 2, study_uid=prior_study, series_uid=prior_study + ".1",
                         patient_name=PRIOR[0], patient_id=PRIOR[1])
    stranger = write_series(tmp_path / "x", 2, study_uid=prior_study, series_uid=prior_study + ".2",
                            patient_name=STRANGER, patient_id=PRIOR[1])
    import_paths(c, [str(p) for p in own + prior])
    import_paths(c, [str(p) for p in stranger])  # after: the index keeps the prior's name for MRG-P
    c.close()
    return prior_study, prior_study + ".1", prior_study + ".2"


@pytest.fixture
def window(qtbot, home, studies):
    cache = StudyCache.open(home)
    s = config.load(home.config_file)
    HL7Settings(listen_port=free_port()).store(s)
    config.save(s, home.config_file)
    w = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    assert w.worklist.start_hl7_listener().startswith("HL7 from the RIS on port")
    yield w
    w.worklist.stop_hl7_listener()
    w.close()
    qtbot.wait(50)
    cache.close()


def shots_dir() -> Path:
    out = Path(os.environ.get("LIGHTBOX_WALK_DIR") or "/tmp/lightbox-merge")
    out.mkdir(parents=True, exist_ok=True)
    return out


def _painted(qtbot, window):
    """The active viewport widget, repainted with what its model shows now."""
    w = window.viewer.viewports[window.viewer.session.active]
    before = w.paint_count
    w.update()
    qtbot.waitUntil(lambda: w.paint_count > before, timeout=WAIT_MS)
    return w


def _double_click_study(qtbot, window, study_uid):
    browser = window.browser
    window.study_tabs.setCurrentWidget(browser)
    qtbot.waitUntil(lambda: browser.model.row_of(study_uid) is not None, timeout=WAIT_MS)
    index = browser.proxy.mapFromSource(browser.model.index(browser.model.row_of(study_uid), 1))
    browser.table.scrollTo(index)
    at = browser.table.visualRect(index).center()
    qtbot.mouseClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseDClick(browser.table.viewport(), Qt.MouseButton.LeftButton, pos=at)


def _double_click_series(qtbot, window, series_uid):
    tree = window.viewer.strip
    qtbot.waitUntil(lambda: series_uid in tree.series_items, timeout=WAIT_MS)
    item = tree.series_items[series_uid]
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _shown(qtbot, window, series_uid):
    """The active viewport once it shows ``series_uid`` with its header read and painted."""
    w = window.viewer.viewports[window.viewer.session.active]
    qtbot.waitUntil(lambda: w.model.display_set is not None and w.model.display_set.series_uid == series_uid
                    and w.model.header() is not None and w.paint_count > 0, timeout=WAIT_MS)
    return w.model


def test_merged_study_names_the_survivor_and_only_a_real_mismatch_warns(qtbot, window, studies):
    study_uid, own_series, stranger_series = studies
    browser = window.browser
    # Before the merge the study is the prior patient's.
    qtbot.waitUntil(lambda: any(r.study_uid == study_uid and r.patient_id == PRIOR[1]
                                for r in browser.model.rows()), timeout=WAIT_MS)

    a40 = message("ADT_A39", {"EVN": {"evn_1": "A40"}, "PID": {"pid_3": SURVIVOR[1], "pid_5": SURVIVOR[0]},
                              "MRG": {"mrg_1": PRIOR[1]}}, control_id="A40-WIN", event="ADT^A40")
    assert read_ack(send_mllp(window.worklist.hl7_listener.port, a40)).code == "AA"

    # The study list follows the index: the study is now under the survivor.
    qtbot.waitUntil(lambda: any(r.study_uid == study_uid and r.patient_id == SURVIVOR[1]
                                and r.patient_name == SURVIVOR[0] for r in browser.model.rows()), timeout=WAIT_MS)
    _double_click_study(qtbot, window, study_uid)
    qtbot.waitUntil(lambda: window.viewer.session.patient is not None
                    and window.viewer.session.patient.study_uid == study_uid, timeout=WAIT_MS)
    _double_click_series(qtbot, window, own_series)
    vp = _shown(qtbot, window, own_series)

    # The file still says the prior patient (not rewritten) ...
    header = vp.header()
    assert (str(header.PatientName), header.PatientID) == PRIOR
    path = window.viewer.session.cache.connection.execute(
        "SELECT file_path FROM instances i JOIN series s ON i.series_pk=s.pk WHERE s.series_uid=? LIMIT 1",
        (own_series,)).fetchone()["file_path"]
    on_disk = pydicom.dcmread(window.viewer.session.cache.cache_dir / path, stop_before_pixels=True)
    assert (str(on_disk.PatientName), on_disk.PatientID) == PRIOR
    # ... the viewport names the survivor and raises no mismatch for the recorded merge.
    assert overlay_model.corner_lines(vp)["top_left"][:2] == [person_name(SURVIVOR[0]), f"ID {SURVIVOR[1]}"]
    assert overlay_model.banner_text(vp) == ""
    assert _painted(qtbot, window).model.view.top_inset == 0  # the widget painted no banner row
    assert "Merged by the RIS" in window.order_header.text() and PRIOR[1] in window.order_header.text()
    window.grab().save(str(shots_dir() / "merged-study.png"))
    # The original values stay recorded.
    recorded = {(c.field, c.old_value, c.new_value) for c in patient_changes(window.viewer.session.cache,
                                                                             study_uid=study_uid)}
    assert {("patient_id", PRIOR[1], SURVIVOR[1]), ("name", PRIOR[0], SURVIVOR[0])} <= recorded

    # A series of the same study naming someone else is still flagged, with the name its files carry.
    _double_click_series(qtbot, window, stranger_series)
    vp = _shown(qtbot, window, stranger_series)
    banner = overlay_model.banner_text(vp)
    assert banner == f"PATIENT MISMATCH: this image is of {person_name(STRANGER)}  ID {PRIOR[1]}"  # the file's own
    # Its corners say what the file says too: the merge excuses the merged patient's images, not a stranger's.
    assert overlay_model.corner_lines(vp)["top_left"][:2] == [person_name(STRANGER), f"ID {PRIOR[1]}"]
    assert _painted(qtbot, window).model.view.top_inset > 0  # painted above the image
    window.grab().save(str(shots_dir() / "merged-study-real-mismatch.png"))
    # And with the merge not known, the prior's own series is flagged too: the excuse is the record, nothing else.
    _double_click_series(qtbot, window, own_series)
    vp = _shown(qtbot, window, own_series)
    assert overlay_model.banner_text(vp) == ""
    vp.replaced_ids = frozenset()
    assert overlay_model.banner_text(vp).startswith("PATIENT MISMATCH")


def test_survivor_of_a_merge_reads_the_survivors_own_study_unchanged(qtbot, window, studies):
    """The survivor's own study has nothing recorded: its images' own identity is shown, no banner."""
    cache = window.viewer.session.cache
    [own] = [s for s in cache.studies(StudyFilter()) if s.patient_id == SURVIVOR[1]]
    a40 = message("ADT_A39", {"EVN": {"evn_1": "A40"}, "PID": {"pid_3": SURVIVOR[1], "pid_5": SURVIVOR[0]},
                              "MRG": {"mrg_1": PRIOR[1]}}, control_id="A40-WIN2", event="ADT^A40")
    assert read_ack(send_mllp(window.worklist.hl7_listener.port, a40)).code == "AA"
    _double_click_study(qtbot, window, own.study_uid)
    qtbot.waitUntil(lambda: window.viewer.session.patient is not None
                    and window.viewer.session.patient.study_uid == own.study_uid, timeout=WAIT_MS)
    w = window.viewer.viewports[0]
    qtbot.waitUntil(lambda: w.model.header() is not None and w.paint_count > 0, timeout=WAIT_MS)
    assert w.model.replaced_ids == frozenset()
    assert overlay_model.corner_lines(w.model)["top_left"][:2] == [person_name(SURVIVOR[0]), f"ID {SURVIVOR[1]}"]
    assert overlay_model.banner_text(w.model) == ""
