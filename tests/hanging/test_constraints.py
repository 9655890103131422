"""Constraints: each kind, multi-valued and missing values, and malformed constraints."""

from __future__ import annotations

import pytest

from workstation.hanging.constraints import ConstraintError, parse_constraint


@pytest.mark.parametrize(
    "raw, value, expected",
    [
        ({"equals": "CT"}, "ct", True),
        ({"equals": "CT"}, "MR", False),
        ({"equals": ["CR", "DX"]}, "DX", True),
        ({"equals": "AXIAL"}, ("ORIGINAL", "PRIMARY", "AXIAL"), True),
        ({"equals": 5}, "5.0", True),
        ({"equals": "CT"}, None, False),
        ({"contains": "lung"}, "CT CHEST 1.25 LUNG", True),
        ({"contains": "lung"}, ("A", "B"), False),
        ({"regex": r"\bT2\b"}, "T2 AX", True),
        ({"regex": r"\bT2\b"}, "T2* GRE", True),
        ({"regex": r"^T2$"}, "T2 FLAIR", False),
        ({"range": {"min": 1}}, 3, True),
        ({"range": {"min": 1, "max": 2}}, "2.5", False),
        ({"range": {"max": 3}}, ("5", "1.25"), True),
        ({"range": {"min": 1}}, None, False),
        ({"range": {"min": 1}}, "thick", False),
        ({"present": True}, "X", True),
        ({"present": True}, "  ", False),
        ({"present": True}, (), False),
        ({"absent": True}, None, True),
        ({"absent": True}, "IOHEXOL", False),
    ],
)
def test_constraint_kinds(raw, value, expected):
    assert parse_constraint(raw).test(value) is expected


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"eq": "CT"}, "eq"),
        ({"regex": "(unclosed"}, "regex"),
        ({"range": {"min": "one"}}, "range.min"),
        ({"range": {"min": 3, "max": 1}}, "range"),
        ({"present": "yes"}, "present"),
        ({"equals": [True]}, "equals"),
        ({"contains": ""}, "contains"),
        ({"equals": "CT", "contains": "C"}, ""),
    ],
)
def test_malformed_constraints_name_the_key(raw, field):
    with pytest.raises(ConstraintError) as err:
        parse_constraint(raw)
    assert err.value.field == field


def test_round_trip():
    for raw in ({"equals": "CT"}, {"equals": ["CR", "DX"]}, {"contains": "LUNG"}, {"regex": "T1"},
                {"range": {"min": 1}}, {"range": {"min": 0.5, "max": 3}}, {"present": True}, {"absent": True}):
        assert parse_constraint(raw).to_dict() == raw
