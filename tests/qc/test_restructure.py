"""Split a series (orientation, position, acquisition, selection) and merge series."""

from __future__ import annotations

import pydicom
import pytest

from tests.qc.conftest import write_ct
from workstation.qc import rejected_sop_uids
from workstation.qc.instances import QcError
from workstation.qc.restructure import apply_restructure, plan_merge, plan_split
from workstation.store.importer import import_paths

SAGITTAL = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]


def _import(cache, *made):
    for m in made:
        assert import_paths(cache, m.paths, workers=1).imported == len(m.paths)


def _numbers(outcome):
    return [int(pydicom.dcmread(p.path, stop_before_pixels=True).InstanceNumber) for p in outcome.copies]


def test_split_by_orientation_moves_the_smaller_group(cache, tmp_path):
    axial = write_ct(tmp_path / "a", 6)
    sag = write_ct(tmp_path / "s", 3, study_uid=axial.study_uid, series_uid=axial.series_uid, start=6,
                   orientation=SAGITTAL, points=[[x, 0.0, 0.0] for x in (4.0, 0.0, 2.0)])
    _import(cache, axial, sag)
    plan = plan_split(cache, axial.series_uid, "orientation", reason="localizer-like sagittals in the axial series")
    assert [(g.label, len(g.sop_uids), bool(g.new_series_uid)) for g in plan.groups] == [
        ("axial", 6, False), ("sagittal", 3, True)]
    moving = plan.groups[1]
    assert moving.series_number == 2 and moving.description == "axial sagittal"
    outcome = apply_restructure(cache, plan)
    assert len(outcome.copies) == 3 and {p.series_uid for p in outcome.copies} == {moving.new_series_uid}
    assert rejected_sop_uids(cache, axial.study_uid) == set(sag.sop_uids)
    # numbered 1..3 along the slice normal (-x for these cosines), whatever the original numbers were
    ordered = [pydicom.dcmread(p.path, stop_before_pixels=True) for p in outcome.copies]
    assert [int(d.InstanceNumber) for d in ordered] == [1, 2, 3]
    assert [float(d.ImagePositionPatient[0]) for d in ordered] == [4.0, 2.0, 0.0]
    assert all(d.SeriesNumber == 2 and d.SeriesDescription == "axial sagittal" for d in ordered)
    old = ordered[0].OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert old.SeriesInstanceUID == axial.series_uid and old.InstanceNumber == 7  # x = 4 was image 7
    note = pydicom.dcmread(outcome.notes[0].path)
    assert note.ConceptNameCodeSequence[0].CodeValue == "113001"


def test_split_by_position_separates_passes_and_stations(cache, tmp_path):
    first = write_ct(tmp_path / "p", 4, positions=[0.0, 2.0, 4.0, 6.0])
    second = write_ct(tmp_path / "q", 4, study_uid=first.study_uid, series_uid=first.series_uid, start=4,
                      positions=[0.0, 2.0, 4.0, 6.0])
    _import(cache, first, second)
    plan = plan_split(cache, first.series_uid, "position")
    assert [(g.label, len(g.sop_uids)) for g in plan.groups] == [("pass 1", 4), ("pass 2", 4)]
    assert set(plan.groups[1].sop_uids) == set(second.sop_uids)  # acquired later
    outcome = apply_restructure(cache, plan)
    assert _numbers(outcome) == [1, 2, 3, 4]


def test_split_by_position_cuts_far_apart_parts(cache, tmp_path):
    made = write_ct(tmp_path / "st", 6, positions=[0.0, 2.0, 4.0, 300.0, 302.0, 304.0])
    _import(cache, made)
    plan = plan_split(cache, made.series_uid, "position")
    assert sorted(len(g.sop_uids) for g in plan.groups) == [3, 3]
    assert [g.label for g in plan.groups] == ["pass 1 part 1", "pass 1 part 2"]


def test_split_by_acquisition(cache, tmp_path):
    made = write_ct(tmp_path / "acq", 6)
    for i, p in enumerate(made.paths):
        ds = pydicom.dcmread(p)
        ds.AcquisitionNumber = 1 if i < 4 else 2
        ds.save_as(p)
    _import(cache, made)
    plan = plan_split(cache, made.series_uid, "acquisition")
    assert [(g.label, len(g.sop_uids)) for g in plan.groups] == [("acquisition 1", 4), ("acquisition 2", 2)]


def test_split_by_selection(cache, ct_series):
    picked = ct_series.sop_uids[5:]
    plan = plan_split(cache, ct_series.series_uid, "instances", picked)
    assert [(g.label, len(g.sop_uids)) for g in plan.groups] == [("not selected", 5), ("selected", 3)]
    outcome = apply_restructure(cache, plan)
    assert _numbers(outcome) == [1, 2, 3]
    assert rejected_sop_uids(cache, ct_series.study_uid) == set(picked)
    lines = plan.lines()
    assert lines[0] == "not selected: 5 instances -> stay in their series"
    assert "3 original(s) rejected" in lines[-1]


