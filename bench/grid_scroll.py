"""Linked scroll in a 4 x 4 layout: frames per second with all 16 viewports painted each frame.

    .venv/bin/python -m bench.grid_scroll [--frames 120] [--grid 4 | --layouts 4x4,2x2,1x2] [--profile]
                                          [--series many|one|both] [--source DIR]

Each frame is one wheel event on the active viewport of a ``--grid`` x
``--grid`` layout of the real viewer widget (1920 x 1080, Qt offscreen), scroll
linking on, the other viewports following by patient position (the linking
code), then every viewport repainted (``repaint`` of the grid: image, reference
lines, corner text).  A frame counts once all of them are painted, so the
figure is frames/s *in every viewport at once*.  Target: at least 60.

``--series many`` (the reader's case): one study of sixteen axial CT series of
100 slices 512 x 512, each with its own slice spacing (2.0 to 3.5 mm), first
position, stored window, rescale and pixels, one series per viewport, linked by
position: every viewport renders its own frame and draws its own text.  A
follower of coarser spacing whose nearest slice did not change is not repainted
(nothing on it changed), so the viewport paints per frame are printed too.
``--series one``: the cached 500-slice CT in every viewport; what is shared
between viewports showing the same frame (its pixel pipeline, the drawn text of
a line) is made once per frame, which flatters the figure.  ``both`` (the
default) measures the two in the same run.

``--layouts`` measures several layouts (rows x columns) one after the other in
the same run, each in a fresh viewer, and ends with a table of them.
``--profile`` runs the same frames under cProfile and prints the top
functions by cumulative time (where a frame's time goes).  ``--source DIR``
imports the package from another checkout (the code before a change, in the
same run as after).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

from bench._source import load_note, use_source_from_argv

SOURCE = use_source_from_argv()  # --source DIR: another checkout of the package (before/after)

from bench._viewer import application, cached_ct, cached_study, remove_home, wheel  # noqa: E402

TARGET_FPS = 60.0
_CPU = [0.0]  # the last _scroll's GUI-thread CPU seconds (wall time also counts other processes' load)


def _scroll(viewer, frames: int) -> tuple[float, int]:
    """``frames`` linked scroll steps, every visible viewport painted each time; (seconds, paints)."""
    from PySide6.QtWidgets import QApplication

    active = viewer.viewports[0]
    shown = viewer.viewports[: len(viewer.session.visible)]
    n = len(active.model)
    direction = -1
    before = sum(w.paint_count for w in shown)
    cpu0 = time.thread_time()
    t0 = time.perf_counter()
    for _ in range(frames):
        if (direction < 0 and active.model.index >= n - 1) or (direction > 0 and active.model.index <= 0):
            direction = -direction
        wheel(active, direction)
        viewer.grid_host.repaint()
        QApplication.processEvents()  # timers and posted events run between frames, as in the event loop
    secs = time.perf_counter() - t0
    _CPU[0] = time.thread_time() - cpu0  # the GUI thread's CPU seconds
    return secs, sum(w.paint_count for w in shown) - before


def _layouts(args: argparse.Namespace) -> list[tuple[int, int]]:
    if not args.layouts:
        return [(args.grid, args.grid)]
    out = []
    for text in args.layouts.split(","):
        rows, _, cols = text.strip().lower().partition("x")
        out.append((int(rows), int(cols)))
    return out


def _in_step(active, followers) -> bool:
    """Every follower shows the frame of its series nearest the active viewport's (linking by position)."""
    from workstation.imaging.cross_reference import matching_index

    for w in followers:
        target = matching_index(active.model.stack, active.model.index, w.model.stack)
        if target is not None and target != w.model.index:
            return False
    return True


def _measure(app, cache, study_uid: str, rows: int, cols: int, args: argparse.Namespace,
             many: bool) -> tuple[float, float]:
    """One layout's figures, printed; returns (frames/s, GUI-thread frames/s)."""
    from workstation.ui.viewer.viewer import ViewerWidget

    viewer = ViewerWidget(cache)
    try:
        viewer.resize(1920, 1080)
        viewer.show()
        viewer.open_study(study_uid)
        session = viewer.session
        viewer.set_grid(rows, cols)
        shown_sets = [session.display_sets[i % len(session.display_sets) if many else 0] for i in range(rows * cols)]
        for i, ds in enumerate(shown_sets):
            session.show(ds, i, 0)
        for ds in shown_sets:
            ds.loader.resume()
        for ds in shown_sets:
            ds.loader.join(120)
        viewer.set_link_scroll(True)
        for _ in range(5):
            app.processEvents()
        shown = viewer.viewports[: len(session.visible)]
        followers = [w for w in shown[1:] if w.model.stack is not None]
        _scroll(viewer, 10)  # warm-up: LUT tables and QImages made
        secs, paints = _scroll(viewer, args.frames)
        fps = args.frames / secs
        w0 = shown[0]
        in_step = _in_step(w0, followers)
        what = (f"{len({id(w.model.stack) for w in shown})} different series of {len(w0.model)} slices"
                if many else f"one series of {len(w0.model)} slices in all")
        print(f"linked scroll, {rows}x{cols} layout of {len(shown)} viewports "
              f"({w0.width()}x{w0.height()} each) in a 1920x1080 viewer, {what}, 512x512, "
              "Qt offscreen" + (f", package from {SOURCE}" if SOURCE else "") + load_note() + ":")
        print(f"  {args.frames} frames, {paints} viewport paints ({paints / args.frames:.1f} a frame) in {secs:.2f} s"
              f" -> {fps:.1f} frames/s "
              f"in all {len(shown)} viewports ({secs / args.frames * 1e3:.1f} ms/frame); followers in step: "
              f"{in_step}")
        cpu = _CPU[0]
        print(f"  GUI thread CPU {cpu / args.frames * 1e3:.1f} ms/frame -> {args.frames / cpu:.1f} frames/s "
              "if the machine were otherwise idle")
        print(f"  ratio to target {TARGET_FPS:.0f} frames/s: {fps / TARGET_FPS:.2f} -> "
              f"{'met' if fps >= TARGET_FPS else 'NOT met'}")
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            _scroll(viewer, args.frames)
            prof.disable()
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
            print(out.getvalue())
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(20)
            print(out.getvalue())
        return fps, args.frames / cpu
    finally:
        viewer.shutdown()
        viewer.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--grid", type=int, default=4)
    ap.add_argument("--layouts", default="", help="layouts measured in turn, e.g. 4x4,2x2,1x2 (default: --grid)")
    ap.add_argument("--profile", action="store_true", help="print where a frame's time goes (cProfile)")
    ap.add_argument("--series", choices=("many", "one", "both"), default="both",
                    help="a different series in every viewport, the same one everywhere, or both in turn")
    args = ap.parse_args()
    app = application()
    figures = []
    for many in ((True, False) if args.series == "both" else (args.series == "many",)):
        cache, study_uid, home = cached_study() if many else cached_ct()
        try:
            figures += [("different" if many else "same", rows, cols,
                         *_measure(app, cache, study_uid, rows, cols, args, many)) for rows, cols in _layouts(args)]
        finally:
            remove_home(cache, home)
    if len(figures) > 1:
        print("series     layout  frames/s  (GUI thread alone)  target " + f"{TARGET_FPS:.0f}")
        for kind, rows, cols, fps, cpu_fps in figures:
            print(f"{kind:<10} {rows}x{cols:<5} {fps:8.1f}  ({cpu_fps:8.1f})         "
                  f"{'met' if fps >= TARGET_FPS else 'NOT met'}")


if __name__ == "__main__":
    main()
