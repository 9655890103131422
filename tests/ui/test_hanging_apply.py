"""Hanging plans applied to the real viewer: series per viewport, windows, mirroring, stages, late priors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from tests.hanging.conftest import demo  # noqa: F401 - the session's demo studies
from workstation.demo.plan import demo_uid
from workstation.hanging.facts import study_facts
from workstation.store.importer import import_paths
from workstation.ui.hanging_apply import HangingController
from workstation.ui.viewer.viewer import ViewerWidget

WAIT_MS = 20_000


def s_uid(study: str, series: str) -> str:
    return demo_uid("small", study, series)


@pytest.fixture
def viewer(qtbot, cache):
    v = ViewerWidget(cache)
    qtbot.addWidget(v)
    v.resize(1280, 800)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.shutdown()


def load(cache, demo, *keys):  # noqa: F811
    for k in keys:
        assert import_paths(cache, demo.files[k], workers=1).imported == len(demo.files[k])


def shown(viewer, n):
    return [m.display_set.series_uid if m.display_set else "" for m in viewer.session.viewports[:n]]


def test_ct_chest_current_and_prior_with_linked_scroll(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "ct-chest-2024", "ct-chest-2023")
    hc = HangingController(viewer, home, auto=False)
    plan = hc.hang(demo.uids["ct-chest-2024"])
    assert plan.protocol_id == "ct-chest" and hc.stage == 0
    assert viewer.session.grid == (1, 2)
    assert shown(viewer, 2) == [s_uid("ct-chest-2024", "lung"), s_uid("ct-chest-2023", "soft")]
    assert {(m.view.voi.center, m.view.voi.width) for m in viewer.session.visible} == {(-600.0, 1500.0)}
    assert viewer.toolbar.link_scroll_action.isChecked() and viewer.session.links.scroll
    assert viewer.toolbar.link_zoom_action.isChecked()
    assert "Lung window" in hc.stage_label.text() and hc.chooser.currentData() == "ct-chest"
    # scrolling the current scrolls the prior
    current, prior = viewer.session.visible
    qtbot.waitUntil(lambda: current.is_loaded() and prior.is_loaded(), timeout=WAIT_MS)
    current.set_index(5)
    assert prior.index != 0
    # stage keys: "." next, "," previous
    w = viewer.viewports[0]
    w.setFocus()
    qtbot.keyClick(w, Qt.Key.Key_Period)
    assert hc.stage == 1 and shown(viewer, 2) == [s_uid("ct-chest-2024", "soft"), s_uid("ct-chest-2023", "soft")]
    assert viewer.session.visible[0].view.voi.name == "Mediastinum"
    qtbot.keyClick(w, Qt.Key.Key_Comma)
    assert hc.stage == 0
    # the reader switches protocol in the chooser
    index = hc.chooser.findData("default")
    assert index >= 0
    hc.chooser.activated.emit(index)
    assert hc.plan.protocol_id == "default" and hc.plan.reason == "chosen by the user"


def test_mr_custom_layout_and_an_empty_viewport_with_its_note(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "mr-brain-2024")
    hc = HangingController(viewer, home, auto=False)
    hc.hang(demo.uids["mr-brain-2024"])
    assert viewer.session.grid == (2, 3)
    assert shown(viewer, 5) == [s_uid("mr-brain-2024", "t1-ax"), s_uid("mr-brain-2024", "t2-ax"),
                                s_uid("mr-brain-2024", "flair-ax"), "", s_uid("mr-brain-2024", "t1-sag")]
    layout = viewer.grid_layout
    assert layout.getItemPosition(layout.indexOf(viewer.viewports[4])) == (0, 2, 2, 1)
    assert viewer.viewports[5].isHidden() and not viewer.viewports[3].isHidden()
    assert hc.notes[3].isVisible() and "DWI" in hc.notes[3].text() and not hc.notes[0].isVisible()
    assert viewer.viewports[4].height() > 1.8 * viewer.viewports[0].height()
    assert [m.index for m in viewer.session.viewports[:3]] == [5, 5, 5]
    assert not hc.next_button.isEnabled()  # the prior stage is skipped: no prior MR


def test_mammography_back_to_back_and_prior_stage(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "mg-screening-2024", "mg-screening-2023")
    hc = HangingController(viewer, home, auto=False)
    plan = hc.hang(demo.uids["mg-screening-2024"])
    assert shown(viewer, 4) == [s_uid("mg-screening-2024", k) for k in ("rcc", "lcc", "rmlo", "lmlo")]
    for m, vp in zip(viewer.session.visible, plan.stages[0].viewports, strict=True):
        assert (m.view.rotation * 90, m.view.flip_horizontal) == (vp.rotation, vp.flip_horizontal)
    hc.next_stage()
    assert shown(viewer, 4) == [s_uid(k, v) for k in ("mg-screening-2024", "mg-screening-2023") for v in ("rcc", "lcc")]


def test_studies_opened_in_the_viewer_are_hung(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "us-carotid-2024", "dx-chest-2024", "dx-chest-2023")
    hc = HangingController(viewer, home)
    assert viewer.open_study(demo.uids["us-carotid-2024"])
    qtbot.waitUntil(lambda: hc.plan is not None and hc.plan.protocol_id == "us-cine", timeout=WAIT_MS)
    assert viewer.session.grid == (1, 1) and viewer.viewports[0].model.cine.playing
    assert viewer.open_study(demo.uids["dx-chest-2024"])
    qtbot.waitUntil(lambda: hc.plan.protocol_id == "chest-radiograph", timeout=WAIT_MS)
    assert not viewer.viewports[0].model.cine.playing
    assert shown(viewer, 3) == [s_uid("dx-chest-2024", "pa"), s_uid("dx-chest-2024", "lateral"),
                                s_uid("dx-chest-2023", "pa")]
    assert {s.study_uid for s in viewer.session.studies} == {demo.uids["dx-chest-2024"], demo.uids["dx-chest-2023"]}


def test_a_prior_arriving_late_fills_its_viewport(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "ct-chest-2024")
    prior_uid = demo.uids["ct-chest-2023"]
    # what an archive would report: the prior, not yet in the cache
    remote = replace(study_facts(demo.cache, prior_uid, with_series=False), in_cache=False, source="PACS")
    hc = HangingController(viewer, home, auto=False)
    hc.hang(demo.uids["ct-chest-2024"])
    assert hc.plan.stages[hc.stage].id == "current"

    def fetch(items, on_arrival, cancelled):
        assert [i.study_uid for i in items] == [prior_uid] and not cancelled()
        load(cache, demo, "ct-chest-2023")
        on_arrival(prior_uid)

    hc.start_prefetch(lambda current: [remote], fetch)
    qtbot.waitUntil(lambda: bool(hc.plan.priors) and hc.plan.priors[0].in_cache, timeout=WAIT_MS)
    hc.stop_prefetch()
    # the layout moved by itself to the first stage the prior now fills
    assert hc.stage == 0 and hc.plan.stages[0].id == "lung"
    assert shown(viewer, 2) == [s_uid("ct-chest-2024", "lung"), s_uid("ct-chest-2023", "soft")]
    assert not hc.notes[1].isVisible()
    assert "(1/3)" in hc.stage_label.text()


def test_a_reader_who_changed_stages_is_left_there_when_the_prior_lands(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "ct-chest-2024")
    prior_uid = demo.uids["ct-chest-2023"]
    remote = replace(study_facts(demo.cache, prior_uid, with_series=False), in_cache=False, source="PACS")
    hc = HangingController(viewer, home, auto=False)
    hc.hang(demo.uids["ct-chest-2024"])
    hc.refresh([remote])
    assert hc.stage == 2  # still the current-only stage while the prior is on its way
    qtbot.mouseClick(hc.previous_button, Qt.MouseButton.LeftButton)
    assert hc.stage == 1
    load(cache, demo, "ct-chest-2023")
    hc.prior_arrived(prior_uid)
    assert hc.stage == 1
    assert shown(viewer, 2)[1] == hc.plan.stages[1].viewports[1].series_uid != ""


def test_a_pending_prior_is_noted_then_filled_in_place(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "ct-chest-2024")
    prior_uid = demo.uids["ct-chest-2023"]
    remote = replace(study_facts(demo.cache, prior_uid, with_series=False), in_cache=False, source="PACS")
    hc = HangingController(viewer, home, auto=False)
    hc.hang(demo.uids["ct-chest-2024"])
    hc.refresh([remote])
    hc.show_stage(0)
    assert shown(viewer, 2) == [s_uid("ct-chest-2024", "lung"), ""]
    assert "not in the cache yet" in hc.notes[1].text()
    current = viewer.session.visible[0]
    current.set_index(7)  # the reader is already at work in the current study
    load(cache, demo, "ct-chest-2023")
    assert hc.prior_arrived(prior_uid) == [(0, 1), (1, 1)]
    assert shown(viewer, 2) == [s_uid("ct-chest-2024", "lung"), s_uid("ct-chest-2023", "soft")]
    assert current.index == 7 and not hc.notes[1].isVisible()


def test_save_layout_as_protocol_wins_next_time(qtbot, viewer, cache, demo, home):  # noqa: F811
    load(cache, demo, "ct-chest-2024", "ct-chest-2023")
    hc = HangingController(viewer, home, auto=False)
    hc.hang(demo.uids["ct-chest-2024"])
    hc.show_stage(1)  # mediastinal window, current and prior
    model = viewer.session.visible[0]
    model.view.set_window(60, 360, "my mediastinum")
    model.view.rotation = 1
    protocol = hc.save_layout_as_protocol("My chest", ["ModalitiesInStudy", "BodyPartExamined"])
    assert protocol.id == "my-chest" and protocol.origin == "user"
    plan = hc.hang(demo.uids["ct-chest-2024"])
    assert plan.protocol_id == "my-chest" and hc.chooser.currentData() == "my-chest"
    assert shown(viewer, 2) == [s_uid("ct-chest-2024", "soft"), s_uid("ct-chest-2023", "soft")]
    first = viewer.session.visible[0].view
    assert (first.voi.center, first.voi.width, first.rotation) == (60, 360, 1)
    assert viewer.session.links.scroll  # the links that were on are kept as sync groups


def test_save_layout_dialog_offers_the_study_attributes(qtbot, cache, demo):  # noqa: F811
    from workstation.ui.protocol_editor import SaveLayoutDialog

    d = SaveLayoutDialog(study_facts(demo.cache, demo.uids["mr-brain-2024"], with_series=False))
    qtbot.addWidget(d)
    assert set(d.match()) == {"ModalitiesInStudy", "BodyPartExamined", "StudyDescription"}
    assert "InstitutionName" in d.boxes and "RelevantPriorCount" not in d.boxes
    d.boxes["StudyDescription"].setChecked(False)
    d.name_edit.setText("x")
    assert d.match() == ["ModalitiesInStudy", "BodyPartExamined"] and d.name() == "x"


def test_attach_hanging_to_a_main_window(qtbot, cache, demo, home):  # noqa: F811
    from PySide6.QtWidgets import QMainWindow

    from workstation.ui.hanging_menu import attach_hanging, open_protocol_manager, start_prior_prefetch

    load(cache, demo, "mr-brain-2024")
    window = QMainWindow()
    qtbot.addWidget(window)
    window.viewer = ViewerWidget(cache)
    window.setCentralWidget(window.viewer)
    controller = attach_hanging(window, home, prefetch=True)
    assert window.hanging_action.text() == "Hanging protocols…"
    window.viewer.open_study(demo.uids["mr-brain-2024"])
    qtbot.waitUntil(lambda: controller.plan is not None, timeout=WAIT_MS)
    assert controller.plan.protocol_id == "mr-brain"
    assert not start_prior_prefetch(controller, home)  # no prior nodes configured: nothing asked
    dialog = open_protocol_manager(window, home, controller)
    assert dialog.isVisible()
    dialog.close()
    window.viewer.shutdown()


def test_a_single_gre_series_is_shown_not_an_empty_mr_brain_layout(qtbot, viewer, cache, home, tmp_path):
    from tests.hanging.test_fit import _write_mr

    study_uid = _write_mr(tmp_path / "gre", "gre")
    assert import_paths(cache, [tmp_path / "gre"], workers=1).imported == 6
    hc = HangingController(viewer, home, auto=False)
    plan = hc.hang(study_uid)
    assert plan.protocol_id == "default" and viewer.session.grid == (1, 1)
    (model,) = viewer.session.visible
    assert model.display_set is not None and len(model) == 6
    qtbot.waitUntil(model.is_loaded, timeout=WAIT_MS)
    assert not hc.notes[0].isVisible()
    # the chooser still offers the MR brain protocol, whose empty viewports then say what is missing
    hc.chooser.activated.emit(hc.chooser.findData("mr-brain"))
    assert hc.plan.protocol_id == "mr-brain"
    assert hc.notes[2].isVisible() and "no axial FLAIR series in this study" in hc.notes[2].text()
    assert "regex" not in hc.notes[2].text() and "|" not in hc.notes[2].text()
