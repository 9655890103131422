"""The site login in the window, against Debian's slapd on 127.0.0.1: the login dialog at start (its real
fields and buttons clicked), a wrong password and an unreachable server said in plain words and audited,
the reader's display name in the status bar, File › Log out and the next reader's own home, and the
idle lock unlocked by an LDAP bind.

Screenshots of the dialog go to $LIGHTBOX_WALK_DIR (else /tmp/lightbox-login) to be looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog, QLabel

from tests.audit import slapd_peer
from tests.audit.slapd_peer import PEOPLE, Person, Slapd
from tests.net.helpers import free_port
from tests.viewer_phantom import phantom_study
from workstation import audit, config
from workstation.audit.identity import clear_session_user
from workstation.audit.site_login import SiteLoginSettings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.login_dialog import LoginDialog, site_authenticator
from workstation.ui.main_window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.interop, pytest.mark.timeout(240),
              pytest.mark.skipif(not slapd_peer.available(), reason="Debian's slapd is not installed")]

ANA = Person("ana", "Ánä-seçret 1", "Ana Ñúñez", "Ñúñez")
LI = Person("li.wei", "長城-pass", "李 伟", "李")
WAIT_MS = 20_000


def shots_dir() -> Path:
    out = Path(os.environ.get("LIGHTBOX_WALK_DIR") or "/tmp/lightbox-login")
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = Slapd(tmp_path_factory.mktemp("slapd"), [ANA, LI])
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def no_session_user():
    yield
    clear_session_user()


def site(uri: str) -> SiteLoginSettings:
    return SiteLoginSettings(uri=uri, bind_dn_template=f"uid={{login}},{PEOPLE}", timeout_s=3)


def login_events() -> list[tuple[str, str, str]]:
    return [(r["type"], r["outcome"], r["user"]) for r in audit.current().store.records()
            if r["event_code"] == "110114"]


def type_text(widget, text: str) -> None:
    """Key presses carrying each character (QTest's keyClicks takes ASCII only; passwords here are not)."""
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, ch))


def type_and_click(qtbot, dialog: LoginDialog, login: str, password: str, *, wait: bool = True) -> None:
    """Type into the real fields, click Log in and (``wait``) wait for the directory's answer (bind on a worker)."""
    dialog.login_field.clear()
    qtbot.mouseClick(dialog.login_field, Qt.MouseButton.LeftButton)
    type_text(dialog.login_field, login)
    qtbot.mouseClick(dialog.password_field, Qt.MouseButton.LeftButton)
    type_text(dialog.password_field, password)
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    if wait:
        qtbot.waitUntil(lambda: not dialog.checking, timeout=WAIT_MS)


def test_login_dialog_refuses_a_wrong_password_then_logs_in(qtbot, lightbox_home, slapd):
    Home.single(lightbox_home).ensure()
    dialog = LoginDialog(site_authenticator(site(slapd.uri)), server=slapd.uri)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.grab().save(str(shots_dir() / "login-dialog.png"))

    type_and_click(qtbot, dialog, "ana", "not her password")
    assert dialog.isVisible() and dialog.user is None
    assert dialog.message.text() == "Wrong user name or password."
    assert dialog.password_field.text() == ""  # never left in the field
    dialog.grab().save(str(shots_dir() / "login-dialog-wrong-password.png"))
    assert login_events() == [("Login", "4", "ana")]

    type_and_click(qtbot, dialog, "ana", ANA.password)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.user is not None and dialog.user.display_name == "Ana Ñúñez"


def test_login_dialog_says_when_the_server_cannot_be_reached(qtbot, lightbox_home):
    Home.single(lightbox_home).ensure()
    uri = f"ldap://127.0.0.1:{free_port()}"
    dialog = LoginDialog(site_authenticator(site(uri)), server=uri)
    qtbot.addWidget(dialog)
    dialog.show()
    type_and_click(qtbot, dialog, "ana", ANA.password)
    assert dialog.isVisible() and dialog.user is None
    assert "cannot be reached" in dialog.message.text() and "127.0.0.1" in dialog.message.text()
    dialog.grab().save(str(shots_dir() / "login-dialog-unreachable.png"))
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110114"]
    assert rec["outcome"] == "4" and rec["user"] == "ana" and "site login refused: unreachable" in rec["xml"]


