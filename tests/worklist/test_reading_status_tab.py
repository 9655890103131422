"""Two readers on one RIS, with the window: reader A opens a study; the RIS (a peer built on hl7apy) passes the
status on to reader B's listener; B's Worklist tab shows "being read by Alpha, Anna" and double-clicking it asks
first, in a real dialog whose buttons are clicked (Cancel keeps the viewer empty, Open anyway opens it).

Screenshots of B's window and of the dialog are saved in $LIGHTBOX_WALK_DIR when set (else the test's folder).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydicom import dcmread
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.factories import write_series
from tests.hl7.peer import RisPeer, free_port
from workstation import config
from workstation.hl7.settings import HL7Settings
from workstation.home import Home
from workstation.reporting.sender import OutboxSender
from workstation.reporting.settings import ReportingSettings
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.ui.app import compose_main_window
from workstation.worklist import claims as claims_mod
from workstation.worklist.gather import rebuild
from workstation.worklist.opening import open_item
from workstation.worklist.orders import Order, save_orders
from workstation.worklist.reading import stop_reading

pytestmark = [pytest.mark.gui, pytest.mark.timeout(180)]
ACCESSION = "RT-ACC-1"


def _home(root: Path, reader: tuple[str, str], files, **hl7) -> tuple[Home, StudyCache]:
    home = Home.single(root).ensure()
    s = config.Settings()
    ReportingSettings(radiologist_name=reader[0], radiologist_id=reader[1]).store(s)
    HL7Settings(timeout_s=5, **hl7).store(s)
    config.save(s, home.config_file)
    cache = StudyCache.open(home)
    import_paths(cache, [str(p) for p in files])
    [study] = cache.studies()
    save_orders(cache, [Order(ACCESSION, study_uid=study.study_uid, requested_procedure="CT head", priority="STAT",
                              reason="Sudden headache", order_status="CM")])
    return home, cache


def _never_commit(node, items):
    raise AssertionError("no DICOM item expected")


def _click_when_asked(qtbot, button_text: str, shot: Path | None = None) -> list[str]:
    """Click ``button_text`` in the "being read" dialog once it is up (bounded: 10 s); returns its text."""
    seen: list[str] = []
    tries = [0]

    def attempt() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "readByAnother" and box.isVisible():
            if shot is not None:
                box.grab().save(str(shot))
            [button] = [b for b in box.buttons() if b.text().replace("&", "") == button_text]
            seen.append(box.text())
            qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        elif tries[0] < 200:
            tries[0] += 1
            QTimer.singleShot(50, attempt)

    QTimer.singleShot(0, attempt)
    return seen


def _double_click(qtbot, tab, row):
    rect = tab.table.visualItemRect(tab.table.item(row, 2))
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_b_sees_a_reading_and_is_asked_in_a_real_dialog(qtbot, tmp_path):
    shots = Path(os.environ.get("LIGHTBOX_WALK_DIR", tmp_path)) / "reading-status"
    shots.mkdir(parents=True, exist_ok=True)
    files = write_series(tmp_path / "study", 3, patient_name="Ηλίας^Νίκος", patient_id="RT-1")
    for p in files:
        ds = dcmread(p)
        ds.AccessionNumber = ACCESSION
        ds.save_as(p, enforce_file_format=True)
    b_port = free_port()
    with RisPeer(forward=[b_port]) as ris:
        home_a, cache_a = _home(tmp_path / "a", ("Alpha^Anna", "AA1"), files, ris_host="127.0.0.1",
                                ris_port=ris.port)
        home_b, cache_b = _home(tmp_path / "b", ("Beta^Bruno", "BB2"), files, listen_port=b_port)
        settings_a = config.load(home_a.config_file)
        window = compose_main_window(home_b, cache_b, listen=False, background=False)
        qtbot.addWidget(window)
        window.resize(1400, 900)
        window.show()
        tab = window.worklist
        window.study_tabs.setCurrentWidget(tab)
        try:
            assert tab.start_hl7_listener().startswith("HL7 from the RIS on port")
            [row] = range(tab.table.rowCount())
            assert tab.table.item(row, 1).text() == "unread"

            # Reader A opens the study at the other station; its outbox tells the RIS, which tells B.
            [item_a] = rebuild(cache_a, settings_a, [])
            study_uid = open_item(item_a, settings_a, home_a, cache_a, hang=False).study_uid
            OutboxSender(cache_a, settings_a, _never_commit).run_once()
            assert len(ris.received) == 1 and "|SC|" in ris.received[0] and "|IP|" in ris.received[0]
            qtbot.waitUntil(lambda: tab.table.item(0, 1).text() == "being read by Alpha, Anna", timeout=10_000)
            assert tab.items[0].being_read_by == "Alpha^Anna"
            assert "ORM^O01 applied" in tab.note.text()
            tab.table.clearSelection()
            window.grab().save(str(shots / "worklist-being-read-by.png"))
            tab.grab().save(str(shots / "worklist-tab-being-read-by.png"))

            # B double-clicks: asked first. Cancel: nothing opens.
            asked = _click_when_asked(qtbot, "Cancel", shots / "open-anyway-dialog.png")
            _double_click(qtbot, tab, 0)
            qtbot.waitUntil(lambda: bool(asked), timeout=10_000)
            assert "Alpha, Anna is reading this study" in asked[0] and "Open it anyway?" in asked[0]
            qtbot.wait(200)
            assert not window.viewer.session.studies
            assert claims_mod.claims(cache_b)[study_uid].reader == "Alpha^Anna"

            # Open anyway: opened, and now B's.
            asked = _click_when_asked(qtbot, "Open anyway")
            _double_click(qtbot, tab, 0)
            qtbot.waitUntil(lambda: any(s.study_uid == study_uid for s in window.viewer.session.studies),
                            timeout=20_000)
            assert asked and claims_mod.claims(cache_b)[study_uid].reader == "Beta^Bruno"
            assert tab.table.item(0, 1).text() == "in progress (you)"
            assert "Sudden headache" in window.order_header.text()
            vp = window.viewer.viewports[0]
            qtbot.waitUntil(lambda: vp.model.is_loaded() and vp.paint_count > 0, timeout=20_000)
            # the report form, rebuilt for the study's template once its images are painted, shows the order's
            # reason as clinical information
            qtbot.waitUntil(lambda: not window.report_panel.pending, timeout=10_000)
            history = window.report_panel.form.editors["history"]
            qtbot.waitUntil(lambda: history.isVisible() and history.toPlainText() == "Sudden headache.",
                            timeout=10_000)
            window.grab().save(str(shots / "opened-anyway-viewer-with-order-header.png"))

            # A leaves it: the release reaches B but does not take the study from B, who opened it since.
            stop_reading(cache_a, settings_a, study_uid)
            OutboxSender(cache_a, settings_a, _never_commit).run_once()
            assert len(ris.received) == 2 and "|CM|" in ris.received[1]
            qtbot.waitUntil(lambda: len(ris.forwarded) == 2, timeout=10_000)
            qtbot.wait(1200)  # the tab rebuilds within a second of a message
            assert claims_mod.claims(cache_b)[study_uid].reader == "Beta^Bruno"
            assert tab.table.item(0, 1).text() == "in progress (you)"
        finally:
            tab.stop_hl7_listener()
            window.close()
            qtbot.wait(50)
            cache_a.close()
            cache_b.close()
