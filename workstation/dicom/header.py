"""Read the header of one DICOM file into the record the study cache indexes.

The header is read once at import (``stop_before_pixels``); the byte offset of
a native Pixel Data value is kept so volumes can later be read straight from
the files without parsing them again.  The byte-level checks of the pixel data
(its offset, truncation, a deflated data set's inflated size) are in
:mod:`workstation.dicom.pixel_extent`; their public names are importable from
here too.
"""

from __future__ import annotations

import builtins
import io
import os
import struct
import warnings
from dataclasses import dataclass, field
from typing import Any

import pydicom
from collections.abc import Callable

from pydicom.charset import convert_encodings
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.tag import Tag
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from workstation.log_privacy import mask_values
from workstation.dicom.pixel_extent import (  # re-exported: importers and the receiver check files with them
    TAIL_BYTES,
    deflated_too_large,
    pixel_data_offset,
    pixel_data_truncation,
    stopped_at_pixels,
)
from workstation.dicom.uids import InvalidUID, checked_uid

__all__ = [
    "HEADER_CHUNK", "MEDIA_STORAGE_DIRECTORY", "TAIL_BYTES", "InstanceRecord", "NotDicom", "UnusableInstance",
    "deflated_too_large", "functional_group_orientation", "parse_header", "parse_header_file",
    "pixel_data_truncation", "record_from_dataset", "record_from_scan", "transfer_syntax_of",
]

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"


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


class _Values:
    """Fast access to the few values the index needs.

    Works on raw element bytes (from pydicom's raw elements or from the lean
    header scan); only text that is not plain ASCII goes through pydicom's
    character-set conversion.  Every malformed value reads as empty, never as
    an exception.
    """

    def __init__(
        self, lookup: Callable[[int], tuple[Any, str | None, bool] | None], converted: Callable[[str], str]
    ) -> None:
        self._lookup = lookup
        self._converted = converted

    @classmethod
    def of_dataset(cls, ds: Dataset) -> _Values:
        def lookup(tag: builtins.int) -> tuple[Any, str | None, bool] | None:
            try:
                # pydicom's overload says DataElement; an absent tag gives None and an
                # unconverted one its RawDataElement.
                elem: DataElement | RawDataElement | None = ds.get_item(tag)
            except Exception:
                return None
            if elem is None:
                return None
            return elem.value, getattr(elem, "VR", None), getattr(elem, "is_little_endian", True)

        def converted(keyword: str) -> str:
            try:
                return _as_text(ds.get(keyword))
            except Exception:
                return ""

        return cls(lookup, converted)

    @classmethod
    def of_scan(cls, values: dict[int, tuple[str | None, bytes]], explicit: bool) -> _Values:
        def lookup(tag: builtins.int) -> tuple[Any, str | None, bool] | None:
            item = values.get(tag)
            return None if item is None else (item[1], item[0], True)

        def converted(keyword: str) -> str:
            tag = tag_for_keyword(keyword)
            if tag is None:
                return ""
            item = values.get(tag)
            if item is None:
                return ""
            charset = values.get(0x00080005)
            names = charset[1].decode("ascii", "replace").strip(" \x00").split("\\") if charset else []
            try:
                raw = RawDataElement(Tag(tag), item[0], len(item[1]), item[1], 0, not explicit, True)
                return _as_text(convert_raw_data_element(raw, encoding=convert_encodings(names or None)).value)
            except Exception:
                return ""

        return cls(lookup, converted)

    def _raw(self, keyword: str) -> tuple[_RawView | None, str | None]:
        tag = tag_for_keyword(keyword)
        if tag is None:
            return None, None
        found = self._lookup(tag)
        if found is None:
            return None, None
        value, vr, little = found
        return _RawView(value, little), (vr or dictionary_VR(tag))

    def text(self, keyword: str) -> str:
        elem, vr = self._raw(keyword)
        if elem is None:
            return ""
        value = elem.value
        if isinstance(value, (bytes, bytearray)):
            if value.isascii() and b"\x1b" not in value:
                return value.decode("ascii").strip(" \x00")
            return self._converted(keyword)
        return self._converted(keyword)

    def int(self, keyword: str) -> int | None:
        """The value as an int; None when absent, unreadable, not finite or beyond 32 bits (IS range)."""
        number = self._int(keyword)
        if number is None or not -(1 << 31) <= number < (1 << 32):
            return None
        return number

    def _int(self, keyword: str) -> builtins.int | None:
        elem, vr = self._raw(keyword)
        if elem is None:
            return None
        value = elem.value
        if isinstance(value, (bytes, bytearray)):
            if vr in ("US", "SS", "UL", "SL"):
                fmt = {"US": "H", "SS": "h", "UL": "I", "SL": "i"}[vr]
                size = struct.calcsize(fmt)
                if len(value) < size:
                    return None
                order = "<" if getattr(elem, "is_little_endian", True) else ">"
                number: builtins.int = struct.unpack_from(order + fmt, value)[0]
                return number
            try:
                text = value.decode("ascii", "replace").strip(" \x00").split("\\")[0]
                return int(float(text)) if text else None
            except (ValueError, OverflowError):
                return None
        try:
            return None if value in (None, "") else int(value)
        except (TypeError, ValueError, OverflowError):
            return None

    def numbers(self, keyword: str) -> list[float] | None:
        elem, _vr = self._raw(keyword)
        if elem is None:
            return None
        value = elem.value
        try:
            if isinstance(value, (bytes, bytearray)):
                parts = [p for p in value.decode("ascii", "replace").strip(" \x00").split("\\")]
                return [float(p) for p in parts if p.strip()] or None
            if value in (None, ""):
                return None
            items = value if hasattr(value, "__iter__") and not isinstance(value, str) else [value]
            return [float(v) for v in items]
        except (TypeError, ValueError):
            return None

    def float(self, keyword: str) -> float | None:
        values = self.numbers(keyword)
        return values[0] if values else None

    def joined(self, keyword: str) -> str:
        """A multi-valued DS as backslash-joined text of floats ('' when absent or malformed)."""
        values = self.numbers(keyword)
        return "\\".join(repr(v) for v in values) if values else ""


