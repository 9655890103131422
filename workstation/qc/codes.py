"""Coded concepts of IHE IOCM rejection notes.

A rejection note is a Key Object Selection document whose title (Concept Name
of the root content item) is one of the rejection titles of CID 7010 "Key
Object Selection Document Title", which are also CID 7031 "Reason for Removal
from Operational Use".  A note titled "Rejected for Quality Reasons" may carry
a Document Title Modifier from CID 7011 "Rejected for Quality Reasons" saying
what was wrong (motion blur, positioning ...).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from pydicom.sr.coding import Code

    #: Rejection titles by the short names the CLI takes.
    REJECTION_TITLES: dict[str, Code]
    #: CID 7011 "Rejected for Quality Reasons": what was wrong, by short name.
    QUALITY_REASONS: dict[str, Code]
    #: The concept name of the TID 2010 row that carries a CID 7011 reason.
    DOCUMENT_TITLE_MODIFIER: Code

#: (code value, coding scheme) of every rejection title, to recognise notes from other systems
#: (spelled out so that reading notes does not load pydicom's code dictionary; a test checks them
#: against REJECTION_TITLES).
REJECTION_CODE_KEYS: frozenset[tuple[str, str]] = frozenset(
    {("113001", "DCM"), ("113037", "DCM"), ("113038", "DCM"), ("113039", "DCM")})


class _Tables(NamedTuple):
    REJECTION_TITLES: dict[str, Code]
    QUALITY_REASONS: dict[str, Code]
    DOCUMENT_TITLE_MODIFIER: Code


@functools.cache
def _tables() -> _Tables:
    # pydicom's code dictionary takes ~0.1 s to import: loaded when a title is asked for, not at start-up.
    from pydicom.sr.codedict import codes

    return _Tables(
        REJECTION_TITLES={
            "quality": codes.DCM.RejectedForQualityReasons,  # (113001, DCM)
            "safety": codes.DCM.RejectedForPatientSafetyReasons,  # (113037, DCM)
            "worklist": codes.DCM.IncorrectModalityWorklistEntry,  # (113038, DCM)
            "retention": codes.DCM.DataRetentionPolicyExpired,  # (113039, DCM)
        },
        QUALITY_REASONS={
            "image-artifacts": codes.DCM.ImageArtifacts,
            "grid-artifacts": codes.DCM.GridArtifacts,
            "positioning": codes.DCM.Positioning,
            "motion-blur": codes.DCM.MotionBlur,
            "under-exposed": codes.DCM.UnderExposed,
            "over-exposed": codes.DCM.OverExposed,
            "no-image": codes.DCM.NoImage,
            "detector-artifacts": codes.DCM.DetectorArtifacts,
            "other-artifacts": codes.DCM.ArtifactsOtherThanGridOrDetectorArtifact,
            "mechanical-failure": codes.DCM.MechanicalFailure,
            "electrical-failure": codes.DCM.ElectricalFailure,
            "software-failure": codes.DCM.SoftwareFailure,
            "image-processing": codes.DCM.InappropriateImageProcessing,
            "other-failure": codes.DCM.OtherFailure,
            "unknown-failure": codes.DCM.UnknownFailure,
            "double-exposure": codes.DCM.DoubleExposure,
        },
        DOCUMENT_TITLE_MODIFIER=codes.DCM.DocumentTitleModifier,  # (113011, DCM)
    )


def __getattr__(name: str) -> object:
    if name in _Tables._fields:
        return getattr(_tables(), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


#: What the originals of a correction, a split or a merge are rejected for unless told otherwise:
#: wrong patient or order data is what IOCM's "Incorrect Modality Worklist Entry" is for;
#: superseded series are technically unfit for reading as they are.
DEFAULT_CORRECTION_REJECTION = "worklist"
DEFAULT_RESTRUCTURE_REJECTION = "quality"


def rejection_title(reason: str) -> Code:
    """The title for a short reason name; ValueError names the valid ones."""
    titles = _tables().REJECTION_TITLES
    try:
        return titles[reason]
    except KeyError:
        raise ValueError(f"unknown rejection reason {reason!r}: one of {', '.join(titles)}") from None


def quality_reason(name: str) -> Code:
    """The CID 7011 code for a short name; ValueError names the valid ones."""
    reasons = _tables().QUALITY_REASONS
    try:
        return reasons[name]
    except KeyError:
        raise ValueError(f"unknown quality reason {name!r}: one of {', '.join(reasons)}") from None


def reason_name(code_value: str, scheme: str) -> str:
    """The short name of a rejection title ("" when it is not one)."""
    for name, code in _tables().REJECTION_TITLES.items():
        if (code.value, code.scheme_designator) == (code_value, scheme):
            return name
    return ""
