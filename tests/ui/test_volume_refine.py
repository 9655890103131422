"""A change to the 3D view after loading: an interactive-quality frame at once, the full-quality one from a worker.

The preset control is clicked (keys on the real combo box) and the view rotated with the
mouse; the frame the view ends with is what the view's own full-quality render of the same
scene draws.
While the worker cannot start (its window's OpenGL set-up waits on the lock this test
holds), further changes replace each other: only the latest is rendered after the one
already asked.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from tests.volume3d.conftest import phantom
from workstation.ui.volume_view import VolumeView
from workstation.volume3d.rendering import OPENGL_SET_UP, capture

FAR_MS = 120_000


def _loaded_view(qtbot) -> VolumeView:
    view = VolumeView(phantom(shape=(132, 128, 128)), "cpu")  # above the preview budget: a worker prepares it
    qtbot.addWidget(view)
    view.resize(360, 360)
    view.show()
    # The full volume, then the worker's frame of it (its ray caster is ready for the changes).
    with (qtbot.waitSignal(view.full_frame_shown, timeout=FAR_MS),
          qtbot.waitSignal(view.frame_shown, timeout=FAR_MS, check_params_cb=lambda kind: kind == "full")):
        view.start()
    assert view.full_quality and view._full_frames is not None and view._full_frames.rendered == 1
    return view


def _assert_full_quality_shown(view: VolumeView) -> None:
    """The view shows the worker's frame, and it is what the view's own full-quality render draws."""
    assert view.scene.showing_frame and not view.scene.interactive
    shown = capture(view._window)
    view.render_now()  # the same scene rendered here, in full quality, on the GUI thread
    assert not view.scene.showing_frame and not view.scene.interactive
    own = capture(view._window)
    assert np.abs(shown.astype(int) - own.astype(int)).max() <= 2


def _press_down(qtbot, view: VolumeView) -> str:
    view.preset_box.setFocus()
    qtbot.keyClick(view.preset_box, Qt.Key.Key_Down)
    return view.preset_box.currentText()


def test_a_preset_change_shows_at_once_then_in_full_quality_from_the_worker(qtbot):
    view = _loaded_view(qtbot)
    before = view.preset_box.currentText()
    with qtbot.waitSignal(view.full_frame_shown, timeout=FAR_MS):
        chosen = _press_down(qtbot, view)
        assert chosen != before and view.scene.preset.name == chosen
        # Drawn at once at interactive quality (the volume itself, coarse rays); the full frame comes later.
        assert view.scene.interactive and not view.scene.showing_frame
    _assert_full_quality_shown(view)
    view.close()
    qtbot.wait(10)
    view.shutdown()


def test_changes_made_while_a_frame_is_rendered_replace_each_other(qtbot):
    view = _loaded_view(qtbot)
    frames = view._full_frames
    with OPENGL_SET_UP:  # the worker's window waits for its OpenGL set-up: its frame is not done meanwhile
        _press_down(qtbot, view)
        for _ in range(3):
            last = _press_down(qtbot, view)
        assert view._next_full_frame is not None and view._next_full_frame[0].name == last
    with qtbot.waitSignal(view.full_frame_shown, timeout=FAR_MS):
        pass
    assert frames.rendered == 3  # the loaded view's, the first change's (stale, not shown), the latest's
    assert view.scene.preset.name == last
    _assert_full_quality_shown(view)
    view.close()
    qtbot.wait(10)
    view.shutdown()


def test_the_end_of_a_rotation_is_drawn_in_full_quality_by_the_worker(qtbot):
    view = _loaded_view(qtbot)
    widget = view.vtk_widget
    camera = view.scene.renderer.GetActiveCamera()
    position = camera.GetPosition()
    centre = widget.rect().center()
    with qtbot.waitSignal(view.full_frame_shown, timeout=FAR_MS):
        qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=centre)
        for step in range(1, 6):
            qtbot.mouseMove(widget, centre + QPoint(12 * step, 4 * step))
        assert view.scene.interactive and not view.scene.showing_frame
        qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=centre + QPoint(60, 20))
    assert camera.GetPosition() != position  # it turned
    _assert_full_quality_shown(view)
    view.close()
    qtbot.wait(10)
    view.shutdown()
