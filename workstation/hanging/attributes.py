"""What rules can test: the attributes of a study, a prior, and a series, as plain facts.

Attribute names are DICOM keywords wherever the standard has one.  Three are
computed and documented here:

``Plane`` (series)
    ``axial``, ``coronal``, ``sagittal`` or ``oblique``, from Image Orientation
    (Patient): the plane whose normal is within :data:`PLANE_TOLERANCE_DEG`
    of the slice normal (row x column direction); ``oblique`` otherwise.
    Absent for images without Image Orientation (Patient) (projection
    radiographs, ultrasound).
``RelevantPriorCount`` (study)
    How many priors the protocol's prior rules find for this study.
``DaysBeforeCurrent`` (prior)
    Days between the prior's Study Date and the current study's.

:class:`StudyFacts` and :class:`SeriesFacts` are built from the cache by
:mod:`workstation.hanging.facts`, or directly by tests.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from workstation.hanging.constraints import Value

TEXT, NUMBER = "text", "number"

#: Study-level attributes that protocol rules test.
STUDY_ATTRIBUTES: Mapping[str, str] = MappingProxyType({
    "ModalitiesInStudy": TEXT,
    "BodyPartExamined": TEXT,
    "StudyDescription": TEXT,
    "ProcedureCodeSequence": TEXT,  # each item's Code Value and Code Meaning
    "InstitutionName": TEXT,
    "NumberOfStudyRelatedSeries": NUMBER,
    "NumberOfStudyRelatedInstances": NUMBER,
    "Laterality": TEXT,  # of the series, and Image Laterality of the images (U excluded)
    "PatientSex": TEXT,
    "StudyDate": TEXT,
    "RelevantPriorCount": NUMBER,
})

#: Attributes of another study of the patient that prior rules test.
PRIOR_ATTRIBUTES: Mapping[str, str] = MappingProxyType({
    **{k: v for k, v in STUDY_ATTRIBUTES.items() if k != "RelevantPriorCount"},
    "DaysBeforeCurrent": NUMBER,
})

#: Series-level attributes that display-set selectors test.
SERIES_ATTRIBUTES: Mapping[str, str] = MappingProxyType({
    "Modality": TEXT,
    "SeriesDescription": TEXT,
    "SeriesNumber": NUMBER,
    "ProtocolName": TEXT,
    "BodyPartExamined": TEXT,
    "Laterality": TEXT,
    "Plane": TEXT,
    "SliceThickness": NUMBER,
    "ContrastBolusAgent": TEXT,
    "ImageType": TEXT,
    "ViewPosition": TEXT,
    "ImageLaterality": TEXT,
    "PatientOrientation": TEXT,
    "NumberOfSeriesRelatedInstances": NUMBER,
    "NumberOfFrames": NUMBER,
})

#: Series attributes whose values belong to each image; a series whose images
#: differ carries every distinct value, and the selector finds the image.
IMAGE_LEVEL = frozenset(
    {"Plane", "SliceThickness", "ImageType", "ViewPosition", "ImageLaterality", "PatientOrientation", "NumberOfFrames"}
)

PLANES = ("axial", "coronal", "sagittal", "oblique")
PLANE_TOLERANCE_DEG = 30.0
"""Slices tilted up to this much (an axial MR along the AC-PC line, say) keep their plane's name."""

# Patient axes (x: right to left, y: anterior to posterior, z: feet to head) -> plane with that normal.
_PLANE_OF_AXIS = ("sagittal", "coronal", "axial")


def plane_of(orientation: str | tuple[float, ...] | None) -> str | None:
    """The plane of Image Orientation (Patient), or None when absent or malformed.

    Parameters
    ----------
    orientation : str or tuple of float
        Six direction cosines, as backslash-separated text (as the index
        keeps them) or numbers.

    Returns
    -------
    str or None
        One of :data:`PLANES`.
    """
    if orientation is None:
        return None
    if isinstance(orientation, str):
        return _plane_of_text(orientation)
    return _plane_of_values(orientation)


@functools.lru_cache(maxsize=1024)
def _plane_of_text(text: str) -> str | None:
    # The images of a series repeat one orientation: a study's facts ask for it hundreds of times.
    return _plane_of_values(text.split("\\"))


