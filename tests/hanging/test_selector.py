"""Display-set selection: plane from Image Orientation, ranking, match n, per-image series, empty notes."""

from __future__ import annotations

import math

import pytest

from tests.hanging.conftest import series, study
from workstation.hanging.attributes import ImageFacts, SeriesFacts, plane_of
from workstation.hanging.protocol import Selector, parse_protocol
from workstation.hanging.selector import select


@pytest.mark.parametrize(
    "orientation, plane",
    [
        ("1\\0\\0\\0\\1\\0", "axial"),
        ("0\\1\\0\\0\\0\\-1", "sagittal"),
        ("1\\0\\0\\0\\0\\-1", "coronal"),
        ((1, 0, 0, 0, math.cos(math.radians(20)), -math.sin(math.radians(20))), "axial"),  # AC-PC tilt
        ((1, 0, 0, 0, math.cos(math.radians(45)), -math.sin(math.radians(45))), "oblique"),
        ("", None),
        ("1\\0\\0", None),
        ("a\\b\\c\\d\\e\\f", None),
        ("1\\0\\0\\1\\0\\0", None),  # parallel row and column: no plane
    ],
)
def test_plane_of_image_orientation(orientation, plane):
    assert plane_of(orientation or None) == plane


def selector(*rules) -> Selector:
    raw = {"id": "x", "name": "x", "stages": [{"layout": {"rows": 1, "columns": 1},
                                               "viewports": [{"displaySet": {"rules": list(rules)}}]}]}
    return parse_protocol(raw).stages[0].viewports[0].selector


AXIAL = {"attribute": "Plane", "constraint": {"equals": "axial"}, "required": True}
LUNG = {"attribute": "SeriesDescription", "constraint": {"contains": "LUNG"}, "weight": 3}

CT = study(series=(
    series("scout", 1, 1, Modality="CT", SeriesDescription="SCOUT", Plane=None),
    series("soft", 2, 24, Modality="CT", SeriesDescription="SOFT", Plane="axial", ContrastBolusAgent="IOHEXOL"),
    series("lung", 3, 24, Modality="CT", SeriesDescription="LUNG", Plane="axial"),
    series("cor", 4, 40, Modality="CT", SeriesDescription="COR LUNG", Plane="coronal"),
))


def test_ranked_by_score_then_series_number():
    sel = selector(AXIAL, LUNG)
    assert select(sel, CT, 1).series.series_uid == "lung"
    assert select(sel, CT, 2).series.series_uid == "soft"
    third = select(sel, CT, 3)
    assert third.series is None and third.accepted == 2 and "only 2 series match" in third.note


def test_nothing_matches_leaves_the_viewport_empty_with_a_note():
    dwi = selector(AXIAL, {"attribute": "SeriesDescription", "constraint": {"regex": "DWI"}, "required": True})
    got = select(dwi, CT)
    assert got.series is None and got.accepted == 0
    assert got.note.startswith("no series matches") and "DWI" in got.note


def test_optional_rules_alone_never_pick_an_unrelated_series():
    mip = selector({"attribute": "SeriesDescription", "constraint": {"contains": "MIP"}, "weight": 2})
    assert select(mip, CT).series is None


def test_contrast_present_and_absent():
    pre = selector(AXIAL, {"attribute": "ContrastBolusAgent", "constraint": {"absent": True}, "required": True})
    post = selector(AXIAL, {"attribute": "ContrastBolusAgent", "constraint": {"present": True}, "required": True})
    assert select(pre, CT).series.series_uid == "lung"
    assert select(post, CT).series.series_uid == "soft"


def test_no_rules_takes_series_in_order():
    assert [select(Selector(), CT, n).series.series_uid for n in (1, 2, 3, 4)] == ["scout", "soft", "lung", "cor"]


def test_a_series_holding_several_views_is_matched_image_by_image():
    images = tuple(ImageFacts(f"img-{lat}{view}", {"ImageLaterality": lat, "ViewPosition": view})
                   for lat, view in (("R", "CC"), ("L", "CC"), ("R", "MLO"), ("L", "MLO")))
    mg = SeriesFacts("all-views", {"Modality": "MG", "ImageLaterality": ("R", "L"), "ViewPosition": ("CC", "MLO"),
                                   "SeriesNumber": 1}, 4, images, "1: MG")
    lmlo = selector({"attribute": "ImageLaterality", "constraint": {"equals": "L"}, "required": True},
                    {"attribute": "ViewPosition", "constraint": {"equals": "MLO"}, "required": True})
    got = select(lmlo, study(series=(mg,)))
    assert got.series.series_uid == "all-views" and got.sop_instance_uid == "img-LMLO"
    nothing = selector({"attribute": "ImageLaterality", "constraint": {"equals": "B"}, "required": True})
    assert select(nothing, study(series=(mg,))).series is None


def test_grid_cells_of_grids_and_custom_rectangles():
    from workstation.hanging.plan import StagePlan, ViewportPlan, grid_cells

    grid = StagePlan("g", "g", "grid", 2, 2, tuple(ViewportPlan(i, (0, 0, 0.5, 0.5), "current") for i in range(4)))
    assert grid_cells(grid) == (2, 2, [(0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1)])
    third = 1 / 3
    rects = [(0, 0, third, 0.5), (third, 0, third, 0.5), (0, 0.5, third, 0.5), (third, 0.5, third, 0.5),
             (2 * third, 0, third, 1)]
    custom = StagePlan("c", "c", "custom", 1, 1, tuple(ViewportPlan(i, r, "current") for i, r in enumerate(rects)))
    assert grid_cells(custom) == (2, 3, [(0, 0, 1, 1), (0, 1, 1, 1), (1, 0, 1, 1), (1, 1, 1, 1), (0, 2, 2, 1)])
