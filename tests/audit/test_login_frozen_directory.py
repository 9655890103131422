"""The site login's bind runs on a worker: a directory that accepts the connection and never answers (a socket on
127.0.0.1 the test holds) leaves the login dialog responsive, Cancel ends the attempt (its connection is shut, the
worker returns) and the fields come back; with no Cancel the attempt ends after its bounded time.  Against
Debian's slapd the answer (wrong password, then the login) still shows.  The settings page's "Try a login" too."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from PySide6.QtCore import Qt, QTimer

from tests.audit import slapd_peer
from tests.audit.slapd_peer import PEOPLE, Person, Slapd
from tests.audit.test_login_dialog import login_events, type_and_click, type_text
from workstation import config
from workstation.audit.site_login import LoginError, SiteLoginSettings, site_authenticator, start_login
from workstation.home import Home
from workstation.ui.login_dialog import LoginDialog

pytestmark = [pytest.mark.gui, pytest.mark.timeout(120)]

ANA = Person("ana", "Ánä-seçret 1", "Ana Ñúñez", "Ñúñez")
WAIT_MS = 20_000


class FrozenDirectory:
    """Accepts LDAP connections on 127.0.0.1 and never answers; records when each connection is closed."""

    def __init__(self) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self.closed = threading.Event()  # a client's side of a connection went away
        self.received = b""  # what the client sent (the bind request): read, never answered
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def __enter__(self) -> FrozenDirectory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.server.close()

    def _serve(self) -> None:
        conns: list[socket.socket] = []
        try:
            while not self._stop.is_set():
                try:
                    conn, _ = self.server.accept()
                    conn.settimeout(0.1)
                    conns.append(conn)
                    self.accepted += 1
                except TimeoutError:
                    pass
                for conn in list(conns):
                    try:
                        data = conn.recv(4096)
                    except TimeoutError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        self.closed.set()
                        conns.remove(conn)
                        conn.close()
                    else:
                        self.received += data
        finally:
            for conn in conns:
                conn.close()


@pytest.fixture
def frozen():
    with FrozenDirectory() as peer:
        yield peer


def _dialog(qtbot, uri: str, deadline: float, timeout_s: float = 3) -> LoginDialog:
    """The login dialog binding to ``uri``; ``timeout_s``: ldap3's own per-operation timeout."""
    cfg = SiteLoginSettings(uri=uri, bind_dn_template=f"uid={{login}},{PEOPLE}", timeout_s=timeout_s)
    dialog = LoginDialog(site_authenticator(cfg), server=uri, deadline=deadline)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_cancel_ends_a_login_the_directory_never_answers(qtbot, lightbox_home, frozen):
    Home.single(lightbox_home).ensure()
    # Both timeouts far beyond the test (a stalled machine must not end it first): only Cancel can end it.
    dialog = _dialog(qtbot, frozen.uri, deadline=90.0, timeout_s=90)
    ticks: list[float] = []
    timer = QTimer(dialog)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(20)

    type_and_click(qtbot, dialog, "ana", ANA.password, wait=False)
    qtbot.waitUntil(lambda: len(frozen.received) > 0, timeout=WAIT_MS)  # the bind request is out, unanswered
    # The window is alive while the directory says nothing: timers fire, the dialog says what it does.
    seen = len(ticks)
    qtbot.waitUntil(lambda: len(ticks) >= seen + 5, timeout=WAIT_MS)
    assert dialog.checking and dialog.message.text() == "Checking…"
    assert dialog.cancel_button.isVisible() and not dialog.login_button.isEnabled()
    assert dialog.password_field.text() == ""  # the password left the field when Log in was clicked
    attempt = dialog.attempt

    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not dialog.checking and dialog.isVisible() and dialog.user is None
    assert dialog.message.text() == "Login cancelled."
    assert dialog.login_button.isEnabled() and not dialog.cancel_button.isVisible()
    assert not dialog.login_field.isReadOnly()
    # The attempt really ended: the worker returned and its connection to the directory is closed.
    assert attempt.wait(10) and isinstance(attempt.outcome, LoginError) and attempt.outcome.reason == "cancelled"
    assert frozen.closed.wait(10)
    assert login_events() == [("Login", "4", "ana")]
    timer.stop()


def test_a_frozen_directory_is_given_up_after_the_bounded_time(qtbot, lightbox_home, frozen):
    Home.single(lightbox_home).ensure()
    # ldap3's own receive timeout would end it after the site's 3 s; the dialog's deadline comes first here.
    dialog = _dialog(qtbot, frozen.uri, deadline=1.0)
    type_and_click(qtbot, dialog, "ana", ANA.password)
    assert dialog.user is None and dialog.isVisible()
    # The deadline's words (ldap3's own 3 s timeout says the same with the server's address, should a stalled
    # machine let it fire first): either way the attempt ended on its own, in bounded time.
    assert dialog.message.text().startswith("The site login server") and "did not answer within" in (
        dialog.message.text())
    assert frozen.closed.wait(10)


