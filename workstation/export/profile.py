"""PS3.15 Annex E action table: which attribute gets which action, per chosen options.

The basic profile column of Table E.1-1 comes as data from the maintained
``dicom-anonymizer`` package (its ``dicomfields_2026c`` module is the table of
the 2026c edition, one list per action code); the option columns that change
an action are written out below with the standard's codes.  Actions:

``X`` remove, ``Z`` zero-length, ``D`` dummy value, ``U`` new UID,
``K`` keep, ``C`` clean (modify: shift a date, strip identifying words).
Combined codes (``X/Z``, ``Z/D``, ``X/D``, ``X/Z/D``, ``X/Z/U*``) are
resolved to the variant that keeps the object valid whatever its IOD's type:
``Z`` for X/Z, ``D`` for anything with D, ``U`` for X/Z/U*.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

#: The edition of Table E.1-1 the basic profile column comes from.
TABLE_EDITION = "dicomfields_2026c"

#: Option names as the command line and the dialog spell them.
OPTIONS = ("dates", "patient", "device", "descriptors", "pixels")

#: (code value, meaning) of CID 7050 for the profile and each option (PS3.16).
METHOD_CODES = {
    "basic": ("113100", "Basic Application Confidentiality Profile"),
    "pixels": ("113101", "Clean Pixel Data Option"),
    "structured": ("113104", "Clean Structured Content Option"),
    "descriptors": ("113105", "Clean Descriptors Option"),
    "dates": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    "patient": ("113108", "Retain Patient Characteristics Option"),
    "device": ("113109", "Retain Device Identity Option"),
}

_RESOLVE = {
    "D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U",
    "Z_D_TAGS": "D", "X_Z_TAGS": "Z", "X_D_TAGS": "D", "X_Z_D_TAGS": "D", "X_Z_U_STAR_TAGS": "U",
}

# PS3.15 Table E.1-1 (2026c), column "Rtn. Pat. Chars. Opt." where it says K or C.
RETAIN_PATIENT = {
    0x00102110: "C",  # Allergies
    0x00102160: "K",  # Ethnic Group
    0x00101010: "K",  # Patient's Age
    0x00100040: "K",  # Patient's Sex
    0x00102203: "K",  # Patient's Sex Neutered
    0x00101020: "K",  # Patient's Size
    0x00101030: "K",  # Patient's Weight
    0x001021C0: "K",  # Pregnancy Status
    0x001021A0: "K",  # Smoking Status
    0x00380500: "C",  # Patient State
    0x00380050: "C",  # Special Needs
    0x001021B0: "C",  # Additional Patient History
    0x00102000: "C",  # Medical Alerts
}

# Column "Rtn. Dev. Id. Opt." where it says K or C.
RETAIN_DEVICE = {
    0x00181007: "K",  # Cassette ID
    0x0018700A: "K",  # Detector ID
    0x00181000: "K",  # Device Serial Number
    0x00181002: "K",  # Device UID
    0x0018100B: "K",  # Manufacturer's Device Class UID
    0x00500020: "K",  # Device Description
    0x00181008: "K",  # Gantry ID
    0x0018100A: "K",  # UDI Sequence
    0x00181004: "K",  # Plate ID
    0x00081010: "K",  # Station Name
    0x00181005: "K",  # Generator ID
    0x00181009: "K",  # Unique Device Identifier
    0x00185011: "K",  # Transducer Identification Sequence
    0x300A0216: "K",  # Source Manufacturer
    0x30100043: "K",  # Manufacturer's Device Identifier
}

# Column "Clean Desc. Opt." (C): free text kept once cleaned of identifying words.
CLEAN_DESCRIPTORS = (
    0x00081030,  # Study Description
    0x0008103E,  # Series Description
    0x00181030,  # Protocol Name
    0x00204000,  # Image Comments
    0x00081080,  # Admitting Diagnoses Description
    0x00324000,  # Study Comments
    0x00400254,  # Performed Procedure Step Description
    0x00400007,  # Scheduled Procedure Step Description
    0x00321060,  # Requested Procedure Description
    0x00181400,  # Acquisition Device Processing Description
    0x00400280,  # Comments on the Performed Procedure Step
    0x00102180,  # Occupation
    0x00104000,  # Patient Comments
    0x00380040,  # Discharge Diagnosis Description
    0x0040A160,  # Text Value (kept cleaned with the Clean Structured Content treatment)
    0x00700006,  # Unformatted Text Value
    0x00400555,  # Acquisition Context Sequence
)

#: Text VRs whose values Clean Descriptors strips of identifying words.
TEXT_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC", "PN"})


#: Attributes the table says X that are Type 1 in their IOD (GSPS) and in the DICOMDIR's record: removed, the
#: object would be invalid and unusable on media, so they get a dummy value (D) as PS3.15 E.1.1 allows for
#: attributes whose removal would break the IOD.
TYPE1_DUMMY = {
    0x00700082: "D",  # Presentation Creation Date
    0x00700083: "D",  # Presentation Creation Time
}


@dataclass(frozen=True)
class ActionTable:
    """Attribute tag → action for one choice of options, with the masked (``60xx``) entries."""

    exact: dict[int, str]
    masked: tuple[tuple[int, int, str], ...]  # (value, mask, action)

    def action(self, tag: int) -> str | None:
        """The action for ``tag`` (an int ``0xggggeeee``), or None when the table does not list it."""
        found = self.exact.get(tag)
        if found is not None:
            return found
        for value, mask, action in self.masked:
            if tag & mask == value:
                return action
        return None


@lru_cache(maxsize=1)
def basic_profile() -> ActionTable:
    """The basic profile column of Table E.1-1 (no options)."""
    import importlib

    fields = importlib.import_module(f"dicomanonymizer.dicom_anonymization_databases.{TABLE_EDITION}")
    exact: dict[int, str] = {}
    masked: list[tuple[int, int, str]] = []
    for name, action in _RESOLVE.items():
        for entry in getattr(fields, name):
            if len(entry) == 2:
                exact[(entry[0] << 16) | entry[1]] = action
            else:
                group, elem, gmask, emask = entry
                mask = (gmask << 16) | emask
                masked.append((((group << 16) | elem) & mask, mask, action))
    return ActionTable(exact, tuple(masked))


def action_table(options: frozenset[str] | set[str] = frozenset()) -> ActionTable:
    """Table E.1-1 with the columns of ``options`` applied over the basic profile.

    Raises
    ------
    ValueError
        An option not in :data:`OPTIONS`.
    """
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ValueError(f"unknown de-identification option(s): {', '.join(sorted(unknown))} "
                         f"(choose from {', '.join(OPTIONS)})")
    base = basic_profile()
    exact = dict(base.exact)
    exact.update(TYPE1_DUMMY)
    if "patient" in options:
        exact.update(RETAIN_PATIENT)
    if "device" in options:
        exact.update(RETAIN_DEVICE)
    if "descriptors" in options:
        exact.update({tag: "C" for tag in CLEAN_DESCRIPTORS})
    return ActionTable(exact, base.masked)
