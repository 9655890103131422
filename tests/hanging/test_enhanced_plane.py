"""Enhanced multi-frame images get a plane: an enhanced sagittal MPRAGE fills the "Sagittal" viewport."""

from __future__ import annotations

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.dicom.test_fastheader import _comparable
from tests.factories import uid
from workstation.dicom.header import HEADER_CHUNK, parse_header, record_from_scan
from workstation.hanging.facts import study_facts
from workstation.hanging.library import ProtocolLibrary
from workstation.hanging.service import plan_study
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths

SAGITTAL = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]


def enhanced_sagittal_mprage(path, *, per_frame: bool = False) -> pydicom.Dataset:
    """pydicom-data's enhanced MR (emri_small, 10 frames) as a sagittal T1 MPRAGE with functional groups."""
    source = get_testdata_file("emri_small.dcm")
    if source is None:
        pytest.skip("pydicom-data is not installed")
    ds = pydicom.dcmread(source)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uid(), uid()
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = uid()
    ds.SeriesDescription, ds.StudyDescription, ds.PatientID = "T1 MPRAGE SAG", "MR BRAIN", "ENH1"

    def plane_orientation() -> Dataset:
        item = Dataset()
        item.ImageOrientationPatient = SAGITTAL
        return item

    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing, measures.SliceThickness = [1.0, 1.0], 1.2
    shared.PixelMeasuresSequence = Sequence([measures])
    frames = []
    for k in range(int(ds.NumberOfFrames)):
        frame = Dataset()
        position = Dataset()
        position.ImagePositionPatient = [k * 1.2, -32.0, 32.0]
        frame.PlanePositionSequence = Sequence([position])
        if per_frame:
            frame.PlaneOrientationSequence = Sequence([plane_orientation()])
        frames.append(frame)
    if not per_frame:
        shared.PlaneOrientationSequence = Sequence([plane_orientation()])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.save_as(path, enforce_file_format=True)
    return ds


@pytest.mark.parametrize("per_frame", [False, True])
def test_the_index_takes_the_plane_from_functional_groups(tmp_path, per_frame):
    path = tmp_path / "mprage.dcm"
    enhanced_sagittal_mprage(path, per_frame=per_frame)
    data = path.read_bytes()
    _ds, rec = parse_header(data)
    assert [float(v) for v in rec.image_orientation.split("\\")] == SAGITTAL
    # the lean scan steps aside for it (it skips sequences), so both import paths agree
    scanned = record_from_scan(data[:HEADER_CHUNK], len(data))
    assert scanned is None or _comparable(scanned) == _comparable(rec)


@pytest.fixture
def cache(tmp_path):
    home = Home.single(tmp_path / "home")
    c = StudyCache.open(home)
    yield c
    c.close()


def test_an_enhanced_sagittal_mprage_fills_the_sagittal_viewport(tmp_path, cache):
    ds = enhanced_sagittal_mprage(tmp_path / "mprage.dcm")
    assert import_paths(cache, [tmp_path / "mprage.dcm"], workers=1).imported == 1
    facts = study_facts(cache, ds.StudyInstanceUID)
    assert facts.series[0].get("Plane") == "sagittal"
    plan = plan_study(cache, ProtocolLibrary.load(), ds.StudyInstanceUID)
    assert plan.protocol_id == "mr-brain"
    sagittal = plan.stages[0].viewports[4]
    assert sagittal.label == "Sagittal" and sagittal.filled and sagittal.series_uid == ds.SeriesInstanceUID
    assert sagittal.number_of_images == 10


def test_a_cache_indexed_before_gets_the_plane_from_the_header(tmp_path, cache):
    ds = enhanced_sagittal_mprage(tmp_path / "mprage.dcm")
    import_paths(cache, [tmp_path / "mprage.dcm"], workers=1)
    # as an older index left it: frames, no orientation
    from workstation.store.database import transaction

    with cache.lock, transaction(cache.connection) as conn:
        conn.execute("UPDATE instances SET image_orientation = '' WHERE sop_instance_uid = ?", (ds.SOPInstanceUID,))
    assert cache.instances(ds.SeriesInstanceUID)[0].image_orientation == ""
    assert study_facts(cache, ds.StudyInstanceUID).series[0].get("Plane") == "sagittal"
