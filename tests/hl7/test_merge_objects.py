"""Objects made from a study the RIS merged (ADT^A40 through the real MLLP listener) name the surviving patient.

The prior patient's images keep the merged-away identity (Latin-1, Äneas^Rüdiger from pydicom's chrGerm.dcm, under
issuer OLDSYS); the survivor's name is the Japanese one of chrH31.dcm, under issuer HOSP.  Key images (KOS),
presentation states (GSPS), the report (SR), QC corrected copies and their rejection note made from the prior's
study carry the survivor's Patient ID, issuer and name, the prior ID in Other Patient IDs Sequence, in a character
set that holds the name; each file is read back and checked with dciodvfy / dsrdump / dcmpschk.  A study that
was not merged, and an image under the prior ID naming someone else, are written as their images say.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_charset_files
from pydicom.dataset import Dataset

from tests.hl7.peer import message, send_mllp
from tests.viewer_phantom import phantom_study, write_phantom
from workstation.clinical.prior_link import save_registration
from workstation.clinical.registration import RigidTransform
from workstation.config import Settings
from workstation.hl7.inbound import start_listener
from workstation.hl7.messages import read_ack
from workstation.hl7.settings import HL7Settings
from workstation.imaging.patient_module import apply_shown_patient
from workstation.qc.checks import check_patient, load_study
from workstation.qc.correction import apply_correction, plan_correction
from workstation.qc.restructure import apply_restructure, plan_merge, plan_split
from workstation.reporting.editor import ReportEditor
from workstation.reporting.inputs import ImageRef, KeyImage, Measurement
from workstation.reporting.pdf import encapsulated_pdf, report_pdf
from workstation.reporting.settings import ReportingSettings
from workstation.session.reading import ReadingSession
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.store.merges import shown_patient

pytestmark = pytest.mark.timeout(180)


def _charset_name(file: str) -> str:
    [path] = get_charset_files(file)
    return str(pydicom.dcmread(path, stop_before_pixels=True).PatientName)


SURVIVOR = (_charset_name("chrH31.dcm"), "MRG-OBJ-S", "HOSP")  # Yamada^Tarou=山田^太郎=やまだ^たろう
PRIOR = (_charset_name("chrGerm.dcm"), "MRG-OBJ-P", "OLDSYS")  # Äneas^Rüdiger, in ISO_IR 100


def _run(tool: str, path: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    return subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)


def _dciodvfy_errors(path: Path) -> list[str]:
    done = _run("dciodvfy", path)
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


def _import_prior_study(cache: StudyCache, tmp_path: Path) -> str:
    """The survivor's own study and the prior patient's (Latin-1 files); returns the prior's Study UID."""
    phantom_study(cache, tmp_path / "own", 3, patient_id=SURVIVOR[1], patient_name=SURVIVOR[0], issuer=SURVIVOR[2])
    study_uid = "1.2.826.0.1.3680043.8.498.4041"
    for path in write_phantom(tmp_path / "prior", 6, study_uid=study_uid, patient_id=PRIOR[1],
                              patient_name=PRIOR[0], issuer=PRIOR[2]):
        ds = pydicom.dcmread(path)
        ds.SpecificCharacterSet = "ISO_IR 100"  # as a Latin-1 modality wrote them
        ds.save_as(path, enforce_file_format=True)
    assert import_paths(cache, [tmp_path / "prior"]).imported == 6
    return study_uid


def _merge_by_a40(cache: StudyCache, study_uid: str) -> None:
    """ADT^A40 (prior into survivor) sent to the real MLLP listener."""
    listener = start_listener(cache, HL7Settings(), port=0)
    try:
        a40 = message("ADT_A39", {"EVN": {"evn_1": "A40"},
                                  "PID": {"pid_3": f"{SURVIVOR[1]}^^^{SURVIVOR[2]}", "pid_5": SURVIVOR[0]},
                                  "MRG": {"mrg_1": f"{PRIOR[1]}^^^{PRIOR[2]}"}}, control_id="A40-OBJ", event="ADT^A40")
        assert read_ack(send_mllp(listener.port, a40)).code == "AA"
    finally:
        listener.stop()
    row = cache.study(study_uid)
    assert row is not None and (row.patient_id, row.issuer, row.patient_name) == (SURVIVOR[1], SURVIVOR[2],
                                                                                  SURVIVOR[0])


