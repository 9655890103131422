"""Constraints of hanging-protocol rules: equals, contains, regex, range, present, absent.

A constraint tests one attribute value.  Values are ``None`` (the attribute is
missing), a string, a number, or a tuple of those for multi-valued attributes
(Image Type, Modalities in Study ...): a tuple satisfies ``equals``,
``contains``, ``regex`` and ``range`` when any of its values does.  Text is
compared without regard to case or surrounding spaces, because DICOM code
strings are upper case while descriptions are typed by people.

Constraints are written as one-key mappings in protocol files::

    {"equals": "CT"}            {"equals": ["CR", "DX"]}   (any of)
    {"contains": "LUNG"}        {"regex": "\\bT2\\b"}       (searched, case-insensitive)
    {"range": {"min": 1, "max": 5}}                          (inclusive; either bound optional)
    {"present": true}           {"absent": true}
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

Value = None | str | float | int | tuple[Any, ...]

KINDS = ("equals", "contains", "regex", "range", "present", "absent")


class ConstraintError(ValueError):
    """A constraint is malformed; ``field`` names the offending key relative to the constraint."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def fold(text: Any) -> str:
    """Text as compared: stripped and case-folded."""
    return str(text).strip().casefold()


def values_of(value: Value) -> tuple[Any, ...]:
    """The individual values of an attribute value (empty for a missing one)."""
    if value is None:
        return ()
    if isinstance(value, tuple):
        return tuple(v for v in value if not _empty(v))
    return () if _empty(value) else (value,)


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def as_number(v: Any) -> float | None:
    """A number from a value (``"10.0"`` included), or None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    try:
        f = float(str(v).strip())
    except ValueError:
        return None
    return f if math.isfinite(f) else None


@dataclass(frozen=True)
class Constraint:
    """One test of an attribute value.

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    operand : Any
        ``equals``: a tuple of accepted values; ``contains``: text; ``regex``:
        the pattern text; ``range``: ``(min, max)`` with None for an open
        bound; ``present``/``absent``: True.
    """

    kind: str
    operand: Any = True

    def test(self, value: Value) -> bool:
        """True when ``value`` satisfies the constraint."""
        items = values_of(value)
        if self.kind == "present":
            return bool(items)
        if self.kind == "absent":
            return not items
        if self.kind == "equals":
            return any(_equal(v, accepted) for v in items for accepted in self.operand)
        if self.kind == "contains":
            needle = fold(self.operand)
            return any(needle in fold(v) for v in items)
        if self.kind == "regex":
            pattern = _compiled(self.operand)
            return any(pattern.search(str(v).strip()) for v in items)
        if self.kind == "range":
            lo, hi = self.operand
            numbers = [n for n in map(as_number, items) if n is not None]
            return any((lo is None or n >= lo) and (hi is None or n <= hi) for n in numbers)
        raise AssertionError(self.kind)

    def to_dict(self) -> dict[str, Any]:
        """The constraint as written in a protocol file."""
        if self.kind == "equals":
            return {"equals": self.operand[0] if len(self.operand) == 1 else list(self.operand)}
        if self.kind == "range":
            lo, hi = self.operand
            bounds = {k: _plain(v) for k, v in (("min", lo), ("max", hi)) if v is not None}
            return {"range": bounds}
        return {self.kind: self.operand}

    def describe(self) -> str:
        """Short human text, e.g. ``equals CT`` or ``in range 1..5``."""
        if self.kind == "equals":
            return "equals " + " or ".join(map(str, self.operand))
        if self.kind == "range":
            lo, hi = self.operand
            return f"in range {'' if lo is None else _plain(lo)}..{'' if hi is None else _plain(hi)}"
        if self.kind in ("present", "absent"):
            return f"is {self.kind}"
        return f"{self.kind} '{self.operand}'"


def _plain(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def _equal(value: Any, accepted: Any) -> bool:
    a, b = as_number(value), as_number(accepted)
    if a is not None and b is not None and not isinstance(accepted, str):
        return a == b
    return fold(value) == fold(accepted)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _compiled(text: str) -> re.Pattern[str]:
    pattern = _PATTERNS.get(text)
    if pattern is None:
        pattern = _PATTERNS[text] = re.compile(text, re.IGNORECASE)
    return pattern


def parse_constraint(raw: Any) -> Constraint:
    """Read a constraint written as a one-key mapping.

    Raises
    ------
    ConstraintError
        With ``field`` naming the bad key (``"regex"``, ``"range.min"`` ...).
    """
    if not isinstance(raw, dict) or len(raw) != 1:
        raise ConstraintError(f"a constraint is a mapping with one of the keys {', '.join(KINDS)}")
    (kind, operand), = raw.items()
    if kind not in KINDS:
        raise ConstraintError(f"unknown constraint {kind!r}: one of {', '.join(KINDS)}", kind)
    if kind in ("present", "absent"):
        if operand is not True:
            raise ConstraintError(f"{kind} takes the value true", kind)
        return Constraint(kind, True)
    if kind == "equals":
        accepted = tuple(operand) if isinstance(operand, list) else (operand,)
        if not accepted or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in accepted):
            raise ConstraintError("equals takes text, a number, or a list of them", kind)
        return Constraint(kind, accepted)
    if kind == "contains":
        if not isinstance(operand, str) or not operand.strip():
            raise ConstraintError("contains takes non-empty text", kind)
        return Constraint(kind, operand)
    if kind == "regex":
        if not isinstance(operand, str) or not operand:
            raise ConstraintError("regex takes a regular expression", kind)
        try:
            _compiled(operand)
        except re.error as exc:
            raise ConstraintError(f"invalid regular expression {operand!r}: {exc}", kind) from None
        return Constraint(kind, operand)
    # range
    if not isinstance(operand, dict) or not operand or set(operand) - {"min", "max"}:
        raise ConstraintError("range takes a mapping with min and/or max", kind)
    bounds = []
    for key in ("min", "max"):
        v = operand.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)):
            raise ConstraintError(f"range {key} must be a number", f"range.{key}")
        bounds.append(None if v is None else float(v))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise ConstraintError("range min is greater than max", "range")
    return Constraint(kind, tuple(bounds))
