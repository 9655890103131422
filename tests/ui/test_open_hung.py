"""A study opened from the study list goes straight into its protocol's layout, its images first in line."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.hanging.conftest import demo  # noqa: F401 - the session's demo studies
from workstation.demo.plan import demo_uid
from workstation.store.importer import import_paths
from workstation.ui.viewer import viewer as viewer_module

WAIT_MS = 30_000


def s_uid(study: str, series: str) -> str:
    return demo_uid("small", study, series)


@pytest.fixture
def window(qtbot, cache, home, demo, monkeypatch):  # noqa: F811
    from workstation.ui.app import compose_main_window

    for key in ("ct-chest-2024", "ct-chest-2023"):
        assert import_paths(cache, demo.files[key], workers=1).imported == len(demo.files[key])
    # Only painted images let the background readers go here (not the viewer's fallback timer on a slow machine).
    monkeypatch.setattr(viewer_module, "BACKGROUND_FALLBACK_MS", 600_000)
    w = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=WAIT_MS)


def _record_paints(viewer) -> list[tuple[int, str, int]]:
    """(viewport, series shown, frames read of all open series) at each image a viewport paints."""
    painted: list[tuple[int, str, int]] = []
    for w in viewer.viewports:
        original = w.on_image_painted

        def paint(index, original=original, w=w):
            ds = w.model.display_set
            read = sum(d.pixels.count_loaded for d in viewer.session.display_sets)
            painted.append((index, ds.series_uid if ds is not None else "", read))
            if original is not None:
                original(index)

        w.on_image_painted = paint
    return painted


def test_the_first_paint_is_the_protocols_layout_and_the_readers_wait_for_it(qtbot, window, demo):  # noqa: F811
    viewer = window.viewer
    painted = _record_paints(viewer)
    browser = window.browser
    uid = demo.uids["ct-chest-2024"]
    qtbot.waitUntil(lambda: uid in browser.shown_study_uids(), timeout=WAIT_MS)
    assert browser.select_study(uid)
    browser.table.setFocus()
    with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS):
        qtbot.keyClick(browser.table, Qt.Key.Key_Return)
    # Hung at once: the open returned with the protocol's layout, the prior beside the current study.
    assert window.hanging.plan is not None and window.hanging.plan.protocol_id == "ct-chest"
    assert viewer.session.grid == (1, 2)
    assert [m.display_set.series_uid for m in viewer.session.visible] == [
        s_uid("ct-chest-2024", "lung"), s_uid("ct-chest-2023", "soft")]
    qtbot.waitUntil(lambda: {i for i, _s, _n in painted} >= {0, 1}, timeout=WAIT_MS)
    first = {}
    for index, series, read in painted:
        first.setdefault(index, (series, read))
    # The viewer's own layout (the study's first two series) was never painted before the protocol's.
    assert first[0][0] == s_uid("ct-chest-2024", "lung")
    assert first[1][0] == s_uid("ct-chest-2023", "soft")
    # Until the first image was painted, the series were not read in the background: the frames read
    # are the ones shown (the viewer's first pick and the protocol's), no more.
    assert first[0][1] <= 4
    # Then they are read.
    qtbot.waitUntil(lambda: all(d.pixels.done for d in viewer.session.display_sets), timeout=WAIT_MS)


def test_a_study_no_protocol_can_plan_still_opens(qtbot, window, demo, monkeypatch):  # noqa: F811
    from workstation.ui import hanging_apply

    def broken(*_a, **_k):
        raise RuntimeError("no plan today")

    monkeypatch.setattr(hanging_apply, "plan_study", broken)
    uid = demo.uids["ct-chest-2024"]
    browser = window.browser
    qtbot.waitUntil(lambda: uid in browser.shown_study_uids(), timeout=WAIT_MS)
    assert browser.select_study(uid)
    browser.table.setFocus()
    with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS):
        qtbot.keyClick(browser.table, Qt.Key.Key_Return)
    assert window.viewer.session.patient.study_uid == uid
    qtbot.waitUntil(lambda: window.viewer.viewports[0].model.render() is not None, timeout=WAIT_MS)


def test_each_hung_study_is_asked_of_the_index_once(qtbot, window, demo, monkeypatch):  # noqa: F811
    from workstation.store import queries

    asked: list[tuple[str, str]] = []
    by_study, by_series = queries.list_study_instances, queries.list_instances

    def study_query(con, study_uid):
        asked.append(("study", study_uid))
        return by_study(con, study_uid)

    def series_query(con, series_uid):
        asked.append(("series", series_uid))
        return by_series(con, series_uid)

    monkeypatch.setattr(queries, "list_study_instances", study_query)
    monkeypatch.setattr(queries, "list_instances", series_query)
    uid, prior = demo.uids["ct-chest-2024"], demo.uids["ct-chest-2023"]
    browser = window.browser
    qtbot.waitUntil(lambda: uid in browser.shown_study_uids(), timeout=WAIT_MS)
    assert browser.select_study(uid)
    browser.table.setFocus()
    with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS):
        qtbot.keyClick(browser.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.report_panel.pending, timeout=WAIT_MS)
    assert [s.study_uid for s in window.viewer.session.studies] == [uid, prior]
    # At most one query per hung study: its facts, stacks, saved objects and documents all use its answer.
    # Only the first series of the patient's other studies is asked alone (a header of each is read to
    # judge them as priors): the prior's own included, before it was chosen.
    studies = [u for kind, u in asked if kind == "study"]
    assert set(studies) <= {uid, prior} and len(studies) == len(set(studies))
    cache = window.viewer.cache
    alone = [u for kind, u in asked if kind == "series"]
    assert not {s.series_uid for s in cache.series(uid)} & set(alone) and len(alone) == len(set(alone))
    prior_first = cache.series(prior)[0].series_uid
    assert set(alone) & {s.series_uid for s in cache.series(prior)} <= {prior_first}

    # Opened again, the index unchanged: not asked again.
    asked.clear()
    window.viewer.ask_unsaved = lambda check: "discard"
    window.close_study_action.trigger()
    assert browser.select_study(uid)
    browser.table.setFocus()
    with qtbot.waitSignal(window.study_activated, timeout=WAIT_MS):
        qtbot.keyClick(browser.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.report_panel.pending, timeout=WAIT_MS)
    assert [s.study_uid for s in window.viewer.session.studies] == [uid, prior]
    assert asked == []
