"""Fixtures for interoperability tests: Orthanc and dcmqrscp on free ports, our home, settings and cache.

Every archive a fixture starts is stopped in its ``finally``; the archives
know our AE title ``LIGHTBOX`` at 127.0.0.1 on the storage port of ``settings``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from tests.interop.peers import ArchiveProcess, Modality, free_port, start_dcmqrscp, start_orthanc
from tests.net.helpers import make_ct, write_study_set
from workstation.config import Settings
from workstation.net.send import send_files

CALLING_AE = "LIGHTBOX"


@pytest.fixture(scope="module")
def storage_port() -> int:
    """Our storage SCP's port, known to the archives of this module."""
    return free_port()


@pytest.fixture(scope="module")
def interop_files(tmp_path_factory) -> list[Path]:
    """2 studies, 3 series, 10 tiny CT instances."""
    return write_study_set(tmp_path_factory.mktemp("interop-studies"))


def _archive(starter, tmp_path_factory, storage_port, name) -> Iterator[ArchiveProcess]:
    arc = starter(tmp_path_factory.mktemp(name), [Modality(CALLING_AE, storage_port)])
    try:
        yield arc
    finally:
        arc.stop()
        assert not arc.running


def orthanc_holding_one_series(tmp_path_factory, storage_port: int, name: str, patient: tuple[str, str],
                               count: int, rows: int) -> Iterator[tuple[ArchiveProcess, str]]:
    """Orthanc holding one study of one series of ``count`` CT slices of ``rows`` x ``rows``.

    For a module-scoped fixture to ``yield from``: yields (archive, Study Instance UID), then stops it.
    """
    folder = tmp_path_factory.mktemp(f"{name}-files")
    study, series = generate_uid(), generate_uid()
    files = []
    for i in range(1, count + 1):
        path = folder / f"{i:04d}.dcm"
        make_ct(patient, study, series, i, rows=rows).save_as(path, enforce_file_format=True)
        files.append(path)
    arc = start_orthanc(tmp_path_factory.mktemp(f"orthanc-{name}"), [Modality(CALLING_AE, storage_port)],
                        dicomweb=False)
    try:
        assert send_files(files, arc.peer, CALLING_AE).ok
        yield arc, study
    finally:
        arc.stop()


@pytest.fixture(scope="module")
def orthanc(tmp_path_factory, storage_port) -> Iterator[ArchiveProcess]:
    yield from _archive(start_orthanc, tmp_path_factory, storage_port, "orthanc")


@pytest.fixture(scope="module")
def dcmqrscp(tmp_path_factory, storage_port) -> Iterator[ArchiveProcess]:
    yield from _archive(start_dcmqrscp, tmp_path_factory, storage_port, "dcmqrscp")


@pytest.fixture(scope="module")
def loaded_orthanc(orthanc, interop_files) -> ArchiveProcess:
    report = send_files(interop_files, orthanc.peer, CALLING_AE)
    assert report.ok, report.summary()
    return orthanc


@pytest.fixture(scope="module")
def loaded_dcmqrscp(dcmqrscp, interop_files) -> ArchiveProcess:
    report = send_files(interop_files, dcmqrscp.peer, CALLING_AE)
    assert report.ok, report.summary()
    return dcmqrscp


@pytest.fixture
def settings(storage_port) -> Settings:
    # These tests are about archives, not who may send: any archive's association is accepted
    # (tests/net/test_storage_scp.py checks the default, configured nodes only).
    return Settings(storage_port=storage_port, storage_bind_address="127.0.0.1", accept_known_nodes_only=False)


@pytest.fixture(scope="module")
def qrscp(tmp_path_factory, storage_port) -> Iterator[ArchiveProcess]:
    """pynetdicom's qrscp (the embedded demo archive) with LIGHTBOX as its move destination."""
    from workstation.net.archive import EmbeddedArchive

    root = tmp_path_factory.mktemp("qrscp")
    emb = EmbeddedArchive(root, ae_title="QRSCP", port=free_port(),
                          move_destinations={CALLING_AE: ("127.0.0.1", storage_port)})
    try:
        emb.start(timeout=30)
        yield ArchiveProcess("qrscp", emb.ae_title, emb.port, root, None, 0, emb.log_path, {"embedded": emb})
    finally:
        emb.stop()
        assert not emb.running


@pytest.fixture(scope="module", params=["orthanc", "dcmqrscp", "qrscp"])
def any_archive(request, interop_files) -> ArchiveProcess:
    """Each archive in turn, holding the 10 interop instances."""
    arc = request.getfixturevalue(request.param)
    if not arc.extra.get("loaded"):
        report = send_files(interop_files, arc.peer, CALLING_AE)
        assert report.ok, report.summary()
        arc.extra["loaded"] = True
    return arc
