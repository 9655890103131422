"""Every SR Lightbox builds passes dciodvfy and dsrdump; flags, observer and references are right."""

from __future__ import annotations

import pytest

from tests.reporting.conftest import dciodvfy_errors, key_images_on, measurements_on, run_tool
from workstation.reporting.inputs import ImageRef, Measurement, ReportContent
from workstation.reporting.signature import sign
from workstation.reporting.sr_build import BuildRequest, ContentError, Observer, ReportState, build_sr
from workstation.reporting.templates import builtin_templates, get_template

OBSERVER = Observer("Doe^Jane", "St. Elsewhere")

SAMPLE_VALUES = {
    "text": "Rundherd im rechten Oberlappen — 8 mm, glatt begrenzt.\nKeine Lymphknoten.",
    "numeric": "8.5",
    "date": "2024-01-15",
}


def filled(template) -> ReportContent:
    content = ReportContent(template.id)
    for f in template.fields:
        content.values[f.id] = f.options[-1].value if f.type == "code" else SAMPLE_VALUES[f.type]
    return content


def check_with_tools(ds, path):
    ds.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    dump = run_tool("dsrdump", "-v", str(path))
    assert dump.returncode == 0, dump.stderr
    assert "E:" not in dump.stderr
    return dump.stdout


@pytest.mark.parametrize("template_id", sorted(builtin_templates()))
def test_every_template_builds_a_valid_final_sr(study, tmp_path, template_id):
    _cache, _study_uid, headers = study
    tpl = get_template(template_id)
    content = filled(tpl)
    content.measurements = measurements_on(headers[1])
    content.key_images = key_images_on(headers[2])
    ds = build_sr(BuildRequest(tpl, content, headers, OBSERVER, state=ReportState.FINAL))
    dump = check_with_tools(ds, tmp_path / "sr.dcm")
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert (ds.CompletionFlag, ds.VerificationFlag) == ("COMPLETE", "VERIFIED")
    observer = ds.VerifyingObserverSequence[0]
    assert observer.VerifyingObserverName == "Doe^Jane" and observer.VerifyingOrganization == "St. Elsewhere"
    assert observer.VerificationDateTime
    assert ds.ContentTemplateSequence[0].TemplateIdentifier == "2000"
    assert "Rundherd im" in dump and "Findings" in dump
    # the measured and the key images are the evidence
    evidence = {i.ReferencedSOPInstanceUID for s in ds.CurrentRequestedProcedureEvidenceSequence
                for se in s.ReferencedSeriesSequence for i in se.ReferencedSOPSequence}
    assert evidence == {str(headers[1].SOPInstanceUID), str(headers[2].SOPInstanceUID)}
    assert ds.PatientName == "Müller^Anna"


def test_signed_sr_passes_the_tools(study, tmp_path, identity):
    _cache, _uid, headers = study
    tpl = get_template("general")
    ds = sign(build_sr(BuildRequest(tpl, filled(tpl), headers, OBSERVER, state=ReportState.FINAL)), identity)
    # dciodvfy only warns about the SHA256 defined term (its list is stale); no errors
    check_with_tools(ds, tmp_path / "signed.dcm")


def test_measurement_becomes_num_inferred_from_scoord_on_the_image(study):
    _cache, _uid, headers = study
    tpl = get_template("general")
    content = ReportContent("general", {"findings": "x", "impression": "y"}, measurements=measurements_on(headers[0]))
    ds = build_sr(BuildRequest(tpl, content, headers, OBSERVER))
    findings = next(i for i in ds.ContentSequence if i.ValueType == "CONTAINER"
                    and i.ConceptNameCodeSequence[0].CodeValue == "121070")
    nums = [i for i in findings.ContentSequence if i.ValueType == "NUM"]
    length = nums[0]
    assert length.ConceptNameCodeSequence[0].CodeValue == "410668003"
    assert float(length.MeasuredValueSequence[0].NumericValue) == 8.5
    assert length.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue == "mm"
    scoord = length.ContentSequence[0]
    assert (scoord.RelationshipType, scoord.ValueType, scoord.GraphicType) == ("INFERRED FROM", "SCOORD", "POLYLINE")
    assert list(scoord.GraphicData) == [1.0, 2.0, 5.0, 6.0]
    image = scoord.ContentSequence[0]
    assert image.RelationshipType == "SELECTED FROM"
    assert image.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == headers[0].SOPInstanceUID
    assert nums[2].MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue == "[hnsf'U]"


def test_preliminary_flags_and_required_fields(study):
    _cache, _uid, headers = study
    tpl = get_template("general")
    content = ReportContent("general", {"findings": "only findings so far"})
    ds = build_sr(BuildRequest(tpl, content, headers, OBSERVER, state=ReportState.PRELIMINARY))
    assert (ds.CompletionFlag, ds.VerificationFlag) == ("PARTIAL", "UNVERIFIED")
    assert "VerifyingObserverSequence" not in ds
    with pytest.raises(ContentError, match="required fields are empty: Impression"):
        build_sr(BuildRequest(tpl, content, headers, OBSERVER, state=ReportState.FINAL))


def test_bad_input_is_refused_with_a_clear_message(study):
    _cache, _uid, headers = study
    tpl = get_template("ct_chest")
    with pytest.raises(ContentError, match="not a number"):
        build_sr(BuildRequest(tpl, ReportContent("ct_chest", {"nodule_diameter": "big"}), headers, OBSERVER))
    with pytest.raises(ContentError, match="radiologist's name"):
        Observer("  ")
    with pytest.raises(ValueError, match="POLYLINE needs 2"):
        Measurement("length", 1, "mm", ImageRef("1.2", "1.3"), "POLYLINE", ((1, 1),))
    foreign = ReportContent("ct_chest", measurements=[
        Measurement("length", 1, "mm", ImageRef("1.2.840.10008.5.1.4.1.1.2", "1.2.3.4"), "POINT", ((1, 1),))])
    with pytest.raises(ContentError, match="not in the cache"):
        build_sr(BuildRequest(tpl, foreign, headers, OBSERVER))


def test_amendment_names_its_predecessor(study):
    _cache, _uid, headers = study
    tpl = get_template("general")
    first = build_sr(BuildRequest(tpl, filled(tpl), headers, OBSERVER, state=ReportState.FINAL))
    second = build_sr(BuildRequest(tpl, filled(tpl), headers, OBSERVER, state=ReportState.FINAL,
                                   predecessor=first, amendment_reason="size corrected"))
    assert second.SOPInstanceUID != first.SOPInstanceUID
    assert second.SeriesInstanceUID == first.SeriesInstanceUID and second.StudyInstanceUID == first.StudyInstanceUID
    ref = second.PredecessorDocumentsSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
    assert ref.ReferencedSOPInstanceUID == first.SOPInstanceUID
    assert any(getattr(i, "TextValue", "") == "Amended: size corrected" for i in second.ContentSequence)
