"""Corrected copies: an instance with changed attributes, new UIDs and its old values recorded.

IHE IOCM never changes a stored instance: a correction, split or merge makes a
copy with a new SOP Instance UID (and a new Series Instance UID, since the copy
and its original must not share a series), records what it replaced in
Original Attributes Sequence (PS3.3 C.12.1 SOP Common), and the original is
then rejected by a rejection note.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from workstation import __version__

#: Modifying System (LO, at most 64 characters) written into Original Attributes Sequence.
MODIFYING_SYSTEM = f"Lightbox {__version__}"
#: Reason for the Attribute Modification (defined terms COERCE and CORRECT).
CORRECT = "CORRECT"


@dataclass
class CopySpec:
    """What to change in one copy.

    Attributes
    ----------
    sop_instance_uid, series_instance_uid : str
        The copy's new UIDs.
    study_instance_uid : str
        "" keeps the original's.
    values : mapping of keyword to value
        New attribute values (None removes the attribute).
    uid_map : mapping of str to str
        Old UID -> new UID, applied to references anywhere in the data set
        (a presentation state or SR copied along keeps pointing at the copies).
    """

    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    uid_map: Mapping[str, str] = field(default_factory=dict)


def make_copy(original: Dataset, spec: CopySpec, *, when: dt.datetime, operator: str = "",
              source_of_previous_values: str = "") -> Dataset:
    """A new instance from ``original`` changed as ``spec`` says, the old values recorded.

    Parameters
    ----------
    original : pydicom.dataset.Dataset
        The whole original (pixel data included); it is not modified.
    spec : CopySpec
    when : datetime.datetime
        Attribute Modification DateTime (timezone-aware).
    operator : str
        Who made the change; recorded with the Modifying System (PS3.3 has no
        attribute of its own for the person).
    source_of_previous_values : str
        Where the original came from (e.g. the AE title that sent it), Type 2.

    Returns
    -------
    pydicom.dataset.Dataset
    """
    ds = copy.deepcopy(original)
    if spec.uid_map:
        _remap_uids(ds, spec.uid_map)
    changes: dict[str, Any] = dict(spec.values)
    changes["SOPInstanceUID"] = spec.sop_instance_uid
    changes["SeriesInstanceUID"] = spec.series_instance_uid
    if spec.study_instance_uid:
        changes["StudyInstanceUID"] = spec.study_instance_uid
    modified = Dataset()
    for keyword, value in changes.items():
        if keyword in original:
            modified.add(copy.deepcopy(original[keyword]))
        if value is None:
            if keyword in ds:
                delattr(ds, keyword)
        else:
            tag = tag_for_keyword(keyword)
            if tag is None:
                raise ValueError(f"{keyword!r} is not a DICOM keyword")
            ds.add_new(tag, dictionary_VR(tag), value)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        meta.MediaStorageSOPInstanceUID = spec.sop_instance_uid
    item = Dataset()
    item.ModifiedAttributesSequence = Sequence([modified])
    item.AttributeModificationDateTime = when.strftime("%Y%m%d%H%M%S.%f%z")
    system = f"{MODIFYING_SYSTEM}, {operator}" if operator else MODIFYING_SYSTEM
    item.ModifyingSystem = system[:64]
    item.SourceOfPreviousValues = source_of_previous_values[:64]
    item.ReasonForTheAttributeModification = CORRECT
    history = list(original.get("OriginalAttributesSequence", []) or [])
    ds.OriginalAttributesSequence = Sequence([copy.deepcopy(i) for i in history] + [item])
    ds.InstanceCreationDate = when.strftime("%Y%m%d")
    ds.InstanceCreationTime = when.strftime("%H%M%S")
    return ds


def _remap_uids(ds: Dataset, uid_map: Mapping[str, str]) -> None:
    """Replace UI values that ``uid_map`` maps, nested sequences included (references to originals).

    The copy's own UIDs are set afterwards from its :class:`CopySpec`.
    """
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value or []:
                _remap_uids(item, uid_map)
        elif elem.VR == "UI":
            value = elem.value
            if isinstance(value, str) and value in uid_map:
                elem.value = uid_map[value]
            elif isinstance(value, (list, tuple)) and any(v in uid_map for v in value):
                elem.value = [uid_map.get(v, v) for v in value]


def modification_time() -> dt.datetime:
    """Now, with the local UTC offset (DT values say which time zone they mean)."""
    return dt.datetime.now().astimezone()