@pytest.fixture
def merged(cache: StudyCache, tmp_path: Path) -> str:
    """The prior patient's study (Latin-1 files), merged into the survivor by an A40 sent to the MLLP listener."""
    study_uid = _import_prior_study(cache, tmp_path)
    _merge_by_a40(cache, study_uid)
    return study_uid


@pytest.fixture
def session(cache: StudyCache, merged: str):
    s = ReadingSession(cache)
    s.open_study(merged)
    s.viewports[0].view.resize(512, 512)
    s.display_sets[0].loader.join(30)
    yield s
    s.close()


def _file_of(cache: StudyCache, sop_uid: str) -> Path:
    row = cache.instance(sop_uid)
    assert row is not None
    return cache.path_of(row)


def _assert_names_the_survivor(ds: Dataset) -> None:
    assert (str(ds.PatientName), ds.PatientID, ds.get("IssuerOfPatientID")) == SURVIVOR
    assert "IssuerOfPatientIDQualifiersSequence" not in ds
    [other] = ds.OtherPatientIDsSequence
    assert (other.PatientID, other.IssuerOfPatientID, other.TypeOfPatientID) == (PRIOR[1], PRIOR[2], "TEXT")
    assert ds.SpecificCharacterSet == "ISO_IR 192"  # the Japanese name does not fit the images' Latin-1


def _assert_study_shows_one_patient(cache: StudyCache, study_uid: str) -> None:
    row = cache.study(study_uid)
    assert row is not None and (row.patient_id, row.issuer) == SURVIVOR[1:] and not row.mixed_patients
    item = check_patient(load_study(cache, study_uid))
    assert item.status == "pass", item.details


def test_the_one_function_gives_the_survivor_with_the_prior_ids(cache, merged):
    shown = shown_patient(cache, merged)
    assert shown is not None
    assert (shown.name, shown.patient_id, shown.issuer, shown.prior_ids) == (*SURVIVOR, (PRIOR[1],))
    assert PRIOR[0] in shown.prior_names and shown.carried_by(PRIOR[1], PRIOR[0])
    assert not shown.carried_by(PRIOR[1], "Fremd^Franz") and not shown.carried_by("OTHER", PRIOR[0])
    [own] = [s for s in cache.studies() if s.study_uid != merged and s.patient_id == SURVIVOR[1]]
    assert shown_patient(cache, own.study_uid) is None  # nothing recorded for the survivor's own study


def test_key_images_of_a_merged_study_name_the_survivor(cache, merged, session):
    vp = session.viewports[0]
    for i in (1, 4):
        vp.set_index(i)
        session.toggle_key_image()
    [saved] = session.save_key_images(description="Ρευματοειδής")
    # The images' headers the viewer holds still say what their files say.
    header = vp.header()
    assert (str(header.PatientName), header.PatientID, header.IssuerOfPatientID) == PRIOR
    assert header.SpecificCharacterSet == "ISO_IR 100" and "OtherPatientIDsSequence" not in header
    path = _file_of(cache, saved.sop_instance_uid)
    back = pydicom.dcmread(path)
    _assert_names_the_survivor(back)
    assert back.PatientBirthDate == "19700101"
    assert _dciodvfy_errors(path) == []
    dump = _run("dsrdump", path)
    assert dump.returncode == 0 and '"Of Interest"' in dump.stdout, dump.stderr
    _assert_study_shows_one_patient(cache, merged)


def test_presentation_state_of_a_merged_study_names_the_survivor_and_applies(cache, merged, session):
    vp = session.viewports[0]
    vp.set_index(2)
    vp.view.set_window(100, 300, "mine")
    saved = session.save_presentation_state(description="tumour board")
    path = _file_of(cache, saved.sop_instance_uid)
    _assert_names_the_survivor(pydicom.dcmread(path))
    check = _run("dcmpschk", path)
    assert check.returncode == 0 and "Error" not in check.stdout, check.stdout + check.stderr
    assert _dciodvfy_errors(path) == []
    _assert_study_shows_one_patient(cache, merged)
    # Applied to the study's images, now shown under the survivor: the state is of the same patient.
    session.apply_presentation_state(saved.sop_instance_uid)
    assert (vp.current_window().center, vp.current_window().width) == (100, 300)


