"""The idle lock: after a short idle time the whole window shows no patient datum (checked widget by widget
and on a screenshot), no shortcut reaches it, and only the site's lock password unlocks it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QApplication, QComboBox, QDockWidget, QGroupBox,
                               QLabel, QLineEdit, QPlainTextEdit, QTabBar, QTextEdit)

from tests.viewer_phantom import phantom_study
from workstation import audit, config
from workstation.audit import login
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.app import compose_main_window
from workstation.ui.idle_lock import LOCKED_TITLE

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]

PATIENT_NAME = "Ωμέγα^Ελένη"  # shown as "Ωμέγα, Ελένη" or with the caret, depending on the name style
NAME_PARTS = ("Ωμέγα", "Ελένη")
PATIENT_ID = "LOCK-7731"
WAIT_MS = 20_000


def visible_texts() -> list[str]:
    """Every text a person could read in a visible widget: labels, buttons, fields, tabs, list cells, titles."""
    out: list[str] = []
    for w in QApplication.allWidgets():
        if not w.isVisible():
            continue
        if w.isWindow():
            out.append(w.windowTitle())
        if isinstance(w, (QLabel, QAbstractButton, QLineEdit)):
            out.append(w.text())
        if isinstance(w, QLineEdit):
            out.append(w.placeholderText())
        if isinstance(w, (QTextEdit, QPlainTextEdit)):
            out.append(w.toPlainText())
        if isinstance(w, QComboBox):
            out.append(w.currentText())
        if isinstance(w, QGroupBox):
            out.append(w.title())
        if isinstance(w, QTabBar):
            out += [w.tabText(i) for i in range(w.count())]
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            m = w.model()
            from PySide6.QtCore import QModelIndex

            try:
                columns = m.columnCount(QModelIndex())
            except TypeError:  # a list model (its columnCount is private in PySide)
                columns = 1
            for r in range(min(m.rowCount(QModelIndex()), 200)):
                for c in range(min(columns, 40)):
                    v = m.index(r, c).data()
                    if v is not None:
                        out.append(str(v))
    return out


def shows_patient(texts: list[str]) -> bool:
    return any(part in t for t in texts for part in (*NAME_PARTS, PATIENT_ID))


@pytest.fixture
def locked_home(lightbox_home, tmp_path):
    home = Home.single(lightbox_home).ensure()
    settings = config.Settings()
    login.set_lock_password(settings.extra, "correct horse")
    settings.extra["audit"]["idle_lock_minutes"] = 0.01  # 600 ms
    config.save(settings, home.config_file)
    cache = StudyCache.open(home)
    study = phantom_study(cache, tmp_path / "ph", 4, patient_id=PATIENT_ID, patient_name=PATIENT_NAME)
    yield home, cache, study
    cache.close()


def test_idle_lock_hides_patient_data_and_unlocks_with_the_right_password_only(qtbot, locked_home, tmp_path):
    home, cache, study = locked_home
    window = compose_main_window(home, cache, listen=False, background=False)
    try:
        window.resize(1400, 900)
        window.show()
        lock = window.idle_lock
        lock._timer.stop()  # the window is built and the study opened before the idle time starts
        window.browser.refresh()
        qtbot.waitUntil(lambda: study in window.browser.shown_study_uids(), timeout=WAIT_MS)
        window.browser.activate_study(study)
        qtbot.waitUntil(lambda: window.viewer.viewports[0].model.render() is not None, timeout=WAIT_MS)
        assert shows_patient(visible_texts())  # the walk does see the patient when unlocked
        assert window.findChild(QLabel, "readerIdentity").text() == f"Reader: {audit.current().identity.user_id}"
        title = window.windowTitle()
        dock_widths = {d.objectName(): d.width() for d in window.findChildren(QDockWidget) if d.isVisible()}
        assert not shows_patient([title])  # window titles never carry patient data

        # A second window open when the lock comes (File › Export…, its list naming the patient) hides too.
        file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
        next(a for a in file_menu.actions() if a.text() == "&Export…").trigger()
        dialog = window.export_dialog
        assert dialog.isVisible()

        lock._timer.start()
        qtbot.waitUntil(lambda: lock.locked, timeout=WAIT_MS)
        assert not dialog.isVisible()
        texts = visible_texts()
        assert not shows_patient(texts), [t for t in texts if any(p in t for p in (*NAME_PARTS, PATIENT_ID))]
        assert window.windowTitle() == LOCKED_TITLE
        # The screenshot is the lock panel and nothing else (no image, list or corner text painted).
        shot = window.grab()
        shot.save(str(tmp_path / "locked.png"))
        assert shot.toImage() == lock.panel.grab().toImage()
        # No shortcut reaches the hidden window: File › Export… (Ctrl+Shift+E) does not open.
        before = {w for w in QApplication.topLevelWidgets() if w.isVisible()}
        qtbot.keyClick(lock.panel.password, Qt.Key.Key_E,
                       Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        qtbot.wait(100)
        assert {w for w in QApplication.topLevelWidgets() if w.isVisible()} <= before

        qtbot.keyClicks(lock.panel.password, "wrong horse")
        qtbot.mouseClick(lock.panel.unlock_button, Qt.MouseButton.LeftButton)
        assert lock.locked and lock.panel.message.text() == "Wrong password."
        assert not shows_patient(visible_texts())
        qtbot.keyClicks(lock.panel.password, "correct horse")
        qtbot.keyClick(lock.panel.password, Qt.Key.Key_Return)
        assert not lock.locked
        assert window.windowTitle() == title
        assert shows_patient(visible_texts())
        assert window.viewer.isVisible() and window.browser.isVisible() and dialog.isVisible()
        dialog.close()
        assert {d.objectName(): d.width() for d in window.findChildren(QDockWidget) if d.isVisible()} == dock_widths
    finally:
        window.close()
        window.viewer.shutdown()
        window.deleteLater()
        qtbot.wait(50)
    kinds = [(r["event_code"], r["type"], r["outcome"]) for r in audit.current().store.records()
             if r["event_code"] == "110114"]
    assert kinds == [("110114", "Logout", "0"), ("110114", "Login", "4"), ("110114", "Login", "0")]


def test_password_hash_never_holds_the_password():
    stored = login.hash_password("correct horse")
    assert "correct horse" not in stored
    assert login.check_password(stored, "correct horse")
    assert not login.check_password(stored, "correct hors")
    assert not login.check_password("garbage", "correct horse")


def test_lock_password_is_set_from_the_command_line(lightbox_home, monkeypatch, capsys):
    import io

    from workstation.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse\n"))
    assert main(["--home", str(lightbox_home), "audit", "password"]) == 0
    stored = login.lock_password_hash(config.load(Home.single(lightbox_home).config_file).extra)
    assert login.check_password(stored, "correct horse") and "correct horse" not in stored
