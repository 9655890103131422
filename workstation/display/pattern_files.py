"""TG18 test patterns as DICOM files: Secondary Capture images (synthetic), one series per size.

Each pattern becomes an SC image (PS3.3 A.8.1) with Conversion Type ``SYN``,
12 bits stored in 16, and the window the report asks for, so that any DICOM
viewer shows it as intended.  The bytes go through the project's strict
encoder (:func:`workstation.dicom.charset.encode_dataset`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from workstation import __version__
from workstation.dicom.charset import encode_dataset
from workstation.dicom.uids import new_uid
from workstation.display.tg18 import LABEL, Pattern, all_patterns

__all__ = ["SECONDARY_CAPTURE", "pattern_dataset", "write_patterns", "pattern_p_values"]

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"


def pattern_dataset(pattern: Pattern, *, study_uid: str, series_uid: str, number: int,
                    when: dt.datetime | None = None) -> Dataset:
    """The Secondary Capture data set of one pattern.

    Parameters
    ----------
    pattern : Pattern
    study_uid, series_uid : str
        The study and series the patterns share.
    number : int
        Instance Number (1-based).
    when : datetime, optional
        Study and content date/time (now by default).

    Returns
    -------
    pydicom.dataset.Dataset
        With file meta, ready for :func:`encode_dataset`.
    """
    when = when or dt.datetime.now()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = UID(SECONDARY_CAPTURE)
    sop_uid = new_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID, ds.SOPInstanceUID = SECONDARY_CAPTURE, sop_uid
    ds.PatientName = "QA^Display"
    ds.PatientID = "DISPLAY-QA"
    ds.PatientBirthDate = ""
    ds.PatientSex = "O"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.StudyDate = ds.ContentDate = when.strftime("%Y%m%d")
    ds.StudyTime = ds.ContentTime = when.strftime("%H%M%S")
    ds.StudyID = "TG18"
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "Display test patterns (synthetic, based on AAPM TG18)"
    ds.Modality = "OT"
    ds.SeriesNumber = 1
    ds.Laterality = ""  # Type 2C: validators cannot tell a pattern is of no body part
    ds.SeriesDescription = f"AAPM TG18 {pattern.pixels.shape[1] // 1024}k (synthetic)"
    ds.InstanceNumber = number
    ds.Manufacturer = "Lightbox"
    ds.SoftwareVersions = __version__
    ds.ConversionType = "SYN"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.PatientOrientation = ""
    ds.DerivationDescription = LABEL
    ds.ImageComments = f"{pattern.name}: {pattern.description}"
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    rows, columns = pattern.pixels.shape
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = pattern.window
    ds.WindowCenterWidthExplanation = pattern.name
    ds.PixelData = pattern.pixels.astype("<u2").tobytes()
    return ds


def write_patterns(out_dir: str | Path, size: int = 1024) -> list[Path]:
    """Write every TG18 pattern of ``size`` (1024 or 2048) as a DICOM file into ``out_dir``.

    Returns
    -------
    list of Path
        The files written, named after the patterns (``TG18-QC.dcm``, ``TG18-LN12-01.dcm`` ...).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    study_uid, series_uid = new_uid(), new_uid()
    when = dt.datetime.now()
    written = []
    for number, pattern in enumerate(all_patterns(size), start=1):
        data = encode_dataset(pattern_dataset(pattern, study_uid=study_uid, series_uid=series_uid,
                                              number=number, when=when))
        path = out / f"{pattern.name}.dcm"
        tmp = path.with_suffix(".dcm.part")
        tmp.write_bytes(data)
        tmp.replace(path)
        written.append(path)
    return written


def pattern_p_values(pattern: Pattern) -> np.ndarray:
    """The pattern's P-values (uint8), through the same display pipeline as any image, with its own window.

    The screen then gets them through its monitor's output stage
    (:meth:`workstation.display.output.ScreenOutput.grey`), exactly as a
    study's images do, so the patterns test the path the images take.
    """
    from workstation.imaging.pipeline import FramePipeline, Window

    header = Dataset()
    header.Rows, header.Columns = pattern.pixels.shape
    header.SamplesPerPixel, header.PhotometricInterpretation = 1, "MONOCHROME2"
    header.BitsAllocated, header.BitsStored, header.HighBit, header.PixelRepresentation = 16, 12, 11, 0
    centre, width = pattern.window
    return FramePipeline.from_dataset(header).to_display(pattern.pixels, Window(centre, width))
