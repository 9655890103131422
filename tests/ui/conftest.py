"""Fixtures of the GUI tests: a home with a few studies in its cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.ui.dicom_files import PYDICOM_FILES, pydicom_test_files
from workstation.store.importer import import_paths
from workstation.ui.qt_guard import guard_none_refcount


@pytest.fixture(scope="session", autouse=True)
def _qt_refcount_guard():
    """pytest-qt's waits are void Qt calls too: see workstation.ui.qt_guard."""
    guard_none_refcount()


@pytest.fixture
def some_files(tmp_path) -> Path:
    """A folder with copies of a few of pydicom's test files."""
    folder = tmp_path / "pydicom-files"
    folder.mkdir()
    for name in PYDICOM_FILES:
        shutil.copy(pydicom_test_files() / name, folder / name)
    return folder


@pytest.fixture
def filled_cache(cache, some_files):
    """The test's cache holding the studies of :data:`PYDICOM_FILES`."""
    summary = import_paths(cache, [some_files])
    assert summary.imported == len(PYDICOM_FILES)
    return cache
