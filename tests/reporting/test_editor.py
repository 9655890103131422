"""The report editor's logic (what the panel shows and does), headless; the viewer's annotations as inputs."""

from __future__ import annotations


from tests.reporting.conftest import measurements_on
from workstation.imaging.annotation_layer import Annotation, Kind
from workstation.reporting.editor import ReportEditor
from workstation.reporting.viewer_input import key_image, measurements_from_annotation


def test_editor_autosaves_and_restores(study, settings):
    cache, study_uid, headers = study
    ed = ReportEditor(cache, settings)
    ed.open_study(study_uid)
    assert ed.content.template_id == "ct_chest" and ed.status == "New report"
    ed.set_value("lungs", "Rundherd")
    ed.add_measurements(measurements_on(headers[0])[:1])
    again = ReportEditor(cache, settings)
    again.open_study(study_uid)
    assert again.value("lungs") == "Rundherd" and len(again.content.measurements) == 1
    assert again.status.startswith("Draft restored")
    assert again.missing_required() == ["Impression"]
    assert "Lungs and airways:\n" in again.preview() and "      Rundherd" in again.preview()


def test_editor_issues_and_lists_with_signature_status(study, settings, identity):
    cache, study_uid, _headers = study
    ed = ReportEditor(cache, settings)
    ed.open_study(study_uid)
    ed.set_value("impression", "Normal")
    result = ed.issue(final=True, identity=identity)
    assert result.signed and ed.status.startswith("Final report stored; kept locally")
    assert ed.content.values == {}  # a new, empty draft follows
    [listed] = ed.existing_reports()
    assert (listed.state, listed.signature, listed.delivery) == ("final", "valid", "")
    assert listed.line().startswith("Final · ") and "signature valid · not sent" in listed.line()
    ed.start_amendment(listed.sop_instance_uid)
    ed.set_value("impression", "Amended impression")
    amended = ed.issue(final=True, identity=identity, reason="typo")
    assert amended.state == "amended"
    assert [r.state for r in ed.existing_reports()] == ["final", "amended"]


def test_annotations_become_measurements(study):
    cache, _uid, headers = study

    def lookup(uid):
        row = cache.instance(uid)
        return (row.sop_class_uid, row.number_of_frames) if row else None

    uid = str(headers[0].SOPInstanceUID)
    length = Annotation(Kind.LENGTH, [(1.0, 2.0), (5.0, 6.0)], (uid, 0), text="RUL", values={"length": 2.83})
    [m] = measurements_from_annotation(length, lookup, length_unit="mm")
    assert (m.kind, m.unit, m.graphic_type, m.label, m.image.frame) == ("length", "mm", "POLYLINE", "RUL", None)
    assert measurements_from_annotation(length, lookup, length_unit="px") == []  # uncalibrated: not reported
    roi = Annotation(Kind.ELLIPSE, [(2.0, 2.0), (10.0, 6.0)], (uid, 0),
                     values={"area": 25.1, "mean": -600.0, "sd": 12.0, "min": -700.0, "max": -500.0})
    ms = measurements_from_annotation(roi, lookup, value_unit="HU")
    assert [x.kind for x in ms] == ["area", "mean", "standard_deviation", "minimum", "maximum"]
    assert ms[0].graphic_type == "ELLIPSE" and ms[0].points == ((2.0, 4.0), (10.0, 4.0), (6.0, 2.0), (6.0, 6.0))
    assert ms[1].unit_code.value == "[hnsf'U]"
    assert measurements_from_annotation(Annotation(Kind.ARROW, [(0, 0), (1, 1)], (uid, 0)), lookup) == []
    k = key_image(uid, 0, lookup, "best view")
    assert k.image.sop_instance_uid == uid and k.image.frame is None
    assert key_image("1.2.3", 0, lookup) is None


def test_prior_fills_empty_comparison_fields_only(study, settings):
    from types import SimpleNamespace

    from workstation.store import outbox

    cache, study_uid, _headers = study
    ed = ReportEditor(cache, settings)
    ed.open_study(study_uid)
    prior = SimpleNamespace(study_uid="1.2.3.prior", study_date="20230301", modalities="CT\\SR",
                            description="Thorax nativ")
    assert ed.prefill_comparison(prior) == ["comparison", "comparison_date"]
    assert ed.value("comparison") == "CT Thorax nativ of 2023-03-01" and ed.value("comparison_date") == "2023-03-01"
    assert outbox.list_drafts(cache, study_uid) == []  # hanging a prior alone makes no draft
    assert "Prior Procedure Descriptions:" in ed.preview()
    ed.set_value("comparison", "Voraufnahme vom März")
    ed.content.values.pop("comparison_date")
    assert ed.prefill_comparison(prior) == ["comparison_date"]  # what the reader typed stays
    assert ed.value("comparison") == "Voraufnahme vom März"
    assert ed.prefill_comparison(SimpleNamespace(study_uid=study_uid, study_date="", modalities="",
                                                 description="")) == []  # the study itself is no prior
