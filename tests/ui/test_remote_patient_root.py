"""The Remote tab on a Patient Root node: the search clicked in the tab asks the patients first.

Archives started here support the Patient Root models only: the strict
pynetdicom archive (:mod:`tests.interop.patient_root_peer`, which refuses a
STUDY-level query without the Patient ID, 0xA900) and dcmqrscp
(``-QS -QO -XM -XF``).  Names are typed in Chinese, Cyrillic and Latin
(pydicom's charset files) into the tab's name field, Search is clicked, and
the rows show each patient's name, ID, birth date and sex; Retrieve then
brings the study in with its Patient ID.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydicom import dcmread
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from tests.interop.patient_root_archives import (
    charset_name,
    files_of,
    loaded_dcmqrscp,
    STRICT_PATIENT_ROOT,
    PatientStudy,
    PeerProcess,
    patient_root_peer,
    write_patient_study,
)
from tests.interop.peers import ArchiveProcess, free_port
from workstation.config import Node, Settings
from workstation.net import patient_root_find, study_patients
from workstation.net.association import peer_of
from workstation.net.retrieve import retrieve
from workstation.store.cache import StudyCache
from workstation.ui.remote_tab import RemoteTab
from workstation.ui.study_format import format_da, format_person_name

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300), pytest.mark.usefixtures("no_remembered_patients")]

WAIT_MS = 60_000
CALLING_AE = "LIGHTBOX"


BIRTH = {"wang": ("19500102", "M"), "russ": ("19610203", "F"), "latin": ("19720304", "O")}


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, PatientStudy]:
    folder = tmp_path_factory.mktemp("remote-patient-root")
    made = {
        "wang": write_patient_study(folder / "wang", charset_name("chrX1.dcm"), "王小東-0001", [2]),
        "russ": write_patient_study(folder / "russ", charset_name("chrRuss.dcm"), "ЛЮК-0002", [1]),
        "latin": write_patient_study(folder / "latin", "Quercia^Ottavio", "LBX-PR-1", [1], charset="ISO_IR 100"),
    }
    for key, study in made.items():
        for path in study.files:
            ds = dcmread(path)
            ds.PatientBirthDate, ds.PatientSex = BIRTH[key]
            ds.save_as(path, enforce_file_format=True)
    return made


@pytest.fixture(scope="module")
def patroot(tmp_path_factory, studies) -> Iterator[PeerProcess]:
    # Retrieves here use C-GET: the C-MOVE destination port is never contacted.
    with patient_root_peer(tmp_path_factory.mktemp("patroot-ui"), files_of(studies), free_port()) as peer:
        yield peer
    assert not peer.running


@pytest.fixture(scope="module")
def dcmqrscp_strict(tmp_path_factory, studies) -> Iterator[ArchiveProcess]:
    with loaded_dcmqrscp(tmp_path_factory.mktemp("dcmqrscp-ui"), free_port(), files_of(studies), "PRQRSCP",
                         STRICT_PATIENT_ROOT) as arc:
        yield arc


def _tab(qtbot, cache: StudyCache, home, node: Node) -> RemoteTab:
    settings = Settings(nodes=[node])

    def retrieve_study(node, study_uid, progress, cancel):
        with StudyCache.open(home) as worker_cache:  # as the application's Remote tab does
            return retrieve(node, settings, home, worker_cache, study_uid, progress=progress, cancel=cancel)

    tab = RemoteTab(cache, lambda: settings, retrieve_study)
    qtbot.addWidget(tab)
    tab.show()
    return tab


def _type(edit, text: str) -> None:
    """Type ``text`` into ``edit`` key by key (QTest cannot type non-ASCII keys: each is sent as its text)."""
    edit.setFocus()
    for ch in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(edit, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch))


def _search(qtbot, tab: RemoteTab, name: str = "") -> None:
    tab.filter_bar.name_edit.clear()
    _type(tab.filter_bar.name_edit, name)
    assert tab.filter_bar.name_edit.text() == name
    qtbot.mouseClick(tab.search_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tab.searching() and tab.search_button.isEnabled(), timeout=WAIT_MS)


def _shown(tab: RemoteTab) -> list[tuple[str, ...]]:
    return [tuple(tab.table.item(r, c).text() for c in range(4)) for r in range(tab.table.rowCount())]


@pytest.mark.parametrize("archive", ["patroot", "dcmqrscp_strict"])
@pytest.mark.parametrize(("who", "typed"), [("wang", "Wang"), ("russ", "Люк"), ("latin", "Querc")])
def test_a_name_typed_in_the_tab_finds_the_patients_studies(qtbot, request, cache, home, studies, archive,
                                                             who, typed):
    arc = request.getfixturevalue(archive)
    if isinstance(arc, PeerProcess):
        arc.forget_requests()
    node = arc.node("pr", query_model="patient", retrieve="get")
    tab = _tab(qtbot, cache, home, node)
    _search(qtbot, tab, typed)
    s = studies[who]
    assert tab.status.text().startswith("1 study on pr"), tab.status.text()
    assert _shown(tab) == [(format_person_name(s.name), s.patient_id, format_da(BIRTH[who][0]), BIRTH[who][1])]
    assert tab.rows[0].study_uid == s.study_uid
    if isinstance(arc, PeerProcess):
        asked = arc.requests()
        assert [(r["service"], r["level"], r["answer"]) for r in asked] == [
            ("C-FIND", "PATIENT", "ok"), ("C-FIND", "STUDY", "ok")]
        assert asked[1]["patient_id"]
        # The archive matches unique keys only and answered every patient: the others are left out, and said so.
        assert "did not match the query" in tab.status.text()


def test_retrieve_after_the_search_sends_the_patient_id(qtbot, cache, home, studies, patroot):
    """Retrieve, clicked on a row the search found, is accepted by the strict archive (the Patient ID goes along)."""
    node = patroot.node("pr", query_model="patient", retrieve="get")
    tab = _tab(qtbot, cache, home, node)
    _search(qtbot, tab, "Wang")
    patroot.forget_requests()
    tab.table.selectRow(0)
    qtbot.mouseClick(tab.retrieve_button, Qt.MouseButton.LeftButton)
    study = studies["wang"]
    qtbot.waitUntil(lambda: cache.study(study.study_uid) is not None and not tab.queue.busy(), timeout=WAIT_MS)
    assert sum(len(cache.instances(uid)) for uid in study.series) == study.count
    asked = patroot.requests()
    assert asked and all(r["answer"] == "ok" and r["patient_id"] for r in asked), asked
    qtbot.waitUntil(lambda: tab.table.item(0, 10).text() == "in cache", timeout=WAIT_MS)


def test_a_search_following_too_many_patients_says_so(qtbot, cache, home, dcmqrscp_strict, monkeypatch):
    monkeypatch.setattr(patient_root_find, "PATIENT_LIMIT", 2)
    tab = _tab(qtbot, cache, home, dcmqrscp_strict.node("pr", query_model="patient"))
    _search(qtbot, tab)
    assert tab.table.rowCount() == 2
    assert tab.status.text() == ("2 studies on pr — more than 2 patients match: the first 2 patients' studies "
                                 "are listed (narrow the search)")
    monkeypatch.setattr(patient_root_find, "PATIENT_LIMIT", 3)
    _search(qtbot, tab)
    assert (tab.table.rowCount(), tab.status.text()) == (3, "3 studies on pr")


@pytest.mark.gui
def test_log_out_forgets_the_patient_ids_the_searches_showed(qtbot, qapp, lightbox_home, tmp_path, studies, patroot):
    """Reader A searches the Remote tab (the Patient IDs are remembered for retrieves), logs out by File › Log out;
    reader B's session remembers nothing of it (B's retrieve would ask the archive, not use A's search)."""
    from PySide6.QtCore import QTimer

    from tests.audit import slapd_peer
    from tests.audit.slapd_peer import PEOPLE, Person, Slapd
    from workstation import config
    from workstation.audit.identity import clear_session_user
    from workstation.audit.site_login import SiteLoginSettings
    from workstation.home import Home
    from workstation.ui.app import run_gui
    from workstation.ui.login_dialog import LoginDialog
    from workstation.ui.main_window import MainWindow

    if not slapd_peer.available():
        pytest.skip("Debian's slapd is not installed")
    ana, li = Person("ana", "Ánä-seçret 1", "Ana Ñúñez", "Ñúñez"), Person("li.wei", "長城-pass", "李 伟", "李")
    (tmp_path / "slapd").mkdir()
    server = Slapd(tmp_path / "slapd", [ana, li])
    server.start()
    try:
        home = Home.single(lightbox_home).ensure()
        settings = Settings(nodes=[patroot.node("pr", query_model="patient", retrieve="get")])
        SiteLoginSettings(uri=server.uri, bind_dn_template=f"uid={{login}},{PEOPLE}", timeout_s=3).store(
            settings.extra)
        settings.extra["audit"] = {"idle_lock_minutes": 60}
        config.save(settings, home.config_file)
        wang = studies["wang"]
        peer = peer_of(settings.nodes[0])
        remembered: list[str] = []
        steps = iter([(ana, "search"), (li, "look")])
        def visible(kind: type) -> list:
            return [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]

        def watchdog() -> None:  # a failure to log in or to close cannot hang the run
            for dialog in visible(LoginDialog):
                dialog.reject()
            qapp.quit()

        QTimer.singleShot(60_000, watchdog)

        def on_dialog() -> None:
            dialogs = visible(LoginDialog)
            if not dialogs:
                QTimer.singleShot(50, on_dialog)
                return
            person, then = next(steps)
            dialogs[0].login_field.clear()
            _type(dialogs[0].login_field, person.uid)
            _type(dialogs[0].password_field, person.password)
            qtbot.mouseClick(dialogs[0].login_button, Qt.MouseButton.LeftButton)
            QTimer.singleShot(50, lambda: on_window(then))

        def on_window(then: str) -> None:
            windows = visible(MainWindow)
            if not windows:
                QTimer.singleShot(50, lambda: on_window(then))
                return
            window = windows[0]
            if then == "search":
                window.study_tabs.setCurrentWidget(window.remote)
                window.remote.node_combo.setCurrentText("pr")
                _search(qtbot, window.remote, "Wang")
                remembered.append(study_patients.recall(peer, wang.study_uid))
                file_menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "File")
                next(a for a in file_menu.actions() if a.objectName() == "siteLogoutAction").trigger()
                QTimer.singleShot(50, on_dialog)
            else:
                remembered.append(study_patients.recall(peer, wang.study_uid))
                window.quit_action.trigger()

        QTimer.singleShot(100, on_dialog)
        assert run_gui(home) == 0
        assert remembered == [wang.patient_id, ""]
    finally:
        clear_session_user()
        server.stop()
