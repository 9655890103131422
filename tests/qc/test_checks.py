"""Local QC checks and the checklist with its "QC done" mark."""

from __future__ import annotations

import pydicom
import pytest

from tests.qc.conftest import import_demo_study, write_ct
from workstation.qc import state
from workstation.qc.checklist import build_checklist, completeness_item, mark_done, unmark_done
from workstation.qc.checks import FAIL, INFO, PASS, WARN, check_study
from workstation.qc.completeness import CompletenessReport, SeriesCompleteness
from workstation.qc.instances import QcError
from workstation.qc.rejection import reject_instances
from workstation.store.importer import import_paths


def _items(cache, study):
    return {i.key if not i.key.startswith("series:") else "series:" + i.series_uid: i
            for i in check_study(cache, study)}


def _series_item(cache, made):
    return _items(cache, made.study_uid)["series:" + made.series_uid]


def test_a_clean_study_passes(cache, ct_series):
    items = check_study(cache, ct_series.study_uid)
    assert [(i.key.split(":")[0], i.status) for i in items] == [
        ("patient", PASS), ("rejected", PASS), ("series", PASS), ("attributes", PASS)]
    assert items[2].title == "Series 1 axial [CT]" and items[2].message == "8 instance(s): geometry consistent"


def test_demo_studies_pass(cache, demo_files):
    for description in ("CT CHEST WITH CONTRAST", "MR BRAIN WITHOUT CONTRAST", "MG SCREENING BILATERAL",
                        "XR CHEST PA AND LATERAL", "US CAROTID RIGHT"):
        study = import_demo_study(cache, demo_files, description)
        bad = [(i.title, i.message) for i in check_study(cache, study) if i.status != PASS]
        assert bad == [], description


def test_a_rejected_slice_leaves_a_gap_that_fails(cache, ct_series):
    reject_instances(cache, [ct_series.sop_uids[3]], "quality")
    items = _items(cache, ct_series.study_uid)
    assert items["rejected"].status == PASS
    assert "1 instance(s) rejected by 1 rejection note" in items["rejected"].message
    series = items["series:" + ct_series.series_uid]
    assert series.status == FAIL
    assert "1 slice missing between z = 4.00 and z = 8.00 mm" in series.message


def test_duplicate_positions_and_uneven_spacing_warn(cache, tmp_path):
    dup = write_ct(tmp_path / "d", 5, positions=[0.0, 2.0, 2.0, 4.0, 6.0])
    uneven = write_ct(tmp_path / "u", 5, positions=[0.0, 2.0, 4.0, 6.5, 8.0])
    import_paths(cache, dup.paths + uneven.paths, workers=1)
    d = _series_item(cache, dup)
    assert d.status == WARN and "2 images at z = 2.00 mm" in d.message
    u = _series_item(cache, uneven)
    assert u.status == WARN and "slice spacing varies from 1.500 to 2.500 mm" in u.message


def test_inconsistent_frame_of_reference_and_missing_pixel_spacing_warn(cache, tmp_path):
    made = write_ct(tmp_path / "f", 4)
    for i, p in enumerate(made.paths):
        ds = pydicom.dcmread(p)
        if i == 0:
            ds.FrameOfReferenceUID = "1.2.3.4"
        del ds.PixelSpacing
        ds.save_as(p)
    import_paths(cache, made.paths, workers=1)
    item = _series_item(cache, made)
    assert item.status == WARN
    assert "2 different Frames of Reference in one series" in item.details
    assert any("Pixel Spacing" in d for d in item.details)
    attributes = _items(cache, made.study_uid)["attributes"]
    assert attributes.status == FAIL and "Type 1 PixelSpacing missing in 4 instance(s) (series 1)" in attributes.details


def test_projection_images_without_spacing_warn(cache, demo_files, tmp_path):
    study = import_demo_study(cache, demo_files, "XR CHEST PA", n=1)
    row = cache.instances(cache.series(study)[0].series_uid)[0]
    ds = pydicom.dcmread(cache.path_of(row))
    del ds.ImagerPixelSpacing
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.10.1234.99"
    ds.save_as(tmp_path / "dx.dcm")
    import_paths(cache, [tmp_path / "dx.dcm"], workers=1)
    item = next(i for i in check_study(cache, study) if i.key.startswith("series:"))
    assert item.status == WARN and "1 image(s) without Pixel Spacing or Imager Pixel Spacing" in item.message


def test_mixed_patients_warn(cache, tmp_path, ct_series):
    other = write_ct(tmp_path / "x", 2, study_uid=ct_series.study_uid, patient_id="PAT999", patient_name="Other^Person")
    import_paths(cache, other.paths, workers=1)
    item = _items(cache, ct_series.study_uid)["patient"]
    assert item.status == WARN and "more than one patient" in item.message
    assert any("ID PAT999" in d for d in item.details)


def test_missing_type_2_warns_and_type_1_fails(cache, tmp_path):
    made = write_ct(tmp_path / "t", 2)
    for p in made.paths:
        ds = pydicom.dcmread(p)
        del ds.AccessionNumber
        ds.ImageType = ""
        ds.save_as(p)
    import_paths(cache, made.paths, workers=1)
    item = _items(cache, made.study_uid)["attributes"]
    assert item.status == FAIL
    assert item.details == ["Type 1 ImageType empty in 2 instance(s) (series 1)",
                            "Type 2 AccessionNumber missing in 2 instance(s) (series 1)"]


def test_non_image_series_are_not_checked_for_geometry(cache, ct_series):
    reject_instances(cache, [ct_series.sop_uids[0]], "quality")
    items = check_study(cache, ct_series.study_uid)
    assert not any("[KO]" in i.title for i in items)  # rejection notes are hidden like what they reject


def test_checklist_overall_and_qc_done_mark(cache, ct_series):
    checklist = build_checklist(cache, ct_series.study_uid)
    assert checklist.items[0].key == "completeness" and checklist.items[0].status == INFO
    assert checklist.overall == PASS and checklist.mark is None
    assert checklist.summary() == "4 passed, 0 warning(s), 0 failed, 1 not checked"
    mark = mark_done(cache, checklist, operator="tech3")
    assert mark.outcome == PASS and mark.operator == "tech3"
    again = build_checklist(cache, ct_series.study_uid)
    assert again.mark == mark and again.as_dict()["qc_done"]["operator"] == "tech3"
    assert state.qc_marks(cache)[ct_series.study_uid] == mark
    assert unmark_done(cache, ct_series.study_uid) and not unmark_done(cache, ct_series.study_uid)
    assert build_checklist(cache, ct_series.study_uid).mark is None
    assert [e.action for e in state.audit_entries(cache, ct_series.study_uid)] == ["qc-done", "qc-undone"]


def test_checklist_of_an_unknown_study(cache):
    with pytest.raises(QcError, match="no study 1.2.3 in the cache"):
        build_checklist(cache, "1.2.3")


def test_completeness_items():
    report = CompletenessReport("1.2", "PACS", cached=3, archived=5, series=[
        SeriesCompleteness("1.2.1", 1, "CT", "axial", cached=3, archived=5, missing=["a", "b"])])
    item = completeness_item(report)
    assert item.status == FAIL and item.message.startswith("2 instance(s) on PACS are not in the cache")
    assert item.details == ["series 1 axial: 3 cached, 5 on the archive, 2 missing"]
    report.series[0].missing, report.series[0].not_on_archive = [], ["c"]
    assert completeness_item(report).status == WARN
    report.series[0].not_on_archive = []
    assert completeness_item(report).status == PASS
    report.error = "no association"
    assert completeness_item(report).status == INFO