def _plane_of_values(parts: Sequence[str | float]) -> str | None:
    try:
        v = [float(p) for p in parts]
    except (TypeError, ValueError):
        return None
    if len(v) != 6 or not all(math.isfinite(x) for x in v):
        return None
    row, col = v[:3], v[3:]
    normal = (
        row[1] * col[2] - row[2] * col[1],
        row[2] * col[0] - row[0] * col[2],
        row[0] * col[1] - row[1] * col[0],
    )
    length = math.sqrt(sum(c * c for c in normal))
    if length < 1e-6:
        return None
    axis = max(range(3), key=lambda i: abs(normal[i]))
    if abs(normal[axis]) / length < math.cos(math.radians(PLANE_TOLERANCE_DEG)):
        return "oblique"
    return _PLANE_OF_AXIS[axis]


@dataclass(frozen=True)
class ImageFacts:
    """One image (instance) of a series whose images differ in an image-level attribute."""

    sop_instance_uid: str
    attributes: Mapping[str, Value]


@dataclass(frozen=True)
class SeriesFacts:
    """What selectors know about a series.

    Attributes
    ----------
    series_uid : str
    attributes : mapping of str to value
        Keys from :data:`SERIES_ATTRIBUTES`.  An image-level attribute whose
        images differ holds the tuple of their distinct values.
    number_of_images : int
        Frames of all its images: what the viewer scrolls through.
    images : tuple of ImageFacts
        Per image, only when the images differ in an image-level attribute.
    label : str
        ``"3: T2 AX"``, for people reading a plan.
    """

    series_uid: str
    attributes: Mapping[str, Value]
    number_of_images: int = 1
    images: tuple[ImageFacts, ...] = ()
    label: str = ""

    def get(self, name: str) -> Value:
        return self.attributes.get(name)


@dataclass(frozen=True)
class StudyFacts:
    """What the matcher and the prior rules know about a study.

    Attributes
    ----------
    study_uid : str
    patient_id, issuer, patient_name, birth_date : str
        Patient identity, used only to decide which studies are the same
        patient's; never logged.
    study_date, study_time : str
        DA and TM values.
    attributes : mapping of str to value
        Keys from :data:`STUDY_ATTRIBUTES`.
    series : tuple of SeriesFacts
        Image series only.  Empty for a study that is known (from a query)
        but not in the cache: see ``in_cache``.
    in_cache : bool
        False for a study only an archive holds so far.
    source : str
        Where it is: ``"cache"`` or the name of the node that reported it.
    unknown : frozenset of str
        Attributes the archive that reported the study could not tell (its
        query answers lack them).  Prior rules on them pass until the study
        is retrieved and judged on its own images.
    """

    study_uid: str
    patient_id: str = ""
    issuer: str = ""
    patient_name: str = ""
    birth_date: str = ""
    study_date: str = ""
    study_time: str = ""
    attributes: Mapping[str, Value] = field(default_factory=dict)
    series: tuple[SeriesFacts, ...] = ()
    in_cache: bool = True
    source: str = "cache"
    unknown: frozenset[str] = frozenset()

    def get(self, name: str) -> Value:
        return self.attributes.get(name)

    @property
    def when(self) -> str:
        """Date and time as one sortable text."""
        return f"{self.study_date or '00000000'}{(self.study_time or '').split('.')[0]:0<6}"

    def describe(self) -> str:
        """Date, modalities and description, for people (no patient identity)."""
        value = self.get("ModalitiesInStudy")
        mods = "/".join(value) if isinstance(value, tuple) else str(value or "")
        return " ".join(x for x in (self.study_date, mods, str(self.get("StudyDescription") or "")) if x)


def split_values(text: str | None) -> Value:
    """Backslash-separated DICOM text as one value or a tuple; None when empty."""
    if text is None:
        return None
    return _split_text(text if isinstance(text, str) else str(text))


@functools.lru_cache(maxsize=4096)
def _split_text(text: str) -> Value:
    # A series' images repeat their Image Type and the like: a study's facts split the same text hundreds of times.
    parts = tuple(p.strip() for p in text.split("\\") if p.strip())
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts


def days_between(earlier: str, later: str) -> int | None:
    """Days from one DA to another, or None when either is not a valid date."""
    from datetime import date

    try:
        a = date(int(earlier[:4]), int(earlier[4:6]), int(earlier[6:8]))
        b = date(int(later[:4]), int(later[4:6]), int(later[6:8]))
    except (ValueError, TypeError, IndexError):
        return None
    return (b - a).days
