"""QC objects made from instances in every character set: names exact, never '?'."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_charset_files
from pydicom.uid import generate_uid

from workstation.qc.correction import apply_correction, plan_correction
from workstation.qc.rejection import reject_instances
from workstation.store.importer import import_paths

FILES = [f for f in sorted(get_charset_files("chr*.dcm"))
         if "PatientName" in pydicom.dcmread(f, stop_before_pixels=True)]


def _imported(cache, tmp_path, src):
    ds = pydicom.dcmread(src)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    path = tmp_path / "in.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert import_paths(cache, [path], workers=1).imported == 1
    return ds


@pytest.mark.parametrize("src", FILES, ids=lambda p: p.split("/")[-1])
def test_rejection_note_keeps_the_name(cache, tmp_path, src):
    ds = _imported(cache, tmp_path, src)
    result = reject_instances(cache, [str(ds.SOPInstanceUID)], "quality", operator="Ελένη")
    note = pydicom.dcmread(result.notes[0].path)
    assert str(note.PatientName) == str(ds.PatientName)
    assert b"??" not in result.notes[0].path.read_bytes()


@pytest.mark.parametrize("src", FILES, ids=lambda p: p.split("/")[-1])
def test_correction_of_another_attribute_keeps_the_name_and_its_character_set(cache, tmp_path, src):
    ds = _imported(cache, tmp_path, src)
    plan = plan_correction(cache, str(ds.StudyInstanceUID), {"StudyDescription": "Thorax"}, reason="typo")
    assert plan.to_utf8 == 0
    copy = pydicom.dcmread(apply_correction(cache, plan).copies[0].path)
    assert str(copy.PatientName) == str(ds.PatientName) and copy.StudyDescription == "Thorax"
    assert copy.SpecificCharacterSet == ds.SpecificCharacterSet  # nothing new needed another set

