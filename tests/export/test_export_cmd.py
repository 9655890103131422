"""'lightbox export': media into a folder and an ISO image that import back, pictures and movies."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest

from tests.export.conftest import run_tool
from workstation.cli import main
from workstation.export.media import extract_iso


@pytest.fixture(scope="module")
def home_with_demo(demo_set, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    assert main(["--home", str(home), "import", *[str(p) for p in demo_set]]) == 0
    return home


def _studies(home: Path, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["--home", str(home), "studies", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _uid(row: dict) -> str:
    return row.get("study_uid") or row.get("StudyInstanceUID") or row["uid"]


def _opens_with_its_objects(home: Path, study_uid: str) -> None:
    """The study in ``home`` has its final report, its key images and its presentation state (rotation kept)."""
    from workstation.home import Home
    from workstation.session.saved_objects import key_object_selections, presentation_states_by_series
    from workstation.store.cache import StudyCache

    cache = StudyCache.open(Home.single(home))
    try:
        from workstation.reporting.certificates import TrustStore
        from workstation.reporting.documents import study_documents

        reports, others = study_documents(cache, study_uid, TrustStore([]))
        assert [r.state for r in reports] == ["final"] and "unreadable" not in reports[0].title
        assert sorted(o.kind for o in others) == ["key images", "presentation state"]
        states = [s for per_series in presentation_states_by_series(cache, study_uid).values() for s in per_series]
        assert states and states[0].state.rotation == 90
        kos = key_object_selections(cache, study_uid)
        assert kos and len(kos[0].sop_instance_uids()) == 2
        images = {r.sop_instance_uid for s in cache.series(study_uid) for r in cache.instances(s.series_uid)}
        assert set(kos[0].sop_instance_uids()) <= images
        series = {s.series_uid for s in cache.series(study_uid)}
        assert {ref.series_instance_uid for ref in states[0].state.referenced} <= series
    finally:
        cache.close()


def _cached_files(home: Path) -> list[Path]:
    from workstation.home import Home
    from workstation.store.cache import StudyCache

    cache = StudyCache.open(Home.single(home))
    try:
        return [cache.path_of(r) for s in cache.studies() for se in cache.series(s.study_uid)
                for r in cache.instances(se.series_uid)]
    finally:
        cache.close()


def _mr_with_report(studies: list[dict]) -> dict:
    return next(s for s in studies if "SR" in s["modalities"].split("\\") or "SR" in s["modalities"])


def test_folder_media_round_trips_and_dcmtk_accepts_its_dicomdir(home_with_demo, tmp_path, capsys):
    mr = _mr_with_report(_studies(home_with_demo, capsys))
    out = tmp_path / "usb"
    assert main(["--home", str(home_with_demo), "export", _uid(mr), "--to", str(out), "--quiet"]) == 0
    assert (out / "DICOMDIR").exists() and (out / "README.TXT").exists() and (out / "IHE_PDI" / "INDEX.HTM").exists()
    result = run_tool("dcmmkdir", "--verbose", "-Pgp", "+r", "+id", str(out), "+D", str(tmp_path / "CHECKDIR"))
    assert result.returncode == 0, result.stderr[-2000:]
    # dciodvfy checks the DICOMDIR itself (Basic Directory IOD); dcmmkdir reads it and appends to it.
    assert not [line for line in run_tool("dciodvfy", str(out / "DICOMDIR")).stderr.splitlines()
                if line.startswith("Error")]
    appended = tmp_path / "appended"
    shutil.copytree(out, appended)
    first = next(p for p in sorted(appended.rglob("IM*")) if p.is_file()).relative_to(appended)
    result = subprocess.run(["dcmmkdir", "--verbose", "-Pgp", "+A", "+id", str(appended), str(first)],
                            capture_output=True, text=True, timeout=120, cwd=appended)
    assert result.returncode == 0 and "already exists" in result.stderr, result.stderr[-2000:]
    dicomdir = pydicom.dcmread(out / "DICOMDIR")
    kinds = {str(r.DirectoryRecordType) for r in dicomdir.DirectoryRecordSequence}
    assert {"PATIENT", "STUDY", "SERIES", "IMAGE", "SR DOCUMENT", "KEY OBJECT DOC", "PRESENTATION"} <= kinds
    names = {str(r.PatientName) for r in dicomdir.DirectoryRecordSequence if r.DirectoryRecordType == "PATIENT"}
    assert names == {mr["patient_name"]}  # the non-Latin name exactly, not '?'
    # Back into a fresh home through its DICOMDIR: the same study, opening with its report, key images and view.
    fresh = tmp_path / "fresh"
    assert main(["--home", str(fresh), "import", str(out / "DICOMDIR")]) == 0
    again = _studies(fresh, capsys)
    assert [_uid(s) for s in again] == [_uid(mr)] and again[0]["num_instances"] == mr["num_instances"]
    _opens_with_its_objects(fresh, _uid(mr))


def test_deidentified_iso_imports_back_under_new_uids(home_with_demo, tmp_path, capsys):
    studies = _studies(home_with_demo, capsys)
    uids = [_uid(s) for s in studies]
    iso = tmp_path / "case.iso"
    assert main(["--home", str(home_with_demo), "export", *uids, "--iso", str(iso), "--deidentify", "dates",
                 "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "new UID" in text and "emptied" in text
    from tests.export.test_deidentify import identifiers, leaks

    assert not leaks([iso], identifiers(_cached_files(home_with_demo)))  # the image as written, byte for byte
    media = extract_iso(iso, tmp_path / "mounted")
    assert (media / "DICOMDIR").exists()
    fresh = tmp_path / "fresh"
    assert main(["--home", str(fresh), "import", str(media / "DICOMDIR")]) == 0
    again = _studies(fresh, capsys)
    assert len(again) == len(uids) and not set(uids) & {_uid(s) for s in again}
    dumped = json.dumps(again, ensure_ascii=False)
    for s in studies:
        assert s["patient_name"] not in dumped and s["patient_id"] not in dumped
    # The de-identified report, key images and view still refer to the de-identified images.
    _opens_with_its_objects(fresh, _uid(_mr_with_report(again)))


def test_movie_of_the_ultrasound_cine_plays_at_its_frame_rate(demo_set, tmp_path):
    import imageio_ffmpeg

    from workstation.export.images import export_movie
    from workstation.imaging.frames import frame_timing

    us = next(p for p in demo_set if "_US_" in str(p))
    fps = frame_timing(pydicom.dcmread(us, stop_before_pixels=True)).frames_per_second
    out = tmp_path / "cine.mp4"
    assert export_movie(us, out) == pytest.approx(fps)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(out)], capture_output=True,
                           text=True, timeout=60)
    stream = next(line for line in probe.stderr.splitlines() if "Video:" in line)
    assert f"{fps:g} fps" in stream
    frames = int(pydicom.dcmread(us, stop_before_pixels=True).NumberOfFrames)
    n, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert n == frames


def test_png_with_deidentify_has_no_patient_text(demo_set, tmp_path):
    import numpy as np
    from PIL import Image

    from workstation.export.images import corner_lines, export_image

    image = next(p for p in demo_set if "_CT_" in str(p))
    export_image(image, tmp_path / "plain.png", corner_text=False)
    export_image(image, tmp_path / "deid.png", corner_text=True, deidentify=True)
    export_image(image, tmp_path / "named.png", corner_text=True, deidentify=False)
    plain, deid, named = (np.asarray(Image.open(tmp_path / f"{n}.png")) for n in ("plain", "deid", "named"))
    # The de-identified picture differs from the bare render only in its bottom (image/window) corner.
    rows = np.nonzero((deid != plain).any(axis=(1, 2)))[0]
    assert rows.size and rows.min() >= deid.shape[0] // 2
    # With names allowed, the patient corner (top) is drawn.
    assert (named[: named.shape[0] // 2] != plain[: plain.shape[0] // 2]).any()
    lines = corner_lines(pydicom.dcmread(image, stop_before_pixels=True), deidentify=True)
    assert lines["top_left"] == []


def test_pictures_movies_and_refusals_from_the_command_line(home_with_demo, tmp_path, capsys):
    studies = _studies(home_with_demo, capsys)
    us = next(s for s in studies if s["modalities"] == "US")
    home = ["--home", str(home_with_demo)]
    assert main([*home, "export", "--deidentify", _uid(us), "--to", str(tmp_path / "movies"), "--format", "mp4"]) == 0
    assert len(list((tmp_path / "movies").glob("*.mp4"))) == 1
    assert "frames/s" in capsys.readouterr().out
    assert main([*home, "export", _uid(us), "--to", str(tmp_path / "pics"), "--format", "png",
                 "--no-corner-text"]) == 0
    assert len(list((tmp_path / "pics").glob("*.png"))) == us["num_instances"]
    capsys.readouterr()
    # Refusals: one clear line, exit 1, nothing written.
    assert main([*home, "export", _uid(us), "--to", str(tmp_path / "x"), "--deidentify", "dates,colour"]) == 1
    assert "colour" in capsys.readouterr().err
    assert main([*home, "export", "1.2.3.4", "--to", str(tmp_path / "y")]) == 1
    assert "not in the cache" in capsys.readouterr().err
    assert main([*home, "export", _uid(us), "--to", str(tmp_path / "pics")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main([*home, "export", _uid(us), "--iso", str(tmp_path / "a.iso"), "--format", "png"]) == 1
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists() and not (tmp_path / "a.iso").exists()


def test_key_images_as_their_presentation_state_shows_them(home_with_demo, demo_set, tmp_path, capsys):
    import numpy as np
    from PIL import Image

    from workstation.imaging.render import render_file, render_with_presentation_state

    mr = _mr_with_report(_studies(home_with_demo, capsys))
    home = ["--home", str(home_with_demo)]
    base = [*home, "export", _uid(mr), "--format", "png", "--key-images", "--no-corner-text"]
    assert main([*base, "--to", str(tmp_path / "plain"), "--no-annotations"]) == 0
    assert main([*base, "--to", str(tmp_path / "shown")]) == 0
    assert main([*base, "--to", str(tmp_path / "deid"), "--deidentify"]) == 0
    plain = sorted((tmp_path / "plain").glob("*.png"))
    shown = sorted((tmp_path / "shown").glob("*.png"))
    deid = sorted((tmp_path / "deid").glob("*.png"))
    assert len(plain) == len(shown) == len(deid) == 2  # the two images the KOS lists, not the whole study

    gsps_path = next(p for p in demo_set if p.name == "gsps.dcm")
    gsps = pydicom.dcmread(gsps_path)
    kos = pydicom.dcmread(next(p for p in demo_set if p.name == "kos.dcm"))
    keys = [str(i.ReferencedSOPInstanceUID) for s in kos.CurrentRequestedProcedureEvidenceSequence
            for se in s.ReferencedSeriesSequence for i in se.ReferencedSOPSequence]
    by_uid = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in demo_set if p.suffix == ".dcm"
              and p.parent.name != p.parent.parent.name}
    first = by_uid[keys[0]]
    bare = np.asarray(Image.open(plain[0]))
    assert np.array_equal(bare[:, :, 0], render_file(first, 0).pixels)
    state_view = render_with_presentation_state(first, gsps, 0).pixels  # window and 90° rotation of the state
    annotated = np.asarray(Image.open(shown[0]))
    drawn = (annotated[:, :, 0] != state_view) | (annotated[:, :, 2] != state_view)
    assert annotated.shape[:2] == state_view.shape and 0 < drawn.sum() < drawn.size // 2  # a 32² demo MR
    assert np.array_equal(annotated[:, :, 0][~drawn], state_view[~drawn])
    # De-identified: the annotation text loses the patient's name, so it differs from the named picture.
    assert not np.array_equal(np.asarray(Image.open(deid[0])), annotated)


def test_corner_text_draws_non_latin_names_with_real_glyphs():
    import numpy as np

    from workstation.export.images import draw_corner_text

    canvas = np.zeros((400, 400, 3), dtype=np.uint8)
    pictures = [draw_corner_text(canvas, {"top_left": [name]}) for name in ("山田^太郎", "田中^花子", "Κωνσταντίνου")]
    # Missing glyphs would all be the same boxes: different names of one length must look different.
    assert not np.array_equal(pictures[0], pictures[1])
    assert all(p[:40].any() for p in pictures)


def test_a_chosen_patient_name_and_id_for_the_copy(home_with_demo, tmp_path, capsys):
    studies = _studies(home_with_demo, capsys)
    mueller = [_uid(s) for s in studies if s["patient_id"] == "LBX-0002"]
    home = ["--home", str(home_with_demo)]
    out = tmp_path / "case"
    assert main([*home, "export", *mueller, "--to", str(out), "--deidentify", "--new-name", "Case^Teaching 7",
                 "--new-id", "TF-0007"]) == 0
    copies = [pydicom.dcmread(p, stop_before_pixels=True) for p in out.rglob("*")
              if p.is_file() and p.parent != out and p.parent.name != "IHE_PDI"]
    assert {(str(c.PatientName), str(c.PatientID)) for c in copies} == {("Case^Teaching 7", "TF-0007")}
    capsys.readouterr()
    # Studies of two patients under one chosen identity would merge them: refused, nothing written.
    everyone = [_uid(s) for s in studies]
    assert main([*home, "export", *everyone, "--to", str(tmp_path / "merged"), "--deidentify",
                 "--new-name", "X^Y", "--new-id", "1"]) == 1
    assert "would merge them" in capsys.readouterr().err and not (tmp_path / "merged").exists()
