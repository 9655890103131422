"""Tools › Outbox: every object waiting or failed, with Retry, Change destination and Discard; the status-bar count."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from PySide6.QtCore import Qt

from tests.factories import write_series
from workstation.config import Node, SettingsSource
from workstation.imaging.key_images import build_key_object_selection
from workstation.reporting import lifecycle
from workstation.reporting.certificates import create_test_certificate, load_identity
from workstation.reporting.inputs import ReportContent
from workstation.reporting.settings import ReportingSettings
from workstation.session.saved_views import store_object
from workstation.store import outbox
from workstation.store.importer import import_paths
from workstation.ui.outbox_view import DeliveryService, OutboxIndicator, OutboxView

pytestmark = pytest.mark.gui


@pytest.fixture
def filled(home, cache, tmp_path):
    """A signed final report and a key object selection, both refused by PACS (failed)."""
    paths = write_series(tmp_path / "ct", 2)
    import_paths(cache, [str(p) for p in paths])
    study_uid = str(dcmread(paths[0]).StudyInstanceUID)
    source = SettingsSource(home.config_file)
    made = create_test_certificate(tmp_path / "cert", "Jane Doe")

    def setup(s):
        s.upsert_node(Node("PACS", "PACS", "127.0.0.1", 104))
        s.upsert_node(Node("BACKUP", "BACKUP", "127.0.0.1", 105))
        ReportingSettings(radiologist_name="Doe^Jane").store(s)

    source.update(setup)
    report = lifecycle.issue_report(cache, source.current(), study_uid,
                                    ReportContent("general", {"findings": "ok", "impression": "ok"}), final=True,
                                    identity=load_identity(made.key_pem, made.cert_pem), destination="PACS")
    kos = build_key_object_selection([dcmread(paths[1], stop_before_pixels=True)], description="key")
    assert store_object(cache, kos, "PACS")
    for item in outbox.list_outbox(cache):
        outbox.update_item(cache, item.pk, state=outbox.FAILED, error="PACS refused it: out of resources")
    return source, report.sop_instance_uid, str(kos.SOPInstanceUID)


def test_retry_change_destination_and_discard_twice(qtbot, home, cache, filled):
    source, report_uid, kos_uid = filled
    service = DeliveryService(cache, home, source)  # not started: nothing is really sent here
    service.deliver_now = lambda: None
    indicator = OutboxIndicator(service)
    qtbot.addWidget(indicator)
    assert indicator.count == 2 and "2 failed" in indicator.text()
    view = OutboxView(service)
    qtbot.addWidget(view)
    view.show()
    kinds = sorted(view.table.item(r, 0).text() for r in range(view.table.rowCount()))
    assert kinds == ["Key images", "Report"]
    row_of = {view.table.item(r, 0).text(): r for r in range(view.table.rowCount())}
    assert "refused" in view.table.item(row_of["Report"], 5).text()

    view.select_row(row_of["Key images"])
    qtbot.mouseClick(view.retry_button, Qt.MouseButton.LeftButton)
    kos_item = next(i for i in outbox.list_outbox(cache) if i.sop_instance_uid == kos_uid)
    assert kos_item.state == outbox.QUEUED and kos_item.attempts == 0
    assert indicator.count == 2 and "1 failed" in indicator.text()

    view.select_row(next(r for r in range(view.table.rowCount()) if view.table.item(r, 0).text() == "Key images"))
    view.ask_destination = lambda names, current: (names, current) and "BACKUP"
    qtbot.mouseClick(view.destination_button, Qt.MouseButton.LeftButton)
    assert [i.destination for i in outbox.list_outbox(cache) if i.sop_instance_uid == kos_uid] == ["BACKUP"]

    # Discarding a signed final report asks twice; "no" the second time keeps it.
    asked = []
    answers = iter([True, False])
    view.confirm = lambda text: asked.append(text) or next(answers)
    view.select_row(next(r for r in range(view.table.rowCount()) if view.table.item(r, 0).text() == "Report"))
    qtbot.mouseClick(view.discard_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 2 and "signed final report" in asked[1]
    assert any(i.sop_instance_uid == report_uid for i in outbox.list_outbox(cache))
    answers = iter([True, True])
    view.select_row(next(r for r in range(view.table.rowCount()) if view.table.item(r, 0).text() == "Report"))
    qtbot.mouseClick(view.discard_button, Qt.MouseButton.LeftButton)
    assert not any(i.sop_instance_uid == report_uid for i in outbox.list_outbox(cache))
    assert cache.instance(report_uid) is not None  # still in the cache
    assert view.table.rowCount() == 1 and indicator.count == 1
    # Key images are discarded after one question.
    asked.clear()
    view.confirm = lambda text: asked.append(text) or True
    view.select_row(0)
    qtbot.mouseClick(view.discard_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and indicator.count == 0 and indicator.text() == "Outbox: 0"
    assert "Nothing waits" in view.summary.text()


def test_tools_menu_and_status_bar_open_the_outbox(qtbot, home, cache, filled):
    from workstation.ui.main_window import MainWindow
    from workstation.ui.outbox_view import attach_outbox

    source, _report_uid, _kos_uid = filled
    window = MainWindow(cache)
    qtbot.addWidget(window)
    window.show()
    service = attach_outbox(window, cache, home, source, start=False)
    assert window.outbox_indicator.count == 2
    qtbot.mouseClick(window.outbox_indicator, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(window, "outbox_view", None) is not None and window.outbox_view.isVisible(),
                    timeout=5000)
    window.outbox_view.close()
    [action] = [a for a in window.tools_menu.actions() if a.text() == "&Outbox…"]
    action.trigger()
    assert window.outbox_view.isVisible() and window.outbox_view.table.rowCount() == 2
    window.outbox_view.close()
    service.stop()
    window.browser.stop()
