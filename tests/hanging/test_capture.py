"""Save layout as protocol: rules derived from the placed series, and the saved protocol wins next time."""

from __future__ import annotations

from dataclasses import replace

from workstation.hanging.capture import PlacedViewport, capture_protocol, protocol_id_for, selector_rules
from workstation.hanging.engine import build_plan
from workstation.hanging.facts import study_facts
from workstation.hanging.library import ProtocolLibrary, save_user_protocol
from workstation.home import Home




def test_selector_rules_from_a_series(demo):
    mg = study_facts(demo.cache, demo.uids["mg-screening-2024"])
    lcc = next(s for s in mg.series if s.get("SeriesDescription") == "L CC")
    rules = {r["attribute"]: r for r in selector_rules(lcc)}
    assert rules["ImageLaterality"]["constraint"] == {"equals": "L"} and rules["ImageLaterality"]["required"]
    assert rules["ViewPosition"]["constraint"] == {"equals": "CC"}
    assert "Plane" not in rules  # projection images have none
    dx = study_facts(demo.cache, demo.uids["dx-chest-2024"])
    assert "ImageLaterality" not in {r["attribute"] for r in selector_rules(dx.series[0])}  # "U" is no side


def test_a_saved_layout_is_chosen_for_the_next_similar_study(demo, lightbox_home):
    home = Home.single(lightbox_home)
    current = study_facts(demo.cache, demo.uids["ct-chest-2024"])
    prior = study_facts(demo.cache, demo.uids["ct-chest-2023"])
    soft = next(s for s in current.series if "SOFT" in s.get("SeriesDescription"))
    lung = next(s for s in current.series if "LUNG" in s.get("SeriesDescription"))
    placed = [PlacedViewport("current", lung, (-500, 1400, "my lung"), sync={"scroll": "a"}),
              PlacedViewport("prior1", prior.series[0], (-500, 1400, "my lung"), sync={"scroll": "a"}),
              PlacedViewport("current", soft, (40, 400, ""), rotation=90, flip_horizontal=True),
              PlacedViewport("current", None)]
    lib = ProtocolLibrary.load(home)
    protocol = capture_protocol("My CT chest", current, placed, rows=2, columns=2,
                                taken={p.id for p in lib.protocols}, priors=[prior])
    assert protocol.id == "my-ct-chest" and protocol.priors.count == 1
    save_user_protocol(home, protocol)
    lib = ProtocolLibrary.load(home)
    # the next similar study: the same kind of CT chest (here the 2024 study again, with its prior)
    plan = build_plan(current, [prior], lib.protocols)
    assert plan.protocol_id == "my-ct-chest" and plan.origin == "user"
    vps = plan.stages[0].viewports
    assert [v.series_uid for v in vps[:3]] == [lung.series_uid, prior.series[0].series_uid, soft.series_uid]
    assert (vps[0].window.center, vps[0].window.width) == (-500, 1400)
    assert (vps[2].rotation, vps[2].flip_horizontal) == (90, True)
    assert vps[3].status == "empty" and vps[0].sync == {"scroll": "a"}
    # a similar study from elsewhere: another description is no longer similar when it was ticked
    other = replace(current, attributes={**current.attributes, "StudyDescription": "CT THORAX"})
    assert build_plan(other, [prior], lib.protocols).protocol_id == "ct-chest"
    # ... unless only modality and body part were asked to match
    loose = capture_protocol("Loose", current, placed, rows=2, columns=2,
                             match=("ModalitiesInStudy", "BodyPartExamined"), priors=[prior])
    assert build_plan(other, [prior], [*lib.protocols, loose]).protocol_id == "loose"
    # different studies: not similar
    mr = study_facts(demo.cache, demo.uids["mr-brain-2024"])
    assert build_plan(mr, [], lib.protocols).protocol_id == "mr-brain"


def test_ids_from_names():
    assert protocol_id_for("My CT chest!", set()) == "my-ct-chest"
    assert protocol_id_for("My CT chest", {"my-ct-chest"}) == "my-ct-chest-2"
    assert protocol_id_for("  ", set()) == "my-layout"
