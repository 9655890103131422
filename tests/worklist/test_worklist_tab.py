"""The Worklist tab in the composed window: STAT first, filters, double-click opens and claims, Next/Previous keys,
the order's context above the viewer, a colleague's study asked about first, clinical information prefilled."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.factories import write_series
from tests.hl7.peer import free_port
from workstation.home import Home
from workstation.imaging import overlay_model
from workstation.imaging.corner_text import person_name
from workstation.reporting.editor import ReportEditor
from workstation.config import Settings
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.store.queries import StudyFilter
from workstation.ui.app import compose_main_window
from workstation.worklist import claims as claims_mod
from workstation.worklist.orders import Order, save_orders
from workstation.worklist.patients import update_patient

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]


@pytest.fixture
def home(lightbox_home) -> Home:
    return Home.single(lightbox_home).ensure()


@pytest.fixture
def cache(home, tmp_path):
    c = StudyCache.open(home)
    for name, pid in (("Routine^Rita", "WT-1"), ("山田^太郎", "WT-2"), ("Other^Otto", "WT-3")):
        import_paths(c, [str(p) for p in write_series(tmp_path / pid, 2, patient_name=name, patient_id=pid)])
    studies = {s.patient_id: s for s in c.studies(StudyFilter())}
    save_orders(c, [
        Order("ACC-R", study_uid=studies["WT-1"].study_uid, reason="Follow-up", requested_procedure="CT chest"),
        Order("ACC-S", study_uid=studies["WT-2"].study_uid, priority="STAT", reason="Sudden headache",
              clinical_history="On warfarin", requested_procedure="CT head", referring_physician="House^Gregory"),
    ])
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def window(qtbot, home, cache):
    """The composed window; closed (and its timers run out) before the cache closes."""
    w = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.study_tabs.setCurrentWidget(w.worklist)
    yield w
    w.close()
    qtbot.wait(50)


def _row_of(tab, patient_id):
    return [i.patient_id for i in tab.items].index(patient_id)


def _double_click(qtbot, tab, row):
    table = tab.table
    rect = table.visualItemRect(table.item(row, 2))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_worklist_tab_opens_claims_and_steps(qtbot, cache, window):
    tabs = window.study_tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["Local", "Remote", "Worklist"]
    tabs.setCurrentWidget(window.worklist)
    tab = window.worklist
    assert tab.table.rowCount() == 3
    assert [i.patient_id for i in tab.items][0] == "WT-2"  # STAT first
    assert tab.table.item(0, 0).text() == "STAT" and tab.table.item(0, 5).text() == "Sudden headache"

    # Filters: priority STAT, then any again
    tab.priority.setCurrentText("STAT")
    assert [i.patient_id for i in tab.items] == ["WT-2"]
    tab.priority.setCurrentText("Any priority")
    assert tab.table.rowCount() == 3

    # Double-click opens it in the viewer, marks it in progress for this reader, shows the order's context.
    _double_click(qtbot, tab, _row_of(tab, "WT-2"))
    stat_uid = [i for i in tab.items if i.patient_id == "WT-2"][0].study_uid
    qtbot.waitUntil(lambda: any(s.study_uid == stat_uid for s in window.viewer.session.studies), timeout=20_000)
    assert claims_mod.claims(cache)[stat_uid]
    assert tab.table.item(_row_of(tab, "WT-2"), 1).text() == "in progress (you)"
    header = window.order_header
    assert header.isVisible()
    assert "STAT" in header.text() and "Sudden headache" in header.text() and "On warfarin" in header.text()

    # Next study key typed in the viewer, without returning to the list.
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=20_000)
    keys = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    QTest.keyClick(window.viewer.viewports[0], Qt.Key.Key_Right, keys)
    second = tab.items[[i.study_uid for i in tab.items].index(stat_uid) + 1]
    qtbot.waitUntil(lambda: any(s.study_uid == second.study_uid for s in window.viewer.session.studies),
                    timeout=20_000)
    # The study left unreported is released (no longer in progress for anyone).
    qtbot.waitUntil(lambda: set(claims_mod.claims(cache)) == {second.study_uid}, timeout=10_000)
    QTest.keyClick(window.viewer.viewports[0], Qt.Key.Key_Left, keys)
    qtbot.waitUntil(lambda: any(s.study_uid == stat_uid for s in window.viewer.session.studies), timeout=20_000)
    qtbot.waitUntil(lambda: set(claims_mod.claims(cache)) == {stat_uid}, timeout=10_000)

    # "Mine" shows the studies this reader has in progress.
    qtbot.mouseClick(tab.mine, Qt.MouseButton.LeftButton)
    assert {i.study_uid for i in tab.items} == {stat_uid}
    qtbot.mouseClick(tab.mine, Qt.MouseButton.LeftButton)

    # View › Close study leaves it: released too.
    window.close_study_action.trigger()
    qtbot.waitUntil(lambda: claims_mod.claims(cache) == {}, timeout=10_000)
    assert tab.table.item(_row_of(tab, "WT-2"), 1).text() == "unread"


def test_study_read_by_a_colleague_is_asked_about_first(qtbot, cache, window):
    tab = window.worklist
    other = [s for s in cache.studies(StudyFilter()) if s.patient_id == "WT-3"][0].study_uid
    claims_mod.claim(cache, other, "Colleague^Carl", "CC")
    qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
    row = _row_of(tab, "WT-3")
    assert "Colleague" in tab.table.item(row, 1).text()
    asked = []
    tab.ask_open_anyway = lambda item: asked.append(item.claimed_by) or False
    _double_click(qtbot, tab, row)
    assert asked == ["Colleague^Carl"]
    assert not window.viewer.session.studies


def test_header_shows_the_ris_correction_and_report_starts_with_the_order(qtbot, cache, window):
    stat = [s for s in cache.studies(StudyFilter()) if s.patient_id == "WT-2"][0]
    update_patient(cache, "WT-2", name="山田^花子")
    tab = window.worklist
    # The Local study list follows the index: the corrected name shows there without a restart.
    qtbot.waitUntil(lambda: any(r.patient_name == "山田^花子" for r in window.browser.model.rows()), timeout=10_000)
    qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
    assert tab.table.item(_row_of(tab, "WT-2"), 2).text() == "山田, 花子"
    _double_click(qtbot, tab, _row_of(tab, "WT-2"))
    qtbot.waitUntil(lambda: bool(window.viewer.session.studies), timeout=20_000)
    assert "corrected by the RIS" in window.order_header.text() and "花子" in window.order_header.text()
    # The viewport's corner text (what its widget paints) names the corrected patient, without a mismatch banner.
    vp = window.viewer.viewports[0].model
    qtbot.waitUntil(lambda: vp.header() is not None, timeout=20_000)
    assert str(vp.header().PatientName) == "山田^太郎"  # the file is not rewritten
    assert overlay_model.corner_lines(vp)["top_left"][0] == person_name("山田^花子")
    assert overlay_model.banner_text(vp) == ""

    editor = ReportEditor(cache, Settings())
    editor.open_study(stat.study_uid)
    assert editor.value("history") == "Sudden headache. On warfarin."


def test_an_order_from_the_ris_shows_in_the_open_tab(qtbot, cache, window, home):
    from tests.hl7.peer import message, send_mllp
    from workstation import config
    from workstation.hl7.settings import HL7Settings

    s = config.load(home.config_file)
    HL7Settings(listen_port=free_port()).store(s)
    config.save(s, home.config_file)
    tab = window.worklist
    assert tab.start_hl7_listener().startswith("HL7 from the RIS on port")
    try:
        orm = message("ORM_O01", {"PID": {"pid_3": "WT-9", "pid_5": "Νέος^Ασθενής"}, "ORC": {"orc_1": "NW"},
                                  "OBR": {"obr_4": "XR^Chest X-ray", "obr_18": "ACC-NEW", "obr_27": "^^^^^S",
                                          "obr_31": "^Fever"}})
        assert "MSA|AA" in send_mllp(tab.hl7_listener.port, orm)
        qtbot.waitUntil(lambda: any(i.accession == "ACC-NEW" for i in tab.items), timeout=10_000)
    finally:
        tab.stop_hl7_listener()
    row = [i.accession for i in tab.items].index("ACC-NEW")
    assert tab.table.item(row, 0).text() == "STAT" and tab.table.item(row, 11).text() == "not acquired"
    assert "ORM^O01 applied" in tab.note.text()


def test_the_worklist_table_is_filled_when_its_tab_is_clicked(qtbot, home, cache):
    """Start-up shows the Local list at once: the hidden Worklist table is filled when the reader opens its tab."""
    w = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    tab, tabs = w.worklist, w.study_tabs
    assert tabs.currentWidget() is not tab
    assert len(tab.items) == 3 and tab.table.rowCount() == 0
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tabs.indexOf(tab)).center())
    assert tabs.currentWidget() is tab
    assert tab.table.rowCount() == 3 and tab.table.item(0, 0).text() == "STAT"
    w.close()
    qtbot.wait(50)
