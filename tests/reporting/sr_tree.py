"""Walking a stored SR's content tree in tests: its headings and its numbers."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from pydicom import Dataset

from workstation.reporting import precision


def containers(item: Dataset, depth: int = 0) -> list[tuple[int, str]]:
    """(depth, concept meaning) of every CONTAINER below ``item``, in document order."""
    out = []
    for child in item.get("ContentSequence", []):
        if child.ValueType == "CONTAINER":
            out.append((depth, str(child.ConceptNameCodeSequence[0].CodeMeaning)))
            out += containers(child, depth + 1)
    return out


def nums(item: Dataset) -> Iterator[Dataset]:
    """Every NUM content item below ``item``, in document order."""
    for child in item.get("ContentSequence", []):
        if child.ValueType == "NUM":
            yield child
        yield from nums(child)


def declared_places(num: Dataset) -> int:
    """The decimals the NUM's unit supports (workstation.reporting.precision)."""
    unit = num.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue
    return precision.decimals_for(unit)


def rounded_values(item: Dataset) -> list[str]:
    """The NUM values below ``item`` as stored, each asserted to carry no more decimals than its unit supports."""
    values = []
    for num in nums(item):
        text = str(num.MeasuredValueSequence[0].NumericValue)
        places = max(0, -Decimal(text).as_tuple().exponent)
        assert places <= declared_places(num), (text, declared_places(num))
        values.append(text)
    return values
