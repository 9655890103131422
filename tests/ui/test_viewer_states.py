"""Presentation states and key images from the viewer's toolbar and series strip, with real input."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.viewer_helpers import drag, open_viewer, view_point_of
from tests.viewer_phantom import phantom_study
from workstation.imaging.annotation_layer import Kind
from workstation.imaging.interaction import Tool
from workstation.ui.viewer.series_strip import ROLE_KIND, ROLE_UID


@pytest.fixture
def viewer(qtbot, cache, tmp_path):
    v = open_viewer(qtbot, cache, phantom_study(cache, tmp_path / "phantom", 5))
    v.ask_description = lambda what: "follow-up"
    yield v
    v.shutdown()


def _children(item):
    return [(item.child(k).data(0, ROLE_KIND), item.child(k).data(0, ROLE_UID), item.child(k).text(0))
            for k in range(item.childCount())]


def _double_click(qtbot, tree, item):
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    # A click first: Qt's item views take a double click only on the item the press chose.
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_save_a_view_then_apply_it_from_the_strip(qtbot, cache, viewer):
    w = viewer.viewports[0]
    viewer.set_tool(Tool.LENGTH)
    drag(w, view_point_of(w, 20.5, 40.5), view_point_of(w, 40.5, 40.5))
    qtbot.keyClick(w, Qt.Key.Key_R)
    qtbot.keyClick(w, Qt.Key.Key_4)  # lung window
    messages = []
    viewer.message.connect(messages.append)
    viewer.toolbar.save_state_action.trigger()
    assert messages[-1] == "Presentation state saved"
    series_item = next(iter(viewer.strip.series_items.values()))
    (kind, uid, label), = _children(series_item)
    assert kind == "PR" and "follow-up" in label
    assert cache.instance(uid) is not None
    # Back to the plain view, measurements gone; the strip brings it all back.
    viewer.toolbar.reset_action.trigger()
    viewer.session.annotations.clear()
    assert w.model.view.rotation == 0
    _double_click(qtbot, viewer.strip, series_item.child(0))
    assert messages[-1] == "Presentation state applied"
    assert w.model.view.rotation == 1
    assert (w.model.current_window().center, w.model.current_window().width) == (-600, 1500)
    (a,) = list(viewer.session.annotations)
    assert a.kind is Kind.LENGTH and a.values["length"] == pytest.approx(10.0, abs=0.5)
    w.repaint()  # paints with the state applied


def test_key_images_saved_and_shown_as_their_own_display_set(qtbot, viewer):
    w = viewer.viewports[0]
    qtbot.keyClick(w, Qt.Key.Key_K)
    qtbot.keyClick(w, Qt.Key.Key_End)
    qtbot.keyClick(w, Qt.Key.Key_K)
    viewer.toolbar.save_key_images_action.trigger()
    strip = viewer.strip
    labels = [strip.topLevelItem(0).child(k).text(0) for k in range(strip.topLevelItem(0).childCount())]
    assert any(text.startswith("Key images: Of Interest (follow-up)") for text in labels)
    key_item = next(item for item in strip.series_items.values() if item.text(0).startswith("Key images"))
    _double_click(qtbot, strip, key_item)
    assert w.model.display_set.label.startswith("Key images")
    assert len(w.model) == 2
    qtbot.waitUntil(lambda: w.model.render() is not None, timeout=10_000)
    assert [f.instance_number for f in w.model.stack.frames] == [1, 5]


def test_saving_without_key_images_says_so(viewer):
    messages = []
    viewer.message.connect(messages.append)
    viewer.toolbar.save_key_images_action.trigger()
    assert messages == ["No key images are marked (K marks the image shown)"]
