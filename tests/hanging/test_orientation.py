"""Rotation and flip from Patient Orientation: mammograms back to back, however they were stored."""

from __future__ import annotations

import pytest

from workstation.hanging.orientation import display_transform, transformed


@pytest.mark.parametrize("row, column", [("P", "L"), ("A", "R"), ("P", "R"), ("L", "P"), ("R", "A")])
def test_every_orientation_in_one_plane_reaches_every_other(row, column):
    for wanted in (("P", "L"), ("A", "R"), ("P", "R"), ("A", "L"), ("L", "A"), ("R", "P")):
        found = display_transform((row, column), wanted)
        assert found is not None
        assert transformed(row, column, *found) == wanted


def test_another_plane_cannot_be_reached():
    assert display_transform(("H", "A"), ("P", "L")) is None


def test_already_right_means_no_change():
    assert display_transform(("P", "L"), ("P", "L")) == (0, False)


def test_left_cc_stored_like_a_right_one_is_mirrored():
    # A left CC stored with its chest wall on the right ("P\\R") must be mirrored to face the right CC.
    assert display_transform(("P", "R"), ("A", "R")) == (0, True)


def test_mlo_with_oblique_column_direction():
    assert display_transform(("A", "FR"), ("P", "F")) == (0, True)
    assert display_transform(("P", "HL"), ("P", "F")) == (180, True)


def test_wanted_any_column():
    assert display_transform(("A", "R"), ("P", "")) in ((0, True), (180, False))


def test_missing_orientation():
    assert display_transform(None, ("P", "L")) is None
    assert display_transform(("", ""), ("P", "L")) is None
