"""Views stay true: the study list and the series strip follow the index as a report is signed, an
image is rejected and a retrieve lands, without a manual refresh."""

from __future__ import annotations

import pytest

from tests.viewer_phantom import phantom_study, write_phantom
from workstation.config import Settings
from workstation.reporting.certificates import create_test_certificate, load_identity
from workstation.reporting.editor import ReportEditor
from workstation.reporting.settings import ReportingSettings
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.ui.study_browser import StudyBrowser
from workstation.ui.study_format import Column
from workstation.ui.viewer.viewer import ViewerWidget

pytestmark = pytest.mark.gui

WAIT_MS = 20_000
# The acceptance: within a second.  The list polls the index every 250 ms and the viewer every 250 ms.
FOLLOW_MS = 1000


@pytest.fixture
def signing(tmp_path):
    made = create_test_certificate(tmp_path / "cert", "Jane Doe", "St. Elsewhere")
    settings = Settings()
    ReportingSettings(radiologist_name="Doe^Jane", organisation="St. Elsewhere",
                      trust_store=[str(made.cert_pem)]).store(settings)
    return settings, load_identity(made.key_pem, made.cert_pem)


def _cell(browser, study_uid, column):
    row = browser.model.row_of(study_uid)
    return None if row is None else browser.model.index(row, column).data()


def _strip_counts(viewer) -> list[str]:
    return [item.text(0).split("\n")[-1] for item in viewer.strip.series_items.values()]


def test_list_and_strip_follow_signing_rejecting_and_a_retrieve(qtbot, cache, tmp_path, signing):
    settings, identity = signing
    study = phantom_study(cache, tmp_path / "a", 4)
    browser = StudyBrowser(cache)  # the product's poll interval
    qtbot.addWidget(browser)
    viewer = ViewerWidget(cache)
    qtbot.addWidget(viewer)
    viewer.resize(1000, 700)
    browser.start()
    viewer.show()
    try:
        qtbot.waitUntil(lambda: _cell(browser, study, Column.REPORT) == "unread", timeout=WAIT_MS)
        assert viewer.open_study(study)
        assert _strip_counts(viewer) == ["CT  4 im"] and _cell(browser, study, Column.IMAGES) == "4"

        # The report layer, as the report panel drives it: a draft, then a signed final report.
        editor = ReportEditor(cache, settings)
        editor.open_study(study)
        editor.set_value("impression", "Kein Befund.")
        qtbot.waitUntil(lambda: _cell(browser, study, Column.REPORT) == "draft", timeout=FOLLOW_MS)
        editor.issue(final=True, identity=identity)
        qtbot.waitUntil(lambda: _cell(browser, study, Column.REPORT) == "final (signed)", timeout=FOLLOW_MS)

        # The QC layer, as the QC panel's reject dialog drives it: one image rejected.
        from workstation.qc.rejection import reject_instances

        before = int(_cell(browser, study, Column.IMAGES))  # the 4 images and the signed report
        shown = viewer.session.display_sets[0].stack.frames
        reject_instances(cache, [shown[1].key[0]], "quality", operator="QC^Tech")
        # One image fewer: the rejected image and its rejection note are not counted.
        qtbot.waitUntil(lambda: _cell(browser, study, Column.IMAGES) == str(before - 1), timeout=FOLLOW_MS)
        qtbot.waitUntil(lambda: _strip_counts(viewer) == ["CT  3 im"], timeout=FOLLOW_MS)
        assert len(viewer.viewports[0].model.stack) == 3

        # A retrieve landing: another series of the study written through another connection.
        paths = write_phantom(tmp_path / "b", 2, study_uid=study, series_number=2, description="phantom late")
        with StudyCache(cache.index_file, cache.cache_dir) as worker:
            import_paths(worker, [str(p) for p in paths])
        qtbot.waitUntil(lambda: _cell(browser, study, Column.IMAGES) == str(before + 1), timeout=FOLLOW_MS)
        qtbot.waitUntil(lambda: sorted(_strip_counts(viewer)) == ["CT  2 im", "CT  3 im"], timeout=FOLLOW_MS)
    finally:
        browser.stop()
        viewer.shutdown()


def test_an_open_series_keeps_its_image_when_another_image_is_rejected(qtbot, cache, tmp_path):
    study = phantom_study(cache, tmp_path / "a", 5)
    viewer = ViewerWidget(cache)
    qtbot.addWidget(viewer)
    viewer.resize(800, 600)
    viewer.show()
    try:
        assert viewer.open_study(study)
        vp = viewer.viewports[0].model
        vp.set_index(3)
        showing = vp.frame.key
        from workstation.qc.rejection import reject_instances

        reject_instances(cache, [vp.stack.frames[0].key[0]], "quality", operator="QC^Tech")
        qtbot.waitUntil(lambda: len(viewer.viewports[0].model.stack) == 4, timeout=WAIT_MS)
        assert viewer.viewports[0].model.frame.key == showing  # the reader's place is kept
    finally:
        viewer.shutdown()
