"""Coded concepts (code value, coding scheme, code meaning) and the codes reports use.

A :class:`Coded` is a plain frozen value that templates, drafts (JSON) and
the SR builder share; :meth:`Coded.concept` turns it into highdicom's
``CodedConcept`` only where an SR is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # highdicom is imported where an SR is built: it costs the window's start-up 0.1-0.3 s
    from highdicom.sr import CodedConcept


@dataclass(frozen=True)
class Coded:
    """One coded concept: (code value, coding scheme designator, code meaning)."""

    value: str
    scheme: str
    meaning: str

    def __post_init__(self) -> None:
        if not (self.value and self.scheme and self.meaning):
            raise ValueError(f"a code needs a value, a scheme and a meaning, not {self!r}")

    @classmethod
    def from_dict(cls, d: dict[str, Any] | list[str] | tuple[str, ...]) -> Coded:
        """From ``{"value", "scheme", "meaning"}`` or a ``[value, scheme, meaning]`` triple."""
        if isinstance(d, (list, tuple)):
            if len(d) != 3:
                raise ValueError(f"a code is [value, scheme, meaning], not {d!r}")
            return cls(str(d[0]), str(d[1]), str(d[2]))
        try:
            return cls(str(d["value"]), str(d["scheme"]), str(d["meaning"]))
        except (KeyError, TypeError):
            raise ValueError(f"a code needs value, scheme and meaning, not {d!r}") from None

    @classmethod
    def from_item(cls, item: Any) -> Coded:
        """From a pydicom code item (Code Value / Scheme Designator / Meaning, or a long/URN value)."""
        value = item.get("CodeValue") or item.get("LongCodeValue") or item.get("URNCodeValue") or ""
        return cls(str(value) or "?", str(item.get("CodingSchemeDesignator", "")) or "?",
                   str(item.get("CodeMeaning", "")) or "?")

    def as_list(self) -> list[str]:
        return [self.value, self.scheme, self.meaning]

    def concept(self) -> CodedConcept:
        from highdicom.sr import CodedConcept

        return CodedConcept(self.value, self.scheme, self.meaning)

    def same_code(self, other: Coded) -> bool:
        """Equal value and scheme (meanings differ between editions of the standard)."""
        return self.value == other.value and self.scheme == other.scheme

    def __str__(self) -> str:
        return f"{self.meaning} ({self.value}, {self.scheme})"


# Document and observer context (TID 2000, TID 1001, TID 1002, TID 1204).
DIAGNOSTIC_IMAGING_REPORT = Coded("18748-4", "LN", "Diagnostic Imaging Report")
LANGUAGE_OF_CONTENT = Coded("121049", "DCM", "Language of Content Item and Descendants")
ENGLISH = Coded("en", "RFC5646", "English")
OBSERVER_TYPE = Coded("121005", "DCM", "Observer Type")
PERSON = Coded("121006", "DCM", "Person")
PERSON_OBSERVER_NAME = Coded("121008", "DCM", "Person Observer Name")
PERSON_OBSERVER_ORGANIZATION = Coded("121009", "DCM", "Person Observer's Organization Name")

# Measurements and images (TID 1400, TID 1410 family).
SOURCE_OF_MEASUREMENT = Coded("121112", "DCM", "Source of Measurement")
KEY_IMAGES = Coded("121180", "DCM", "Key Images")
BEST_ILLUSTRATION = Coded("121080", "DCM", "Best illustration of finding")
KEY_OBJECT_DESCRIPTION = Coded("113012", "DCM", "Key Object Description")
IMAGE_REGION = Coded("111030", "DCM", "Image Region")
TRACKING_IDENTIFIER = Coded("112039", "DCM", "Tracking Identifier")
COMMENT = Coded("121106", "DCM", "Comment")

# Measurement kinds the viewer hands over, and their default units (UCUM).
MEASUREMENT_CONCEPTS: dict[str, Coded] = {
    "length": Coded("410668003", "SCT", "Length"),
    "diameter": Coded("81827009", "SCT", "Diameter"),
    "area": Coded("42798000", "SCT", "Area"),
    "mean": Coded("373098007", "SCT", "Mean"),
    "standard_deviation": Coded("386136009", "SCT", "Standard Deviation"),
    "minimum": Coded("255605001", "SCT", "Minimum"),
    "maximum": Coded("56851009", "SCT", "Maximum"),
    "angle": Coded("1483009", "SCT", "Angle"),
    "volume": Coded("118565006", "SCT", "Volume"),
}

UNITS: dict[str, Coded] = {
    "mm": Coded("mm", "UCUM", "millimeter"),
    "cm": Coded("cm", "UCUM", "centimeter"),
    "mm2": Coded("mm2", "UCUM", "square millimeter"),
    "cm2": Coded("cm2", "UCUM", "square centimeter"),
    "mm3": Coded("mm3", "UCUM", "cubic millimeter"),
    "ml": Coded("ml", "UCUM", "milliliter"),
    "[hnsf'U]": Coded("[hnsf'U]", "UCUM", "Hounsfield unit"),
    "deg": Coded("deg", "UCUM", "degree"),
    "1": Coded("1", "UCUM", "no units"),
    "{ratio}": Coded("{ratio}", "UCUM", "ratio"),
    "%": Coded("%", "UCUM", "Percent"),
    "a": Coded("a", "UCUM", "year"),
    "mo": Coded("mo", "UCUM", "month"),
    "d": Coded("d", "UCUM", "day"),
}

# Short forms people type for units.
UNIT_ALIASES = {"HU": "[hnsf'U]", "hu": "[hnsf'U]", "mm²": "mm2", "cm²": "cm2", "mm³": "mm3", "mL": "ml", "°": "deg"}


def unit(code: str) -> Coded:
    """The UCUM unit for ``code`` (``mm``, ``mm2``, ``HU`` …); an unknown code is kept as its own meaning."""
    code = UNIT_ALIASES.get(code, code)
    if code in UNITS:
        return UNITS[code]
    if not code:
        raise ValueError("a numeric value needs a unit (UCUM code, '1' for none)")
    return Coded(code, "UCUM", code)
