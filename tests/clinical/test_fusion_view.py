"""The fusion display's state, from the cache: linked planes, SUV read-outs and the refusal shown as units."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from workstation.clinical.fusion_view import FusionState, load_petct
from workstation.demo.plan import demo_uid
from workstation.demo.pet_phantom import PET_LESIONS


@pytest.fixture(scope="module")
def state(demo_cache):
    return load_petct(demo_cache, demo_uid("small", "petct-2024"))


def test_loads_the_pet_and_its_ct(state):
    assert state.pet.modality == "PT" and state.ct.modality == "CT"
    assert state.unit == "SUVbw" and not state.refusal
    assert state.ct.frame_of_reference_uid == state.pet.frame_of_reference_uid


def test_the_views_show_one_anatomy_and_the_lesion_reads_its_suv(state):
    lesion = PET_LESIONS[2]  # the liver metastasis, 30 mm
    i, j, k = np.round(state.ct.patient_to_index(lesion.centre_mm)).astype(int)
    state.index = int(k)
    state.pet_range = (0.0, 20.0)  # the lesion (SUVbw 13) below full colour
    ct, pet, fused = state.ct_8bit(), state.pet_rgb(), state.fused_rgb()
    assert ct.shape == pet.shape[:2] == fused.shape[:2] == state.ct.shape[1:]
    assert np.allclose(state.point_at(j, i), lesion.centre_mm, atol=max(state.ct.spacing))
    stats = state.sphere_statistics(j, i, radius_mm=lesion.radius_mm)
    assert stats.maximum == pytest.approx(lesion.suv_bw(), rel=0.01)
    assert "SUVbw" in state.probe(j, i) and "HU" in state.probe(j, i)
    # Fused: the CT's grey where there is no uptake, colour where the lesion is.
    assert fused[j, i, 0] != fused[j, i, 2]


def test_method_switch_and_refusal(state):
    state.set_method("bsa")
    assert state.unit == "SUVbsa"
    headers = [copy.deepcopy(h) for h in state.pet_headers]
    for h in headers:
        del h.PatientWeight
    refused = FusionState(state.ct, state.pet, headers)
    assert "Patient's Weight (0010,1030)" in refused.refusal and refused.unit == "BQML"
    state.set_method("bw")


def test_no_pet_is_refused(demo_cache):
    with pytest.raises(ValueError, match="no PET"):
        load_petct(demo_cache, demo_uid("small", "ct-chest-2024"))
