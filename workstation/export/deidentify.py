"""De-identification per PS3.15 Annex E on pydicom data sets.

One :class:`Deidentifier` is used for a whole export, so the same original
UID always becomes the same new UID (a study's GSPS, KOS, SR and SEG still
refer to its images) and one patient's studies get one new name, ID and date
shift.  New UIDs are an HMAC of the original under a key: with the same key
(``key=`` or a key file) a later export of the same patient's studies links up
with an earlier one, without the key the mapping cannot be undone.

Every attribute is looked up in Table E.1-1 (:mod:`workstation.export.profile`);
every UI value that is not a UID registered in the standard (SOP classes,
transfer syntaxes, coding schemes) is replaced, listed or not, so no
original instance UID survives in a reference; private attributes are removed
unless on :data:`SAFE_PRIVATE`; and any text left holding the patient's name,
ID, birth date or accession number is cleaned of them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydicom._uid_dict import UID_dictionary  # pydicom.uid uses it without re-exporting it
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag
from pydicom.uid import UID

from workstation.export.profile import METHOD_CODES, TEXT_VRS, action_table

#: Private attributes kept: (private creator, element byte).  Empty by default: nothing in a
#: vendor's private block is known to be free of identifiers unless a site vouches for it.
SAFE_PRIVATE: frozenset[tuple[str, int]] = frozenset()

_DATE_VRS = {"DA", "DT"}
_NUMERIC_VRS = {"US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"}
_DUMMY_TEXT = {"PN": "ANONYMOUS", "AE": "ANONYMOUS", "CS": "ANONYMIZED", "AS": "000Y", "IS": "0", "DS": "0",
               "DA": "19000101", "DT": "19000101000000", "TM": "000000"}
# Keep: the de-identification attributes themselves and the character set.
_NEVER_TOUCH = {0x00080005, 0x00120062, 0x00120063, 0x00120064, 0x00280303}


_FREE_TEXT_VRS = {"LO", "ST", "LT", "UT", "UC", "PN"}
_CODE_KEYWORDS = {"CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue",
                  "URNCodeValue", "ContextIdentifier", "MappingResource", "ContextGroupExtensionCreatorUID"}


class NotDeidentifiable(ValueError):
    """An object that cannot be made safe with the chosen options (burned-in text with no pixel cleaning)."""


@dataclass
class Removal:
    """What was done to one object: counts per (action, attribute keyword)."""

    actions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, action: str, keyword: str) -> None:
        self.actions[(action, keyword)] += 1


@dataclass(frozen=True)
class NewPatient:
    """The name and ID one original patient gets in the copy."""

    name: str
    patient_id: str


def _keyword(elem: DataElement) -> str:
    return elem.keyword or f"({elem.tag.group:04X},{elem.tag.element:04X})"


class Deidentifier:
    """Applies the basic profile and ``options`` consistently across every object of an export.

    Parameters
    ----------
    options : iterable of str
        Any of :data:`workstation.export.profile.OPTIONS` (``dates``, ``patient``, ``device``,
        ``descriptors``, ``pixels``).
    key : bytes, optional
        Secret for new UIDs, patient IDs and date shifts (random when not given).
    patients : mapping, optional
        Original Patient ID → :class:`NewPatient` chosen by the user; others get generated ones.
    pixel_regions : mapping, optional
        SOP Class UID or Modality → list of (x0, y0, x1, y1) pixel boxes to blank (``pixels`` option);
        ultrasound images also get everything outside their Sequence of Ultrasound Regions blanked.
    """

    def __init__(self, options: Iterable[str] = (), *, key: bytes | None = None,
                 patients: Mapping[str, NewPatient] | None = None,
                 pixel_regions: Mapping[str, list[tuple[int, int, int, int]]] | None = None) -> None:
        self.options = frozenset(options)
        self.table = action_table(self.options)
        self.key = key if key is not None else os.urandom(32)
        self.patients = dict(patients or {})
        self.pixel_regions = dict(pixel_regions or {})
        self.uid_map: dict[str, str] = {}
        self.totals = Removal()

    # ---- consistent replacements -------------------------------------------------------------
    def _digest(self, *parts: str) -> bytes:
        return hmac.new(self.key, "\x00".join(parts).encode("utf-8"), hashlib.sha256).digest()

    def new_uid(self, old: str) -> str:
        """The new UID for ``old`` (``2.25.`` + 128 bits of an HMAC: the same old UID, the same new one)."""
        old = str(old).strip().rstrip("\x00")
        found = self.uid_map.get(old)
        if found is None:
            found = self.uid_map[old] = "2.25." + str(int.from_bytes(self._digest("uid", old)[:16], "big"))
        return found

    def patient(self, original_id: str) -> NewPatient:
        """The new name and ID for the patient with ``original_id`` (chosen, else generated from the key)."""
        chosen = self.patients.get(original_id)
        if chosen is None:
            h = self._digest("patient", original_id).hex().upper()
            chosen = self.patients[original_id] = NewPatient(f"ANONYMOUS^{h[:6]}", f"ANON-{h[6:16]}")
        return chosen

    def date_shift(self, original_id: str) -> _dt.timedelta:
        """How far this patient's dates move back (1 to 10 years, whole days; the same for all its studies)."""
        days = 365 + int.from_bytes(self._digest("dates", original_id)[:4], "big") % (3650 - 365)
        return _dt.timedelta(days=days)

    # ---- one object --------------------------------------------------------------------------
    def deidentify(self, ds: Dataset) -> Removal:
        """De-identify ``ds`` in place and return what was done to it.

        Raises
        ------
        NotDeidentifiable
            Burned In Annotation is YES and the ``pixels`` option is off.
        """
        report = Removal()
        if str(ds.get("BurnedInAnnotation", "")).upper() == "YES" and "pixels" not in self.options:
            raise NotDeidentifiable("burned-in annotation and no pixel cleaning chosen")
        original_id = str(ds.get("PatientID", "") or "")
        words = identifying_words(ds)
        shift = self.date_shift(original_id) if "dates" in self.options else None
        if "pixels" in self.options:
            from workstation.export.pixels import clean_pixel_data

            if clean_pixel_data(ds, self.pixel_regions):
                report.add("C", "PixelData")
        self._walk(ds, report, words, shift)
        new = self.patient(original_id)
        if "StudyID" in ds or "PatientID" in ds:
            # Study ID is Type 1 in a DICOMDIR's STUDY record: a dummy, the same for every object of the study.
            ds.StudyID = str(int.from_bytes(self._digest("study", str(ds.get("StudyInstanceUID", "")))[:4], "big"))[:8]
        ds.PatientName = new.name
        ds.PatientID = new.patient_id
        self._mark(ds, shift is not None, report)
        self._file_meta(ds)
        self.totals.actions.update(report.actions)
        return report

    def _walk(self, ds: Dataset, report: Removal, words: list[str], shift: _dt.timedelta | None) -> None:
        creators_kept: set[int] = set()
        for tag in list(ds.keys()):
            elem = ds[tag]
            itag = int(tag)
            if tag.is_private:
                if not self._keep_private(ds, tag):
                    del ds[tag]
                    report.add("X", "private")
                else:
                    creators_kept.add((tag.group << 16) | (tag.element >> 8))
                continue
            if itag in _NEVER_TOUCH or tag.element == 0:  # group lengths are recomputed on writing
                if tag.element == 0 and tag.group not in (0x0002,):
                    del ds[tag]
                continue
            action = self.table.action(itag)
            if shift is not None and elem.VR in _DATE_VRS | {"TM"} and action in ("X", "Z", "D") \
                    and itag != 0x00100030:  # Patient's Birth Date is never kept
                action = "C"
            kw = _keyword(elem)
            if elem.VR == "SQ":
                if action in ("X", "Z"):
                    if action == "X":
                        del ds[tag]
                    else:
                        elem.value = Sequence()
                    report.add(action, kw)
                    continue
                # K, C, U, D or unlisted: the items are walked (a "dummy" sequence is the cleaned one: a report's
                # Content Sequence keeps its structure, its dates, names and UIDs replaced, its text cleaned).
                if action == "D":
                    report.add("C", kw)
                for item in elem.value or []:
                    self._walk(item, report, words, shift)
                continue
            if action == "X":
                del ds[tag]
                report.add("X", kw)
            elif action == "Z":
                elem.value = None
                report.add("Z", kw)
            elif action == "D":
                self._dummy(elem)
                report.add("D", kw)
            elif action == "U" or elem.VR == "UI":
                if self._remap_uids(elem):
                    report.add("U", kw)
            elif action == "C":
                if elem.VR in _DATE_VRS | {"TM"}:
                    if shift is not None:
                        _shift_value(elem, shift)
                        report.add("C", kw)
                elif elem.VR in TEXT_VRS and _clean_text(elem, words):
                    report.add("C", kw)
            elif elem.VR in _FREE_TEXT_VRS and elem.keyword not in _CODE_KEYWORDS and words \
                    and _clean_text(elem, words):
                # Unlisted free text (a report's Text Value, a label) that holds an identifier; codes are
                # not text: a coding scheme "TEST" stays when a patient is called Test.
                report.add("C", kw)
        # Private creators whose blocks are all gone go too (they were kept above only if needed).
        # A Dataset iterates over its elements (decoding them); its keys are the tags.
        for tag in [t for t in ds.keys() if t.is_private and 0x10 <= t.element < 0x100]:  # noqa: SIM118
            if ((tag.group << 16) | tag.element) not in creators_kept:
                del ds[tag]

    def _keep_private(self, ds: Dataset, tag: BaseTag) -> bool:
        if 0x10 <= tag.element < 0x100:
            return True  # a private creator: removed after the walk unless one of its attributes stayed
        if tag.element < 0x10 or not SAFE_PRIVATE:
            return False
        creator = ds.get((tag.group << 16) | (tag.element >> 8))
        return creator is not None and (str(creator.value), tag.element & 0xFF) in SAFE_PRIVATE

    def _dummy(self, elem: DataElement) -> None:
        if elem.VR == "UI":
            self._remap_uids(elem)
        elif elem.VR in _NUMERIC_VRS:
            elem.value = 0
        elif elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
            elem.value = b""
        elif elem.value in (None, "", b""):
            return  # an empty value carries nothing to hide; a dummy would invent data
        else:
            elem.value = _DUMMY_TEXT.get(elem.VR, "ANONYMIZED")

    def _remap_uids(self, elem: DataElement) -> bool:
        """Replace every UID of ``elem`` not registered in the standard; True when one was replaced."""
        values = elem.value if isinstance(elem.value, (list, tuple)) or getattr(elem, "VM", 1) > 1 else [elem.value]
        values = [str(v) for v in values if v not in (None, "")]
        if not values:
            return False
        new = [v if v in UID_dictionary else self.new_uid(v) for v in values]
        if new == values:
            return False
        elem.value = new if len(new) > 1 else new[0]
        return True

    def _mark(self, ds: Dataset, dates_modified: bool, report: Removal) -> None:
        ds.PatientIdentityRemoved = "YES"
        chosen = ["basic"] + [o for o in ("pixels", "descriptors", "dates", "patient", "device") if o in self.options]
        if any(a == "C" and k in ("ContentSequence", "GraphicAnnotationSequence") for a, k in report.actions) \
                and "structured" not in chosen:
            chosen.insert(1, "structured")
        # LO holds 64 characters: the codes below say it all, this is the short human-readable form.
        ds.DeidentificationMethod = ("Lightbox PS3.15 E.1-1 2026c: " + "+".join(chosen))[:64]
        items = []
        for name in chosen:
            code, meaning = METHOD_CODES[name]
            item = Dataset()
            item.CodeValue = code
            item.CodingSchemeDesignator = "DCM"
            item.CodeMeaning = meaning
            items.append(item)
        ds.DeidentificationMethodCodeSequence = items
        ds.LongitudinalTemporalInformationModified = "MODIFIED" if dates_modified else "REMOVED"
        if "pixels" in self.options and "BurnedInAnnotation" in ds:
            ds.BurnedInAnnotation = "NO"

    def _file_meta(self, ds: Dataset) -> None:
        old = getattr(ds, "file_meta", None)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ts = old.get("TransferSyntaxUID") if old is not None else None
        meta.TransferSyntaxUID = UID(ts or "1.2.840.10008.1.2.1")
        ds.file_meta = meta