def _visible(kind: type) -> list:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]


def test_run_gui_asks_for_the_login_and_each_reader_gets_their_own_home(qtbot, qapp, lightbox_home, slapd, tmp_path):
    from workstation.ui.app import run_gui

    home = Home.single(lightbox_home).ensure()
    settings = config.Settings()
    site(slapd.uri).store(settings.extra)
    settings.extra["audit"] = {"idle_lock_minutes": 60}
    config.save(settings, home.config_file)
    with StudyCache.open(home) as cache:
        phantom_study(cache, tmp_path / "ph", 2, patient_id="LOGIN-1", patient_name="Ωμέγα^Ελένη")

    seen: list[tuple[str, str]] = []
    steps = iter([("ana", ANA.password, "logout"), ("li.wei", LI.password, "switch"), ("ana", ANA.password, "quit")])
    QTimer.singleShot(60_000, qapp.quit)  # a watchdog: a failure to close cannot hang the run

    def on_dialog() -> None:
        dialogs = _visible(LoginDialog)
        if not dialogs:
            QTimer.singleShot(50, on_dialog)
            return
        login, password, then = next(steps)
        if then == "logout":  # the first: the dialog as the reader sees it at start (themed)
            dialogs[0].grab().save(str(shots_dir() / "login-dialog-at-start.png"))
        type_and_click(qtbot, dialogs[0], login, password, wait=False)  # on_window waits for the window
        QTimer.singleShot(50, lambda: on_window(then))

    def on_window(then: str) -> None:
        windows = _visible(MainWindow)
        if not windows:
            QTimer.singleShot(50, lambda: on_window(then))
            return
        window = windows[0]
        seen.append((window.findChild(QLabel, "readerIdentity").text(), str(window.viewer.session.work.directory)))
        if then == "logout":
            file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
            action = next(a for a in file_menu.actions() if a.objectName() == "siteLogoutAction")
            action.trigger()
            QTimer.singleShot(50, on_dialog)
        elif then == "switch":
            # The reader walked away: the lock came, and the next reader logs them out from the lock screen.
            window.idle_lock.lock()
            qtbot.mouseClick(window.idle_lock.panel.switch_button, Qt.MouseButton.LeftButton)
            QTimer.singleShot(50, on_dialog)
        else:
            window.quit_action.trigger()

    QTimer.singleShot(100, on_dialog)
    assert run_gui(home) == 0
    assert [s[0] for s in seen] == ["Reader: Ana Ñúñez", "Reader: 李 伟", "Reader: Ana Ñúñez"]
    assert seen[0][1] == str(home.data_dir / "users" / "ana" / "measurements")
    assert seen[1][1] == str(home.data_dir / "users" / "li.wei" / "measurements")
    assert (home.data_dir / "users" / "ana" / "config.json").exists()
    events = [(r["event"], r["type"], r["user"]) for r in audit.current().store.records()]
    logins = [e for e in events if e[0] in ("User Authentication", "Application Activity")]
    assert logins == [
        ("Application Activity", "Application Start", logins[0][2]),
        ("User Authentication", "Login", "ana"), ("User Authentication", "Logout", "ana"),
        ("User Authentication", "Login", "li.wei"), ("User Authentication", "Logout", "li.wei"),  # the lock
        ("User Authentication", "Logout", "li.wei"),  # logged out from the lock screen
        ("User Authentication", "Login", "ana"), ("User Authentication", "Logout", "ana"),
        ("Application Activity", "Application Stop", logins[-1][2]),
    ]


