"""The benchmarks' shared input: a 500-slice 512x512 CT series made once under bench/.data."""

from __future__ import annotations

import copy
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

DATA = Path(os.environ.get("LIGHTBOX_BENCH_DATA", Path(__file__).resolve().parent / ".data"))
ROOT = "2.25."


def _uid(n: int) -> str:
    return f"{ROOT}{310000000000000000000000000000000 + n}"


def _template(study: str, series: str, frame: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240315"
    ds.StudyTime = ds.SeriesTime = "101500"
    ds.AccessionNumber = "BENCH0001"
    ds.Modality = "CT"
    ds.Manufacturer = "Lightbox Bench"
    ds.InstitutionName = "Bench Hospital"
    ds.ReferringPhysicianName = "Referrer^Rita"
    ds.StudyDescription = "CT CHEST WITH CONTRAST"
    ds.SeriesDescription = "Chest 1.0 Soft tissue"
    ds.ManufacturerModelName = "Synthetic 64"
    ds.PatientName = "Bench^Patient"
    ds.PatientID = "BENCH-1"
    ds.PatientBirthDate = "19600101"
    ds.PatientSex = "M"
    ds.BodyPartExamined = "CHEST"
    ds.SliceThickness = 1.0
    ds.KVP = 120
    ds.ConvolutionKernel = "B30f"
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.StudyID = "1"
    ds.SeriesNumber = 2
    ds.FrameOfReferenceUID = frame
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 512
    ds.PixelSpacing = [0.7, 0.7]
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.WindowCenter = [40, -600]
    ds.WindowWidth = [400, 1500]
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    return ds


def ct_series(n: int = 500, spacing: float = 1.0) -> Path:
    """The folder of the benchmark series (made once; later runs reuse it); slices ``spacing`` mm apart."""
    folder = DATA / (f"ct{n}" if spacing == 1.0 else f"ct{n}-{spacing:g}mm")
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tpl = _template(_uid(1), _uid(2), _uid(3))
    yy, xx = np.mgrid[-256:256, -256:256].astype(np.float32)
    rng = np.random.default_rng(7)
    body = ((xx / 220) ** 2 + (yy / 160) ** 2) <= 1
    lungs = (((xx - 90) / 70) ** 2 + (yy / 100) ** 2 <= 1) | (((xx + 90) / 70) ** 2 + (yy / 100) ** 2 <= 1)
    for i in range(n):
        ds = copy.deepcopy(tpl)
        sop = _uid(1000 + i)
        ds.SOPInstanceUID = sop
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.InstanceNumber = i + 1
        ds.SliceThickness = spacing
        z = -250.0 + i * spacing
        ds.ImagePositionPatient = [-179.0, -179.0, z]
        ds.SliceLocation = z
        img = np.where(body, 1024 + 40, 0) + np.where(lungs & body, -850, 0)
        img = img + rng.integers(-20, 20, size=img.shape)
        ds.PixelData = img.astype("<i2").tobytes()
        ds.save_as(folder / f"CT{i:04d}.dcm", enforce_file_format=True)
    done.write_text(f"{time.perf_counter() - t0:.1f} s\n")
    return folder


def fresh_home() -> Path:
    return Path(tempfile.mkdtemp(prefix="lightbox-bench-"))


def median(values: list[float]) -> float:
    s = sorted(values)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0
