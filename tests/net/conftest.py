"""Fixtures for network tests: the synthetic study set and a running demo archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.net.helpers import CALLING_AE, free_port, process_gone, write_study_set
from workstation.net.archive import EmbeddedArchive
from workstation.net.association import Peer


@pytest.fixture(scope="module")
def study_files(tmp_path_factory) -> list[Path]:
    return write_study_set(tmp_path_factory.mktemp("studies"))


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Iterator[EmbeddedArchive]:
    """A running demo archive on a free port, stopped (and checked gone) afterwards."""
    arc = EmbeddedArchive(tmp_path_factory.mktemp("archive"), port=free_port())
    try:
        arc.start(timeout=30)
        yield arc
    finally:
        pid = arc.pid
        arc.stop()
        assert not arc.running
        if pid is not None:
            assert process_gone(pid)


@pytest.fixture(scope="module")
def archive_peer(archive) -> Peer:
    return Peer("127.0.0.1", archive.port, archive.ae_title, timeout=10)


@pytest.fixture(scope="module")
def loaded_archive(archive, archive_peer, study_files) -> EmbeddedArchive:
    """The demo archive holding the 10 synthetic instances."""
    from workstation.net.send import send_files

    report = send_files(study_files, archive_peer, CALLING_AE)
    assert report.ok, report.summary()
    return archive