_KEYWORDS = [
    'AccessionNumber', 'AcquisitionTime', 'BitsAllocated', 'BodyPartExamined', 'Columns', 'ContrastBolusAgent',
    'FrameOfReferenceUID', 'ImageLaterality', 'ImageOrientationPatient', 'ImagePositionPatient', 'ImageType',
    'InstanceNumber', 'InstitutionName', 'IssuerOfPatientID', 'Laterality', 'Modality', 'NumberOfFrames',
    'PatientBirthDate', 'PatientID', 'PatientName', 'PatientSex', 'PhotometricInterpretation', 'PixelRepresentation',
    'PixelSpacing', 'ProtocolName', 'ReferringPhysicianName', 'RescaleIntercept', 'RescaleSlope', 'Rows',
    'SOPClassUID', 'SOPInstanceUID', 'SamplesPerPixel', 'SeriesDate', 'SeriesDescription', 'SeriesInstanceUID',
    'SeriesNumber', 'SeriesTime', 'SliceThickness', 'SpecificCharacterSet', 'StudyDate', 'StudyDescription',
    'StudyID', 'StudyInstanceUID', 'StudyTime', 'ViewPosition',
]


def _wanted_tags() -> frozenset[int]:
    tags = set()
    for keyword in _KEYWORDS:
        tag = tag_for_keyword(keyword)
        if tag is None:
            raise KeyError(f"{keyword} is not a DICOM keyword")
        tags.add(tag)
    return frozenset(tags)


class _RawView:
    __slots__ = ("value", "is_little_endian")

    def __init__(self, value: Any, little: bool) -> None:
        self.value = value
        self.is_little_endian = little


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def parse_header(buf: bytes, total_size: int | None = None) -> tuple[Dataset, InstanceRecord]:
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
        return _parse_header(buf, total_size)


