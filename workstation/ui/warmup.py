"""Work kept out of the reader's wait: once-per-process warm-up while the window idles, and work after the images.

The first study opened in a process used to cost twice what the next ones
did: the first overlay text drawn builds its glyphs, the first grey table
and the first ``numpy`` linear algebra call initialise their code, the
report form's widgets are polished for the first time, the protocols are
parsed, and the garbage collector's first full pass walks every object the
start-up made.  :func:`schedule_warmup` does that once per process in the idle time
after the window is shown (a zero timer per step, so a click or a key
between two steps is served first), before the reader opens anything; a
study opened meanwhile simply finds the rest not warmed yet.

:func:`after_images` runs work a study's open needs but the reader does not
wait for (the report panel's form) once the viewer has painted the study's
first image, so it no longer delays that image.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QColor, QImage, QPainter

log = logging.getLogger(__name__)

#: Work waiting for the first image runs after this long even when no image gets painted (an empty study, the
#: study already open activated again).
AFTER_IMAGES_FALLBACK_MS = 500
#: Text an overlay shows, so its glyphs are drawn before the first study needs them.
_OVERLAY_TEXT = (
    "0123456789 .,:;-+/()%[]<>=#", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz",
    "Im: 1/200  Se: 2  W: 1500 L: -600  Z: 1.00  T: 1.25 mm  Loc: -120.50 mm",
)
#: The orientation markers at the viewports' edges (one letter, or two for a tilted edge).
_MARKER_TEXT = tuple("APRLHFSI") + ("AR", "AL", "PR", "PL", "AH", "AF", "PH", "PF", "RH", "RF", "LH", "LF")


def after_images(viewer, work: Callable[[], None], *, fallback_ms: int = AFTER_IMAGES_FALLBACK_MS) -> None:
    """Run ``work`` once the viewer has painted the first image of the study it opened (or after ``fallback_ms``).

    It runs from a zero timer after that paint, so every viewport painted in the same pass is on
    screen first; once at most, on the GUI thread.
    """
    state = {"done": False}

    def run() -> None:
        if state["done"]:
            return
        state["done"] = True
        with contextlib.suppress(RuntimeError, TypeError):  # already gone (the viewer was deleted)
            viewer.first_image_painted.disconnect(on_painted)
        work()

    def on_painted(_seconds: float) -> None:
        QTimer.singleShot(0, viewer, run)

    viewer.first_image_painted.connect(on_painted)
    QTimer.singleShot(fallback_ms, viewer, run)


def _numpy() -> None:
    # The first call of each (BLAS set-up, ufunc loops) costs milliseconds; the geometry of a study's
    # first paint (orientation letters, reference lines, stack order) makes all of these.
    a = np.eye(3)
    v = np.array([0.0, 0.6, 0.8])
    np.dot(a, v)
    _ = a @ v
    np.linalg.norm(v)
    np.cross(v, a[0])
    np.einsum("ij,ij->i", a, a)
    np.argsort(v, kind="stable")
    np.searchsorted(v, 0.5)
    np.corrcoef(v, v[::-1])
    np.take(np.arange(16, dtype=np.uint32), np.arange(4, dtype=np.uint16))


def _grey_tables() -> None:
    # The display chain of a CT frame with a window: pipeline, tables and look-up, on a tiny frame.
    from pydicom.dataset import Dataset

    from workstation.imaging.frame_display import FrameDisplay
    from workstation.imaging.pipeline import FramePipeline, Window

    ds = Dataset()
    ds.Modality = "CT"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.Rows = ds.Columns = 8
    pipeline = FramePipeline.from_dataset(ds)
    stored = np.arange(64, dtype=np.int16).reshape(8, 8)
    display = FrameDisplay()
    display.render(pipeline, stored, Window(40.0, 400.0))
    display.render_sampled(pipeline, stored, Window(-600.0, 1500.0), np.arange(4), np.arange(4))


def _overlay_text(size: float, bold: bool, marker: bool) -> Callable[[], None]:
    """Draw the overlay's characters once in one of its fonts (the glyph and line caches keep them)."""
    def draw() -> None:
        from workstation.ui.viewer import overlay

        color = overlay.MARKER_COLOR if marker else overlay.TEXT_COLOR
        image = QImage(640, 48, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(QColor(0, 0, 0))
        p = QPainter(image)
        try:
            p.setFont(overlay.overlay_font(size, bold))
            texts = _MARKER_TEXT if marker else _OVERLAY_TEXT
            for text in texts:
                overlay.shadowed_text(p, 4, 32, text, color)
        finally:
            p.end()
    return draw


def _protocols(home) -> Callable[[], None]:
    def read() -> None:
        from workstation.hanging.library import ProtocolLibrary

        ProtocolLibrary.load(home)
    return read


def _report_form() -> None:
    # The form's widgets (group boxes, text editors) are polished by the style the first time one is
    # made; a form built once, off screen, makes the report panel's first form cost what the next ones do.
    from workstation.reporting.templates import template_for_modalities
    from workstation.ui.report_form import ReportForm

    form = ReportForm()
    try:
        form.set_template(template_for_modalities("CT"), {})
    finally:
        form.deleteLater()


def warmup_steps(window) -> list[tuple[str, Callable[[], None]]]:
    """The warm-up of this process for ``window``: (name, step), each short (a few to tens of ms)."""
    steps: list[tuple[str, Callable[[], None]]] = [
        ("numpy", _numpy),
        ("grey tables", _grey_tables),
        ("overlay text", _overlay_text(10.0, False, False)),
        ("orientation markers", _overlay_text(13.0, True, True)),
        ("scale bar text", _overlay_text(9.0, False, False)),
    ]
    home = getattr(getattr(window, "hanging", None), "home", None)
    if home is not None:
        steps.append(("hanging protocols", _protocols(home)))
    if getattr(window, "report_panel", None) is not None:
        steps.append(("report form", _report_form))
    steps.append(("garbage collector", _freeze_startup_objects))
    return steps


def _freeze_startup_objects() -> None:
    # What exists once the window is up (modules, widgets, caches) lives as long as the process: left in the
    # collector's oldest generation it made each full collection walk ~90,000 objects, 0.1-0.2 s on this
    # machine, once landing in the middle of the first study's open.  Frozen, full collections skip them.
    # Young garbage is collected first (cheap); cyclic garbage left among the frozen is never freed, once.
    gc.collect(1)
    gc.freeze()


_warmed: set[str] = set()
#: Seconds each warm-up step took in this process, by name (what a benchmark reports beside the open).
timings: dict[str, float] = {}
_running: list[int] = [0]  # steps scheduled and not run yet


def warming() -> bool:
    """True while warm-up steps are still to run (a benchmark waits for them as a reader's first look would)."""
    return _running[0] > 0


def schedule_warmup(window: QObject, steps: list[tuple[str, Callable[[], None]]] | None = None) -> list[str]:
    """Run the warm-up steps not yet run in this process, one per zero timer, on the GUI thread.

    Parameters
    ----------
    window : QObject
        The main window; the steps stop when it is deleted.
    steps : list of (name, callable), optional
        Default :func:`warmup_steps` of ``window``.

    Returns
    -------
    list of str
        The names of the steps scheduled.  A step that fails is logged and skipped: it only
        leaves its first use as slow as it was.
    """
    todo = [(name, step) for name, step in (warmup_steps(window) if steps is None else steps) if name not in _warmed]

    left = [len(todo)]  # this window's steps not run yet
    running, warmed, took = _running, _warmed, timings

    def run(i: int) -> None:
        name, step = todo[i]
        try:
            if name not in warmed:  # another window of this process may have run it meanwhile
                warmed.add(name)
                started = time.perf_counter()
                try:
                    step()
                except Exception:  # noqa: BLE001 - a warm-up step never matters more than the window
                    log.exception("warm-up step %s failed", name)
                took[name] = time.perf_counter() - started
                log.debug("warm-up %s: %.1f ms", name, took[name] * 1e3)
        finally:
            left[0] -= 1
            running[0] -= 1
        if i + 1 < len(todo):
            QTimer.singleShot(0, window, lambda: run(i + 1))

    def cancelled(*_args: object) -> None:
        # The window went before its steps ran (its timers with it): they are no longer waited for.
        running[0] -= left[0]
        left[0] = 0

    if todo:
        running[0] += len(todo)
        window.destroyed.connect(cancelled)
        QTimer.singleShot(0, window, lambda: run(0))
    return [name for name, _step in todo]
