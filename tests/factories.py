"""Synthetic DICOM instances for tests: small, valid, with known values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

_ROOT = "1.2.826.0.1.3680043.10.1234."


def uid() -> str:
    return generate_uid(prefix=_ROOT)


def ct_dataset(
    *,
    study_uid: str,
    series_uid: str,
    sop_uid: str | None = None,
    patient_id: str = "PAT001",
    patient_name: str = "Test^Patient",
    index: int = 0,
    size: int = 16,
    spacing: float = 1.25,
    fill: int | None = None,
    modality: str = "CT",
) -> Dataset:
    sop_uid = sop_uid or uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = uid()
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = "20240102"
    ds.StudyTime = "101010"
    ds.StudyDescription = "CT test"
    ds.AccessionNumber = "ACC1"
    ds.StudyID = "1"
    ds.ReferringPhysicianName = ""
    ds.Modality = modality
    ds.SeriesNumber = 1
    ds.SeriesDescription = "axial"
    ds.BodyPartExamined = "CHEST"
    ds.InstanceNumber = index + 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [0.0, 0.0, index * spacing]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    ds.SliceThickness = spacing
    ds.Rows = size
    ds.Columns = size
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    value = index if fill is None else fill
    ds.PixelData = np.full((size, size), value, dtype="<i2").tobytes()
    return ds


def write_series(
    folder: Path, n: int, *, study_uid: str | None = None, series_uid: str | None = None, **kw
) -> list[Path]:
    """Write ``n`` slices of one series into ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or uid()
    series_uid = series_uid or uid()
    paths = []
    for i in range(n):
        ds = ct_dataset(study_uid=study_uid, series_uid=series_uid, index=i, **kw)
        p = folder / f"im{i:04d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths
