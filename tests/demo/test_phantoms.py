"""Phantoms at full-size geometry, sampled one slice or frame at a time."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.demo.breast_phantom import MG_MASSES, mammogram
from workstation.demo.head_phantom import MR_LESIONS, Tissue, head_labels
from workstation.demo.phantoms import CT_SPHERES, PRIOR_CT_SPHERES, PRIOR_CT_TABLE_SHIFT, chest_slice
from workstation.demo.plan import planned_series
from workstation.demo.ultrasound_phantom import US_CAROTID, carotid_cine


def _full(study_key: str, series_key: str):
    return next(s for s in planned_series("full") if s.study.key == study_key and s.key == series_key)


@pytest.mark.parametrize(("study_key", "spheres"), [("ct-chest-2024", CT_SPHERES), ("ct-chest-2023", PRIOR_CT_SPHERES)])
def test_ct_spheres_on_the_full_size_grid(study_key, spheres):
    plan = _full(study_key, "soft")
    x0, y0, _ = plan.first_position
    dy, dx = plan.pixel_spacing
    xs = x0 + np.arange(plan.columns) * dx
    ys = y0 + np.arange(plan.rows) * dy
    zs = [plan.position(i)[2] for i in range(plan.instances)]
    for s in spheres:
        cx, cy, cz = s.centre_mm
        # Centres are on the slice and pixel grid.
        assert min(abs(z - cz) for z in zs) < 1e-6, s.label
        row, col = int(round((cy - y0) / dy)), int(round((cx - x0) / dx))
        assert xs[col] == pytest.approx(cx) and ys[row] == pytest.approx(cy)
        hu, exact = chest_slice(xs, ys, cz, shift=plan.params["shift"], spheres=spheres)
        assert hu[row, col] == s.hu and exact[row, col]
        run = exact[row]
        width = (col + np.argmin(run[col:]) - (col - np.argmin(run[col::-1]))) - 1
        assert abs(width * dx - s.diameter_mm) <= dx, s.label
        # The surroundings differ from the sphere, so it can be segmented.
        beside = col + int(s.diameter_mm / dx)
        assert abs(float(np.median(hu[row, beside : beside + 4])) - s.hu) > 40


def test_prior_ct_shows_the_same_body_shifted():
    plan = _full("ct-chest-2024", "soft")
    xs = -200.0 + np.arange(0, 512, 4) * plan.pixel_spacing[1]
    current, _ = chest_slice(xs, xs, -150.0, table=False)
    sx, sy, sz = PRIOR_CT_TABLE_SHIFT
    prior, _ = chest_slice(xs + sx, xs + sy, -150.0 + sz, shift=PRIOR_CT_TABLE_SHIFT, table=False)
    assert np.array_equal(current, prior)


def test_mr_lesions_are_labelled_with_their_size():
    for lesion in MR_LESIONS:
        cx, cy, cz = lesion.centre_mm
        xs = cx + np.arange(-20.0, 20.25, 0.25)
        labels = head_labels(xs, cy, cz)
        assert labels[80] == Tissue.LESION
        inside = np.nonzero(labels == Tissue.LESION)[0]
        assert (inside[-1] - inside[0] + 1) * 0.25 == pytest.approx(lesion.diameter_mm, abs=0.5)


def test_mr_head_has_skull_brain_and_ventricles():
    c = -115.0 + np.arange(256) * (230 / 256)
    labels = head_labels(c[None, :], c[:, None], 22.0)
    found = set(np.unique(labels))
    assert {Tissue.SCALP, Tissue.BONE, Tissue.GREY, Tissue.WHITE, Tissue.CSF} <= found
    # The lateral ventricles lie either side of the midline.
    row = labels[np.argmin(np.abs(c - 0.0))]
    assert row[np.argmin(np.abs(c + 8.0))] == Tissue.CSF and row[np.argmin(np.abs(c - 8.0))] == Tissue.CSF


def test_mammography_mass_grows_and_textures_match_the_prior():
    plan = _full("mg-screening-2024", "lcc")
    spacing = plan.pixel_spacing[0]
    current = mammogram("L", "CC", plan.rows, plan.columns, spacing, prior=False).astype(float)
    prior = mammogram("L", "CC", plan.rows, plan.columns, spacing, prior=True).astype(float)
    (mass,) = [m for m in MG_MASSES if (m.side, m.view) == ("L", "CC")]
    u, v = mass.position_mm
    r, c = int(v / spacing), int(u / spacing)
    ring = int(mass.diameter_mm / spacing)
    centre_gain = current[r - 5 : r + 5, c - 5 : c + 5].mean() - current[r - 5 : r + 5, c + ring : c + ring + 10].mean()
    assert centre_gain > 100
    assert np.corrcoef(current[::8, ::8].ravel(), prior[::8, ::8].ravel())[0, 1] > 0.8
    right = mammogram("R", "CC", 160, 128, 1.28, prior=False)
    assert right[:, -1].mean() > right[:, 0].mean()  # chest wall on the right edge


def test_ultrasound_lumen_diameter_is_known():
    plan = _full("us-carotid-2024", "cine")
    x0, y0, x1, y1 = plan.params["region"]
    dx, dy = plan.params["delta_cm"]
    (frame,) = carotid_cine(plan.rows, plan.columns, 1, plan.params["region"], plan.params["delta_cm"],
                            plan.params["frame_time_ms"])  # fmt: skip
    # A column outside the colour box, 2 cm left of the region's centre (end-diastole in frame 0).
    col = int((x0 + x1 + 1) / 2 - 2.0 / dx)
    lateral = (col - x0 - (x1 - x0 + 1) / 2) * dx
    centre_row = y0 + int((US_CAROTID.depth_cm + 0.04 * lateral) / dy)
    grey = frame[:, col, 0].astype(int)
    assert grey[centre_row] < 20
    top = centre_row - np.argmax(grey[centre_row::-1] > 60)
    bottom = centre_row + np.argmax(grey[centre_row:] > 60)
    diameter = (bottom - top - 1) * dy
    assert diameter == pytest.approx(US_CAROTID.diastolic_diameter_cm, abs=3 * dy)
