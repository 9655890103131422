"""Stack scrolling in a real viewport widget: frames per second, and what one frame costs by stage.

    .venv/bin/python -m bench.scroll [--frames 1000] [--size 1024] [--nearest]

A cached 500-slice 512 x 512 CT is opened in one viewport widget of
``--size`` x ``--size`` pixels (Qt offscreen).  Each frame is one wheel event
sent to the widget, handled by the viewer (next slice) and painted at once
(``repaint``): stored slice -> VOI LUT table -> QImage -> drawImage with the
view transform (bilinear unless ``--nearest``) -> overlays (corner text,
markers, scale bar).  Target: at least 60 frames/s sustained.

Two runs: over a fully read stack (sustained), and starting the moment the
study opens while the stack is still being read in the background (frames not
read yet are shown as "loading" and counted separately).
"""

from __future__ import annotations

import argparse
import time

from bench._viewer import application, cached_ct, remove_home, wheel


def _scroll(widget, frames: int) -> tuple[float, int]:
    """Scroll ``frames`` times (bouncing at the ends); returns (seconds, frames painted without an image)."""
    model = widget.model
    n = len(model)
    direction = -1  # towards the reader: next slice
    unloaded = 0
    t0 = time.perf_counter()
    for _ in range(frames):
        if (direction < 0 and model.index == n - 1) or (direction > 0 and model.index == 0):
            direction = -direction
        wheel(widget, direction)
        unloaded += not model.is_loaded()
        widget.repaint()
    return time.perf_counter() - t0, unloaded


def _stages(widget, repeats: int = 200) -> dict[str, float]:
    """Milliseconds per frame of each stage, measured one by one on the same widget."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter

    from workstation.ui.viewer.viewport_widget import qtransform

    model = widget.model
    n = len(model)
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    for i in range(repeats):
        model.pixels.image(i % n).sum()  # touch the slice's memory
    out["read stored slice (memory)"] = (time.perf_counter() - t0) / repeats * 1e3
    p = model.pipeline()
    window = model.current_window()
    t0 = time.perf_counter()
    for i in range(repeats):
        frame = model.display.render(p, model.pixels.image(i % n), window)
    out["VOI LUT -> 32-bit pixels"] = (time.perf_counter() - t0) / repeats * 1e3
    h, w = frame.pixels.shape
    t0 = time.perf_counter()
    for _ in range(repeats):
        image = QImage(frame.pixels.data, w, h, 4 * w, QImage.Format.Format_RGB32)
    out["QImage (no copy)"] = (time.perf_counter() - t0) / repeats * 1e3
    target = QImage(widget.width(), widget.height(), QImage.Format.Format_RGB32)
    t0 = time.perf_counter()
    for _ in range(repeats):
        painter = QPainter(target)
        painter.setTransform(qtransform(model.view.matrix()))
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, widget.smooth)
        painter.drawImage(QPointF(0, 0), image)
        painter.end()
    out["drawImage scaled"] = (time.perf_counter() - t0) / repeats * 1e3
    t0 = time.perf_counter()
    for i in range(repeats):
        model.set_index(i % n)
        widget.repaint()
    total = (time.perf_counter() - t0) / repeats * 1e3
    out["whole repaint (incl. overlays)"] = total
    out["overlays and the rest"] = total - sum(v for k, v in out.items() if k != "whole repaint (incl. overlays)")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--nearest", action="store_true", help="nearest neighbour instead of bilinear")
    args = ap.parse_args()
    app = application()
    from workstation.session.reading import ReadingSession
    from workstation.ui.viewer.viewport_widget import ViewportWidget

    cache, study_uid, home = cached_ct()
    try:
        session = ReadingSession(cache)
        widget = ViewportWidget(session, 0)
        widget.smooth = not args.nearest
        widget.resize(args.size, args.size)
        widget.show()
        app.processEvents()
        # Cold: scroll from the moment the study opens while it is still being read.
        session.open_study(study_uid)
        cold_s, cold_unloaded = _scroll(widget, min(args.frames, 300))
        loader = session.display_sets[0].loader
        loader.join(120)
        widget.model.set_index(0)
        _scroll(widget, 50)  # warm-up: tables built, caches hot
        secs, _ = _scroll(widget, args.frames)
        stages = _stages(widget)
        fps = args.frames / secs
        stack = widget.model.stack
        rows, cols = stack.frames[0].rows, stack.frames[0].columns
        print(f"stack scroll, {len(stack)} slices {cols}x{rows} in a {args.size}x{args.size} viewport, "
              f"{'nearest' if args.nearest else 'bilinear'}, Qt offscreen:")
        print(f"  sustained (stack read): {args.frames} frames in {secs:.2f} s -> {fps:.0f} frames/s "
              f"({secs / args.frames * 1e3:.2f} ms/frame)")
        cold_frames = min(args.frames, 300)
        print(f"  while reading in the background: {cold_frames} frames in {cold_s:.2f} s -> "
              f"{cold_frames / cold_s:.0f} frames/s, {cold_unloaded} painted as 'loading'")
        print("  one frame by stage (ms):")
        for name, ms in stages.items():
            print(f"    {name:32s} {ms:6.2f}")
        print(f"  zoom {widget.model.view.zoom:.2f}; target >= 60 frames/s -> "
              f"{'met' if fps >= 60 else 'NOT met'}")
        session.close()
        widget.close()
    finally:
        remove_home(cache, home)


if __name__ == "__main__":
    main()
