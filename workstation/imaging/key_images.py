"""Key images: marking them, saving a Key Object Selection document, reading one back.

A reader marks key images (shortcut K in the viewer) in a :class:`KeyImageMarks`;
:func:`build_key_object_selection` saves them as a Key Object Selection
Document (PS3.3 A.35.4, TID 2010) titled "Of Interest" (DCM 113000) with an
optional text, using highdicom.  :func:`read_key_object_selection` reads any
KOS from the archive so the viewer can show its images as a key-image
display set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from workstation.dicom.charset import highdicom_ready
from workstation.imaging.frames import number_of_frames
from workstation.imaging.patient_module import copy_patient_module
from workstation.store.merges import ShownPatient

__all__ = [
    "KeyImageMarks",
    "KeyImageReference",
    "KeyObjectSelectionContent",
    "KEY_OBJECT_SELECTION_SOP_CLASS",
    "OF_INTEREST",
    "build_key_object_selection",
    "is_key_object_selection",
    "read_key_object_selection",
]

KEY_OBJECT_SELECTION_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.88.59"
if TYPE_CHECKING:
    from pydicom.sr.coding import Code

    #: Document title (CID 7010): Of Interest.
    OF_INTEREST: Code


def __getattr__(name: str) -> object:
    # pydicom's code dictionary takes ~0.1 s to import: loaded when a document is built, not at start-up.
    if name == "OF_INTEREST":
        return _of_interest()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _of_interest() -> Code:
    from pydicom.sr.codedict import codes

    title: Code = codes.DCM.OfInterest
    return title

MANUFACTURER = "Lightbox"


@dataclass(frozen=True)
class KeyImageReference:
    """One image (or some frames of it) a KOS points to."""

    study_instance_uid: str
    series_instance_uid: str
    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()  # Referenced Frame Numbers, from 1; () = the whole image


@dataclass(frozen=True)
class KeyObjectSelectionContent:
    """What a Key Object Selection document says."""

    sop_instance_uid: str
    series_instance_uid: str
    title: str
    title_code: tuple[str, str]  # (code value, coding scheme designator)
    description: str
    references: tuple[KeyImageReference, ...]
    content_date: str = ""
    content_time: str = ""

    def sop_instance_uids(self) -> list[str]:
        """The referenced instances in document order."""
        return [r.sop_instance_uid for r in self.references]


@dataclass
class KeyImageMarks:
    """The key images a reader has marked in a study (the viewer's K toggle).

    Marks are kept in the order they were made; a frame of a multi-frame
    image is marked on its own (frames count from 1; None marks the image).
    """

    _marks: dict[tuple[str, int | None], None] = field(default_factory=dict)

    def toggle(self, sop_instance_uid: str, frame: int | None = None) -> bool:
        """Mark or unmark; returns True when the image is marked afterwards."""
        key = (sop_instance_uid, frame)
        if key in self._marks:
            del self._marks[key]
            return False
        self._marks[key] = None
        return True

    def is_marked(self, sop_instance_uid: str, frame: int | None = None) -> bool:
        """True when the image (or that frame of it) is marked."""
        return (sop_instance_uid, frame) in self._marks

    def clear(self) -> None:
        self._marks.clear()

    def __len__(self) -> int:
        return len(self._marks)

    def marked(self) -> list[tuple[str, int | None]]:
        """``(SOP Instance UID, frame or None)`` in marking order."""
        return list(self._marks)

    def frames_by_instance(self) -> dict[str, list[int]]:
        """Marked frames per instance (empty list: the whole image is marked)."""
        out: dict[str, list[int]] = {}
        for uid, frame in self._marks:
            frames = out.setdefault(uid, [])
            if frame is not None:
                frames.append(frame)
        return out


def build_key_object_selection(
    images: Sequence[Dataset],
    *,
    description: str = "",
    frames: Mapping[str, Iterable[int]] | None = None,
    series_instance_uid: str | None = None,
    series_number: int = 9002,
    instance_number: int = 1,
    sop_instance_uid: str | None = None,
    institution_name: str | None = None,
    shown: ShownPatient | None = None,
) -> Dataset:
    """Build a Key Object Selection document titled "Of Interest".

    Parameters
    ----------
    images : sequence of pydicom.dataset.Dataset
        The key images (headers are enough), of one study, in the order to
        show them.
    description : str
        Optional Key Object Description text (at most 1024 characters).
    frames : mapping of str to iterable of int, optional
        For multi-frame images: SOP Instance UID -> Referenced Frame Numbers
        (from 1); ignored for single-frame images.
    series_instance_uid, series_number, instance_number, sop_instance_uid
        Identification of the new object (new UIDs when None).
    institution_name : str or None
        Institution Name of the equipment.
    shown : ShownPatient, optional
        The study's surviving patient when the RIS merged it
        (:func:`workstation.store.merges.shown_patient`): written instead of
        the merged-away identity the images carry.

    Returns
    -------
    pydicom.dataset.Dataset
        The KOS (a highdicom object), with file meta information and the
        Patient module of the first image (issuer included).

    Raises
    ------
    ValueError
        No images, images of several studies, or a text that is too long.
    """
    from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument

    if not images:
        raise ValueError("a key object selection needs at least one image")
    images = [highdicom_ready(im) for im in images]  # ISO 2022 images (Japanese, Korean): highdicom takes them
    if len({str(im.StudyInstanceUID) for im in images}) != 1:
        raise ValueError("the key images must belong to one study")
    if len(description) > 1024:
        raise ValueError("the key object description is longer than 1024 characters")
    content = KeyObjectSelection(
        document_title=_of_interest(),
        referenced_objects=list(images),
        description=description or None,
    )
    document = KeyObjectSelectionDocument(
        evidence=list(images),
        content=content,
        series_instance_uid=series_instance_uid or generate_uid(),
        series_number=series_number,
        sop_instance_uid=sop_instance_uid or generate_uid(),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        institution_name=institution_name,
    )
    # highdicom leaves out the Issuer of Patient ID (and the other identifiers): repeat the images' module.
    copy_patient_module(document, images[0], shown)
    if frames:
        # Referenced Frame Number is only allowed for multi-frame images (PS3.3 C.17.3.2.3).
        multi_frame = {str(im.SOPInstanceUID) for im in images if number_of_frames(im) > 1}
        wanted = {uid: sorted({int(f) for f in fs}) for uid, fs in frames.items() if uid in multi_frame}
        _add_frame_numbers(document, wanted)
    return document


def _add_frame_numbers(document: Dataset, frames: Mapping[str, list[int]]) -> None:
    for item in document.ContentSequence:
        if item.get("ValueType") != "IMAGE":
            continue
        for ref in item.ReferencedSOPSequence:
            numbers = frames.get(str(ref.ReferencedSOPInstanceUID))
            if numbers:
                ref.ReferencedFrameNumber = numbers if len(numbers) > 1 else numbers[0]


def is_key_object_selection(ds: Dataset) -> bool:
    """True for a Key Object Selection Document."""
    return str(ds.get("SOPClassUID", "")) == KEY_OBJECT_SELECTION_SOP_CLASS


def _frames(ref: Dataset) -> tuple[int, ...]:
    value = ref.get("ReferencedFrameNumber")
    if value in (None, ""):
        return ()
    several = isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, str)
    values = value if several else [value]
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return tuple(out)


def _evidence_index(ds: Dataset) -> dict[str, tuple[str, str]]:
    """SOP Instance UID -> (study, series) from the Current Requested Procedure Evidence."""
    index: dict[str, tuple[str, str]] = {}
    for keyword in ("CurrentRequestedProcedureEvidenceSequence", "IdenticalDocumentsSequence"):
        for study in ds.get(keyword) or []:
            study_uid = str(study.get("StudyInstanceUID", ""))
            for series in study.get("ReferencedSeriesSequence") or []:
                series_uid = str(series.get("SeriesInstanceUID", ""))
                for ref in series.get("ReferencedSOPSequence") or []:
                    index.setdefault(str(ref.get("ReferencedSOPInstanceUID", "")), (study_uid, series_uid))
    return index


def read_key_object_selection(ds: Dataset) -> KeyObjectSelectionContent:
    """Read a Key Object Selection document.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The KOS.

    Returns
    -------
    KeyObjectSelectionContent
        Title, description and the referenced images in document order
        (images only; references to other objects such as presentation
        states are left out).

    Raises
    ------
    ValueError
        When ``ds`` is not a Key Object Selection Document.
    """
    if not is_key_object_selection(ds):
        raise ValueError("not a Key Object Selection Document")
    title_item = (ds.get("ConceptNameCodeSequence") or [Dataset()])[0]
    title = str(title_item.get("CodeMeaning", "") or "")
    title_code = (str(title_item.get("CodeValue", "") or ""), str(title_item.get("CodingSchemeDesignator", "") or ""))
    evidence = _evidence_index(ds)
    description = ""
    references = []
    for item in ds.get("ContentSequence") or []:
        value_type = str(item.get("ValueType", ""))
        if value_type == "TEXT" and not description:
            description = str(item.get("TextValue", "") or "")
        if value_type != "IMAGE":
            continue
        for ref in item.get("ReferencedSOPSequence") or []:
            uid = str(ref.get("ReferencedSOPInstanceUID", ""))
            study_uid, series_uid = evidence.get(uid, (str(ds.get("StudyInstanceUID", "")), ""))
            references.append(
                KeyImageReference(
                    study_instance_uid=study_uid,
                    series_instance_uid=series_uid,
                    sop_class_uid=str(ref.get("ReferencedSOPClassUID", "")),
                    sop_instance_uid=uid,
                    frames=_frames(ref),
                )
            )
    return KeyObjectSelectionContent(
        sop_instance_uid=str(ds.get("SOPInstanceUID", "")),
        series_instance_uid=str(ds.get("SeriesInstanceUID", "")),
        title=title,
        title_code=title_code,
        description=description,
        references=tuple(references),
        content_date=str(ds.get("ContentDate", "") or ""),
        content_time=str(ds.get("ContentTime", "") or ""),
    )
