"""Reading a C-FIND answer's text in the character set it is written in (Query/Retrieve and Modality Worklist).

pynetdicom decodes a response identifier before its Specific Character Set is
looked at, and pydicom converts each raw value later with the character set the
data set was *read* with: :func:`read_answer_text` makes that the answer's own.

An answer that declares no Specific Character Set should hold the default
repertoire only, but some archives leave it out although their data are not
ASCII (DCMTK's ``wlmscpfs`` answers the worklist in the files' UTF-8; pynetdicom's
qrscp sends Latin-1).  Such an answer is read with the node's configured
character set when its text is valid in it, else with the DICOM default (which
pydicom reads as ISO 8859-1): a Latin-1 name is never turned into replacement
characters by a node configured for UTF-8.
"""

from __future__ import annotations

from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

#: Value representations whose bytes are text in the Specific Character Set (PS3.5 6.1.2.3).
_TEXT_VRS = frozenset({"PN", "LO", "SH", "ST", "LT", "UT", "UC"})


def _dictionary_vr(tag: BaseTag) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:  # a private or unknown attribute: not text we read
        return ""


def _fits(ds: Dataset, charset: str | list[str]) -> bool:
    """True when every top-level text value of ``ds`` is valid in ``charset`` (single-codec sets only).

    Sequences are not opened: reading an item now would convert it with the
    encoding not yet chosen.  A code extension set (ISO 2022, several terms) is
    taken as fitting: its escape sequences say what they switch to.
    """
    encodings = convert_encodings(charset)
    if len(encodings) != 1:
        return True
    for tag in list(ds.keys()):
        # A value not read yet is a RawDataElement (get_item is annotated as DataElement): bytes, and no VR
        # when the answer is implicit VR.
        raw = ds.get_item(tag)
        value, vr = getattr(raw, "value", None), getattr(raw, "VR", None)
        if not isinstance(value, bytes) or (vr or _dictionary_vr(tag)) not in _TEXT_VRS:
            continue
        try:
            value.decode(encodings[0])
        except (UnicodeDecodeError, LookupError):
            return False
    return True


def read_answer_text(ds: Dataset, fallback: str | list[str] | None = None) -> None:
    """Make pydicom read ``ds``'s text values with its Specific Character Set.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        A response identifier as pynetdicom gave it (its values not read yet).
    fallback : str or list of str, optional
        The character set to assume when the answer declares none: the node's
        configured one, used only when the answer's text is valid in it.
    """
    if "SpecificCharacterSet" not in ds:
        if not fallback or not _fits(ds, fallback):
            return
        ds.SpecificCharacterSet = fallback
    implicit, little = ds.original_encoding
    ds.set_original_encoding(implicit, little, convert_encodings(ds.SpecificCharacterSet))
