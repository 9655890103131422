"""The small demo, generated once for the clinical tests."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from workstation.demo.plan import planned_series
from workstation.demo.studies import generate_demo_studies


@pytest.fixture(scope="session")
def small_demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clinical-demo")
    generate_demo_studies(out, size="small")
    return out


def series_files(root: Path, study_key: str, series_key: str) -> list[Path]:
    """Files of one planned series of the small demo."""
    plan = next(s for s in planned_series("small") if s.study.key == study_key and s.key == series_key)
    return sorted((root / plan.path).glob("*.dcm"))


@pytest.fixture(scope="session")
def pet_files(small_demo_dir) -> list[Path]:
    return series_files(small_demo_dir, "petct-2024", "pet-ac")


@pytest.fixture(scope="session")
def pet_headers(pet_files) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in pet_files]


@pytest.fixture(scope="session")
def demo_cache(small_demo_dir, tmp_path_factory):
    """A cache holding the small demo's PET/CT and CT chest studies."""
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.store.importer import import_paths

    home = Home.single(tmp_path_factory.mktemp("clinical-home"))
    cache = StudyCache.open(home)
    folders = [small_demo_dir / "LBX-0001" / name
               for name in ("20240415_PETCT_FDG", "20240312_CT_CHEST", "20230307_CT_CHEST")]
    folders += [small_demo_dir / "LBX-0002" / name for name in ("20240205_MR_BRAIN", "20230130_MR_BRAIN")]
    import_paths(cache, folders, workers=1)
    yield cache
    cache.close()
