"""Fixtures for HL7 tests: a home, a cache with two cached patients' studies, HL7 settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.factories import write_series
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


@pytest.fixture
def cache(home, tmp_path) -> Iterator[StudyCache]:
    """Two patients: Müller (one study) and a Japanese name (one study), as imported from files."""
    c = StudyCache.open(home)
    a = write_series(tmp_path / "a", 2, patient_name="Müller^Anna", patient_id="HL7-A")
    b = write_series(tmp_path / "b", 2, patient_name="山田^花子", patient_id="HL7-B")
    import_paths(c, [str(p) for p in a + b])
    try:
        yield c
    finally:
        c.close()
