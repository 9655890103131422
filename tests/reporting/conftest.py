"""Fixtures for reporting tests: a cached CT study, a test certificate, settings with a radiologist."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.factories import write_series
from workstation.config import Settings
from workstation.reporting.certificates import create_test_certificate, load_identity
from workstation.reporting.inputs import ImageRef, KeyImage, Measurement
from workstation.reporting.settings import ReportingSettings
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


def run_tool(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run an independent validator (dciodvfy, dsrdump, dcmsign) with a bounded wait."""
    if shutil.which(argv[0]) is None:
        pytest.skip(f"{argv[0]} is not installed")
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def dciodvfy_errors(path: Path) -> list[str]:
    out = run_tool("dciodvfy", str(path))
    return [line for line in (out.stdout + out.stderr).splitlines() if line.startswith("Error")]


@pytest.fixture(scope="session")
def test_cert(tmp_path_factory):
    """A self-signed signing certificate (PEM key unencrypted, PKCS#12 with passphrase 'secret')."""
    folder = tmp_path_factory.mktemp("cert")
    made = create_test_certificate(folder, "Jane Doe", "St. Elsewhere")
    protected = create_test_certificate(folder / "protected", "Jane Doe", "St. Elsewhere", passphrase="secret")
    return made, protected


@pytest.fixture(scope="session")
def identity(test_cert):
    made, _ = test_cert
    return load_identity(made.key_pem, made.cert_pem)


@pytest.fixture
def study(tmp_path, home) -> Iterator[tuple[StudyCache, str, list]]:
    """(cache, Study Instance UID, the 3 CT headers) of a study with a UTF-8 patient name."""
    paths = write_series(tmp_path / "ct", 3, patient_name="Müller^Anna")
    cache = StudyCache.open(home)
    import_paths(cache, [str(p) for p in paths])
    headers = [dcmread(p, stop_before_pixels=True) for p in paths]
    try:
        yield cache, str(headers[0].StudyInstanceUID), headers
    finally:
        cache.close()


@pytest.fixture
def settings(test_cert) -> Settings:
    made, _ = test_cert
    s = Settings()
    ReportingSettings(radiologist_name="Doe^Jane", organisation="St. Elsewhere",
                      trust_store=[str(made.cert_pem)]).store(s)
    return s


def measurements_on(ds) -> list[Measurement]:
    ref = ImageRef(str(ds.SOPClassUID), str(ds.SOPInstanceUID))
    return [
        Measurement("length", 8.5, "mm", ref, "POLYLINE", ((1, 2), (5, 6)), label="nodule right upper lobe"),
        Measurement("area", 52.3, "mm2", ref, "POLYLINE", ((1, 1), (6, 1), (6, 6), (1, 6), (1, 1))),
        Measurement("mean", -650, "HU", ref, "CIRCLE", ((4, 4), (6, 4))),
        Measurement("diameter", 7.9, "mm", ref, "ELLIPSE", ((2, 4), (6, 4), (4, 3), (4, 5))),
    ]


def key_images_on(ds) -> list[KeyImage]:
    return [KeyImage(ImageRef(str(ds.SOPClassUID), str(ds.SOPInstanceUID)), "nodule, best seen here")]
