"""The small demo set, generated once for all demo tests."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from workstation.demo.studies import generate_demo_studies


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory) -> tuple[Path, list[Path]]:
    """(output folder, files written) of ``generate_demo_studies(size="small")``."""
    out = tmp_path_factory.mktemp("demo-small")
    return out, generate_demo_studies(out, size="small")


@pytest.fixture(scope="session")
def small_headers(small_demo) -> list[pydicom.Dataset]:
    """Headers of every small demo file, in generation order."""
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in small_demo[1]]