def _parse_header(buf: bytes, total_size: int | None) -> tuple[Dataset, InstanceRecord]:
    bio = io.BytesIO(buf)
    from workstation.dicom.limits import limits

    too_large = deflated_too_large(bio, limits().max_object_bytes)
    if too_large:
        raise UnusableInstance(too_large)
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
            raise NotDicom("not DICOM (no DICOM preamble, and not a readable dataset)") from None
    except Exception as exc:
        raise NotDicom(f"unreadable DICOM ({_short(exc)})") from None
    pixel_pos = bio.tell()
    rec = record_from_dataset(ds, buf=buf, pixel_pos=pixel_pos, total_size=total_size)
    rec.extra["pixel_pos"] = pixel_pos
    return ds, rec


HEADER_CHUNK = 65536
_WANTED_TAGS = _wanted_tags()


def parse_header_file(path: str | os.PathLike[str]) -> tuple[Dataset, InstanceRecord, int]:
    """Parse a file reading only its header when it can; returns (dataset, record, file size).

    Most headers fit in the first 64 KiB; when the dataset does not reach Pixel
    Data within that, the whole file is read and parsed.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(HEADER_CHUNK)
        if size > len(head):
            try:
                ds, rec = parse_header(head, total_size=size)
                if rec.pixel_data_offset is not None or stopped_at_pixels(head, rec.extra.get("pixel_pos")):
                    return ds, rec, size
            except (NotDicom, UnusableInstance):
                pass
            f.seek(0)
            head = f.read()
    ds, rec = parse_header(head, total_size=size)
    return ds, rec, size


def _short(exc: BaseException) -> str:
    """What went wrong, in words: data values the message quotes are masked, bytes never echoed."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = mask_values(text)
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


def record_from_dataset(
    ds: Dataset, *, buf: bytes | None = None, pixel_pos: int | None = None, total_size: int | None = None
) -> InstanceRecord:
    """Build the index record of ``ds``; raises :class:`UnusableInstance` when UIDs are missing or invalid."""
    meta = getattr(ds, "file_meta", None)
    if str(getattr(meta, "MediaStorageSOPClassUID", "")) == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        raise UnusableInstance("DICOMDIR (file-set index, not an image; import its folder or the DICOMDIR itself)")
    v = _Values.of_dataset(ds)
    media_class = str(getattr(meta, "MediaStorageSOPClassUID", "") or "") if meta is not None else ""
    ts = transfer_syntax_of(ds)
    offset = None
    if buf is not None and pixel_pos is not None:
        offset = pixel_data_offset(buf, pixel_pos, ts, total_size)
    rec = _record(v, media_class, ts, offset)
    if not rec.image_orientation:
        rec.image_orientation = functional_group_orientation(ds)
    return rec


#: Shared (5200,9229) and Per-frame (5200,9230) Functional Groups Sequence tags as little-endian bytes.
_FUNCTIONAL_GROUP_TAGS = (b"\x00\x52\x29\x92", b"\x00\x52\x30\x92")


def functional_group_orientation(ds: Dataset) -> str:
    """Image Orientation (Patient) of an enhanced multi-frame image, as the index keeps it ('' if none).

    The Plane Orientation Sequence of the Shared Functional Groups, else of the
    first frame's Per-frame Functional Groups (frames of one enhanced image
    share a plane in practice; the index keeps one orientation per instance).
    """
    for keyword in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        try:
            groups = ds.get(keyword)
            planes = groups[0].get("PlaneOrientationSequence") if groups else None
            values = planes[0].get("ImageOrientationPatient") if planes else None
            if values is not None and len(values) == 6:
                return "\\".join(repr(float(x)) for x in values)
        except (TypeError, ValueError, IndexError, AttributeError):
            continue
    return ""


