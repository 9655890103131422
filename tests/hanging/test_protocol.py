"""Protocol schema: every built-in is valid and round-trips; bad files name the field."""

from __future__ import annotations

import copy

import pytest

from workstation.hanging.library import BUILTIN_DIR, read_file
from workstation.hanging.protocol import ProtocolError, parse_protocol

MINIMAL = {
    "id": "p",
    "name": "P",
    "stages": [{"layout": {"rows": 1, "columns": 1}, "viewports": [{"displaySet": {"rules": []}}]}],
}


def _with(path: list, value):
    raw = copy.deepcopy(MINIMAL)
    target = raw
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return raw


def test_builtins_are_valid_and_round_trip():
    files = sorted(BUILTIN_DIR.glob("*.json"))
    assert {f.stem for f in files} >= {"ct-chest", "ct-abdomen", "mr-brain", "chest-radiograph",
                                       "mg-screening", "us-cine", "default"}
    for f in files:
        p = parse_protocol(read_file(f), str(f))
        again = parse_protocol(p.to_dict(), "again")
        assert again.to_dict() == p.to_dict()
        assert [s.viewports for s in again.stages] == [s.viewports for s in p.stages]


@pytest.mark.parametrize(
    "path, value, field",
    [
        (["id"], "bad id!", "id"),
        (["schemaVersion"], 2, "schemaVersion"),
        (["colour"], "red", "colour"),
        (["rules"], [{"attribute": "Modality", "constraint": {"equals": "CT"}}], "rules[0].attribute"),
        (["rules"], [{"attribute": "ModalitiesInStudy"}], "rules[0].constraint"),
        (["rules"], [{"attribute": "ModalitiesInStudy", "constraint": {"regex": "("}}], "rules[0].constraint.regex"),
        (["rules"], [{"attribute": "ModalitiesInStudy", "constraint": {"equals": "CT"}, "weight": -1}],
         "rules[0].weight"),
        (["rules"], [{"attribute": "ModalitiesInStudy", "constraint": {"equals": "CT"}, "weight": 0}], "rules"),
        (["rules"], [{"sameAs": "BodyPartExamined"}], "rules[0].sameAs"),
        (["stages"], [], "stages"),
        (["stages", 0, "layout"], {"rows": 2, "columns": 1}, "stages[0].viewports"),
        (["stages", 0, "layout"], {"rows": 5, "columns": 1}, "stages[0].layout.rows"),
        (["stages", 0, "layout"], {"rectangles": [{"x": 0.5, "y": 0, "width": 0.8, "height": 1}]},
         "stages[0].layout.rectangles[0]"),
        (["stages", 0, "viewports", 0, "study"], "previous", "stages[0].viewports[0].study"),
        (["stages", 0, "viewports", 0, "displaySet"], "lung", "stages[0].viewports[0].displaySet"),
        (["stages", 0, "viewports", 0, "window"], "Lungs", "stages[0].viewports[0].window"),
        (["stages", 0, "viewports", 0, "rotation"], 45, "stages[0].viewports[0].rotation"),
        (["stages", 0, "viewports", 0, "initialImage"], {"fraction": 2},
         "stages[0].viewports[0].initialImage.fraction"),
        (["stages", 0, "viewports", 0, "patientOrientation"], ["P", "X"],
         "stages[0].viewports[0].patientOrientation[1]"),
        (["stages", 0, "viewports", 0, "sync"], {"scrol": "a"}, "stages[0].viewports[0].sync.scrol"),
        (["stages", 0, "viewports", 0, "displaySet"], {"rules": [{"attribute": "Plane", "constraint": {"equals": 1},
                                                                  "wieght": 2}]},
         "stages[0].viewports[0].displaySet.rules[0].wieght"),
        (["priors"], {"count": 0}, None),
    ],
)
def test_errors_name_the_file_and_field(path, value, field):
    raw = _with(path, value)
    if field is None:
        parse_protocol(raw, "ok.json")
        return
    with pytest.raises(ProtocolError) as err:
        parse_protocol(raw, "some/file.json")
    assert err.value.source == "some/file.json"
    assert err.value.field == field
    assert str(err.value).startswith(f"some/file.json: {field}: ")


def test_prior_count_follows_the_viewports_and_must_cover_them():
    raw = _with(["stages", 0, "viewports", 0, "study"], "prior2")
    assert parse_protocol(raw).priors.count == 2
    raw["priors"] = {"count": 1}
    with pytest.raises(ProtocolError) as err:
        parse_protocol(raw)
    assert err.value.field == "stages[0].viewports[0].study"


def test_not_a_mapping():
    with pytest.raises(ProtocolError) as err:
        parse_protocol([1, 2], "x.yaml")
    assert "expected a mapping" in str(err.value)


def test_mpr_and_3d_viewports_carry_their_volume_keys():
    raw = _with(["stages", 0, "viewports", 0], {"displaySet": {"rules": []}, "type": "mpr", "plane": "coronal",
                                                "slab_mm": 10, "slab_mode": "mip"})
    vp = parse_protocol(raw).stages[0].viewports[0]
    assert vp.viewport_type == "mpr" and dict(vp.volume) == {"plane": "coronal", "slab_mm": 10, "slab_mode": "mip"}
    assert parse_protocol(parse_protocol(raw).to_dict()).stages[0].viewports[0] == vp
    for bad, field in (({"type": "stack", "plane": "coronal"}, "stages[0].viewports[0].plane"),
                       ({"type": "mpr", "slab_mode": "sum"}, "stages[0].viewports[0].type"),
                       ({"type": "volume"}, "stages[0].viewports[0].type")):
        with pytest.raises(ProtocolError) as err:
            parse_protocol(_with(["stages", 0, "viewports", 0], {"displaySet": {"rules": []}, **bad}), "f.json")
        assert err.value.field == field
