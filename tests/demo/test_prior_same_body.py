"""The demo priors are the same patient a year earlier: same anatomy at the same table position, one known change."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest

from tests.hanging.conftest import demo  # noqa: F401 - the session's small demo studies
from workstation.demo.head_phantom import MR_LESIONS, Tissue, head_labels
from workstation.demo.phantoms import CT_NODULE_GROWTH, CT_SPHERES, PRIOR_CT_SPHERES, chest_slice
from workstation.demo.plan import planned_series


def _slices(files) -> dict[tuple[str, float], np.ndarray]:
    """(series description, table position z) -> modality values."""
    out = {}
    for path in files:
        ds = pydicom.dcmread(path)
        z = round(float(ds.ImagePositionPatient[2]), 3)
        values = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
        out[(str(ds.SeriesDescription), z)] = values.astype(np.float64)
    return out


def _correlation(a: np.ndarray, b: np.ndarray, keep: np.ndarray | None = None) -> float:
    if keep is not None:
        a, b = a[keep], b[keep]
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def _outside(shape, spacing, origin_xy, centre, radius) -> np.ndarray:
    rows, cols = np.indices(shape)
    x = origin_xy[0] + cols * spacing
    y = origin_xy[1] + rows * spacing
    return (x - centre[0]) ** 2 + (y - centre[1]) ** 2 > (radius + 2 * spacing) ** 2


def test_prior_ct_shows_the_same_anatomy_at_the_same_table_position(demo):  # noqa: F811
    current, prior = _slices(demo.files["ct-chest-2024"]), _slices(demo.files["ct-chest-2023"])
    plan = next(s for s in planned_series("small") if s.study.key == "ct-chest-2023")
    index, growth = CT_NODULE_GROWTH
    nodule = CT_SPHERES[index]
    compared = 0
    for (description, z), before in prior.items():
        now = current[(description, z)]  # every prior slice has a current one at the same table position
        keep = None
        if abs(z - nodule.centre_mm[2]) <= nodule.radius_mm:
            keep = _outside(now.shape, plan.pixel_spacing[0], plan.first_position[:2], nodule.centre_mm,
                            nodule.radius_mm)
        if now.std() < 1:
            continue  # air above the shoulders
        assert _correlation(now, before, keep) > 0.97, z
        compared += 1
    assert compared >= len(prior) - 2


def test_the_ct_nodule_grew_by_2_mm_and_nothing_else_changed():
    index, growth = CT_NODULE_GROWTH
    assert growth == 2.0
    for i, (now, before) in enumerate(zip(CT_SPHERES, PRIOR_CT_SPHERES, strict=True)):
        assert now.centre_mm == before.centre_mm and now.hu == before.hu
        assert now.diameter_mm - before.diameter_mm == (growth if i == index else 0.0)
    # measured on the full-size grid: the exact (noise-free) sphere pixels across the centre
    plan = next(s for s in planned_series("full") if s.study.key == "ct-chest-2024" and s.key == "soft")
    dx = plan.pixel_spacing[1]
    xs = plan.first_position[0] + np.arange(plan.columns) * dx
    ys = plan.first_position[1] + np.arange(plan.rows) * dx
    widths = []
    for spheres in (CT_SPHERES, PRIOR_CT_SPHERES):
        s = spheres[index]
        _, exact = chest_slice(xs, ys, s.centre_mm[2], spheres=spheres)
        row = int(round((s.centre_mm[1] - ys[0]) / dx))
        widths.append(exact[row].sum() * dx)
    assert widths[0] - widths[1] == pytest.approx(2.0, abs=dx)


def test_prior_mr_is_the_same_head_with_one_lesion_2_mm_smaller(demo):  # noqa: F811
    current, prior = _slices(demo.files["mr-brain-2024"]), _slices(demo.files["mr-brain-2023"])
    axial = {k: v for k, v in prior.items() if k[0].endswith(" AX")}
    assert {d for d, _ in axial} == {"T1 AX", "T2 AX", "FLAIR AX"}
    for key, before in axial.items():
        now = current[key]
        if now.max() < 200:
            continue  # below the skull base, little signal
        assert _correlation(now, before) > 0.9, key
    changed = [lesion for lesion in MR_LESIONS if lesion.diameter(prior=True) != lesion.diameter_mm]
    assert len(changed) == 1 and changed[0].diameter_mm - changed[0].diameter(prior=True) == 2.0
    cx, cy, cz = changed[0].centre_mm
    xs = cx + np.arange(-20.0, 20.25, 0.25)
    sizes = [np.count_nonzero(head_labels(xs, cy, cz, prior=p) == Tissue.LESION) * 0.25 for p in (False, True)]
    assert sizes[0] - sizes[1] == pytest.approx(2.0, abs=0.5)


def test_prior_radiograph_is_the_same_chest_in_the_same_place(demo):  # noqa: F811
    def pa(key):
        (path,) = [p for p in demo.files[key] if "PA" in pydicom.dcmread(p, stop_before_pixels=True).SeriesDescription]
        return pydicom.dcmread(path).pixel_array.astype(np.float64)

    assert _correlation(pa("dx-chest-2024"), pa("dx-chest-2023")) > 0.97
