"""MPR and 3D come up step by step: the MPR views one per event-loop turn, the 3D view as a preview first,
then the full volume prepared in the background (its frame rendered there), the controls working throughout."""

from __future__ import annotations

import numpy as np

from tests.volume3d.conftest import phantom
from workstation.ui.mpr_view import MprView
from workstation.ui.volume_view import VolumeView
from workstation.volume3d.prepare3d import PREVIEW_VOXELS


def _large():
    vol = phantom(shape=(132, 128, 128))  # just above the preview budget
    assert vol.array.size > PREVIEW_VOXELS
    return vol


def test_3d_view_shows_a_preview_then_the_full_volume(qtbot, tmp_path):
    vol = _large()
    view = VolumeView(vol, "cpu")
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    shown = []
    view.frame_shown.connect(shown.append)
    with qtbot.waitSignal(view.frame_shown, timeout=30_000, check_params_cb=lambda q: q == "preview"):
        view.start()
    assert view.scene.preview and view.scene.volume.array.size <= PREVIEW_VOXELS
    assert "preview" in view.status.text()
    assert view.scene.showing_frame  # the preview's rays were cast in the background too
    with qtbot.waitSignal(view.frame_shown, timeout=120_000, check_params_cb=lambda q: q == "full"):
        pass
    assert shown == ["preview", "full"] and view.full_quality
    assert view.scene.volume.array.shape == vol.array.shape and not view.scene.preview
    assert view.scene.showing_frame  # the frame the worker rendered for this very view
    # A control changed afterwards renders the volume itself again (the worker's frame goes).
    view.blend_box.setCurrentText("MIP")
    assert not view.scene.showing_frame and view.scene.blend == "mip"
    assert view.snapshot(tmp_path / "vp.png").stat().st_size > 500
    view.close()
    qtbot.wait(10)
    view.shutdown()


def test_a_preset_chosen_during_the_preview_is_kept_by_the_full_volume(qtbot):
    vol = _large()
    view = VolumeView(vol, "cpu")
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    with qtbot.waitSignal(view.frame_shown, timeout=30_000, check_params_cb=lambda q: q == "preview"):
        view.start()
    view.preset_box.setCurrentText("mip")
    with qtbot.waitSignal(view.frame_shown, timeout=120_000, check_params_cb=lambda q: q == "full"):
        pass
    assert view.scene.preset.name == "mip" and view.scene.blend == "mip"
    assert not view.scene.showing_frame  # prepared for another preset: rendered here instead
    view.close()
    qtbot.wait(10)
    view.shutdown()


def test_mpr_views_are_drawn_one_by_one_and_say_when_all_are(qtbot):
    vol = phantom(shape=(32, 32, 32))
    view = MprView(vol, (0.0, 1000.0))
    qtbot.addWidget(view)
    view.resize(500, 500)
    view.show()
    with qtbot.waitSignal(view.painted, timeout=30_000):
        view.start()
        assert not view.is_painted  # the first step only: the event loop runs between views
    assert view.is_painted
    image = view.controller.scenes["axial"].reslicer.update()
    assert np.isfinite(image.array).all() and image.array.max() == 300
    view.close()
    qtbot.wait(10)
    view.shutdown()
