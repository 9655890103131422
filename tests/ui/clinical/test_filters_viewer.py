"""View › filters: the active viewport shows a filtered image, the stored pixels stay, each viewport keeps its own."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.ui.viewer_helpers import click, open_viewer
from tests.viewer_phantom import phantom_study


@pytest.fixture
def viewer(qtbot, cache, tmp_path):
    v = open_viewer(qtbot, cache, phantom_study(cache, tmp_path / "phantom", 10))
    yield v
    v.shutdown()


def _menu_action(viewer, text):
    for button in viewer.toolbar.findChildren(type(viewer.toolbar.layout_button)):
        menu = button.menu()
        if menu is not None:
            for a in menu.actions():
                if a.text() == text:
                    return a
    raise AssertionError(text)


def test_smoothing_is_per_viewport_and_non_destructive(qtbot, viewer):
    viewer.set_grid(1, 2)
    left, right = viewer.viewports[0], viewer.viewports[1]
    series = left.model.display_set.series_uid
    viewer.show_series(series, 1)
    qtbot.waitUntil(lambda: right.model.render() is not None, timeout=30_000)
    click(left, left.rect().center())
    stored_before = left.model.stored().copy()
    plain = left.model.render().pixels.copy()
    _menu_action(viewer, "Smoothing (Gaussian)").trigger()
    assert left.model.spatial_filter is not None and left.model.spatial_filter.kind == "smooth"
    smoothed = left.model.render().pixels
    assert not np.array_equal(plain, smoothed)
    assert np.array_equal(left.model.stored(), stored_before)  # the stored image is untouched
    assert right.model.spatial_filter is None  # the other viewport keeps its own (none)
    # Scrolling keeps the filter; switching viewports shows each one's filter in the menu.
    qtbot.keyClick(left, Qt.Key.Key_Down)
    assert left.model.index == 1 and left.model.spatial_filter.kind == "smooth" and left.model.render() is not None
    click(right, right.rect().center())
    assert _menu_action(viewer, "No filter").isChecked()
    click(left, left.rect().center())
    assert _menu_action(viewer, "Smoothing (Gaussian)").isChecked()
    _menu_action(viewer, "No filter").trigger()
    assert left.model.spatial_filter is None and np.array_equal(left.model.render().pixels, plain)
    for label in ("Sharpening (unsharp mask)", "Edge enhancement", "Noise reduction (anisotropic diffusion)"):
        _menu_action(viewer, label).trigger()
        assert left.model.render() is not None
