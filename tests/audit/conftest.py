"""Fixtures for the audit trail's tests: rsyslog as the Audit Record Repository and a home that sends to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit import rsyslog_peer
from workstation import config
from workstation.home import Home


@pytest.fixture
def repository(tmp_path: Path) -> Iterator[rsyslog_peer.RsyslogRepository]:
    """Debian's rsyslog on 127.0.0.1 (syslog over TLS into a file), stopped after the test."""
    repo = rsyslog_peer.RsyslogRepository(tmp_path / "rsyslog")
    repo.start()
    try:
        yield repo
    finally:
        repo.stop()


def home_sending_to(folder: Path, repo: rsyslog_peer.RsyslogRepository, transport: str = "tls") -> Home:
    """A home whose settings send audit messages to ``repo`` and name a radiologist as the reader."""
    home = Home.single(folder).ensure()
    settings = config.Settings()
    settings.extra["audit"] = {"repository": f"127.0.0.1:{repo.port}", "transport": transport,
                               "ca_file": str(repo.pki["ca"]), "timeout_s": 3}
    settings.extra["reporting"] = {"radiologist_name": "Dr Ana Ruiz", "radiologist_id": "RAD-7"}
    config.save(settings, home.config_file)
    return home
