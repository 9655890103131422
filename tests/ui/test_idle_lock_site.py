"""The idle lock unlocked by the site login binds on a worker thread: a directory that accepts the connection and
never answers (a socket on 127.0.0.1 the test holds) leaves the lock up and answering, its Cancel button ends the
attempt (the connection is shut, the worker returns) and the lock is ready again; with no Cancel the attempt ends
after a bounded time.  Against Debian's slapd: a wrong password is said, a slapd frozen by SIGSTOP is cancelled
with the lock's button, and the right password unlocks.  The real panel's field and buttons are clicked."""

from __future__ import annotations

import os
import signal
import time

import pytest
from PySide6.QtCore import Qt, QTimer

from tests.audit import slapd_peer
from tests.audit.slapd_peer import PEOPLE, Person, Slapd
from tests.audit.test_login_dialog import login_events, type_text
from tests.audit.test_login_frozen_directory import FrozenDirectory
from tests.viewer_phantom import phantom_study
from workstation import audit, config
from workstation.audit.identity import clear_session_user
from workstation.audit.site_login import LoginError, SiteLoginSettings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.idle_lock import LOCKED_TITLE, IdleLock

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]

ANA = Person("ana", "Ánä-seçret 1", "Ana Ñúñez", "Ñúñez")
WAIT_MS = 20_000


@pytest.fixture(autouse=True)
def no_session_user():
    yield
    clear_session_user()


@pytest.fixture
def frozen():
    with FrozenDirectory() as peer:
        yield peer


@pytest.fixture
def locked_window(qtbot, lightbox_home, tmp_path):
    """A factory: the main window of reader ana, its site login at ``uri``, locked (the idle timer stopped)."""
    from workstation.ui.app import compose_main_window

    made = []

    def make(uri: str, timeout_s: float):
        station = Home.single(lightbox_home).ensure()
        settings = config.Settings()
        SiteLoginSettings(uri=uri, bind_dn_template=f"uid={{login}},{PEOPLE}", timeout_s=timeout_s).store(
            settings.extra)
        config.save(settings, station.config_file)
        audit.session_started("ana", "Ana Ñúñez")
        home = station.for_user("ana")
        cache = StudyCache.open(home)
        phantom_study(cache, tmp_path / "ph", 2, patient_id="LOCK-1", patient_name="Ωμέγα^Ελένη")
        window = compose_main_window(home, cache, listen=False, background=False)
        made.append((window, cache))
        window.show()
        qtbot.waitExposed(window)
        lock: IdleLock = window.idle_lock
        lock._timer.stop()
        lock.lock()
        assert lock.locked and lock.panel.cancel_button.isHidden()
        return window, lock

    yield make
    for window, cache in made:
        window.close()
        window.viewer.shutdown()
        window.deleteLater()
        cache.close()
    qtbot.wait(50)


def _type_and_unlock(qtbot, lock: IdleLock, password: str) -> None:
    qtbot.mouseClick(lock.panel.password, Qt.MouseButton.LeftButton)
    type_text(lock.panel.password, password)
    qtbot.mouseClick(lock.panel.unlock_button, Qt.MouseButton.LeftButton)


def _still_hidden(window, lock: IdleLock) -> None:
    assert lock.locked and lock.panel.isVisible()
    assert window.windowTitle().startswith(LOCKED_TITLE)
    assert not window.centralWidget().isVisible()  # no patient datum shows while the directory thinks


def test_cancel_ends_an_unlock_the_directory_never_answers(qtbot, locked_window, frozen):
    # The directory's own timeout far beyond the test: only the Cancel button can end the attempt.
    window, lock = locked_window(frozen.uri, timeout_s=90)
    ticks: list[float] = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)

    _type_and_unlock(qtbot, lock, ANA.password)
    qtbot.waitUntil(lambda: len(frozen.received) > 0, timeout=WAIT_MS)  # the bind request is out, unanswered
    # The lock answers while the directory says nothing: timers fire, the panel says what it does.
    seen = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) >= seen + 5, timeout=WAIT_MS)
    assert lock.checking and lock.panel.message.text() == "Checking…"
    assert lock.panel.cancel_button.isVisible() and not lock.panel.unlock_button.isEnabled()
    assert lock.panel.password.text() == "" and lock.panel.password.isReadOnly()
    _still_hidden(window, lock)
    attempt = lock.attempt

    qtbot.mouseClick(lock.panel.cancel_button, Qt.MouseButton.LeftButton)
    assert not lock.checking and lock.panel.message.text() == "Login cancelled."
    assert lock.panel.unlock_button.isEnabled() and not lock.panel.cancel_button.isVisible()
    assert not lock.panel.password.isReadOnly()
    _still_hidden(window, lock)
    # The attempt really ended: the worker returned and its connection to the directory is closed.
    assert attempt.wait(10) and isinstance(attempt.outcome, LoginError) and attempt.outcome.reason == "cancelled"
    assert frozen.closed.wait(10)
    assert login_events()[-1] == ("Login", "4", "ana")  # the refused unlock is audited
    timer.stop()


def test_a_frozen_directory_is_given_up_after_a_bounded_time(qtbot, locked_window, frozen):
    # timeout_s 1: ldap3 gives up the bind after 1 s, the lock's own deadline (4 s) bounds the whole.
    window, lock = locked_window(frozen.uri, timeout_s=1)
    started = time.monotonic()
    _type_and_unlock(qtbot, lock, ANA.password)
    assert lock.checking
    qtbot.waitUntil(lambda: not lock.checking, timeout=WAIT_MS)
    assert time.monotonic() - started < WAIT_MS / 1000
    assert "did not answer within" in lock.panel.message.text()
    _still_hidden(window, lock)
    assert frozen.closed.wait(10)


@pytest.mark.interop
@pytest.mark.skipif(not slapd_peer.available(), reason="Debian's slapd is not installed")
def test_slapd_answers_the_lock_through_the_worker_and_a_stopped_slapd_is_cancelled(qtbot, locked_window, tmp_path):
    server = Slapd(tmp_path / "slapd", [ANA])
    server.start()
    try:
        window, lock = locked_window(server.uri, timeout_s=90)
        _type_and_unlock(qtbot, lock, "not her password")
        qtbot.waitUntil(lambda: not lock.checking, timeout=WAIT_MS)
        assert lock.panel.message.text() == "Wrong user name or password."
        _still_hidden(window, lock)

        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            _type_and_unlock(qtbot, lock, ANA.password)
            qtbot.wait(300)
            assert lock.checking
            _still_hidden(window, lock)
            attempt = lock.attempt
            qtbot.mouseClick(lock.panel.cancel_button, Qt.MouseButton.LeftButton)
            assert lock.panel.message.text() == "Login cancelled." and lock.locked
            assert attempt.wait(10)  # the worker returned although slapd is still stopped
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)

        _type_and_unlock(qtbot, lock, ANA.password)
        qtbot.waitUntil(lambda: not lock.locked, timeout=WAIT_MS)
        assert window.centralWidget().isVisible() and not window.windowTitle().startswith(LOCKED_TITLE)
    finally:
        server.stop()
    outcomes = [(t, o) for t, o, _u in login_events()]
    assert outcomes[-3:] == [("Login", "4"), ("Login", "4"), ("Login", "0")]  # wrong, cancelled, unlocked
