"""Shared set-up of the viewer benchmarks: the 500-slice CT (or a study of many CT series) in a fresh cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench._ctseries import DATA, _template, _uid, ct_series, fresh_home  # noqa: E402
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


def study_series(count: int = 16, n: int = 100) -> Path:
    """The folder of a study of ``count`` axial CT series of ``n`` slices each (made once, reused).

    One study, one Frame of Reference, as a reader's hanging of several reconstructions and
    phases: each series has its own slice spacing (2.0 to 3.5 mm) and first position (offsets
    of a fraction of a millimetre), its own stored window and rescale intercept and its own
    pixels, so that nothing drawn for one viewport can be reused by another.
    """
    import copy

    import numpy as np

    folder = DATA / f"study{count}x{n}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[-256:256, -256:256].astype(np.float32)
    body = ((xx / 220) ** 2 + (yy / 160) ** 2) <= 1
    lungs = (((xx - 90) / 70) ** 2 + (yy / 100) ** 2 <= 1) | (((xx + 90) / 70) ** 2 + (yy / 100) ** 2 <= 1)
    windows = [(40, 400), (-600, 1500), (300, 1500), (50, 350), (60, 160), (-500, 1400), (400, 1800), (35, 80)]
    for k in range(count):
        tpl = _template(_uid(900001), _uid(910000 + k), _uid(900003))
        tpl.SeriesNumber = k + 1
        tpl.SeriesDescription = f"Chest {k + 1} recon"
        spacing = 2.0 + 0.1 * k
        tpl.SliceThickness = spacing
        tpl.WindowCenter, tpl.WindowWidth = windows[k % len(windows)]
        tpl.RescaleIntercept = -1024 - 8 * k
        rng = np.random.default_rng(100 + k)
        base = np.where(body, 1024 + 8 * k + 40, 8 * k) + np.where(lungs & body, -850 + 5 * k, 0)
        for i in range(n):
            ds = copy.deepcopy(tpl)
            sop = _uid(1_000_000 + 1000 * k + i)
            ds.SOPInstanceUID = sop
            ds.file_meta.MediaStorageSOPInstanceUID = sop
            ds.InstanceNumber = i + 1
            z = -150.0 + 0.137 * k + i * spacing
            ds.ImagePositionPatient = [-179.0, -179.0, z]
            ds.SliceLocation = z
            img = base + rng.integers(-20, 20, size=base.shape)
            ds.PixelData = img.astype("<i2").tobytes()
            ds.save_as(folder / f"S{k:02d}_{i:04d}.dcm", enforce_file_format=True)
    done.write_text("done\n")
    return folder


def cached_study(count: int = 16, n: int = 100) -> tuple[StudyCache, str, Path]:
    """A fresh cache holding :func:`study_series`; returns (cache, Study Instance UID, home to remove)."""
    folder = study_series(count, n)
    for p in folder.iterdir():  # warm the page cache
        p.read_bytes()
    home = fresh_home()
    cache = StudyCache(home / "index.sqlite", home / "cache")
    summary = import_paths(cache, [folder])
    assert summary.imported == count * n, summary.as_dict()
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