def test_split_refusals(cache, ct_series):
    with pytest.raises(QcError, match="form one group by orientation"):
        plan_split(cache, ct_series.series_uid, "orientation")
    with pytest.raises(QcError, match="unknown split mode"):
        plan_split(cache, ct_series.series_uid, "colour")
    with pytest.raises(QcError, match="whole series"):
        plan_split(cache, ct_series.series_uid, "instances", ct_series.sop_uids)
    with pytest.raises(QcError, match="not \\(unrejected\\) in series"):
        plan_split(cache, ct_series.series_uid, "instances", ["1.2.3"])
    with pytest.raises(QcError, match="needs the SOP Instance UIDs"):
        plan_split(cache, ct_series.series_uid, "instances", [])
    with pytest.raises(QcError, match="no series 9.9"):
        plan_split(cache, "9.9", "orientation")


def test_merge_two_series_into_one_numbered_in_space(cache, tmp_path):
    low = write_ct(tmp_path / "low", 3, positions=[0.0, 2.0, 4.0], series_number=3, description="part A")
    high = write_ct(tmp_path / "high", 3, study_uid=low.study_uid, positions=[6.0, 8.0, 10.0], series_number=4,
                    description="part B", frame_of_reference=None)
    _import(cache, high, low)
    plan = plan_merge(cache, [high.series_uid, low.series_uid])
    assert plan.warnings == ["the series have different Frames of Reference: the merged series keeps each image's own"]
    group = plan.groups[0]
    assert group.series_number == 4 and group.description == "part B"
    outcome = apply_restructure(cache, plan)
    merged = [pydicom.dcmread(p.path, stop_before_pixels=True) for p in outcome.copies]
    assert [float(d.ImagePositionPatient[2]) for d in merged] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert [int(d.InstanceNumber) for d in merged] == [1, 2, 3, 4, 5, 6]
    assert len({d.SeriesInstanceUID for d in merged}) == 1
    assert rejected_sop_uids(cache, low.study_uid) == set(low.sop_uids) | set(high.sop_uids)
    visible = [s for s in cache.series(low.study_uid) if s.series_uid not in (low.series_uid, high.series_uid)]
    assert {s.modality for s in visible} == {"CT", "KO"}


def test_merge_refusals(cache, tmp_path, ct_series):
    other_study = write_ct(tmp_path / "o", 2)
    mr = write_ct(tmp_path / "mr", 2, study_uid=ct_series.study_uid, modality="MR")
    _import(cache, other_study, mr)
    with pytest.raises(QcError, match="at least two different series"):
        plan_merge(cache, [ct_series.series_uid, ct_series.series_uid])
    with pytest.raises(QcError, match="different studies"):
        plan_merge(cache, [ct_series.series_uid, other_study.series_uid])
    with pytest.raises(QcError, match="different modalities \\(CT, MR\\)"):
        plan_merge(cache, [ct_series.series_uid, mr.series_uid])


@pytest.mark.parametrize("other", [
    {"patient_id": "OTHER-1"},
    {"patient_name": "Διονυσιος"},
    {"patient_name": "Yamada^Tarou=山田^太郎"},
])
def test_merge_refuses_series_of_another_patient_showing_both(cache, tmp_path, other):
    first = write_ct(tmp_path / "a", 2, series_number=1, patient_id="PID-1", patient_name="Doe^Jane")
    second = write_ct(tmp_path / "b", 2, study_uid=first.study_uid, series_number=2,
                      **{"patient_id": "PID-1", "patient_name": "Doe^Jane", **other})
    _import(cache, first, second)
    with pytest.raises(QcError, match="different patients") as err:
        plan_merge(cache, [first.series_uid, second.series_uid])
    message = str(err.value)
    assert "Doe, Jane" in message and "series 1" in message and "series 2" in message
    shown = other.get("patient_id") or other["patient_name"].split("=")[0].replace("^", ", ")
    assert shown in message


def test_merge_accepts_the_same_patient_written_differently(cache, tmp_path):
    first = write_ct(tmp_path / "a", 2, series_number=1, patient_id="PID-1", patient_name="Doe^Jane")
    second = write_ct(tmp_path / "b", 2, study_uid=first.study_uid, series_number=2, patient_id="PID-1",
                      patient_name="DOE^JANE^^^")
    _import(cache, first, second)
    assert plan_merge(cache, [first.series_uid, second.series_uid]).groups