@pytest.mark.parametrize("reachable", [True, False], ids=["slapd", "unreachable"])
def test_the_idle_lock_unlocks_by_ldap_bind(qtbot, lightbox_home, slapd, tmp_path, reachable):
    from workstation.ui.app import compose_main_window

    station = Home.single(lightbox_home).ensure()
    settings = config.Settings()
    site(slapd.uri if reachable else f"ldap://127.0.0.1:{free_port()}").store(settings.extra)
    config.save(settings, station.config_file)
    audit.session_started("ana", "Ana Ñúñez")
    home = station.for_user("ana")
    cache = StudyCache.open(home)
    window = compose_main_window(home, cache, listen=False, background=False)
    try:
        window.show()
        lock = window.idle_lock
        lock._timer.stop()
        lock.lock()
        assert lock.locked and lock.panel.switch_button.isVisible()
        qtbot.keyClicks(lock.panel.password, "wrong")
        qtbot.mouseClick(lock.panel.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not lock.checking, timeout=WAIT_MS)  # the bind runs on a worker
        assert lock.locked
        type_text(lock.panel.password, ANA.password)
        qtbot.mouseClick(lock.panel.unlock_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not lock.checking, timeout=WAIT_MS)
        if reachable:
            assert not lock.locked
        else:
            assert lock.locked and "cannot be reached" in lock.panel.message.text()
            qtbot.wait(50)
            message = lock.panel.message
            assert message.width() >= min(message.sizeHint().width(), 480)  # the whole sentence, not a letter
            window.grab().save(str(shots_dir() / "lock-unreachable.png"))
    finally:
        window.close()
        window.viewer.shutdown()
        window.deleteLater()
        cache.close()
        qtbot.wait(50)
    kinds = [(t, o) for t, o, _u in login_events()]
    if reachable:
        assert kinds == [("Login", "0"), ("Logout", "0"), ("Login", "4"), ("Login", "0")]
    else:
        assert kinds == [("Login", "0"), ("Logout", "0"), ("Login", "4"), ("Login", "4")]


def test_settings_page_configures_the_site_login_in_the_station_s_file(qtbot, lightbox_home, slapd):
    from workstation.config import SettingsSource
    from workstation.ui.settings_dialog import SettingsDialog

    station = Home.single(lightbox_home).ensure()
    reader = station.for_user("ana")  # a reader's settings dialog: the site login still goes to the station's
    dialog = SettingsDialog(reader, SettingsSource(reader.config_file))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_page("site-login")
    page = dialog.site_login_page
    assert dialog.tabs.currentWidget() is page

    qtbot.keyClicks(page.uri, "http://wrong")
    qtbot.keyClicks(page.template, f"uid={{login}},{PEOPLE}")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert "ldap:// or ldaps://" in dialog.message.text()
    assert "site_login" not in config.load(station.config_file).extra  # nothing written

    page.uri.clear()
    qtbot.keyClicks(page.uri, slapd.uri)
    # On its box (a form row stretches the check box far beyond its box and label).
    qtbot.mouseClick(page.start_tls, Qt.MouseButton.LeftButton, pos=QPoint(8, page.start_tls.height() // 2))
    assert page.start_tls.isChecked()
    qtbot.keyClicks(page.ca_file, str(slapd.pki["ca"]))
    # Try a login with what is typed, before saving: a wrong password, then the right one.
    qtbot.keyClicks(page.try_login, "ana")
    type_text(page.try_password, "nope")
    qtbot.mouseClick(page.try_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.attempt is None, timeout=WAIT_MS)  # the bind runs on a worker
    assert page.result.text() == "Login failed: wrong user name or password"
    type_text(page.try_password, ANA.password)
    qtbot.mouseClick(page.try_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.attempt is None, timeout=WAIT_MS)
    assert page.result.text() == f"Login works: Ana Ñúñez (uid=ana,{PEOPLE})"
    assert page.try_password.text() == ""
    dialog.grab().save(str(shots_dir() / "settings-site-login.png"))

    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.message.text().startswith("Saved")
    saved = SiteLoginSettings.of(config.load(station.config_file).extra)
    assert saved.configured and saved.start_tls and saved.uri == slapd.uri and saved.ca_file == str(slapd.pki["ca"])
    assert "site_login" not in config.load(reader.config_file).extra or reader.config_file == station.config_file
