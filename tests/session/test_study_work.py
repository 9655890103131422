"""The reader's work is kept with the study: saved under the home, restored, offered to the report (headless)."""

from __future__ import annotations

import json
import os
import stat
import sys

import pytest
from pydicom.data import get_charset_files

from tests.factories import uid
from tests.viewer_phantom import phantom_study
from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.imaging.interaction import remeasure
from workstation.session import unsaved
from workstation.session.reading import ReadingSession
from workstation.session.study_work import read_report_measurements


@pytest.fixture
def session(cache):
    s = ReadingSession(cache)
    yield s
    s.close()


def _measure(session, start=(10.0, 10.0), end=(40.0, 10.0)) -> Annotation:
    vp = session.viewports[0]
    a = Annotation(Kind.LENGTH, [start, end], vp.frame.key)
    session.annotations.add(a)
    remeasure(vp, a)
    session.annotations.changed()
    return a


def test_measurements_and_marks_are_saved_with_the_study_and_restored(home, cache, session, tmp_path):
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    b_uid = phantom_study(cache, tmp_path / "b", 2)
    session.open_study(a_uid)
    made = _measure(session)
    assert made.values["length"] > 0
    session.toggle_key_image()
    file = home.data_dir / "measurements" / f"{a_uid}.json"
    assert file.exists() and session.work.unsaved() == []  # autosaved as made

    session.open_study(b_uid)
    assert list(session.annotations) == [] and session.key_images == set()
    session.open_study(a_uid)
    [again] = list(session.annotations)
    assert (again.kind, again.points, again.frame_key) == (made.kind, made.points, made.frame_key)
    assert again.lines == made.lines and again.values["length"] == pytest.approx(made.values["length"])
    assert session.key_images == {made.frame_key}
    assert session.work.unsaved() == []

    # What `lightbox report create --with-measurements` reads from the same file.
    [m] = read_report_measurements(file)
    assert (m.kind, m.unit, m.image.sop_instance_uid) == ("length", "mm", made.frame_key[0])
    assert m.value == pytest.approx(made.values["length"])


def test_a_bare_list_of_measurements_is_still_read_for_the_report(tmp_path):
    file = tmp_path / "old.json"
    file.write_text(json.dumps([{"kind": "length", "value": 7.5, "unit": "mm",
                                 "image": {"sop_class_uid": "1.2.840.10008.5.1.4.1.1.2", "sop_instance_uid": "1.2.3"},
                                 "graphic_type": "POLYLINE", "points": [[1, 1], [4, 5]]}]))
    [m] = read_report_measurements(file)
    assert m.value == 7.5


def test_without_autosave_work_is_unsaved_until_saved_or_discarded(home, cache, session, tmp_path):
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    session.work.autosave = False
    session.open_study(a_uid)
    _measure(session)
    file = home.data_dir / "measurements" / f"{a_uid}.json"
    assert not file.exists() and session.work.unsaved() == [a_uid]

    check = unsaved.check_closing(session)
    assert check.needs_answer and check.choices == (unsaved.SAVE, unsaved.DISCARD, unsaved.CANCEL)
    assert "1 measurement or annotation not saved" in check.message
    assert unsaved.apply_answer(session, check, unsaved.CANCEL) == (False, "")
    assert len(session.annotations) == 1 and not file.exists()

    assert unsaved.apply_answer(session, check, unsaved.SAVE) == (True, "")
    assert file.exists() and session.work.unsaved() == []

    # A second measurement, discarded: the file keeps the first one only.
    _measure(session, (5.0, 5.0), (5.0, 30.0))
    check = unsaved.check_closing(session)
    assert unsaved.apply_answer(session, check, unsaved.DISCARD) == (True, "")
    assert len(session.annotations) == 1 and session.work.unsaved() == []
    session.open_study(a_uid)
    assert len(session.annotations) == 1


def test_removing_every_measurement_is_saved_too(home, cache, session, tmp_path):
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    session.open_study(a_uid)
    made = _measure(session)
    session.annotations.remove(made)
    session.open_study(a_uid)
    assert list(session.annotations) == []


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes read-only folders")
def test_a_home_that_cannot_be_written_leaves_the_work_unsaved_and_asks(home, cache, session, tmp_path):
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    folder = home.data_dir / "measurements"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        session.open_study(a_uid)
        _measure(session)
        assert session.work.unsaved() == [a_uid] and session.work.notices
        check = unsaved.check_closing(session)
        go, message = unsaved.apply_answer(session, check, unsaved.SAVE)
        assert not go and message.startswith("Measurements not saved")
    finally:
        folder.chmod(stat.S_IRWXU)