def test_report_of_a_merged_study_names_the_survivor(cache, merged, tmp_path):
    settings = Settings()
    ReportingSettings(radiologist_name="Doe^Jane", organisation="St. Elsewhere").store(settings)
    editor = ReportEditor(cache, settings)
    editor.open_study(merged)
    editor.set_value("findings", "Kein Rundherd.")
    editor.set_value("impression", "Normaler Befund.")
    # The study's images (merged-away identity in their files) are the report's patient's: taken, not refused.
    image = cache.instances(cache.series(merged)[0].series_uid)[0]
    ref = ImageRef(image.sop_class_uid, image.sop_instance_uid)
    assert editor.add_key_image(KeyImage(ref, "best seen here")), editor.refusal
    assert editor.add_measurements([Measurement("length", 8.5, "mm", ref, "POLYLINE", ((1, 2), (5, 6)))]) == 1
    assert editor.refusal == ""
    # The report panel's preview (built the same way, not stored) names the survivor.
    preview = editor.preview()
    assert f"ID: {SURVIVOR[1]}" in preview and PRIOR[1] not in preview, preview
    result = editor.issue(final=False, send=False)
    path = _file_of(cache, result.sop_instance_uid)
    back = pydicom.dcmread(path)
    _assert_names_the_survivor(back)
    assert _dciodvfy_errors(path) == []
    dump = _run("dsrdump", path)
    assert dump.returncode == 0 and "E:" not in dump.stderr, dump.stderr
    assert '"8.5" (mm' in dump.stdout and "best seen here" in dump.stdout  # the measurement and the key image
    assert f"#{SURVIVOR[1]}:{SURVIVOR[2]}" in dump.stdout  # dsrdump's patient line: the survivor's ID and issuer
    _assert_study_shows_one_patient(cache, merged)
    # Its PDF rendering (Encapsulated PDF) takes the patient from the report: the survivor, the prior ID kept.
    pdf_path = tmp_path / "report-pdf.dcm"
    encapsulated_pdf(report_pdf(back), back).save_as(pdf_path, enforce_file_format=True)
    _assert_names_the_survivor(pydicom.dcmread(pdf_path))
    assert _dciodvfy_errors(pdf_path) == []


def test_qc_correction_of_a_merged_study_writes_the_survivor_and_keeps_the_study_under_it(cache, merged):
    plan = plan_correction(cache, merged, {"StudyDescription": "CT Thorax"}, reason="typo")
    changed = {c.keyword: c for c in plan.changes}
    assert changed["PatientID"].old == (PRIOR[1],) and changed["PatientID"].new == SURVIVOR[1]
    assert changed["PatientName"].new == SURVIVOR[0] and changed["StudyDescription"].instances == 6
    original = _file_of(cache, plan.originals[0])
    before = set(_dciodvfy_errors(original))
    outcome = apply_correction(cache, plan)
    assert len(outcome.copies) == 6
    copy_path = outcome.copies[0].path
    copied = pydicom.dcmread(copy_path, stop_before_pixels=True)
    _assert_names_the_survivor(copied)
    assert copied.StudyDescription == "CT Thorax"
    # The copy records what it replaced, the merged-away identity included.
    [modified] = copied.OriginalAttributesSequence[-1].ModifiedAttributesSequence
    assert (modified.PatientID, str(modified.PatientName), modified.IssuerOfPatientID) == (PRIOR[1], PRIOR[0],
                                                                                           PRIOR[2])
    assert set(_dciodvfy_errors(copy_path)) <= before  # nothing new wrong with the copy
    [note] = [p for p in outcome.produced if p.kind == "note"]
    _assert_names_the_survivor(pydicom.dcmread(note.path))
    assert _dciodvfy_errors(note.path) == []
    # The study row adopted the copies' patient: still the survivor, not the prior again.
    _assert_study_shows_one_patient(cache, merged)


