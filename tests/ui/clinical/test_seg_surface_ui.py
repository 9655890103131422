"""MPR and 3D of a series that a SEG references: its segments appear as surfaces in the 3D view."""

from __future__ import annotations

import numpy as np

from tests.clinical.conftest import series_files, small_demo_dir  # noqa: F401 - the session's small demo
from tests.clinical.test_seg import _ct, _description, _seg, _sphere_masks
from workstation.demo.phantoms import CT_SPHERES
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


def test_segments_show_as_surfaces_in_3d(qtbot, cache, small_demo_dir, tmp_path):  # noqa: F811
    from workstation.ui.volume_workspace import VolumeWorkspace

    cts = _ct(small_demo_dir)
    cyst = _sphere_masks(cts, CT_SPHERES[2])
    _seg(cts, cyst[..., None].astype(np.uint8), "BINARY", [_description(1, "Liver cyst")]).save_as(tmp_path / "seg.dcm")
    import_paths(cache, [*series_files(small_demo_dir, "ct-chest-2024", "soft"), tmp_path / "seg.dcm"], workers=1)
    ws = VolumeWorkspace(cache, lambda: StudyCache(cache.index_file, cache.cache_dir), str(cts[0].StudyInstanceUID))
    qtbot.addWidget(ws)
    ws.resize(900, 700)
    ws.show()
    series = str(cts[0].SeriesInstanceUID)
    with qtbot.waitSignal(ws.volume_ready, timeout=30_000):
        ws.load(series)
    qtbot.waitUntil(lambda: ws.segment_actors is not None, timeout=30_000)
    ((key, actor),) = ws.segment_actors.items()
    assert key[1] == 1 and actor.GetVisibility()
    bounds = np.asarray(actor.GetBounds()).reshape(3, 2)
    np.testing.assert_allclose(bounds.mean(axis=1), CT_SPHERES[2].centre_mm, atol=10.0)
    assert "1 segment surface(s)" in ws.message.text()
    ws.close()
    ws.close_views()
