"""Presentation states and key images made in the viewer, sent to Orthanc and read back by another Lightbox.

The whole way a reader's work travels: a study retrieved from Orthanc is read
in a :class:`ReadingSession` (the viewer's Qt-free model); a Grayscale
Softcopy Presentation State (VOI, rotation and flip, a zoomed displayed area,
a length measurement with its value, a text note) and an "Of Interest" Key
Object Selection are saved with the viewer's own calls, which store them in
the cache and queue them for the study's archive; the outbox sender (the one
the GUI runs) sends them and gets them committed.  A second home then
retrieves the study and finds the presentation state under its series, applies
it to the same view, and shows the key images as a key-image display set.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.interop.conftest import CALLING_AE
from tests.viewer_phantom import SPACING, write_phantom
from workstation.config import Settings
from workstation.home import Home
from workstation.session import saved_views
from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.imaging.interaction import remeasure
from workstation.session.reading import ReadingSession
from workstation.net.retrieve import retrieve
from workstation.net.send import send_files
from workstation.reporting.sender import OutboxSender, storage_commitment
from workstation.store import outbox
from workstation.store.cache import StudyCache

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]

ISSUER = "HOSPITAL A"
SLICES = 8
MAX_ROUNDS = 5


@pytest.fixture
def study_on_orthanc(orthanc, tmp_path):
    """An 8-slice phantom CT (with an Issuer of Patient ID) stored on Orthanc; returns its Study Instance UID."""
    paths = write_phantom(tmp_path / "phantom", SLICES, patient_id="PR-RT-1", patient_name="Round^Trip",
                          issuer=ISSUER)
    report = send_files(paths, orthanc.peer, CALLING_AE)
    assert report.ok, report.summary()
    from pydicom import dcmread

    return str(dcmread(paths[0], stop_before_pixels=True).StudyInstanceUID)


def _open(cache: StudyCache, study_uid: str) -> ReadingSession:
    session = ReadingSession(cache)
    session.open_study(study_uid)
    vp = session.viewports[0]
    vp.view.resize(512, 512)
    assert vp.display_set is not None and not vp.display_set.key
    assert vp.display_set.loader is None or vp.display_set.loader.join(30)
    return session


def _deliver(home: Home, settings: Settings, cache: StudyCache, uids: set[str]) -> dict[str, str]:
    """Outbox rounds (as the GUI's sender thread runs them) until ``uids`` are committed; returns their states."""
    sender = OutboxSender(cache, settings, storage_commitment(home, settings, cache, timeout=30))
    states: dict[str, str] = {}
    for _ in range(MAX_ROUNDS):
        sender.run_once()
        states = {i.sop_instance_uid: i.state for i in outbox.list_outbox(cache) if i.sop_instance_uid in uids}
        if set(states) == uids and all(s in (outbox.COMMITTED, outbox.FAILED) for s in states.values()):
            break
        # A retry is scheduled in the future: make it due now rather than wait for the backoff.
        cache.connection.execute("UPDATE outbox SET next_attempt='' WHERE state IN (?, ?)",
                                 (outbox.QUEUED, outbox.STORED))
        cache.connection.commit()
    return states


def test_presentation_state_and_key_images_round_trip(orthanc, study_on_orthanc, home, settings, cache, tmp_path):
    study_uid = study_on_orthanc
    pacs = orthanc.node("PACS")
    settings = Settings(storage_port=settings.storage_port, storage_bind_address="127.0.0.1",
                        accept_known_nodes_only=False, nodes=[pacs])
    got = retrieve(orthanc.peer, settings, home, cache, study_uid, method="get")
    assert got.ok, got.summary()

    # The viewer finds the study's archive from the AE title that sent its images.
    destination = saved_views.study_archive(cache, settings.nodes, study_uid)
    assert destination == "PACS"

    # --- Reading at workstation A ------------------------------------------------------
    session = _open(cache, study_uid)
    try:
        vp = session.viewports[0]
        series_uid = vp.display_set.series_uid
        vp.set_index(3)
        vp.view.set_window(80, 350, "mine")
        vp.view.rotate(1)
        vp.view.flip_left_right()
        vp.view.set_zoom(12.0)
        frame_key = vp.frame.key
        shown_sop = vp.frame.sop_instance_uid
        length = Annotation(Kind.LENGTH, [(20.5, 30.5), (40.5, 30.5)], frame_key)  # 20 px of 0.5 mm
        session.annotations.add(length)
        remeasure(vp, length)
        note = session.annotations.add(Annotation(Kind.TEXT, [(50.0, 12.0)], frame_key, text="compare with prior"))
        assert length.values["length"] == pytest.approx(20 * SPACING)
        saved_pr = session.save_presentation_state(description="tumour board", destination=destination)
        assert saved_pr.queued

        marked = []
        for i in (1, 6):
            vp.set_index(i)
            assert session.toggle_key_image() is True
            marked.append(vp.frame.sop_instance_uid)
        saved_ko = session.save_key_images(description="measured nodule",
                                           destination_of=lambda uid: saved_views.study_archive(cache, settings.nodes,
                                                                                                uid))
        assert len(saved_ko) == 1 and saved_ko[0].queued
    finally:
        session.close()
    _ = note

    sent = {saved_pr.sop_instance_uid, saved_ko[0].sop_instance_uid}
    states = _deliver(home, settings, cache, sent)
    assert states == {uid: outbox.COMMITTED for uid in sent}, \
        [(i.state, i.last_error) for i in outbox.list_outbox(cache)]

    # --- Workstation B retrieves the study again ------------------------------------------
    other_home = Home.single(tmp_path / "other-home").ensure()
    with StudyCache.open(other_home) as other:
        got = retrieve(orthanc.peer, settings, other_home, other, study_uid, method="get")
        assert got.ok, got.summary()
        for uid in sent:
            assert other.instance(uid) is not None, "the archive did not return what was sent"
        study = other.study(study_uid)
        assert study.issuer == ISSUER and not study.mixed_patients

        gsps_path = other.path_of(other.instance(saved_pr.sop_instance_uid))
        if shutil.which("dcmpschk"):
            run = subprocess.run(["dcmpschk", str(gsps_path)], capture_output=True, text=True, timeout=60)
            output = run.stdout + run.stderr
            assert "Test passed" in output and "Test failed" not in output, output
            assert [line for line in output.splitlines() if line.startswith(("E:", "F:"))] == []

        session = _open(other, study_uid)
        try:
            listed = session.objects_by_series()[series_uid]
            assert ("PR", saved_pr.sop_instance_uid, saved_pr.label) in listed
            assert "tumour board" in saved_pr.label
            assert any(kind == "KO" and uid == saved_ko[0].sop_instance_uid for kind, uid, _ in listed)

            vp = session.viewports[0]
            assert (vp.view.rotation, vp.view.flip_horizontal) == (0, False) and vp.view.fit
            vp.set_index(vp.stack.index_of(shown_sop, 0))
            session.apply_presentation_state(saved_pr.sop_instance_uid)
            assert (vp.view.rotation, vp.view.flip_horizontal) == (1, True)
            w = vp.current_window()
            assert (w.center, w.width) == (80, 350)
            assert not vp.view.fit and vp.view.zoom == pytest.approx(12.0, rel=0.15)
            by_kind = {a.kind: a for a in session.annotations}
            assert set(by_kind) == {Kind.LENGTH, Kind.TEXT}
            assert by_kind[Kind.LENGTH].points == length.points
            assert by_kind[Kind.LENGTH].values["length"] == pytest.approx(length.values["length"])
            assert by_kind[Kind.TEXT].text == "compare with prior"
            assert all(a.frame_key[0] == shown_sop for a in session.annotations)

            key_sets = [d for d in session.display_sets if d.key]
            assert len(key_sets) == 1
            key_set = key_sets[0]
            assert key_set.label == "Key images: Of Interest (measured nodule)"
            assert [f.sop_instance_uid for f in key_set.stack.frames] == marked
            assert [f.instance_number for f in key_set.stack.frames] == [2, 7]
            session.show(key_set, 0)
            assert session.viewports[0].render() is not None
        finally:
            session.close()
