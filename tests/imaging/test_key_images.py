"""Key images: marks, the "Of Interest" Key Object Selection document, reading one back."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest

from tests import factories
from workstation.imaging.key_images import (
    KeyImageMarks,
    build_key_object_selection,
    is_key_object_selection,
    read_key_object_selection,
)


def _study(n=4):
    study, series = factories.uid(), factories.uid()
    images = [factories.ct_dataset(study_uid=study, series_uid=series, index=i) for i in range(n)]
    cine = factories.ct_dataset(study_uid=study, series_uid=factories.uid())
    cine.NumberOfFrames = 5  # a multi-frame image (header only) of a multi-frame SOP class
    cine.SOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"  # Ultrasound Multi-frame Image Storage
    return images, cine


def test_marks_toggle_in_order():
    marks = KeyImageMarks()
    assert marks.toggle("1.2.3") is True and marks.is_marked("1.2.3")
    assert marks.toggle("1.2.4", 2) is True
    assert marks.toggle("1.2.3") is False and not marks.is_marked("1.2.3")
    marks.toggle("1.2.5")
    assert marks.marked() == [("1.2.4", 2), ("1.2.5", None)]
    assert marks.frames_by_instance() == {"1.2.4": [2], "1.2.5": []}
    assert len(marks) == 2


def test_kos_round_trip(tmp_path):
    images, cine = _study()
    chosen = [images[2], cine, images[0]]
    kos = build_key_object_selection(chosen, description="Nodule right lower lobe",
                                     frames={str(cine.SOPInstanceUID): [3, 1], str(images[0].SOPInstanceUID): [1]})
    path = tmp_path / "kos.dcm"
    kos.save_as(path, enforce_file_format=True)
    back = pydicom.dcmread(path)
    assert is_key_object_selection(back)
    content = read_key_object_selection(back)
    assert content.title == "Of Interest" and content.title_code == ("113000", "DCM")
    assert content.description == "Nodule right lower lobe"
    assert content.sop_instance_uids() == [str(im.SOPInstanceUID) for im in chosen]
    by_uid = {r.sop_instance_uid: r for r in content.references}
    assert by_uid[str(cine.SOPInstanceUID)].frames == (1, 3)
    assert by_uid[str(images[0].SOPInstanceUID)].frames == ()  # single-frame: no frame numbers
    assert by_uid[str(images[2].SOPInstanceUID)].series_instance_uid == str(images[2].SeriesInstanceUID)
    assert by_uid[str(cine.SOPInstanceUID)].series_instance_uid == str(cine.SeriesInstanceUID)


def test_the_kos_carries_the_images_patient_module_with_the_issuer():
    images, _ = _study(2)
    for im in images:
        im.IssuerOfPatientID = "HOSPITAL A"
        qualifiers = pydicom.Dataset()
        qualifiers.UniversalEntityID = "1.2.3.4"
        qualifiers.UniversalEntityIDType = "ISO"
        im.IssuerOfPatientIDQualifiersSequence = [qualifiers]
        im.PatientBirthDate = "19600101"
    kos = build_key_object_selection(images)
    assert kos.IssuerOfPatientID == "HOSPITAL A"
    assert kos.IssuerOfPatientIDQualifiersSequence[0].UniversalEntityID == "1.2.3.4"
    assert (kos.PatientID, kos.PatientName, kos.PatientBirthDate) == (
        images[0].PatientID, images[0].PatientName, "19600101")


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools' dciodvfy is not installed")
def test_dciodvfy_accepts_the_kos(tmp_path):
    images, cine = _study()
    kos = build_key_object_selection([images[1], cine], description="Compare with prior",
                                     frames={str(cine.SOPInstanceUID): [2]})
    path = tmp_path / "kos.dcm"
    kos.save_as(path, enforce_file_format=True)
    done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]
    assert errors == []


@pytest.mark.skipif(shutil.which("dsrdump") is None, reason="DCMTK's dsrdump is not installed")
def test_dsrdump_reads_the_kos(tmp_path):
    images, _cine = _study()
    path = tmp_path / "kos.dcm"
    build_key_object_selection(images[:2]).save_as(path, enforce_file_format=True)
    done = subprocess.run(["dsrdump", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and '"Of Interest"' in done.stdout


def test_bad_arguments_are_refused():
    images, _ = _study()
    other, _ = _study()
    with pytest.raises(ValueError, match="at least one"):
        build_key_object_selection([])
    with pytest.raises(ValueError, match="one study"):
        build_key_object_selection([images[0], other[0]])
    with pytest.raises(ValueError, match="1024"):
        build_key_object_selection(images[:1], description="x" * 1025)
    with pytest.raises(ValueError):
        read_key_object_selection(images[0])
