"""Shared set-up of the viewer benchmarks: the 500-slice CT in a fresh cache, Qt offscreen."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench._ctseries import ct_series, fresh_home  # noqa: E402
from workstation.store.cache import StudyCache  # noqa: E402
from workstation.store.importer import import_paths  # noqa: E402


def cached_ct(n: int = 500) -> tuple[StudyCache, str, Path]:
    """A fresh cache holding the benchmark CT; returns (cache, Study Instance UID, home to remove)."""
    folder = ct_series(n)
    for p in folder.iterdir():  # warm the page cache: the figures are about Lightbox, not the disk
        p.read_bytes()
    home = fresh_home()
    cache = StudyCache(home / "index.sqlite", home / "cache")
    summary = import_paths(cache, [folder])
    assert summary.imported == n, summary.as_dict()
    for row in cache.instances(cache.series(cache.studies()[0].study_uid)[0].series_uid):
        cache.path_of(row).read_bytes()
    return cache, cache.studies()[0].study_uid, home


def remove_home(cache: StudyCache, home: Path) -> None:
    cache.close()
    shutil.rmtree(home, ignore_errors=True)


def wheel(widget, notches: int) -> None:
    """Send one wheel event of ``notches`` steps (negative: towards the reader) to the widget's centre."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    at = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(at, at, QPoint(0, 0), QPoint(0, 120 * notches), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def application():
    from workstation.ui.app import application as app

    return app()
