"""Test-wide set-up: a private Lightbox home per test and a Qt platform that works headless."""

from __future__ import annotations

import os
import sys

import pytest

# pytest-qt aborts the whole run (exit 134) when Qt finds no platform: with no
# display, use Qt's offscreen platform.
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# DCMTK's tools are ten times slower on loopback without it.
os.environ.setdefault("TCP_NODELAY", "1")


@pytest.fixture(autouse=True)
def lightbox_home(tmp_path, monkeypatch):
    """Every test gets its own home so nothing leaks between tests or into the user's."""
    home = tmp_path / "lightbox-home"
    home.mkdir()
    monkeypatch.setenv("LIGHTBOX_HOME", str(home))
    # A site-wide settings file on this machine must not leak in either (tests that want one set it).
    monkeypatch.setenv("LIGHTBOX_SYSTEM_CONFIG", str(tmp_path / "no-system-config.json"))
    # A window closed by a test must not wait for an answer about pending work (the prompt's tests ask).
    monkeypatch.setenv("LIGHTBOX_ASK_UNSAVED", "0")
    return home


@pytest.fixture
def home(lightbox_home):
    """This test's home (the one ``LIGHTBOX_HOME`` names), its folders made."""
    from workstation.home import Home

    return Home.single(lightbox_home).ensure()


@pytest.fixture
def cache(home):
    """The study cache of this test's home, closed after the test."""
    from workstation.store.cache import StudyCache

    with StudyCache.open(home) as c:
        yield c


@pytest.fixture
def lightbox_cmd():
    """The ``lightbox`` command as argv prefix, run with this interpreter."""
    return [sys.executable, "-m", "workstation"]


def pytest_sessionfinish(session, exitstatus):
    """Fail the run when any test's log names a patient (see tests/log_audit.py)."""
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None or getattr(factory, "_basetemp", None) is None:
        return
    from tests.log_audit import patient_names_in_logs

    hits = patient_names_in_logs(factory.getbasetemp())
    if hits:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("logs naming a patient:\n  " + "\n  ".join(hits), red=True)
        session.exitstatus = 1


@pytest.fixture
def no_remembered_patients():
    """The test starts as a new process would: no Patient IDs remembered from query answers (and leaves none)."""
    from workstation.net import study_patients

    study_patients.forget()
    yield
    study_patients.forget()
