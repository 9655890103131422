"""Hanging-protocol viewports of type MPR and 3D show MPR and 3D views in the viewer's grid."""

from __future__ import annotations

import json

from tests.hanging.conftest import demo  # noqa: F401 - the session's small demo studies
from workstation.hanging.library import user_dir
from workstation.store.importer import import_paths
from workstation.ui.app import compose_main_window
from workstation.ui.mpr_view import MprView
from workstation.ui.volume_view import VolumeView

WAIT_MS = 30_000

PROTOCOL = {
    "schemaVersion": 1, "id": "ct-volume-test", "name": "CT: axial, coronal MPR and 3D",
    "rules": [{"attribute": "ModalitiesInStudy", "constraint": {"equals": "CT"}, "required": True}],
    "displaySets": {"soft": {"rules": [
        {"attribute": "Modality", "constraint": {"equals": "CT"}, "required": True},
        {"attribute": "SeriesDescription", "constraint": {"regex": "SOFT"}, "weight": 2}]}},
    "stages": [
        {"id": "volume", "name": "Axial, coronal MPR, 3D", "layout": {"rows": 1, "columns": 3},
         "viewports": [
             {"study": "current", "displaySet": "soft"},
             {"study": "current", "displaySet": "soft", "type": "mpr", "plane": "coronal", "slab_mm": 6,
              "label": "Coronal"},
             {"study": "current", "displaySet": "soft", "type": "3d", "preset": "ct-bone"}]},
        {"id": "axial", "name": "Axial only", "layout": {"rows": 1, "columns": 1},
         "viewports": [{"study": "current", "displaySet": "soft"}]},
    ],
}


def test_mpr_and_3d_viewports_of_a_protocol_show_volume_views(qtbot, cache, home, demo):  # noqa: F811
    assert import_paths(cache, demo.files["ct-chest-2024"], workers=1).imported
    folder = user_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ct-volume-test.json").write_text(json.dumps(PROTOCOL))
    window = compose_main_window(home, cache, listen=False, background=False)
    window.resize(1500, 900)
    window.show()
    viewer, hanging = window.viewer, window.hanging
    try:
        window.viewer.open_study(demo.uids["ct-chest-2024"])
        qtbot.waitUntil(lambda: hanging.plan is not None, timeout=WAIT_MS)
        assert hanging.hang(demo.uids["ct-chest-2024"], "ct-volume-test") is not None
        cells = hanging.volume_cells
        assert sorted(cells.cells) == [1, 2]
        qtbot.waitUntil(lambda: all(c.view is not None for c in cells.cells.values()), timeout=WAIT_MS)
        mpr, view3d = cells.cells[1].view, cells.cells[2].view
        assert isinstance(mpr, MprView) and isinstance(view3d, VolumeView)
        assert mpr.isVisible() and view3d.isVisible() and mpr.controller.slab_mm == 6
        assert viewer.viewports[0].isVisible() and not viewer.viewports[1].isVisible()
        # the 2D viewport of the stage is still a stack of the same series
        assert viewer.viewports[0].model.display_set.series_uid == cells.cells[1].series_uid
        hanging.next_stage()  # a stage without volumes: the cells go, the viewports come back
        assert cells.cells == {} and viewer.viewports[0].isVisible()
        hanging.show_stage(0)  # back: the volume is not read again
        assert all(c.view is not None for c in cells.cells.values())
    finally:
        window.close()
        viewer.shutdown()
        window.deleteLater()
        qtbot.wait(50)
