"""Is it the same patient?  One comparison for everywhere two patients' objects meet.

Opening a prior beside the current study, applying a presentation state,
inserting a measurement or a key image into a report, and merging series
all compare the same things: Patient ID and Issuer of Patient ID (the
identity), then Patient's Name and Birth Date (a same ID under another name
or birth date is exactly the mix-up a reader must be told about).

Values are compared as people would: Unicode-normalised (NFKC, so full- and
half-width forms agree), case-folded, spacing and trailing empty name
components aside; a name matches when its alphabetic groups agree, or (when
either lacks one) its ideographic groups.  An issuer on one side only is a
conflict (one ID under two issuers may be two patients); a birth date missing
on one side is not (many systems leave it out).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from workstation.dicom.person_name import format_person_name, name_groups

__all__ = ["PatientIdentity", "IdentityCheck", "compare_identities", "fold"]


def fold(text: object) -> str:
    """A name or ID as compared for identity: NFKC-normalised, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", str(text or "")).casefold().strip()


def _name_key(group: str) -> str:
    return "^".join(fold(p).replace(" ", "") for p in group.split("^")).rstrip("^")


@dataclass(frozen=True)
class PatientIdentity:
    """Who an object says its patient is."""

    patient_id: str = ""
    issuer: str = ""
    name: str = ""
    birth_date: str = ""

    @classmethod
    def of(cls, source: Any) -> PatientIdentity:
        """From a pydicom Dataset (PatientID, IssuerOfPatientID, PatientName, PatientBirthDate)
        or an index row (``patient_id``, ``issuer``, ``patient_name``, ``birth_date``)."""
        if hasattr(source, "get") and not hasattr(source, "patient_id"):
            return cls(str(source.get("PatientID", "") or ""), str(source.get("IssuerOfPatientID", "") or ""),
                       str(source.get("PatientName", "") or ""), str(source.get("PatientBirthDate", "") or ""))
        return cls(str(getattr(source, "patient_id", "") or ""), str(getattr(source, "issuer", "") or ""),
                   str(getattr(source, "patient_name", "") or ""), str(getattr(source, "birth_date", "") or ""))

    def describe(self) -> str:
        """``Yamada, Tarou (山田 太郎), ID 123 (issuer HOSP), born 1970-01-01`` (for messages shown to the user)."""
        parts = [format_person_name(self.name) or "(no name)", f"ID {self.patient_id or '(none)'}"
                 + (f" (issuer {self.issuer})" if self.issuer else "")]
        if self.birth_date:
            d = self.birth_date
            parts.append("born " + (f"{d[:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 and d.isdigit() else d))
        return ", ".join(parts)


@dataclass(frozen=True)
class IdentityCheck:
    """The outcome of comparing two identities.

    Attributes
    ----------
    same : bool
        False when the IDs, the issuers (both given), the names or the birth
        dates (both given) differ.
    conflicts : list of str
        What differs ("Patient ID", "Issuer of Patient ID", "name", "birth date").
    notes : list of str
        What could not be compared (a birth date on one side only).
    """

    same: bool
    first: PatientIdentity
    second: PatientIdentity
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def message(self, first_label: str = "this", second_label: str = "the other") -> str:
        """Both identities in one sentence, for a refusal or a warning."""
        if self.same and not self.notes:
            return f"{first_label} and {second_label} are of the same patient ({self.first.describe()})"
        what = ", ".join(self.conflicts) if self.conflicts else "; ".join(self.notes)
        verb = "differ" if self.conflicts else "cannot be fully compared"
        return (f"patient {verb} ({what}): {first_label} is {self.first.describe()}; "
                f"{second_label} is {self.second.describe()}")


def _same_name(a: str, b: str) -> bool:
    ga, gb = name_groups(a), name_groups(b)
    alpha_a, alpha_b = _name_key(ga[0]), _name_key(gb[0])
    if alpha_a and alpha_b:
        return alpha_a == alpha_b
    ideo_a, ideo_b = _name_key(ga[1]), _name_key(gb[1])
    if ideo_a and ideo_b:
        return ideo_a == ideo_b
    return _name_key(a.replace("=", "")) == _name_key(b.replace("=", ""))


def compare_identities(first: Any, second: Any) -> IdentityCheck:
    """Compare two patients (Datasets, index rows or :class:`PatientIdentity`).

    Examples
    --------
    >>> compare_identities(PatientIdentity("1", "", "Doe^John"), PatientIdentity("1", "", "DOE^JOHN")).same
    True
    """
    a = first if isinstance(first, PatientIdentity) else PatientIdentity.of(first)
    b = second if isinstance(second, PatientIdentity) else PatientIdentity.of(second)
    conflicts, notes = [], []
    if fold(a.patient_id) != fold(b.patient_id):
        conflicts.append("Patient ID")
    if fold(a.issuer) != fold(b.issuer):
        # An issuer on one side only counts too: the same ID under two issuers may be two patients.
        conflicts.append("Issuer of Patient ID")
    if not _same_name(a.name, b.name):
        conflicts.append("name")
    if a.birth_date and b.birth_date:
        if a.birth_date.strip() != b.birth_date.strip():
            conflicts.append("birth date")
    elif a.birth_date or b.birth_date:
        notes.append("birth date given on one side only")
    return IdentityCheck(not conflicts, a, b, conflicts, notes)