def identifying_words(ds: Dataset) -> list[str]:
    """The values of ``ds`` a free text must not repeat: name (whole and its parts), IDs, birth date, accession."""
    words: list[str] = []
    name = ds.get("PatientName")
    if name:
        text = str(name)
        words.append(text)
        for part in re.split(r"[\^=]", text):
            part = part.strip()
            if len(part) >= 3:  # initials and empty components would strip ordinary words
                words.append(part)
    for kw in ("PatientID", "PatientBirthDate", "AccessionNumber", "OtherPatientIDs", "MedicalRecordLocator",
               "PatientBirthName", "PatientMotherBirthName"):
        value = ds.get(kw)
        if value:
            words.extend(str(v) for v in _values(value) if len(str(v)) >= 3)
    return sorted(set(words), key=len, reverse=True)


def _values(value: Any) -> list[Any]:
    """The individual values of an element's value: pydicom holds several in a MultiValue, which is not a list."""
    return list(value) if isinstance(value, (list, tuple, MultiValue)) else [value]


def _clean_text(elem: DataElement, words: list[str]) -> bool:
    """Strip ``words`` (case-insensitive) from a text element; True when it changed."""
    if not words or elem.value in (None, ""):
        return False
    values = _values(elem.value)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    # A value left blank would empty a Type 1 attribute: it says what happened instead.
    cleaned = [pattern.sub("", str(v)).strip(" ^,") or "REMOVED" if pattern.search(str(v)) else str(v) for v in values]
    if cleaned == [str(v) for v in values]:
        return False
    elem.value = cleaned if len(cleaned) > 1 else cleaned[0]
    return True


def _shift_value(elem: DataElement, shift: _dt.timedelta) -> None:
    """Move a DA/DT back by ``shift`` (times of day kept: intervals between events stay the same)."""
    if elem.VR == "TM" or elem.value in (None, ""):
        return
    values = _values(elem.value)
    out = []
    for v in values:
        s = str(v)
        try:
            day = _dt.datetime.strptime(s[:8], "%Y%m%d").date()
        except ValueError:
            out.append("")  # an unreadable date cannot be shifted: it goes
            continue
        out.append((day - shift).strftime("%Y%m%d") + s[8:])
    elem.value = out if len(out) > 1 else out[0]
