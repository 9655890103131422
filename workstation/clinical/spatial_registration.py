"""A rigid prior registration saved as a DICOM Spatial Registration object (PS3.3 A.39).

highdicom has no class for this IOD, so it is built with pydicom.  The object
belongs to the current study and its Frame of Reference module names the
current frame (the Registered RCS).  The Registration Sequence holds two
items: the current frame with the identity, and the prior's frame with the
matrix that takes prior patient coordinates to current ones (the Frame of
Reference Transformation Matrix maps the item's RCS into the registered RCS).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID, UID, generate_uid

from workstation.clinical.registration import RigidTransform

SPATIAL_REGISTRATION_STORAGE = UID("1.2.840.10008.5.1.4.1.1.66.1")

_COPIED = (
    "SpecificCharacterSet", "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
    "StudyDescription",
)  # fmt: skip


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _matrix_item(frame_uid: str, matrix: np.ndarray, referenced: list[Dataset]) -> Dataset:
    item = Dataset()
    item.FrameOfReferenceUID = frame_uid
    if referenced:
        refs = []
        for ds in referenced:
            ref = Dataset()
            ref.ReferencedSOPClassUID = ds.SOPClassUID
            ref.ReferencedSOPInstanceUID = ds.SOPInstanceUID
            refs.append(ref)
        item.ReferencedImageSequence = refs
    m = Dataset()
    m.FrameOfReferenceTransformationMatrix = [float(round(v, 9)) for v in np.asarray(matrix, float).ravel()]
    m.FrameOfReferenceTransformationMatrixType = "RIGID"
    matrix_registration = Dataset()
    matrix_registration.MatrixSequence = [m]
    matrix_registration.RegistrationTypeCodeSequence = [_code("125024", "DCM", "Image Content-based Alignment")]
    item.MatrixRegistrationSequence = [matrix_registration]
    return item


def _series_references(images: list[Dataset]) -> list[Dataset]:
    by_series: dict[str, list[Dataset]] = {}
    for image in images:
        by_series.setdefault(str(image.SeriesInstanceUID), []).append(image)
    out = []
    for series_uid, members in by_series.items():
        item = Dataset()
        item.SeriesInstanceUID = series_uid
        refs = []
        for image in members:
            ref = Dataset()
            ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = image.SOPClassUID, image.SOPInstanceUID
            refs.append(ref)
        item.ReferencedInstanceSequence = refs
        out.append(item)
    return out


def _common_instance_reference(ds: Dataset, current: Dataset, current_images: Sequence[Dataset],
                               prior_images: Sequence[Dataset]) -> None:
    """Common Instance Reference module: where the referenced images live (this study, the prior's)."""
    here = [i for i in [*current_images, *prior_images] if i.StudyInstanceUID == current.StudyInstanceUID]
    other = [i for i in [*current_images, *prior_images] if i.StudyInstanceUID != current.StudyInstanceUID]
    if here:
        ds.ReferencedSeriesSequence = _series_references(here)
    studies: dict[str, list[Dataset]] = {}
    for image in other:
        studies.setdefault(str(image.StudyInstanceUID), []).append(image)
    if studies:
        items = []
        for study_uid, members in studies.items():
            item = Dataset()
            item.StudyInstanceUID = study_uid
            item.ReferencedSeriesSequence = _series_references(members)
            items.append(item)
        ds.StudiesContainingOtherReferencedInstancesSequence = items


def spatial_registration_dataset(
    current: Dataset,
    prior: Dataset,
    transform: RigidTransform,
    *,
    current_images: list[Dataset] | None = None,
    prior_images: list[Dataset] | None = None,
    series_number: int = 990,
    now: datetime | None = None,
) -> Dataset:
    """The Spatial Registration instance of a prior registered to the current study.

    Parameters
    ----------
    current, prior : pydicom.Dataset
        One image header of each (patient, study and Frame of Reference UIDs are taken from them).
    transform : RigidTransform
        Current -> prior patient coordinates (as :func:`register_rigid` returns it).
    current_images, prior_images : list of pydicom.Dataset, optional
        Images used for the registration, listed in the Referenced Image Sequences.
    series_number : int
        Series Number of the new REG series.
    now : datetime, optional
        Content date and time (default: now).

    Returns
    -------
    pydicom.Dataset
        With file meta, ready for ``save_as(..., enforce_file_format=True)``.
    """
    if not current.get("FrameOfReferenceUID") or not prior.get("FrameOfReferenceUID"):
        raise ValueError("both images need a Frame of Reference UID")
    now = now or datetime.now()
    ds = Dataset()
    for keyword in _COPIED:
        if keyword in current:
            ds[keyword] = current[keyword]
    uid = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID = SPATIAL_REGISTRATION_STORAGE, uid
    ds.Modality = "REG"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = series_number
    ds.SeriesDescription = "PRIOR REGISTRATION"
    ds.Laterality = ""
    ds.Manufacturer = "Lightbox"
    ds.FrameOfReferenceUID = current.FrameOfReferenceUID
    ds.PositionReferenceIndicator = ""
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    ds.ContentLabel = "PRIOR_REG"
    ds.ContentDescription = "Rigid registration of the prior to the current study"
    ds.ContentCreatorName = ""
    ds.RegistrationSequence = [
        _matrix_item(str(current.FrameOfReferenceUID), np.eye(4), current_images or []),
        _matrix_item(str(prior.FrameOfReferenceUID), np.linalg.inv(transform.matrix), prior_images or []),
    ]
    _common_instance_reference(ds, current, current_images or [], prior_images or [])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SPATIAL_REGISTRATION_STORAGE
    meta.MediaStorageSOPInstanceUID = uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def transform_from_spatial_registration(ds: Dataset) -> RigidTransform:
    """Read back the current -> prior transform of a two-frame Spatial Registration written above."""
    registered = str(ds.FrameOfReferenceUID)
    items = {str(i.FrameOfReferenceUID): i for i in ds.RegistrationSequence}
    others = [uid for uid in items if uid != registered]
    if len(others) != 1:
        raise ValueError("expected the registered frame and one other frame of reference")
    item = items[others[0]]
    m = np.asarray(item.MatrixRegistrationSequence[0].MatrixSequence[0].FrameOfReferenceTransformationMatrix, float)
    return RigidTransform(np.linalg.inv(m.reshape(4, 4)), registered, others[0])
