"""Fixtures for QC tests: a cache per test, small synthetic CT series with known geometry, the demo set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.factories import ct_dataset, uid
from workstation.demo.studies import generate_demo_studies
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


@dataclass
class SeriesMade:
    study_uid: str
    series_uid: str
    sop_uids: list[str]
    paths: list[Path]


def write_ct(folder: Path, n: int, *, study_uid: str | None = None, series_uid: str | None = None,
             positions: list[float] | None = None, orientation: list[float] | None = None,
             points: list[list[float]] | None = None,
             frame_of_reference: str | None = None, series_number: int = 1, description: str = "axial",
             start: int = 0, **kw) -> SeriesMade:
    """``n`` CT slices of one series with one Frame of Reference.

    Axial slices at ``positions`` (mm along z), or ``points`` (Image Position
    (Patient) of each slice) with ``orientation``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or uid()
    series_uid = series_uid or uid()
    frame = frame_of_reference or uid()
    if points is None:
        positions = positions if positions is not None else [i * 2.0 for i in range(n)]
        points = [[0.0, 0.0, z] for z in positions]
    made = SeriesMade(study_uid, series_uid, [], [])
    for i, point in enumerate(points):
        ds = ct_dataset(study_uid=study_uid, series_uid=series_uid, index=start + i, **kw)
        ds.FrameOfReferenceUID = frame
        ds.PositionReferenceIndicator = ""
        ds.Manufacturer = "Lightbox Tests"
        ds.KVP = "120"
        ds.PatientPosition = "HFS"
        ds.AcquisitionNumber = 1
        ds.SeriesNumber = series_number
        ds.SeriesDescription = description
        ds.SliceThickness = 2.0
        ds.ImagePositionPatient = list(point)
        if orientation is not None:
            ds.ImageOrientationPatient = orientation
        p = folder / f"{series_uid[-12:]}-{start + i:04d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        made.sop_uids.append(str(ds.SOPInstanceUID))
        made.paths.append(p)
    return made


@pytest.fixture
def ct_series(cache, tmp_path) -> SeriesMade:
    """A cached 8-slice axial CT series, 2 mm apart."""
    made = write_ct(tmp_path / "ct", 8)
    assert import_paths(cache, made.paths, workers=1).imported == 8
    return made


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> list[Path]:
    """The small demo set (written once per session)."""
    return generate_demo_studies(tmp_path_factory.mktemp("qc-demo"), size="small")


def import_demo_study(cache: StudyCache, demo_files: list[Path], description: str, n: int | None = None) -> str:
    """Import the demo study with this description (the first of them); returns its Study Instance UID."""
    import pydicom

    chosen, study = [], None
    for p in demo_files:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        if ds.StudyDescription == description and (study is None or ds.StudyInstanceUID == study):
            study = str(ds.StudyInstanceUID)
            chosen.append(p)
    assert chosen, description
    if n is not None:
        chosen = chosen[:n]
    assert import_paths(cache, chosen, workers=1).imported == len(chosen)
    return study
