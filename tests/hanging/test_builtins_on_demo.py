"""Every built-in protocol hangs the demo studies as intended: the right series in the right viewport."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workstation.demo.plan import demo_uid
from workstation.hanging.engine import build_plan
from workstation.hanging.facts import patient_studies, study_facts
from workstation.hanging.library import ProtocolLibrary
from workstation.hanging.orientation import transformed
from workstation.hanging.service import plan_study


@pytest.fixture(scope="module")
def library() -> ProtocolLibrary:
    lib = ProtocolLibrary.load()
    assert not lib.errors
    return lib


def s_uid(study_key: str, series_key: str) -> str:
    return demo_uid("small", study_key, series_key)


def shown(stage) -> list[str]:
    return [v.series_uid for v in stage.viewports]


def test_ct_chest_current_and_prior(demo, library):
    plan = plan_study(demo.cache, library, demo.uids["ct-chest-2024"])
    assert plan.protocol_id == "ct-chest" and plan.reason == "best score"
    assert [p.study_uid for p in plan.priors] == [demo.uids["ct-chest-2023"]]
    lung, mediastinum, current = plan.stages
    assert plan.initial_stage == 0 and lung.enabled and mediastinum.enabled
    assert shown(lung) == [s_uid("ct-chest-2024", "lung"), s_uid("ct-chest-2023", "soft")]
    assert [v.study_role for v in lung.viewports] == ["current", "prior1"]
    assert all(v.window.name == "Lung" and (v.window.center, v.window.width) == (-600, 1500) for v in lung.viewports)
    assert shown(mediastinum) == [s_uid("ct-chest-2024", "soft"), s_uid("ct-chest-2023", "soft")]
    assert {v.window.name for v in mediastinum.viewports} == {"Mediastinum"}
    # linked scroll and zoom between current and prior
    for stage in (lung, mediastinum):
        a, b = stage.viewports
        assert a.sync["scroll"] == b.sync["scroll"] and a.sync["zoomPan"] == b.sync["zoomPan"]
    assert shown(current) == [s_uid("ct-chest-2024", "soft"), s_uid("ct-chest-2024", "lung")]
    assert all(v.number_of_images == 24 and v.initial_image == 0 for st in plan.stages for v in st.viewports)


def test_ct_chest_without_prior_opens_on_the_current_stage(demo, library):
    plan = plan_study(demo.cache, library, demo.uids["ct-chest-2023"])
    assert plan.protocol_id == "ct-chest" and not plan.priors
    assert [s.enabled for s in plan.stages] == [False, False, True]
    assert plan.initial_stage == 2
    prior_vp = plan.stages[0].viewports[1]
    assert prior_vp.status == "empty" and prior_vp.series_uid == "" and "no prior 1" in prior_vp.note
    assert plan.next_stage(2, -1) == 2  # the disabled comparison stages are skipped


def test_ct_abdomen_on_an_abdomen_study(demo, library):
    ct = study_facts(demo.cache, demo.uids["ct-chest-2024"])
    abdomen = replace(ct, attributes={**ct.attributes, "BodyPartExamined": "ABDOMEN",
                                      "StudyDescription": "CT ABDOMEN PELVIS WITH CONTRAST"})
    plan = build_plan(abdomen, [], library.protocols)
    assert plan.protocol_id == "ct-abdomen"
    axial, coronal = plan.stages[0].viewports
    # the soft-tissue reconstruction, never the lung one, in abdomen window
    assert axial.series_uid == s_uid("ct-chest-2024", "soft") and axial.window.name == "Abdomen"
    # no coronal series: empty with a note, not the axial one
    assert coronal.status == "empty" and not coronal.series_uid and coronal.note == "no coronal series in this study"
    assert "Plane equals coronal" in coronal.detail
    liver, bone = plan.stages[1].viewports
    assert (liver.window.name, bone.window.name) == ("Liver", "Bone")
    assert not plan.stages[2].enabled  # no prior


def test_mr_brain_grid_and_sagittal(demo, library):
    plan = plan_study(demo.cache, library, demo.uids["mr-brain-2024"])
    assert plan.protocol_id == "mr-brain"
    brain = plan.stages[0]
    assert brain.layout == "custom"
    t1, t2, flair, dwi, sag = brain.viewports
    assert t1.series_uid == s_uid("mr-brain-2024", "t1-ax")
    assert t2.series_uid == s_uid("mr-brain-2024", "t2-ax")
    assert flair.series_uid == s_uid("mr-brain-2024", "flair-ax")
    assert sag.series_uid == s_uid("mr-brain-2024", "t1-sag")
    assert dwi.status == "empty" and not dwi.series_uid and "DWI" in dwi.note
    assert [v.initial_image for v in (t1, t2, flair, sag)] == [5, 5, 5, 5]  # middle of 12
    assert sag.rectangle[0] > 0.6 and sag.rectangle[3] == 1
    assert {v.sync.get("scroll") for v in (t1, t2, flair, dwi)} == {"axial"} and "scroll" not in sag.sync
    # the prior MR a year earlier: current FLAIR beside the prior's
    prior = plan.stages[1]
    assert prior.enabled and [p.study_uid for p in plan.priors] == [demo.uids["mr-brain-2023"]]
    assert [v.series_uid for v in prior.viewports] == [s_uid("mr-brain-2024", "flair-ax"),
                                                       s_uid("mr-brain-2023", "flair-ax")]


def test_chest_radiograph_pa_lateral_and_prior_pa(demo, library):
    plan = plan_study(demo.cache, library, demo.uids["dx-chest-2024"])
    assert plan.protocol_id == "chest-radiograph"
    assert shown(plan.stages[0]) == [s_uid("dx-chest-2024", "pa"), s_uid("dx-chest-2024", "lateral"),
                                     s_uid("dx-chest-2023", "pa")]
    assert shown(plan.stages[1]) == [s_uid("dx-chest-2024", "pa"), s_uid("dx-chest-2023", "pa")]
    # the prior has no lateral view: that viewport stays empty rather than showing its PA
    old = plan_study(demo.cache, library, demo.uids["dx-chest-2023"])
    assert old.stages[0].viewports[1].status == "empty" and old.stages[0].viewports[1].series_uid == ""


def test_mammography_four_up_mirrored_and_prior_stages(demo, library):
    plan = plan_study(demo.cache, library, demo.uids["mg-screening-2024"])
    assert plan.protocol_id == "mg-screening"
    assert [p.study_uid for p in plan.priors] == [demo.uids["mg-screening-2023"]]
    cur, cc, mlo = plan.stages
    assert (cur.rows, cur.columns) == (2, 2)
    assert shown(cur) == [s_uid("mg-screening-2024", k) for k in ("rcc", "lcc", "rmlo", "lmlo")]
    assert shown(cc) == [s_uid(k, v) for k in ("mg-screening-2024", "mg-screening-2023") for v in ("rcc", "lcc")]
    assert shown(mlo) == [s_uid(k, v) for k in ("mg-screening-2024", "mg-screening-2023") for v in ("rmlo", "lmlo")]
    # back to back: the chest wall (posterior) of the right views on their right, of the left views on their left
    current = study_facts(demo.cache, demo.uids["mg-screening-2024"])
    stored = {s.series_uid: s.get("PatientOrientation") for s in current.series}
    for v in cur.viewports:
        right, _ = transformed(*stored[v.series_uid], v.rotation, v.flip_horizontal)
        assert right == ("P" if v.index % 2 == 0 else "A")


def test_mammograms_stored_the_other_way_are_mirrored(demo, library):
    current = study_facts(demo.cache, demo.uids["mg-screening-2024"])
    # a modality that stores every view with the chest wall on the right: left views mirrored
    def mirrored(s):
        row, column = s.get("PatientOrientation")
        return replace(s, attributes={**s.attributes, "PatientOrientation": ("P" if row == "A" else row, column)})

    flipped = tuple(mirrored(s) if s.get("ImageLaterality") == "L" else s for s in current.series)
    plan = build_plan(replace(current, series=flipped), [], library.protocols)
    rcc, lcc, rmlo, lmlo = plan.stages[0].viewports
    assert (rcc.rotation, rcc.flip_horizontal) == (0, False)
    assert lcc.flip_horizontal and lmlo.flip_horizontal
    for v in (lcc, lmlo):
        stored = next(x for x in flipped if x.series_uid == v.series_uid).get("PatientOrientation")
        assert transformed(*stored, v.rotation, v.flip_horizontal)[0] == "A"


def test_ultrasound_cine(demo, library):
    plan = plan_study(demo.cache, library, demo.uids["us-carotid-2024"])
    assert plan.protocol_id == "us-cine"
    (vp,) = plan.stages[0].viewports
    assert vp.series_uid == s_uid("us-carotid-2024", "cine") and vp.cine and vp.number_of_images == 5
    assert not plan.stages[1].enabled


def test_default_when_nothing_matches(demo, library):
    mr = study_facts(demo.cache, demo.uids["mr-brain-2024"])
    odd = replace(mr, attributes={**mr.attributes, "ModalitiesInStudy": "OT"})
    plan = build_plan(odd, [], library.protocols)
    assert plan.protocol_id == "default" and plan.reason.startswith("default")
    assert plan.initial_stage == 0 and (plan.stages[0].rows, plan.stages[0].columns) == (2, 2)
    assert shown(plan.stages[0]) == [s_uid("mr-brain-2024", k) for k in ("t1-sag", "t2-ax", "flair-ax", "t1-ax")]
    us = build_plan(replace(study_facts(demo.cache, demo.uids["us-carotid-2024"]),
                            attributes={"ModalitiesInStudy": "OT"}), [], library.protocols)
    assert us.protocol_id == "default" and us.stages[us.initial_stage].id == "single"


def test_possible_matches_from_the_cache_are_reported_not_hung(demo, library):
    ct = study_facts(demo.cache, demo.uids["ct-chest-2024"])
    renamed = [replace(s, patient_id="OTHER-ARCHIVE-1") for s in patient_studies(demo.cache, ct)]
    plan = build_plan(ct, renamed, library.protocols)
    assert not plan.priors
    assert demo.uids["ct-chest-2023"] in {p.study_uid for p in plan.possible_matches}


def test_pet_ct_hangs_ct_pet_and_a_pet_mip(demo, library):
    plan = plan_study(demo.cache, library, demo.uids["petct-2024"])
    assert plan.protocol_id == "pet-ct" and not plan.priors
    (stage,) = plan.stages
    ct, pet, mip = stage.viewports
    assert shown(stage) == [s_uid("petct-2024", "ct"), s_uid("petct-2024", "pet-ac"), s_uid("petct-2024", "pet-ac")]
    assert ct.window.name == "Mediastinum" and pet.invert and mip.label == "PET MIP"
    assert mip.volume["preset"] == "pet-mip"  # scaled to the PET's values, not CT numbers
    # CT and PET scroll together by patient position although their slices differ.
    assert ct.sync["scroll"] == pet.sync["scroll"] == "petct"
