"""Presentation states and key images from the viewer: saved in the cache, queued, read back, applied."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.viewer_phantom import phantom_study
from workstation.config import Node
from workstation.session import saved_views
from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.imaging.interaction import remeasure
from workstation.session.reading import ReadingSession
from workstation.store import outbox


@pytest.fixture
def session(cache, tmp_path):
    s = ReadingSession(cache)
    s.open_study(phantom_study(cache, tmp_path / "ph", 6, issuer="HOSPITAL A"))
    s.viewports[0].view.resize(512, 512)
    s.display_sets[0].loader.join(30)
    yield s
    s.close()


def _measure(session, kind, points, index=None):
    vp = session.viewports[0]
    a = Annotation(kind, points, vp.stack.frames[vp.index if index is None else index].key)
    session.annotations.add(a)
    remeasure(vp, a, index)
    return a


def test_presentation_state_round_trip(cache, session, tmp_path):
    vp = session.viewports[0]
    vp.set_index(2)
    vp.view.set_window(100, 300, "mine")
    vp.view.rotate(1)
    vp.view.flip_left_right()
    vp.view.set_zoom(16.0)
    length = _measure(session, Kind.LENGTH, [(20.5, 40.5), (40.5, 40.5)])
    _measure(session, Kind.ELLIPSE, [(24, 24), (36, 36)])
    _measure(session, Kind.RECTANGLE, [(10, 10), (20, 30)])
    _measure(session, Kind.ANGLE, [(40, 20), (20, 20), (20, 50)])
    _measure(session, Kind.COBB, [(10, 10), (50, 10), (10, 40), (50, 60)])
    _measure(session, Kind.FREEHAND, [(22, 22), (38, 22), (38, 38), (30, 44), (22, 38)])
    _measure(session, Kind.POINT, [(5.5, 5.5)])
    text = session.annotations.add(Annotation(Kind.TEXT, [(50, 50)], vp.frame.key, text="see here"))
    saved = session.save_presentation_state(description="for the tumour board")
    assert saved.kind == "PR" and not saved.queued
    listed = session.objects_by_series()[vp.display_set.series_uid]
    assert listed == [("PR", saved.sop_instance_uid, saved.label)]
    assert "for the tumour board" in saved.label
    assert not cache.study(vp.display_set.study.study_uid).mixed_patients
    path = cache.path_of(cache.instance(saved.sop_instance_uid))
    if shutil.which("dcmpschk"):
        run = subprocess.run(["dcmpschk", str(path)], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "Error" not in run.stdout, run.stdout
    if shutil.which("dciodvfy"):
        run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
        assert "Error" not in run.stderr, run.stderr
    # Back to a plain view, then apply the saved state.
    expected = {a.kind: a.values for a in session.annotations}
    session.annotations.clear()
    vp.set_display_set(vp.display_set)
    session.apply_presentation_state(saved.sop_instance_uid)
    assert vp.index == 0 or vp.stack.frames[vp.index].key  # shows the series
    assert (vp.view.rotation, vp.view.flip_horizontal) == (1, True)
    w = vp.current_window()
    assert (w.center, w.width) == (100, 300)
    assert not vp.view.fit and vp.view.zoom == pytest.approx(16.0, rel=0.15)
    kinds = {a.kind: a for a in session.annotations}
    assert set(kinds) == {Kind.LENGTH, Kind.ELLIPSE, Kind.RECTANGLE, Kind.ANGLE, Kind.COBB, Kind.FREEHAND,
                          Kind.POINT, Kind.TEXT}
    assert kinds[Kind.TEXT].text == "see here"
    assert kinds[Kind.LENGTH].points == length.points
    for kind in (Kind.LENGTH, Kind.ANGLE, Kind.COBB):
        assert kinds[kind].values == pytest.approx(expected[kind])
    assert kinds[Kind.ELLIPSE].values["mean"] == pytest.approx(100)
    assert all(a.frame_key == vp.stack.frames[2].key for a in session.annotations)
    _ = text


def test_key_images_saved_as_kos_and_shown_as_a_display_set(cache, session):
    vp = session.viewports[0]
    series_uid = vp.display_set.series_uid
    for i in (1, 4):
        vp.set_index(i)
        session.toggle_key_image()
    cache.connection.execute("UPDATE instances SET source_ae='ARCHIVE1'")
    cache.connection.commit()
    archive = saved_views.study_archive(cache, [Node(name="pacs", ae_title="ARCHIVE1", host="127.0.0.1",
                                                     port=104)], vp.display_set.study.study_uid)
    assert archive == "pacs"
    saved = session.save_key_images(description="two", destination_of=lambda uid: archive)
    assert len(saved) == 1 and saved[0].queued
    items = outbox.list_outbox(cache)
    assert [(i.sop_instance_uid, i.destination) for i in items] == [(saved[0].sop_instance_uid, "pacs")]
    key_set = session.display_sets[-1]
    assert key_set.label == "Key images: Of Interest (two)"
    assert [f.instance_number for f in key_set.stack.frames] == [2, 5]
    assert ("KO", saved[0].sop_instance_uid, saved[0].label) in session.objects_by_series()[series_uid]
    # Filed under the images' patient (ID and issuer): the study does not look mixed.
    uid = vp.display_set.study.study_uid
    assert not cache.study(uid).mixed_patients
    # Opening the study again finds the KOS as a key-image display set.
    session.open_study(uid)
    assert session.display_sets[-1].label.startswith("Key images")
    session.show(session.display_sets[-1], 0)
    assert session.viewports[0].render() is not None


def test_nothing_marked_is_an_error_not_a_crash(session):
    with pytest.raises(saved_views.SaveError):
        session.save_key_images()


def test_displayed_area_leaves_out_what_a_warning_banner_covers(session):
    vp = session.viewports[0]
    cols, rows = vp.frame.columns, vp.frame.rows
    vp.view.resize(cols * 4, rows * 4 + 20)
    vp.view.top_inset = 20  # another patient's images: a banner over the top 20 view pixels
    vp.view.show_area(0, 0, cols, rows)  # the whole image just fills the area below the banner
    area = saved_views.displayed_area(vp)
    assert (area.top_left, area.bottom_right) == ((1, 1), (cols, rows))
