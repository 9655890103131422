"""The SR keeps the template's headings, and numbers are rounded to what the measurement supports.

Checked on the dataset, with DCMTK's dsrdump and dicom3tools' dciodvfy, and
through the text layer (sr_text) that the panel's preview and the PDF print.
"""

from __future__ import annotations


from tests.reporting.conftest import dciodvfy_errors, run_tool
from tests.reporting.sr_tree import containers, rounded_values
from workstation.reporting import precision
from workstation.reporting.inputs import ImageRef, Measurement, ReportContent
from workstation.reporting.sr_build import BuildRequest, Observer, ReportState, build_sr
from workstation.reporting.sr_text import headings, render
from workstation.reporting.templates import get_template


def test_precision_per_unit():
    assert precision.decimal_string(95.9804738508595, "mm") == "96.0"
    assert precision.decimal_string(0.05, "mm") == "0.1"  # half away from zero, not banker's rounding
    assert precision.decimal_string(-650.4999, "[hnsf'U]") == "-650"
    assert precision.decimal_string(-0.2, "[hnsf'U]") == "0"
    assert precision.decimal_string(52.349, "mm2") == "52.3"
    assert precision.shown(12.345, "deg") == "12.3°"
    assert precision.shown(-650.4, "[hnsf'U]") == "-650 HU"
    ref = ImageRef("1.2.840.10008.5.1.4.1.1.2", "1.2.3")
    length = Measurement("length", 95.9804738508595, "mm", ref, "POLYLINE", ((0, 0), (1, 1)))
    assert length.describe() == "Length: 96.0 mm"


def test_each_heading_is_a_container_and_numbers_are_rounded(study, tmp_path):
    _cache, _uid, headers = study
    tpl = get_template("ct_chest")
    ref = ImageRef(str(headers[0].SOPClassUID), str(headers[0].SOPInstanceUID))
    content = ReportContent("ct_chest", {
        "history": "Husten seit 3 Wochen", "lungs": "Rundherd rechts apikal.", "nodule_diameter": "8.46",
        "mediastinum": "Unauffällig.", "impression": "Rundherd 8 mm.", "recommendation": "CT in 3 Monaten."})
    content.measurements = [
        Measurement("length", 95.9804738508595, "mm", ref, "POLYLINE", ((1, 2), (5, 6))),
        Measurement("area", 52.34981, "mm2", ref, "POLYLINE", ((1, 1), (6, 1), (6, 6), (1, 1))),
        Measurement("mean", -650.4731, "HU", ref, "CIRCLE", ((4, 4), (6, 4))),
    ]
    ds = build_sr(BuildRequest(tpl, content, headers, Observer("Doe^Jane", "St. Elsewhere"), state=ReportState.FINAL))
    assert containers(ds) == [
        (0, "History"), (0, "Findings"), (1, "Lungs and airways"), (1, "Mediastinum, heart and vessels"),
        (0, "Impressions"), (0, "Recommendations")]
    assert rounded_values(ds) == ["8.5", "96.0", "52.3", "-650"]
    path = tmp_path / "sr.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
    dump = run_tool("dsrdump", "-v", str(path))
    assert dump.returncode == 0 and "E:" not in dump.stderr, dump.stderr
    assert 'CONTAINER:(,,"Lungs and airways")' in dump.stdout
    assert '"96.0"' in dump.stdout and '"-650"' in dump.stdout
    text = render(ds)
    assert "Lungs and airways:" in text and "Length: 96.0 mm" in text and "Mean: -650 HU" in text
    # What the reader wrote under a heading is shown under it, not as a generic "Finding:" item.
    assert "    Lungs and airways:\n      Rundherd rechts apikal." in text and "Finding: Rundherd" not in text
    outline = [(h.depth, h.title) for h in headings(ds)]
    assert outline == [(1, "History"), (1, "Findings"), (2, "Lungs and airways"),
                       (2, "Mediastinum, heart and vessels"), (1, "Impressions"), (1, "Recommendations")]
    lungs = next(h for h in headings(ds) if h.title == "Lungs and airways")
    assert lungs.lines == ("Rundherd rechts apikal.", "Diameter: 8.5 mm")  # the nodule is under the lungs


def test_the_image_and_the_report_round_alike():
    from workstation.imaging.measurements import RoiStatistics, rounded_text

    for value in (95.9804738508595, 0.05, 2.25, -0.04, 12.35, 95.95, 1234.45):
        assert rounded_text(value, 1) == precision.decimal_string(value, "mm"), value
    for value in (-650.5, -650.4999, 0.5, -0.4, 1.5, 2.5):
        assert rounded_text(value, 0) == precision.decimal_string(value, "[hnsf'U]"), value
    stats = RoiStatistics(-650.5, 12.44, -700.0, -600.0, 10, 52.349, "mm²", "HU")
    assert stats.lines()[0] == "mean -651 HU  SD 12" and "area 52.3 mm²" in stats.lines()[2]
    ref = ImageRef("1.2.840.10008.5.1.4.1.1.2", "1.2.3")
    assert Measurement("mean", -650.5, "HU", ref, "CIRCLE", ((1, 1), (2, 1))).describe() == "Mean: -651 HU"


def test_the_readers_id_identifies_the_verifying_observer(study, tmp_path):
    _cache, _uid, headers = study
    tpl = get_template("general")
    content = ReportContent("general", {"findings": "Kein Befund.", "impression": "Normal."})
    ds = build_sr(BuildRequest(tpl, content, headers, Observer("Doe^Jane", "St. Elsewhere", "jd042"),
                               state=ReportState.FINAL))
    code = ds.VerifyingObserverSequence[0].VerifyingObserverIdentificationCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning) == ("jd042", "99LBXSTAFF", "Doe Jane")
    assert "99LBXSTAFF" in {i.CodingSchemeDesignator for i in ds.CodingSchemeIdentificationSequence}
    path = tmp_path / "sr.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert dciodvfy_errors(path) == []
