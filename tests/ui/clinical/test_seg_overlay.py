"""A DICOM SEG over the demo CT in the viewer: the segment is painted on its slices only; the list hides it."""

from __future__ import annotations

import numpy as np
import pydicom
from PySide6.QtCore import QPoint, Qt

from tests.clinical.conftest import series_files, small_demo_dir  # noqa: F401 - the session's small demo
from tests.clinical.test_seg import _ct, _description, _seg, _sphere_masks
from tests.ui.viewer_helpers import open_viewer, view_point_of
from workstation.demo.phantoms import CT_SPHERES
from workstation.store.importer import import_paths


def test_seg_segments_are_drawn_over_their_slices(qtbot, cache, small_demo_dir, tmp_path):  # noqa: F811
    cts = _ct(small_demo_dir)
    cyst = _sphere_masks(cts, CT_SPHERES[2])
    seg = _seg(cts, cyst[..., None].astype(np.uint8), "BINARY", [_description(1, "Liver cyst", [35585, 53662, 50860])])
    seg.save_as(tmp_path / "seg.dcm")
    import_paths(cache, [*series_files(small_demo_dir, "ct-chest-2024", "soft"), tmp_path / "seg.dcm"], workers=1)
    viewer = open_viewer(qtbot, cache, str(cts[0].StudyInstanceUID))
    try:
        panel = viewer.segment_panel
        assert panel.isVisible() and panel.list.count() == 1
        assert panel.list.item(0).text().startswith("1  Liver cyst")
        vp = viewer.viewports[0]
        viewer.show_series(str(cts[0].SeriesInstanceUID), 0)
        qtbot.waitUntil(lambda: vp.model.render() is not None, timeout=30_000)
        # Go to the cyst's middle slice with the keyboard.
        k = int(np.argmax(cyst.reshape(len(cts), -1).sum(axis=1)))
        uid = str(cts[k].SOPInstanceUID)
        vp.setFocus()
        qtbot.keyClick(vp, Qt.Key.Key_Home)
        for _ in range(200):
            if vp.model.frame.key[0] == uid:
                break
            qtbot.keyClick(vp, Qt.Key.Key_Down)
        assert vp.model.frame.key[0] == uid
        rows, cols = np.nonzero(cyst[k])
        at = view_point_of(vp, float(cols.mean()), float(rows.mean()))

        def red_at() -> bool:
            c = vp.grab().toImage().pixelColor(at)
            return c.red() > c.green() + 40

        qtbot.waitUntil(red_at, timeout=5_000)
        # Untick the segment in the list: the image underneath shows again.
        item = panel.list.item(0)
        box = panel.list.visualItemRect(item)
        qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(box.x() + 10, box.center().y()))
        qtbot.waitUntil(lambda: item.checkState() == Qt.CheckState.Unchecked, timeout=2_000)
        qtbot.waitUntil(lambda: not red_at(), timeout=5_000)
        # A slice the segment does not reach has no layer at all.
        other = next(i for i in range(len(cts)) if not cyst[i].any())
        assert viewer.segmentations.layer(str(cts[other].SOPInstanceUID)) is None
        # Outline only, ticked again: the outline is drawn, the middle is not filled.
        qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(box.x() + 10, box.center().y()))
        qtbot.mouseClick(panel.outline, Qt.MouseButton.LeftButton, pos=QPoint(8, panel.outline.height() // 2))
        assert viewer.segmentations.outline_only
        layer = viewer.segmentations.layer(uid)
        assert layer[int(rows.mean()), int(cols.mean()), 3] == 0 and layer[..., 3].max() == 255
        assert pydicom.dcmread(tmp_path / "seg.dcm", stop_before_pixels=True).Modality == "SEG"
    finally:
        viewer.shutdown()