def test_the_receive_timeout_alone_bounds_a_frozen_bind(frozen):
    """Without a deadline of its own, the directory's timeout (timeout_s) ends the worker: nothing waits forever."""
    cfg = SiteLoginSettings(uri=frozen.uri, bind_dn_template=f"uid={{login}},{PEOPLE}", timeout_s=1)
    attempt = start_login(site_authenticator(cfg), "ana", "x", deadline=60.0)
    assert attempt.wait(20)
    assert isinstance(attempt.outcome, LoginError) and attempt.outcome.reason == "unreachable"
    assert str(attempt.outcome) == f"the site login server {frozen.uri} did not answer within 1 s"


def test_quit_while_checking_cancels_the_attempt(qtbot, lightbox_home, frozen):
    Home.single(lightbox_home).ensure()
    dialog = _dialog(qtbot, frozen.uri, deadline=90.0, timeout_s=90)
    type_and_click(qtbot, dialog, "ana", ANA.password, wait=False)
    qtbot.waitUntil(lambda: len(frozen.received) > 0, timeout=WAIT_MS)
    attempt = dialog.attempt
    qtbot.mouseClick(dialog.quit_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == LoginDialog.DialogCode.Rejected and dialog.user is None
    assert attempt.wait(10) and frozen.closed.wait(10)


@pytest.mark.interop
@pytest.mark.skipif(not slapd_peer.available(), reason="Debian's slapd is not installed")
def test_slapd_answers_through_the_worker_and_a_stopped_slapd_is_cancelled(qtbot, lightbox_home, tmp_path):
    """Debian's slapd: the wrong-password sentence and the login come back from the worker; slapd frozen by
    SIGSTOP (a directory that hangs mid-service) is cancelled with the dialog's button."""
    import os
    import signal

    Home.single(lightbox_home).ensure()
    server = Slapd(tmp_path / "slapd", [ANA])
    server.start()
    try:
        dialog = _dialog(qtbot, server.uri, deadline=90.0, timeout_s=90)
        type_and_click(qtbot, dialog, "ana", "not her password")
        assert dialog.message.text() == "Wrong user name or password." and dialog.user is None

        os.kill(server.proc.pid, signal.SIGSTOP)
        try:
            type_and_click(qtbot, dialog, "ana", ANA.password, wait=False)
            qtbot.wait(300)
            assert dialog.checking
            attempt = dialog.attempt
            qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
            assert dialog.message.text() == "Login cancelled." and dialog.user is None
            assert attempt.wait(10)  # the worker returned although slapd is still stopped
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        type_and_click(qtbot, dialog, "ana", ANA.password)
        assert dialog.user is not None and dialog.user.display_name == "Ana Ñúñez"
    finally:
        server.stop()


def test_settings_page_trial_login_can_be_cancelled(qtbot, lightbox_home, frozen):
    from workstation.config import SettingsSource
    from workstation.ui.settings_dialog import SettingsDialog

    station = Home.single(lightbox_home).ensure()
    settings = config.Settings()  # a site timeout far beyond the test: only the button ends the trial
    settings.extra["site_login"] = {"uri": "ldap://127.0.0.1:1", "bind_dn_template": "uid={login},o=x",
                                    "timeout_s": 90}
    config.save(settings, station.config_file)
    dialog = SettingsDialog(station, SettingsSource(station.config_file))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_page("site-login")
    page = dialog.site_login_page
    assert page.shown().timeout_s == 90  # kept from the file (not on the page), saved as it was
    page.uri.clear()
    qtbot.keyClicks(page.uri, frozen.uri)
    page.template.clear()
    qtbot.keyClicks(page.template, f"uid={{login}},{PEOPLE}")
    qtbot.keyClicks(page.try_login, "ana")
    type_text(page.try_password, ANA.password)
    qtbot.mouseClick(page.try_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(frozen.received) > 0, timeout=WAIT_MS)
    assert page.result.text() == "Trying…" and page.try_button.text() == "Cancel"
    attempt = page.attempt
    qtbot.mouseClick(page.try_button, Qt.MouseButton.LeftButton)
    assert page.result.text() == "Login failed: login cancelled" and page.try_button.text() == "Try a login"
    assert attempt.wait(10) and frozen.closed.wait(10)