def test_unwritable_work_file_is_unsaved(home, cache, session, tmp_path, monkeypatch):
    """The same as above where root ignores permissions: the write itself fails."""
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    session.open_study(a_uid)

    def refuse(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("workstation.session.work_keeper.write_work", refuse)
    _measure(session)
    assert session.work.unsaved() == [a_uid]
    assert session.work.notices == ["Measurements not saved: No space left on device"]
    go, message = unsaved.apply_answer(session, unsaved.check_closing(session), unsaved.SAVE)
    assert (go, message) == (False, "Measurements not saved: No space left on device")
    monkeypatch.undo()
    assert unsaved.apply_answer(session, unsaved.check_closing(session), unsaved.SAVE) == (True, "")


def test_a_damaged_file_is_set_aside_not_overwritten(home, cache, session, tmp_path):
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    folder = home.data_dir / "measurements"
    folder.mkdir()
    (folder / f"{a_uid}.json").write_text("{not json", encoding="utf-8")
    session.open_study(a_uid)
    assert session.work.notices and "could not be read" in session.work.notices[0]
    kept = [p for p in folder.iterdir() if "unreadable" in p.name]
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{not json"
    _measure(session)
    assert json.loads((folder / f"{a_uid}.json").read_text(encoding="utf-8"))["annotations"]


def test_non_latin_text_survives(home, cache, session, tmp_path):
    """An annotation's text in any script, with the patient's name of a non-Latin charset file."""
    charset = next(f for f in get_charset_files() if "chrH31" in f)
    from pydicom import dcmread

    name = str(dcmread(charset).PatientName)
    a_uid = phantom_study(cache, tmp_path / "a", 2, patient_name=name)
    session.open_study(a_uid)
    vp = session.viewports[0]
    session.annotations.add(Annotation(Kind.ARROW, [(1.0, 1.0), (9.0, 9.0)], vp.frame.key, text="結節 Müller"))
    session.open_study(a_uid)
    [a] = list(session.annotations)
    assert a.text == "結節 Müller"


def test_work_on_rejected_images_is_kept_while_they_are_hidden(home, cache, session, tmp_path):
    from workstation.qc.rejection import reject_instances

    a_uid = phantom_study(cache, tmp_path / "a", 3)
    session.open_study(a_uid)
    made = _measure(session)
    reject_instances(cache, [made.frame_key[0]], "quality", operator="QC^Tech")
    session.open_study(a_uid)  # the measured image is hidden now
    assert list(session.annotations) == []
    session.toggle_key_image()  # new work saves the study's file again...
    session.set_show_rejected(True)
    # ...and the measurement on the hidden image was kept in it.
    assert [a.frame_key for a in session.annotations] == [made.frame_key]


def test_showing_rejected_images_keeps_unsaved_work(home, cache, session, tmp_path):
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    session.work.autosave = False
    session.open_study(a_uid)
    _measure(session)
    session.set_show_rejected(True)
    assert len(session.annotations) == 1 and session.work.unsaved() == [a_uid]


def test_closing_reminds_of_drafts_and_quitting_of_unsent_objects(home, cache, session, tmp_path):
    from workstation.reporting.inputs import ReportContent
    from workstation.reporting.lifecycle import save_draft
    from workstation.store import outbox

    a_uid = phantom_study(cache, tmp_path / "a", 2)
    session.open_study(a_uid)
    assert not unsaved.check_closing(session).needs_answer
    save_draft(cache, "d1", a_uid, ReportContent("general", {"impression": "Normal"}), "")
    check = unsaved.check_closing(session)
    assert [i.kind for i in check.items] == [unsaved.DRAFT]
    assert check.choices == (unsaved.CLOSE, unsaved.CANCEL)
    assert unsaved.apply_answer(session, check, unsaved.CLOSE) == (True, "")
    assert outbox.list_drafts(cache, a_uid)  # a draft is never dropped by closing

    sop = session.display_sets[0].stack.frames[0].key[0]
    outbox.enqueue(cache, sop, "PACS")
    assert [i.kind for i in unsaved.check_closing(session, quitting=True).items] == [unsaved.DRAFT, unsaved.OUTBOX]
    assert "not yet sent" in unsaved.check_closing(session, quitting=True).message
    assert [i.kind for i in unsaved.check_closing(session).items] == [unsaved.DRAFT]


def test_study_uid_that_is_not_a_uid_names_no_file(home, cache, session):
    from workstation.session.study_work import work_file

    with pytest.raises(ValueError):
        work_file(home.data_dir, "../../etc/passwd")
    assert work_file(home.data_dir, uid()).suffix == ".json"


def test_two_sessions_on_one_study_never_write_over_each_other(home, cache, session, tmp_path):
    """A second monitor's viewer (or a second Lightbox on the same home) measures the same study."""
    a_uid = phantom_study(cache, tmp_path / "a", 3)
    other = ReadingSession(cache)
    try:
        session.open_study(a_uid)
        other.open_study(a_uid)
        _measure(session, (1.0, 1.0), (20.0, 1.0))
        _measure(other, (2.0, 2.0), (2.0, 30.0))
        _measure(session, (3.0, 3.0), (30.0, 30.0))
        gone = _measure(other, (4.0, 4.0), (9.0, 9.0))
        other.annotations.remove(gone)  # removed where it was made: stays removed
        assert len(session.annotations) == 3  # the other's first one was taken in when saving
        session.open_study(a_uid)
        assert sorted(a.points[1] for a in session.annotations) == [(2.0, 30.0), (20.0, 1.0), (30.0, 30.0)]
    finally:
        other.close()
