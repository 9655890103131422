"""Help > About and the window placement per monitor, on a real main window."""

from __future__ import annotations

from workstation import __version__
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui.about import about_text, component_versions
from workstation.ui.main_window import MainWindow
from workstation.ui.window_placement import current_screens


def test_about_text_names_version_and_components():
    text = about_text("/somewhere")
    assert f"Lightbox {__version__}" in text and "/somewhere" in text
    assert all(version != "not found" for _label, version in component_versions())


def test_help_menu_opens_about(qtbot, lightbox_home):
    cache = StudyCache.open(Home.single(lightbox_home))
    window = MainWindow(cache, poll_interval_ms=10_000)
    qtbot.addWidget(window)
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Help" in titles
    window.about_action.trigger()
    assert window.about_box.isVisible() and __version__ in window.about_box.text()
    window.about_box.close()
    window.close()
    cache.close()


def test_placement_remembered_at_close_and_restored(qtbot, lightbox_home):
    assert current_screens(), "Qt reports at least one screen"
    path = lightbox_home / "window_placement.json"
    cache = StudyCache.open(Home.single(lightbox_home))
    window = MainWindow(cache, poll_interval_ms=10_000)
    qtbot.addWidget(window)
    window.use_placement_file(path)
    window.setGeometry(40, 50, 700, 500)
    window.close()
    assert path.exists()
    again = MainWindow(cache, poll_interval_ms=10_000)
    qtbot.addWidget(again)
    again.use_placement_file(path)
    g = again.geometry()
    assert (g.width(), g.height()) == (700, 500)
    again.close()
    cache.close()
