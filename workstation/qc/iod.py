"""Required attributes (Type 1 and Type 2) of the image IODs a technologist checks.

Not a validator (dciodvfy is one): the attributes of the mandatory modules
that reading depends on, per IOD, from PS3.3.  Type 1 must be present with a
value, Type 2 present (empty allowed).  Conditional attributes are checked
where their condition is plain (Patient Orientation when there is no Image
Orientation (Patient)).
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass

from pydicom.dataset import Dataset

# Modules: keyword -> type ("1" or "2").
PATIENT = {"PatientName": "2", "PatientID": "2", "PatientBirthDate": "2", "PatientSex": "2"}
GENERAL_STUDY = {"StudyInstanceUID": "1", "StudyDate": "2", "StudyTime": "2", "ReferringPhysicianName": "2",
                 "StudyID": "2", "AccessionNumber": "2"}
GENERAL_SERIES = {"Modality": "1", "SeriesInstanceUID": "1", "SeriesNumber": "2"}
FRAME_OF_REFERENCE = {"FrameOfReferenceUID": "1", "PositionReferenceIndicator": "2"}
GENERAL_EQUIPMENT = {"Manufacturer": "2"}
GENERAL_IMAGE = {"InstanceNumber": "2"}
IMAGE_PLANE = {"PixelSpacing": "1", "ImageOrientationPatient": "1", "ImagePositionPatient": "1", "SliceThickness": "2"}
IMAGE_PIXEL = {"SamplesPerPixel": "1", "PhotometricInterpretation": "1", "Rows": "1", "Columns": "1",
               "BitsAllocated": "1", "BitsStored": "1", "HighBit": "1", "PixelRepresentation": "1"}
SOP_COMMON = {"SOPClassUID": "1", "SOPInstanceUID": "1"}
CT_IMAGE = {"ImageType": "1", "RescaleIntercept": "1", "RescaleSlope": "1", "KVP": "2", "AcquisitionNumber": "2"}
MR_IMAGE = {"ImageType": "1", "ScanningSequence": "1", "SequenceVariant": "1", "ScanOptions": "2",
            "MRAcquisitionType": "2", "EchoTime": "2", "EchoTrainLength": "2"}
PET_IMAGE = {"ImageType": "1", "RescaleIntercept": "1", "RescaleSlope": "1", "FrameReferenceTime": "1",
             "ActualFrameDuration": "1"}
CR_SERIES = {"BodyPartExamined": "2", "ViewPosition": "2"}
DX_IMAGE = {"ImageType": "1", "PixelIntensityRelationship": "1", "RescaleIntercept": "1", "RescaleSlope": "1",
            "PatientOrientation": "1"}
DX_DETECTOR = {"ImagerPixelSpacing": "1"}
MG_IMAGE = {"ImageLaterality": "1", "ViewCodeSequence": "1"}
SC_EQUIPMENT = {"ConversionType": "1"}

_COMMON = (PATIENT, GENERAL_STUDY, GENERAL_SERIES, GENERAL_EQUIPMENT, GENERAL_IMAGE, IMAGE_PIXEL, SOP_COMMON)
_CROSS_SECTIONAL = _COMMON + (FRAME_OF_REFERENCE, IMAGE_PLANE)

#: SOP Class UID -> (IOD name, modules).
IODS: dict[str, tuple[str, tuple[dict[str, str], ...]]] = {
    "1.2.840.10008.5.1.4.1.1.2": ("CT Image", _CROSS_SECTIONAL + (CT_IMAGE,)),
    "1.2.840.10008.5.1.4.1.1.4": ("MR Image", _CROSS_SECTIONAL + (MR_IMAGE,)),
    "1.2.840.10008.5.1.4.1.1.128": ("PET Image", _CROSS_SECTIONAL + (PET_IMAGE,)),
    "1.2.840.10008.5.1.4.1.1.1": ("CR Image", _COMMON + (CR_SERIES,)),
    "1.2.840.10008.5.1.4.1.1.1.1": ("Digital X-Ray Image", _COMMON + (DX_IMAGE, DX_DETECTOR)),
    "1.2.840.10008.5.1.4.1.1.1.1.1": ("Digital X-Ray Image", _COMMON + (DX_IMAGE, DX_DETECTOR)),
    "1.2.840.10008.5.1.4.1.1.1.2": ("Digital Mammography X-Ray Image", _COMMON + (DX_IMAGE, DX_DETECTOR, MG_IMAGE)),
    "1.2.840.10008.5.1.4.1.1.1.2.1": ("Digital Mammography X-Ray Image", _COMMON + (DX_IMAGE, DX_DETECTOR, MG_IMAGE)),
    "1.2.840.10008.5.1.4.1.1.6.1": ("US Image", _COMMON),
    "1.2.840.10008.5.1.4.1.1.3.1": ("US Multi-frame Image", _COMMON),
    "1.2.840.10008.5.1.4.1.1.7": ("Secondary Capture Image", _COMMON + (SC_EQUIPMENT,)),
}


@dataclass(frozen=True)
class MissingAttribute:
    """A required attribute an instance lacks (``empty``: present without the value Type 1 needs)."""

    keyword: str
    type: str
    empty: bool = False

    def describe(self) -> str:
        what = "empty" if self.empty else "missing"
        return f"Type {self.type} {self.keyword} {what}"


def iod_name(sop_class_uid: str) -> str:
    entry = IODS.get(sop_class_uid)
    return entry[0] if entry else ""


def missing_attributes(ds: Dataset) -> list[MissingAttribute]:
    """Type 1 and Type 2 attributes of the instance's IOD that it lacks (none for IODs not in :data:`IODS`)."""
    entry = IODS.get(str(ds.get("SOPClassUID", "")))
    if entry is None:
        return []
    required: dict[str, str] = {}
    for module in entry[1]:
        for keyword, kind in module.items():
            required[keyword] = min(kind, required.get(keyword, kind))  # "1" is stricter than "2"
    if "ImageOrientationPatient" not in required and "ImageOrientationPatient" not in ds:
        required.setdefault("PatientOrientation", "2")
    out = []
    for keyword, kind in required.items():
        if keyword not in ds:
            out.append(MissingAttribute(keyword, kind))
        elif kind == "1" and _is_empty(ds[keyword].value):
            out.append(MissingAttribute(keyword, kind, empty=True))
    return out


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    # str, bytes, list, tuple, and pydicom's Sequence and MultiValue all have a length.
    return isinstance(value, Sized) and len(value) == 0
