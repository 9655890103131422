"""Retired storage SOP classes still produced by old modalities move into the cache and render."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from tests.interop.conftest import CALLING_AE
from workstation.dicom.sop_classes import RETIRED_STORAGE_SOP_CLASSES
from workstation.imaging.render import render_file
from workstation.model.stack import is_image_instance
from workstation.net.retrieve import retrieve
from workstation.net.send import send_files

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]

US_RETIRED = "1.2.840.10008.5.1.4.1.1.6"
US_MULTIFRAME_RETIRED = "1.2.840.10008.5.1.4.1.1.3"
NM_RETIRED = "1.2.840.10008.5.1.4.1.1.5"


def _retired_image(folder, sop_class: str, modality: str, study_uid: str, frames: int = 1):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Ολδ^Σκάνερ", "LBX-RETIRED", "19500101", "F"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, generate_uid()
    ds.StudyDate, ds.StudyTime, ds.StudyID = "19980301", "101010", "1"
    ds.AccessionNumber, ds.ReferringPhysicianName = "", ""
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 1, 1
    ds.Rows = ds.Columns = 32
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ramp = (np.add.outer(np.arange(32), np.arange(32)) * 4).astype(np.uint8)
    if frames > 1:
        ds.NumberOfFrames = frames
        ramp = np.stack([ramp] * frames)
    ds.PixelData = ramp.tobytes()
    path = folder / f"{modality}-{sop_class}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_the_retired_classes_the_issue_names_are_in_the_table():
    assert {US_RETIRED, US_MULTIFRAME_RETIRED, NM_RETIRED} <= set(RETIRED_STORAGE_SOP_CLASSES)


def test_retired_us_and_nm_move_from_orthanc_and_render(orthanc, settings, home, cache, tmp_path):
    study = generate_uid()
    files = [_retired_image(tmp_path, US_RETIRED, "US", study),
             _retired_image(tmp_path, US_MULTIFRAME_RETIRED, "US", study, frames=3),
             _retired_image(tmp_path, NM_RETIRED, "NM", study)]
    assert send_files(files, orthanc.peer, CALLING_AE).ok
    report = retrieve(orthanc.node(), settings, home, cache, study, method="move")
    assert report.ok and report.retrieved == 3, report.summary()
    rows = [r for s in cache.series(study) for r in cache.instances(s.series_uid)]
    assert {r.sop_class_uid for r in rows} == {US_RETIRED, US_MULTIFRAME_RETIRED, NM_RETIRED}
    for row in rows:
        assert is_image_instance(row)
        rendered = render_file(cache.path_of(row))
        pixels = np.asarray(rendered.pixels)
        assert pixels.shape[:2] == (32, 32) and pixels.max() > pixels.min()
