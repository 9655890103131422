"""The GUI's storage SCP and the DICOM nodes dialog (Echo and Test off the GUI thread)."""

from __future__ import annotations

import socket

import pytest

from tests.net.helpers import CALLING_AE, free_port, write_study_set
from workstation import config
from workstation.config import Node, Settings
from workstation.net.association import Peer
from workstation.store.cache import StudyCache
from workstation.ui.main_window import MainWindow
from workstation.ui.net_listener import GuiListener
from workstation.ui.net_nodes_dialog import NodeDialog, attach_node_dialog

WAIT_MS = 30_000


def _save(home, settings: Settings) -> None:
    config.save(settings, home.config_file)


def test_listener_receives_into_the_study_list_and_stops(qtbot, home, cache, tmp_path):
    from workstation.net.send import send_files

    port = free_port()
    # Only configured nodes may send (the default): the modality is one, a stranger is not.
    _save(home, Settings(storage_port=port, storage_bind_address="127.0.0.1",
                         nodes=[Node(name="modality", ae_title="MODALITY", host="127.0.0.1", port=104)]))
    listener = GuiListener(home, lambda: config.load(home.config_file))
    window = MainWindow(cache, poll_interval_ms=50)
    qtbot.addWidget(window)
    try:
        assert listener.start(), listener.message
        window.attach_listener(listener)
        assert window.listener_label.text() == f"Receiving as LIGHTBOX on port {port}"
        files = write_study_set(tmp_path / "push")
        report = send_files(files, Peer("127.0.0.1", port, "LIGHTBOX", timeout=10), "MODALITY")
        assert report.ok, report.summary()
        # The list polls the index's data version: the pushed studies show without a refresh.
        qtbot.waitUntil(lambda: len(window.browser.shown_study_uids()) == 2, timeout=WAIT_MS)
        from workstation.net.association import AssociationRejected

        with pytest.raises(AssociationRejected):
            send_files(files[:1], Peer("127.0.0.1", port, "LIGHTBOX", timeout=10), "STRANGER")
        # The refusal shows in the listener's status, with who and from where (no patient data).
        qtbot.waitUntil(lambda: "1 refused (last: STRANGER from 127.0.0.1)" in window.listener_label.text(),
                        timeout=WAIT_MS)
        assert "STRANGER from 127.0.0.1: it comes from a configured node's address, but with another AE title" \
            in window.listener_label.toolTip()
    finally:
        listener.stop()
        window.browser.stop()
    assert not listener.ok
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):  # nobody listens any more
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
    listener.stop()  # twice is fine


def test_a_port_in_use_is_a_warning_not_a_crash(qtbot, home, cache):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        _save(home, Settings(storage_port=port, storage_bind_address="127.0.0.1", accept_known_nodes_only=False))
        listener = GuiListener(home, lambda: config.load(home.config_file))
        assert not listener.start()
        assert listener.message.startswith("Not receiving:") and str(port) in listener.message
        window = MainWindow(cache)
        qtbot.addWidget(window)
        window.attach_listener(listener)
        assert window.listener_label.text() == listener.message
        assert window.statusBar().currentMessage() == listener.message
        window.browser.stop()
        listener.stop()


def test_unreadable_settings_leave_the_gui_without_listener(home):
    home.config_file.parent.mkdir(parents=True, exist_ok=True)
    home.config_file.write_text("{not json", encoding="utf-8")
    listener = GuiListener(home, lambda: config.load(home.config_file))
    assert not listener.start()
    assert listener.message.startswith("Not receiving: settings cannot be read")


