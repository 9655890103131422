"""Read the header of one DICOM file into the record the study cache indexes.

The header is read once at import (``stop_before_pixels``); the byte offset of
a native Pixel Data value is kept so volumes can later be read straight from
the files without parsing them again.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from workstation.dicom.uids import InvalidUID, checked_uid

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"

# Little-endian native transfer syntaxes whose Pixel Data can be read raw from the file.
_NATIVE_LE = {ExplicitVRLittleEndian, ImplicitVRLittleEndian}


class NotDicom(ValueError):
    """The bytes are not a DICOM dataset pydicom can read."""


class UnusableInstance(ValueError):
    """A readable DICOM dataset that cannot go into the cache (say why)."""


@dataclass
class InstanceRecord:
    """Everything the index keeps about one instance, its series, study and patient."""

    # patient
    patient_name: str = ""
    patient_id: str = ""
    issuer_of_patient_id: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    # study
    study_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    study_id: str = ""
    referring_physician: str = ""
    institution_name: str = ""
    # series
    series_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    modality: str = ""
    body_part: str = ""
    laterality: str = ""
    frame_of_reference_uid: str = ""
    protocol_name: str = ""
    contrast_bolus_agent: str = ""
    series_date: str = ""
    series_time: str = ""
    # instance
    sop_class_uid: str = ""
    sop_instance_uid: str = ""
    instance_number: int | None = None
    transfer_syntax_uid: str = ""
    rows: int | None = None
    columns: int | None = None
    number_of_frames: int = 1
    image_position: str = ""
    image_orientation: str = ""
    pixel_spacing: str = ""
    slice_thickness: float | None = None
    acquisition_time: str = ""
    image_type: str = ""
    view_position: str = ""
    image_laterality: str = ""
    bits_allocated: int | None = None
    pixel_representation: int | None = None
    samples_per_pixel: int | None = None
    photometric_interpretation: str = ""
    rescale_slope: float | None = None
    rescale_intercept: float | None = None
    pixel_data_offset: int | None = None
    specific_character_set: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _text(ds: Dataset, keyword: str) -> str:
    try:
        value = ds.get(keyword)
    except Exception:  # a malformed element must not stop the import
        return ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _int(ds: Dataset, keyword: str) -> int | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else int(value)
    except Exception:
        return None


def _float(ds: Dataset, keyword: str) -> float | None:
    try:
        value = ds.get(keyword)
        return None if value in (None, "") else float(value)
    except Exception:
        return None


def _numbers(ds: Dataset, keyword: str) -> str:
    """A multi-valued DS as backslash-joined text of floats ('' when absent or malformed)."""
    try:
        value = ds.get(keyword)
        if value is None or value == "":
            return ""
        items = value if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
        return "\\".join(repr(float(v)) for v in items)
    except Exception:
        return ""


def _pixel_offset(buf: bytes, pos: int, transfer_syntax: str) -> int | None:
    """Offset of the Pixel Data value if (7FE0,0010) starts at ``pos`` with a defined length."""
    if transfer_syntax not in _NATIVE_LE or pos + 8 > len(buf):
        return None
    group, elem = struct.unpack_from("<HH", buf, pos)
    if (group, elem) != (0x7FE0, 0x0010):
        return None
    if transfer_syntax == ExplicitVRLittleEndian:
        if pos + 12 > len(buf) or buf[pos + 4 : pos + 6] not in (b"OW", b"OB"):
            return None
        (length,) = struct.unpack_from("<I", buf, pos + 8)
        start = pos + 12
    else:
        (length,) = struct.unpack_from("<I", buf, pos + 4)
        start = pos + 8
    if length == 0xFFFFFFFF or start + length > len(buf):
        return None
    return start


def parse_header(buf: bytes) -> tuple[Dataset, InstanceRecord]:
    """Parse a whole file's bytes (Part 10, or a bare dataset pydicom can read).

    Raises
    ------
    NotDicom
        When the bytes are not DICOM.
    UnusableInstance
        When the dataset lacks what the cache needs (SOP Instance UID and the
        study and series UIDs, all valid).
    """
    with warnings.catch_warnings():
        # pydicom warns about every oddity it tolerates; the import reports what matters.
        warnings.simplefilter("ignore")
        return _parse_header(buf)


def _parse_header(buf: bytes) -> tuple[Dataset, InstanceRecord]:
    bio = io.BytesIO(buf)
    try:
        ds = pydicom.dcmread(bio, stop_before_pixels=True, force=False)
    except InvalidDicomError:
        # Files without preamble and meta header: accept only if they parse as a dataset
        bio.seek(0)
        try:
            ds = pydicom.dcmread(bio, stop_before_pixels=True, force=True)
        except Exception as exc:
            raise NotDicom(f"not DICOM ({_short(exc)})") from None
        if len(ds) == 0 or "SOPInstanceUID" not in ds:
            raise NotDicom("not DICOM (no DICOM preamble, and not a readable dataset)")
    except Exception as exc:
        raise NotDicom(f"unreadable DICOM ({_short(exc)})") from None
    pixel_pos = bio.tell()
    return ds, record_from_dataset(ds, buf=buf, pixel_pos=pixel_pos)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def transfer_syntax_of(ds: Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    ts = str(getattr(meta, "TransferSyntaxUID", "") or "") if meta is not None else ""
    if not ts:
        # No meta header: pydicom tells what it found the dataset encoded in.
        if getattr(ds, "is_little_endian", True) is False:
            ts = ExplicitVRBigEndian
        elif getattr(ds, "is_implicit_VR", True):
            ts = ImplicitVRLittleEndian
        else:
            ts = ExplicitVRLittleEndian
    return ts


def record_from_dataset(ds: Dataset, *, buf: bytes | None = None, pixel_pos: int | None = None) -> InstanceRecord:
    """Build the index record of ``ds``; raises :class:`UnusableInstance` when UIDs are missing or invalid."""
    meta = getattr(ds, "file_meta", None)
    if str(getattr(meta, "MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        raise UnusableInstance("DICOMDIR (file-set index, not an image; import its folder or the DICOMDIR itself)")
    try:
        sop_uid = checked_uid(ds.get("SOPInstanceUID"), "SOP Instance UID")
        study_uid = checked_uid(ds.get("StudyInstanceUID"), "Study Instance UID")
        series_uid = checked_uid(ds.get("SeriesInstanceUID"), "Series Instance UID")
    except InvalidUID as exc:
        raise UnusableInstance(str(exc)) from None
    except Exception as exc:
        raise UnusableInstance(f"unreadable UID ({_short(exc)})") from None
    if "SOPInstanceUID" not in ds or not sop_uid:
        raise UnusableInstance("no SOP Instance UID")
    sop_class = _text(ds, "SOPClassUID") or str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "") or "")
    ts = transfer_syntax_of(ds)
    frames = _int(ds, "NumberOfFrames") or 1
    offset = None
    if buf is not None and pixel_pos is not None:
        offset = _pixel_offset(buf, pixel_pos, ts)
    rec = InstanceRecord(
        patient_name=_text(ds, "PatientName"),
        patient_id=_text(ds, "PatientID"),
        issuer_of_patient_id=_text(ds, "IssuerOfPatientID"),
        patient_birth_date=_text(ds, "PatientBirthDate"),
        patient_sex=_text(ds, "PatientSex"),
        study_uid=study_uid,
        study_date=_text(ds, "StudyDate"),
        study_time=_text(ds, "StudyTime"),
        study_description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        study_id=_text(ds, "StudyID"),
        referring_physician=_text(ds, "ReferringPhysicianName"),
        institution_name=_text(ds, "InstitutionName"),
        series_uid=series_uid,
        series_number=_int(ds, "SeriesNumber"),
        series_description=_text(ds, "SeriesDescription"),
        modality=_text(ds, "Modality"),
        body_part=_text(ds, "BodyPartExamined"),
        laterality=_text(ds, "Laterality"),
        frame_of_reference_uid=_text(ds, "FrameOfReferenceUID"),
        protocol_name=_text(ds, "ProtocolName"),
        contrast_bolus_agent=_text(ds, "ContrastBolusAgent"),
        series_date=_text(ds, "SeriesDate"),
        series_time=_text(ds, "SeriesTime"),
        sop_class_uid=sop_class,
        sop_instance_uid=sop_uid,
        instance_number=_int(ds, "InstanceNumber"),
        transfer_syntax_uid=ts,
        rows=_int(ds, "Rows"),
        columns=_int(ds, "Columns"),
        number_of_frames=frames,
        image_position=_numbers(ds, "ImagePositionPatient"),
        image_orientation=_numbers(ds, "ImageOrientationPatient"),
        pixel_spacing=_numbers(ds, "PixelSpacing"),
        slice_thickness=_float(ds, "SliceThickness"),
        acquisition_time=_text(ds, "AcquisitionTime"),
        image_type=_text(ds, "ImageType"),
        view_position=_text(ds, "ViewPosition"),
        image_laterality=_text(ds, "ImageLaterality"),
        bits_allocated=_int(ds, "BitsAllocated"),
        pixel_representation=_int(ds, "PixelRepresentation"),
        samples_per_pixel=_int(ds, "SamplesPerPixel"),
        photometric_interpretation=_text(ds, "PhotometricInterpretation"),
        rescale_slope=_float(ds, "RescaleSlope"),
        rescale_intercept=_float(ds, "RescaleIntercept"),
        pixel_data_offset=offset,
        specific_character_set=_text(ds, "SpecificCharacterSet"),
    )
    return rec
