"""Hanging never leaves the reader with nothing: protocols that fill nothing lose, the default shows every series."""

from __future__ import annotations

import json

import pytest
from pydicom.uid import MRImageStorage

from tests.factories import ct_dataset, uid
from tests.hanging.conftest import series, study
from workstation.cli import main
from workstation.hanging.engine import build_plan
from workstation.hanging.library import ProtocolLibrary


@pytest.fixture(scope="module")
def builtins() -> ProtocolLibrary:
    lib = ProtocolLibrary.load()
    assert not lib.errors
    return lib


def mr_study(*descriptions: str, plane: str = "axial"):
    return study("mr1", series=tuple(series(f"s{i}", i + 1, 20, Modality="MR", SeriesDescription=d, Plane=plane)
                                     for i, d in enumerate(descriptions)),
                 ModalitiesInStudy="MR", BodyPartExamined="HEAD", StudyDescription="MR BRAIN")


def test_a_protocol_filling_nothing_loses_to_the_default_grid(builtins):
    plan = build_plan(mr_study("gre"), [], builtins.protocols)
    assert plan.protocol_id == "default"
    assert "MR brain: no viewport filled from this study" in plan.reason
    shown = plan.stages[plan.initial_stage]
    assert [v.series_uid for v in shown.viewports if v.filled] == ["s0"]
    mr_brain = next(c for c in plan.candidates if c.protocol_id == "mr-brain")
    assert mr_brain.accepted and not mr_brain.fits


def test_a_protocol_filling_some_viewports_still_wins(builtins):
    plan = build_plan(mr_study("T1 SE", "T2 TSE"), [], builtins.protocols)
    assert plan.protocol_id == "mr-brain" and plan.reason == "best score"
    t1, t2, flair, dwi, _sag = plan.stages[0].viewports
    assert t1.filled and t2.filled
    # the reader's words, no regular expressions; the rules stay available for protocol authors
    assert flair.note == "no axial FLAIR series in this study"
    assert dwi.note == "no axial DWI series in this study"
    for v in (flair, dwi):
        assert not any(c in v.note for c in "|\\?(")
        assert "regex" in v.detail or "matches" in v.detail


@pytest.mark.parametrize("n, shape", [(1, (1, 1)), (2, (1, 2)), (3, (2, 2)), (4, (2, 2)), (6, (2, 3)), (10, (3, 4)),
                                      (16, (4, 4))])
def test_the_default_grid_shows_every_series(builtins, n, shape):
    ct = study("ct1", series=tuple(series(f"s{i}", i + 1, 5, Modality="CT", SeriesDescription=f"recon {i}")
                                   for i in range(n)),
               ModalitiesInStudy="CT", BodyPartExamined="KNEE")
    plan = build_plan(ct, [], builtins.protocols)
    assert plan.protocol_id == "default"
    first = plan.stages[plan.initial_stage]
    assert (first.rows, first.columns) == shape
    assert [v.series_uid for v in first.viewports if v.filled] == [f"s{i}" for i in range(n)]


def test_more_than_sixteen_series_spread_over_stages(builtins):
    ct = study("ct1", series=tuple(series(f"s{i}", i + 1, 5, Modality="CT") for i in range(20)),
               ModalitiesInStudy="CT", BodyPartExamined="KNEE")
    plan = build_plan(ct, [], builtins.protocols)
    a, b = plan.stages[:2]
    assert (a.rows, a.columns, b.rows, b.columns) == (4, 4, 2, 2)
    shown = [v.series_uid for st in (a, b) for v in st.viewports if v.filled]
    assert shown == [f"s{i}" for i in range(20)]
    assert plan.next_stage(0) == 1


def test_prior_viewport_notes_name_the_prior(builtins):
    current = mr_study("FLAIR AX", "T1 AX")
    prior = study("mr0", date="20230101", series=(series("p1", 1, 20, Modality="MR", SeriesDescription="T1 AX",
                                                          Plane="axial"),),
                  ModalitiesInStudy="MR", BodyPartExamined="HEAD", StudyDescription="MR BRAIN")
    plan = build_plan(current, [prior], builtins.protocols)
    _current_vp, prior_vp = plan.stages[1].viewports
    assert prior_vp.note == "no axial FLAIR series in prior 1 (20230101)"


def _write_mr(folder, description: str, n: int = 6) -> str:
    study_uid, series_uid = uid(), uid()
    folder.mkdir(parents=True)
    for i in range(n):
        ds = ct_dataset(study_uid=study_uid, series_uid=series_uid, index=i, modality="MR")
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = MRImageStorage
        ds.SeriesDescription, ds.StudyDescription, ds.BodyPartExamined = description, "MR BRAIN", "HEAD"
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.save_as(folder / f"{i}.dcm", enforce_file_format=True)
    return study_uid


def test_lightbox_hang_of_a_single_gre_series(lightbox_home, tmp_path, capsys):
    study_uid = _write_mr(tmp_path / "gre", "gre")
    assert main(["--home", str(lightbox_home), "import", str(tmp_path / "gre")]) == 0
    capsys.readouterr()
    assert main(["--home", str(lightbox_home), "hang", study_uid, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["protocol"]["id"] == "default"
    stage = plan["stages"][plan["initial_stage"]]
    assert [v["status"] for v in stage["viewports"]] == ["filled"] and stage["viewports"][0]["number_of_images"] == 6
    assert main(["--home", str(lightbox_home), "hang", study_uid]) == 0
    text = capsys.readouterr().out
    assert "accepted, but fills no viewport from this study" in text
    shown = text.split("[first shown]\n", 1)[1]
    assert shown.splitlines()[0].split() == ["1", "current", "1:", "gre", "image", "1/6"]