def test_objects_of_a_study_not_merged_keep_their_images_identity(cache, merged, tmp_path):
    [own] = [s for s in cache.studies() if s.study_uid != merged and s.patient_id == SURVIVOR[1]]
    s = ReadingSession(cache)
    try:
        s.open_study(own.study_uid)
        s.display_sets[0].loader.join(30)
        s.toggle_key_image()
        [saved] = s.save_key_images()
    finally:
        s.close()
    back = pydicom.dcmread(_file_of(cache, saved.sop_instance_uid))
    assert (str(back.PatientName), back.PatientID, back.IssuerOfPatientID) == SURVIVOR
    assert "OtherPatientIDsSequence" not in back


def test_an_image_naming_someone_else_under_the_prior_id_is_not_rewritten(cache, merged):
    shown = shown_patient(cache, merged)
    assert shown is not None
    stranger = Dataset()
    stranger.PatientID, stranger.PatientName, stranger.IssuerOfPatientID = PRIOR[1], "Fremd^Franz", PRIOR[2]
    assert not apply_shown_patient(stranger, shown)
    assert (stranger.PatientID, str(stranger.PatientName)) == (PRIOR[1], "Fremd^Franz")
    assert "OtherPatientIDsSequence" not in stranger


def test_qc_split_of_a_merged_study_writes_the_survivor(cache, merged):
    [series] = cache.series(merged)
    moved = [r.sop_instance_uid for r in cache.instances(series.series_uid)][:2]
    outcome = apply_restructure(cache, plan_split(cache, series.series_uid, "instances", moved, reason="two apart"))
    assert outcome.copies
    for made in outcome.produced:  # the copies and the rejection note
        _assert_names_the_survivor(pydicom.dcmread(made.path, stop_before_pixels=True))
    _assert_study_shows_one_patient(cache, merged)


def test_spatial_registration_to_a_prior_saved_in_a_merged_study_names_the_survivor(cache, merged):
    [own] = [s for s in cache.studies() if s.study_uid != merged and s.patient_id == SURVIVOR[1]]
    [current] = cache.series(merged)
    [prior] = cache.series(own.study_uid)
    uid = save_registration(cache, current.series_uid, prior.series_uid, RigidTransform(np.eye(4)))
    path = _file_of(cache, uid)
    _assert_names_the_survivor(pydicom.dcmread(path))
    assert _dciodvfy_errors(path) == []
    _assert_study_shows_one_patient(cache, merged)


def test_a_presentation_state_saved_before_the_merge_still_applies_after_it(cache, tmp_path):
    study_uid = _import_prior_study(cache, tmp_path)
    s = ReadingSession(cache)
    try:
        s.open_study(study_uid)
        s.display_sets[0].loader.join(30)
        s.viewports[0].view.set_window(100, 300, "mine")
        saved = s.save_presentation_state(description="before the merge")
    finally:
        s.close()
    assert pydicom.dcmread(_file_of(cache, saved.sop_instance_uid)).PatientID == PRIOR[1]  # made before it
    _merge_by_a40(cache, study_uid)
    s = ReadingSession(cache)
    try:
        s.open_study(study_uid)
        s.display_sets[0].loader.join(30)
        s.apply_presentation_state(saved.sop_instance_uid)  # not refused as another patient's
        w = s.viewports[0].current_window()
        assert (w.center, w.width) == (100, 300)
    finally:
        s.close()


def test_qc_merge_of_a_copy_series_with_the_original_series_of_a_merged_study(cache, merged):
    """A split's copies (survivor) and the series they came from (merged-away identity) are one patient."""
    [series] = cache.series(merged)
    moved = [r.sop_instance_uid for r in cache.instances(series.series_uid)][:2]
    apply_restructure(cache, plan_split(cache, series.series_uid, "instances", moved, reason="two apart"))
    live = [s for s in cache.series(merged) if s.modality == "CT"]
    assert len(live) == 2
    plan = plan_merge(cache, [s.series_uid for s in live], reason="together again")  # not refused
    outcome = apply_restructure(cache, plan)
    for made in outcome.produced:
        _assert_names_the_survivor(pydicom.dcmread(made.path, stop_before_pixels=True))
    _assert_study_shows_one_patient(cache, merged)
