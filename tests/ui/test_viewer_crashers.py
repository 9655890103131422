"""In the viewer, an image that once aborted the process shows a plain message; the rest of the study shows."""

from __future__ import annotations

from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.net.helpers import make_ct
from tests.robustness.crashers import CRASHERS, write_crasher
from workstation.store.importer import import_paths
from workstation.ui.main_window import MainWindow
from workstation.ui.viewer.viewer import ViewerWidget

WAIT_MS = 30_000


def _study(tmp_path) -> tuple[str, str, str]:
    """A study with a good CT series and a series of the crashers; returns (study, good, bad series)."""
    folder = tmp_path / "study"
    folder.mkdir()
    study, good, bad = generate_uid(), generate_uid(), generate_uid()
    for n in range(1, 3):
        make_ct(("Crash^Viewer", "CRV-1"), study, good, n).save_as(folder / f"good{n}.dcm", enforce_file_format=True)
    for n, name in enumerate(["jpeg-bits-allocated-1", "jpegls-columns-65535", "j2k-samples-per-pixel-1",
                              "rle-65535-squared"], 1):
        path = write_crasher(name, tmp_path)
        ds = dcmread(path)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study, bad, generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientName, ds.PatientID, ds.InstanceNumber, ds.Modality = "Crash^Viewer", "CRV-1", n, "OT"
        ds.save_as(folder / f"bad{n}.dcm", enforce_file_format=False)
    return study, good, bad


def test_crashers_show_a_message_in_their_viewport(qtbot, cache, tmp_path):
    assert set(CRASHERS) >= {"jpeg-bits-allocated-1", "rle-65535-squared"}
    study, good, bad = _study(tmp_path)
    summary = import_paths(cache, [tmp_path / "study"], workers=1)
    assert summary.imported == 6, [s.reason for s in summary.skipped]
    window = MainWindow(cache, poll_interval_ms=100)
    qtbot.addWidget(window)
    viewer = ViewerWidget(cache)
    window.attach_viewer(viewer)
    window.resize(1200, 800)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.browser.proxy.rowCount() == 1, timeout=WAIT_MS)
        window.browser.activate_study(study)
        qtbot.waitUntil(lambda: viewer.session.patient is not None, timeout=WAIT_MS)
        viewer.show_series(bad, 0)
        model = viewer.viewports[0].model
        seen = []
        for index in range(len(model)):
            model.set_index(index)
            qtbot.waitUntil(lambda: model.error() is not None or model.render() is not None, timeout=WAIT_MS)
            seen.append(model.error())
            viewer.viewports[0].grab()  # paints the message in place of the image
        assert len(seen) == 4, seen
        assert all(seen) and all("cannot decode" in e or "too large" in e for e in seen), seen
        viewer.show_series(good, 0)
        qtbot.waitUntil(lambda: viewer.viewports[0].model.render() is not None, timeout=WAIT_MS)
    finally:
        window.close()
        viewer.shutdown()
