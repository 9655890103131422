"""The editor's draft: rules as form rows, the rest as YAML, validation, duplicate, import and export."""

from __future__ import annotations

import pytest

from workstation.hanging.editing import ProtocolDraft, RuleRow, duplicate, export_protocol, import_protocol
from workstation.hanging.library import ProtocolLibrary, user_dir
from workstation.hanging.protocol import ProtocolError
from workstation.home import Home


@pytest.fixture
def builtins() -> ProtocolLibrary:
    return ProtocolLibrary.load()


def test_every_builtin_survives_the_form(builtins):
    for p in builtins.protocols:
        again = ProtocolDraft.of(p).build()
        assert again.to_dict() == p.to_dict(), p.id


def test_form_rows_to_rules():
    rows = [RuleRow("ModalitiesInStudy", "equals", "CR, DX", 2, True),
            RuleRow("NumberOfStudyRelatedSeries", "range", "2..", 1),
            RuleRow("StudyDescription", "regex", "CHEST|THORAX", 0.5, negate=True),
            RuleRow("BodyPartExamined", "present", "ignored")]
    assert [r.to_dict() for r in rows] == [
        {"attribute": "ModalitiesInStudy", "constraint": {"equals": ["CR", "DX"]}, "weight": 2, "required": True},
        {"attribute": "NumberOfStudyRelatedSeries", "constraint": {"range": {"min": 2}}, "weight": 1},
        {"attribute": "StudyDescription", "constraint": {"regex": "CHEST|THORAX"}, "not": True, "weight": 0.5},
        {"attribute": "BodyPartExamined", "constraint": {"present": True}, "weight": 1},
    ]


def test_errors_name_the_field(builtins):
    draft = ProtocolDraft.of(builtins.get("ct-chest"))
    draft.rules.append(RuleRow("StudyDescription", "range", "a..b"))
    with pytest.raises(ProtocolError) as err:
        draft.build()
    assert err.value.field == "rules[4].constraint.range.min"
    draft.rules.pop()
    draft.body = draft.body.replace("window: Lung", "window: Lungs", 1)
    with pytest.raises(ProtocolError) as err:
        draft.build()
    assert err.value.field == "stages[0].viewports[0].window"
    draft.body = "stages: [unclosed"
    with pytest.raises(ProtocolError) as err:
        draft.build()
    assert err.value.field == "body"
    draft.body = "name: sneaky\nstages: []"
    with pytest.raises(ProtocolError) as err:
        draft.build()
    assert err.value.field == "name"


def test_duplicate_export_import(builtins, lightbox_home, tmp_path):
    home = Home.single(lightbox_home)
    copy = duplicate(builtins.get("mr-brain"), {p.id for p in builtins.protocols} | {"mr-brain-copy"})
    assert copy.id == "mr-brain-copy-2" and copy.name.endswith("(copy)")
    protocol = copy.build()
    for suffix in (".yaml", ".json"):
        path = export_protocol(protocol, tmp_path / f"exported{suffix}")
        imported = import_protocol(home, path)
        assert imported.to_dict() == protocol.to_dict() and imported.origin == "user"
    assert ProtocolLibrary.load(home).get("mr-brain-copy-2").name == "MR brain (copy)"
    (tmp_path / "bad.json").write_text('{"id": "x"}', encoding="utf-8")
    with pytest.raises(ProtocolError) as err:
        import_protocol(home, tmp_path / "bad.json")
    assert err.value.field == "name" and str(tmp_path / "bad.json") in str(err.value)
    assert sorted(p.name for p in user_dir(home).iterdir()) == ["mr-brain-copy-2.json"]
