"""The view transform: fit, zoom about a point, pan, rotation and flips, window drags."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.imaging.viewstate import ViewState


def _view(cols=100, rows=50, size=(400, 400), aspect=1.0):
    v = ViewState()
    v.set_image(cols, rows, aspect)
    v.resize(*size)
    return v


def test_fit_centres_the_whole_image():
    v = _view()
    assert v.zoom == pytest.approx(4.0)
    assert v.to_view(0, 0) == pytest.approx((0.0, 100.0))
    assert v.to_view(100, 50) == pytest.approx((400.0, 300.0))
    v.rotate(1)
    assert v.zoom == pytest.approx(4.0)  # 50 wide, 100 high: fits by height
    v.resize(400, 800)
    assert v.zoom == pytest.approx(8.0)


def test_non_square_pixels_are_stretched_vertically():
    v = _view(cols=100, rows=100, aspect=2.0)
    assert v.zoom == pytest.approx(2.0)
    u0, v0 = v.to_view(0, 0)
    u1, v1 = v.to_view(100, 100)
    assert (u1 - u0, v1 - v0) == pytest.approx((200.0, 400.0))


def test_zoom_keeps_the_point_under_the_cursor():
    v = _view()
    anchor = (300.0, 120.0)
    before = v.to_image(*anchor)
    v.zoom_by(2.5, anchor)
    assert v.zoom == pytest.approx(10.0)
    assert v.to_image(*anchor) == pytest.approx(before)
    v.one_to_one()
    assert v.zoom == 1.0 and v.to_view(50, 25) == pytest.approx((200, 200))
    v.fit_to_viewport()
    assert v.zoom == pytest.approx(4.0)


def test_rotation_and_flips_round_trip():
    v = _view(cols=10, rows=10, size=(100, 100))
    tl = v.to_view(0, 0)
    v.rotate(1)  # clockwise: the top left corner goes to the top right
    assert v.to_view(0, 0) == pytest.approx((100, 0))
    v.flip_left_right()  # mirrored: back to the left
    assert v.to_view(0, 0) == pytest.approx((0, 0))
    v.rotate(1)  # still clockwise on screen while mirrored
    assert v.to_view(0, 0) == pytest.approx((100, 0))
    v.reset()
    assert v.to_view(0, 0) == pytest.approx(tl)
    v.flip_top_bottom()
    assert v.to_view(0, 0) == pytest.approx((0, 100))
    for _ in range(4):
        x, y = np.random.default_rng(1).uniform(0, 10, 2)
        assert v.to_image(*v.to_view(x, y)) == pytest.approx((x, y))


def test_image_direction_follows_rotation():
    v = _view(cols=10, rows=10)
    assert v.image_direction(1, 0) == pytest.approx((0.025, 0))
    v.rotate(1)
    x, y = v.image_direction(1, 0)  # screen right is image up after a clockwise turn
    assert x == pytest.approx(0) and y < 0


def test_window_drag_scales_with_width():
    v = _view()
    v.drag_window(100, 0, (40, 400))
    assert (v.voi.center, v.voi.width) == (40, 600)
    v.drag_window(0, -100, (40, 80))
    assert v.voi.center == pytest.approx(0.0)
    v.drag_window(-10_000, 0, (40, 80))
    assert v.voi.width == 1.0


def test_a_top_inset_keeps_the_image_below_a_banner():
    v = _view(cols=100, rows=100, size=(400, 420))
    v.top_inset = 20
    assert v.zoom == pytest.approx(4.0)  # fitted into the 400 x 400 below the banner
    assert v.to_view(0, 0) == pytest.approx((0.0, 20.0))
    assert v.to_view(100, 100) == pytest.approx((400.0, 420.0))
    assert v.to_image(*v.to_view(37.0, 61.0)) == pytest.approx((37.0, 61.0))
    v.set_zoom(8.0)  # about the centre of the area below the banner
    assert v.to_view(50, 50) == pytest.approx((200.0, 220.0))
    v.show_area(0, 0, 50, 50)
    assert v.to_view(0, 0) == pytest.approx((0.0, 20.0))