def record_from_scan(buf: bytes, total_size: int) -> InstanceRecord | None:
    """The record from the lean header scan, or ``None`` when pydicom must parse the file."""
    from workstation.dicom.fastheader import scan

    result = scan(buf, _WANTED_TAGS)
    if result is None or result.media_sop_class == MEDIA_STORAGE_DIRECTORY or 0x00080018 not in result.values:
        return None
    if 0x00200037 not in result.values and any(t in buf for t in _FUNCTIONAL_GROUP_TAGS):
        return None  # an enhanced image keeps its orientation in functional groups the scan skips
    offset = None
    if result.pixel_pos is not None:
        offset = pixel_data_offset(buf, result.pixel_pos, result.transfer_syntax, total_size)
    try:
        rec = _record(_Values.of_scan(result.values, result.explicit), result.media_sop_class,
                      result.transfer_syntax, offset)
    except UnusableInstance:
        return None  # let pydicom give the exact reason
    rec.extra["pixel_pos"] = result.pixel_pos
    return rec


def _record(v: _Values, media_sop_class: str, ts: str, offset: int | None) -> InstanceRecord:
    try:
        sop_uid = checked_uid(v.text("SOPInstanceUID"), "SOP Instance UID")
        study_uid = checked_uid(v.text("StudyInstanceUID"), "Study Instance UID")
        series_uid = checked_uid(v.text("SeriesInstanceUID"), "Series Instance UID")
    except InvalidUID as exc:
        raise UnusableInstance(str(exc)) from None
    sop_class = v.text("SOPClassUID") or media_sop_class
    frames = v.int("NumberOfFrames") or 1
    rec = InstanceRecord(
        patient_name=v.text("PatientName"),
        patient_id=v.text("PatientID"),
        issuer_of_patient_id=v.text("IssuerOfPatientID"),
        patient_birth_date=v.text("PatientBirthDate"),
        patient_sex=v.text("PatientSex"),
        study_uid=study_uid,
        study_date=v.text("StudyDate"),
        study_time=v.text("StudyTime"),
        study_description=v.text("StudyDescription"),
        accession_number=v.text("AccessionNumber"),
        study_id=v.text("StudyID"),
        referring_physician=v.text("ReferringPhysicianName"),
        institution_name=v.text("InstitutionName"),
        series_uid=series_uid,
        series_number=v.int("SeriesNumber"),
        series_description=v.text("SeriesDescription"),
        modality=v.text("Modality"),
        body_part=v.text("BodyPartExamined"),
        laterality=v.text("Laterality"),
        frame_of_reference_uid=v.text("FrameOfReferenceUID"),
        protocol_name=v.text("ProtocolName"),
        contrast_bolus_agent=v.text("ContrastBolusAgent"),
        series_date=v.text("SeriesDate"),
        series_time=v.text("SeriesTime"),
        sop_class_uid=sop_class,
        sop_instance_uid=sop_uid,
        instance_number=v.int("InstanceNumber"),
        transfer_syntax_uid=ts,
        rows=v.int("Rows"),
        columns=v.int("Columns"),
        number_of_frames=frames,
        image_position=v.joined("ImagePositionPatient"),
        image_orientation=v.joined("ImageOrientationPatient"),
        pixel_spacing=v.joined("PixelSpacing"),
        slice_thickness=v.float("SliceThickness"),
        acquisition_time=v.text("AcquisitionTime"),
        image_type=v.text("ImageType"),
        view_position=v.text("ViewPosition"),
        image_laterality=v.text("ImageLaterality"),
        bits_allocated=v.int("BitsAllocated"),
        pixel_representation=v.int("PixelRepresentation"),
        samples_per_pixel=v.int("SamplesPerPixel"),
        photometric_interpretation=v.text("PhotometricInterpretation"),
        rescale_slope=v.float("RescaleSlope"),
        rescale_intercept=v.float("RescaleIntercept"),
        pixel_data_offset=offset,
        specific_character_set=v.text("SpecificCharacterSet"),
    )
    return rec
