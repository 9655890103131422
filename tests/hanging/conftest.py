"""Hanging tests: the small demo studies in one cache, and synthetic study facts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from workstation.demo.plan import planned_studies
from workstation.demo.studies import generate_demo_studies
from workstation.hanging.attributes import SeriesFacts, StudyFacts
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


@dataclass
class Demo:
    """The small demo, generated once; ``files`` by study key, and a cache holding them all."""

    root: Path
    files: dict[str, list[Path]]
    uids: dict[str, str]  # study key -> Study Instance UID
    home: Home
    cache: StudyCache


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Demo:
    out = tmp_path_factory.mktemp("hanging-demo")
    files = generate_demo_studies(out / "files", size="small")
    by_study: dict[str, list[Path]] = {}
    studies = planned_studies("small")
    for st in studies:
        by_study[st.key] = [f for f in files if f"/{st.folder}/" in f.as_posix()]
    assert sum(map(len, by_study.values())) == len(files)
    home = Home.single(out / "home")
    cache = StudyCache.open(home)
    summary = import_paths(cache, files, workers=1)
    assert summary.imported == len(files)
    yield Demo(out, by_study, {st.key: st.uid for st in studies}, home, cache)
    cache.close()


def study(uid: str = "1.2.3", *, series: tuple[SeriesFacts, ...] = (), patient_id: str = "P1",
          name: str = "Doe^Jane", birth: str = "19600101", issuer: str = "", date: str = "20240101",
          time: str = "120000", in_cache: bool = True, source: str = "cache", unknown: frozenset = frozenset(),
          **attributes) -> StudyFacts:
    """Synthetic study facts; attributes by keyword."""
    return StudyFacts(uid, patient_id, issuer, name, birth, date, time, attributes, series, in_cache, source, unknown)


def series(uid: str, number: int = 1, images: int = 10, **attributes) -> SeriesFacts:
    """Synthetic series facts; attributes by keyword."""
    attributes.setdefault("SeriesNumber", number)
    return SeriesFacts(uid, attributes, images, (), f"{number}: {attributes.get('SeriesDescription', '')}")
