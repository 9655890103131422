"""Templates are data: every built-in loads, fields parse typed values, bad files say what is wrong."""

from __future__ import annotations

import json

import pytest

from workstation.reporting.templates import (
    TemplateError,
    builtin_templates,
    get_template,
    load_template,
    template_for_modalities,
)


def test_builtin_templates_cover_the_issue():
    templates = builtin_templates()
    assert {"general", "ct_chest", "mr_brain", "chest_radiograph", "mammography_screening"} <= set(templates)
    general = templates["general"]
    sections = {s.concept.value: s for s in general.sections}
    # TID 2000 headings with the codes the issue names
    assert {"121060", "121064", "121066", "121070", "121072", "121074"} <= set(sections)
    assert general.field("findings").required and general.field("findings").concept.value == "121071"
    assert general.field("impression").concept.value == "121073"
    assert general.field("recommendation").concept.value == "121075"


def test_birads_is_a_coded_choice():
    tpl = get_template("mammography_screening")
    birads = tpl.field("birads")
    assert birads.type == "code" and birads.required
    assert len(birads.options) == 7
    assert birads.parse("397144001").meaning.startswith("Mammography assessment (Category 4)")
    assert birads.parse("Known biopsy proven malignancy").value == "111125"
    with pytest.raises(TemplateError, match="not one of the choices"):
        birads.parse("category 9")


def test_field_types_parse_and_refuse():
    tpl = get_template("ct_chest")
    assert tpl.field("nodule_diameter").parse("8,5") == 8.5
    assert tpl.field("nodule_diameter").unit.value == "mm"
    assert tpl.field("comparison_date").parse("2024-02-29") == "20240229"
    with pytest.raises(TemplateError, match="not a date"):
        tpl.field("comparison_date").parse("2023-02-29")
    with pytest.raises(TemplateError, match="not a number"):
        tpl.field("nodule_diameter").parse("eight")
    with pytest.raises(TemplateError, match="no field 'nope'"):
        tpl.field("nope")


def test_template_by_modality():
    assert template_for_modalities("CT").id == "ct_chest"
    assert template_for_modalities("MG\\SR").id == "mammography_screening"
    assert template_for_modalities("US").id == "general"


@pytest.mark.parametrize("broken, message", [
    ({"id": "x", "sections": [{"id": "findings", "concept": ["1", "DCM", "F"],
                               "fields": [{"id": "a", "type": "code", "concept": ["1", "DCM", "A"]}]}]}, "no options"),
    ({"id": "x", "sections": [{"id": "findings", "concept": ["1", "DCM", "F"],
                               "fields": [{"id": "a", "type": "numeric", "concept": ["1", "DCM", "A"]}]}]}, "no unit"),
    ({"id": "x", "sections": [{"id": "findings", "concept": ["1", "DCM"], "fields": []}]}, "value, scheme, meaning"),
    ({"id": "x", "sections": [{"id": "findings", "concept": ["1", "DCM", "F"],
                               "fields": [{"id": "a", "type": "blob", "concept": ["1", "DCM", "A"]}]}]}, "type 'blob'"),
])
def test_malformed_template_says_why(tmp_path, broken, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(TemplateError, match=message):
        load_template(path)