def test_node_dialog_adds_edits_and_removes_nodes(qtbot, home, cache):
    window = MainWindow(cache)
    qtbot.addWidget(window)
    action = attach_node_dialog(window, home, lambda: StudyCache.open(home))
    action.trigger()
    dialog: NodeDialog = window.node_dialog  # a child of the window: closed with it
    dialog.name_edit.setText("pacs")
    dialog.ae_edit.setText("PACS")
    dialog.host_edit.setText("127.0.0.1")
    dialog.port_spin.setValue(4242)
    dialog.retrieve_combo.setCurrentText("get")
    dialog.max_assoc_spin.setValue(3)
    with qtbot.waitSignal(dialog.nodes_changed, timeout=1000):
        assert dialog.save_button.click() is None
    saved = config.load(home.config_file).node("pacs")
    assert (saved.ae_title, saved.port, saved.retrieve, saved.max_associations) == ("PACS", 4242, "get", 3)
    assert dialog.node_list.currentItem().text() == "pacs"
    # A bad value is refused with the reason, and nothing is written.
    dialog.ae_edit.setText("THIS AE TITLE IS FAR TOO LONG")
    assert not dialog.save_node()
    assert dialog.status.text().startswith("Not saved: invalid AE title")
    assert config.load(home.config_file).node("pacs").ae_title == "PACS"
    assert dialog.remove_node()
    assert config.load(home.config_file).nodes == []
    assert dialog.node_list.count() == 0
    window.browser.stop()


def test_echo_of_a_closed_port_says_why(qtbot, home, cache):
    _save(home, Settings(nodes=[Node(name="gone", ae_title="GONE", host="127.0.0.1", port=free_port(), timeout=5)]))
    dialog = NodeDialog(home, lambda: StudyCache.open(home))
    qtbot.addWidget(dialog)
    assert dialog.name_edit.text() == "gone"
    assert dialog.echo()
    assert not dialog.echo()  # one check at a time
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT_MS)
    lines = [dialog.results.item(i).text() for i in range(dialog.results.count())]
    assert len(lines) == 1 and lines[0].startswith("✘ C-ECHO:"), lines
    assert "no DICOM service at 127.0.0.1" in lines[0]
    assert dialog.status.text() == "0 of 1 checks passed"
    assert dialog.echo_button.isEnabled()


def test_a_node_dialog_deleted_while_its_check_runs_is_harmless(qtbot, home, cache):
    """The check's thread holds no Qt object: the dialog may go while it still waits for an answer."""
    with socket.socket() as silent:  # accepts the connection, never answers the association request
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        _save(home, Settings(nodes=[Node(name="silent", ae_title="SILENT", host="127.0.0.1", port=port, timeout=2)]))
        dialog = NodeDialog(home, lambda: StudyCache.open(home))
        assert dialog.echo() and dialog.busy()
        thread = dialog.checks._run.thread
        dialog.close()
        dialog.deleteLater()
        del dialog
        qtbot.wait(50)  # the dialog and its task are deleted; the echo still waits
        thread.join(WAIT_MS / 1000)
        assert not thread.is_alive()
        qtbot.wait(100)  # its result went to a queue nobody reads


@pytest.mark.interop
def test_echo_and_test_against_a_real_archive(qtbot, home, cache, tmp_path):
    """Against pynetdicom's qrscp: Echo passes; Test shows C-ECHO, C-FIND and C-GET, each passed."""
    from workstation.net.archive import EmbeddedArchive
    from workstation.net.send import send_files

    archive = EmbeddedArchive(tmp_path / "archive", port=free_port())
    archive.start(timeout=30)
    try:
        files = write_study_set(tmp_path / "studies")
        assert send_files(files, Peer("127.0.0.1", archive.port, archive.ae_title, timeout=10), CALLING_AE).ok
        node = Node(name="demo", ae_title=archive.ae_title, host="127.0.0.1", port=archive.port, retrieve="get",
                    timeout=10)
        _save(home, Settings(ae_title=CALLING_AE, nodes=[node]))
        dialog = NodeDialog(home, lambda: StudyCache.open(home))
        qtbot.addWidget(dialog)
        dialog.echo()
        qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT_MS)
        assert dialog.results.item(0).text().startswith("✔ C-ECHO:")
        dialog.test()
        qtbot.waitUntil(lambda: not dialog.busy(), timeout=WAIT_MS)
        lines = [dialog.results.item(i).text() for i in range(dialog.results.count())]
        assert [line.split(":")[0] for line in lines] == ["✔ C-ECHO", "✔ C-FIND", "✔ C-GET"], lines
        assert dialog.status.text() == "3 of 3 checks passed"
    finally:
        archive.stop()
