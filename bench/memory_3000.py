"""Memory of a 3,000-slice thin CT (0.625 mm, 512 x 512) scrolled end to end, against the raw pixel bytes.

    .venv/bin/python -m bench.memory_3000 [--slices 3000] [--no-volume] [--source DIR]

The series (made once under bench/.data, 1.5 GB) is imported into a fresh
cache and opened in one viewport widget (Qt offscreen, 1024 x 1024) of a
reading session; every slice is shown and painted once, first to last.  The
figure is the growth of the process's resident memory over what it was before
the study was opened, divided by the raw pixel bytes (slices x rows x columns x
2).  Target: at most 1.3x (moonshot 1.15x).

Then (unless ``--no-volume``) the same series as the MPR volume and the full 3D
volume with its ray caster's gradients, as the MPR and 3D window makes them
(the MPR volume is the 2D viewer's array): growth over the same baseline, against
the raw bytes.  Target: at most 2.5x.
"""

from __future__ import annotations

import argparse
import gc
import time

from bench._source import use_source_from_argv

SOURCE = use_source_from_argv()  # --source DIR: another checkout of the package (before/after)

from bench._ctseries import rss_bytes  # noqa: E402
from bench._viewer import application, remove_home  # noqa: E402

TARGET_2D = 1.3
TARGET_VOLUME = 2.5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=3000)
    ap.add_argument("--no-volume", action="store_true")
    args = ap.parse_args()
    app = application()
    from bench._ctseries import ct_series, fresh_home
    from workstation.session.reading import ReadingSession
    from workstation.store.cache import StudyCache
    from workstation.store.importer import import_paths
    from workstation.ui.viewer.viewport_widget import ViewportWidget

    t0 = time.perf_counter()
    folder = ct_series(args.slices, spacing=0.625)
    made = time.perf_counter() - t0
    home = fresh_home()
    cache = StudyCache(home / "index.sqlite", home / "cache")
    try:
        summary = import_paths(cache, [folder])
        assert summary.imported == args.slices, summary.as_dict()
        study_uid = cache.studies()[0].study_uid
        session = ReadingSession(cache)
        widget = ViewportWidget(session, 0)
        widget.resize(1024, 1024)
        widget.show()
        app.processEvents()
        gc.collect()
        baseline = rss_bytes()
        session.open_study(study_uid)
        model = widget.model
        n = len(model)
        raw = n * model.stack.frames[0].rows * model.stack.frames[0].columns * 2
        t1 = time.perf_counter()
        slow = []
        for i in range(n):
            model.set_index(i)
            model.pixels.load(i)  # the frame itself if the background reader has not reached it yet
            t = time.perf_counter()
            widget.repaint()
            slow.append(time.perf_counter() - t)
        scroll_s = time.perf_counter() - t1
        loader = session.display_sets[0].loader
        loader.join(300)
        gc.collect()
        after_2d = rss_bytes() - baseline
        first, last = slow[: n // 10], slow[-(n // 10):]
        print(f"{n} slices {model.stack.frames[0].columns}x{model.stack.frames[0].rows} at 0.625 mm "
              f"(series made in {made:.0f} s), one 1024x1024 viewport, Qt offscreen:")
        print(f"  scrolled end to end in {scroll_s:.1f} s; paint {sum(first) / len(first) * 1e3:.1f} ms/frame over the "
              f"first tenth, {sum(last) / len(last) * 1e3:.1f} ms over the last (no slowdown when equal)")
        print(f"  2D: resident memory grew {after_2d / 2**20:.0f} MiB for {raw / 2**20:.0f} MiB of raw pixels -> "
              f"{after_2d / raw:.2f}x raw; target {TARGET_2D}x -> "
              f"{'met' if after_2d / raw <= TARGET_2D else 'NOT met'}")
        if not args.no_volume:
            from workstation.model.series_volume import load_series_volume
            from workstation.volume3d.mpr_controller import MprController
            from workstation.volume3d.offscreen import default_window
            from workstation.volume3d.presets import load_preset

            series_uid = session.display_sets[0].series_uid
            volume = load_series_volume(cache, series_uid)
            controller = MprController(volume, default_window(volume))
            controller.refresh()
            try:
                from workstation.volume3d.prepare3d import prepare_full
            except ImportError:  # a checkout from before it: the 3D scene computes its gradients when rendered
                from workstation.volume3d.rendering import offscreen_window
                from workstation.volume3d.scene3d import VolumeScene

                prepared = VolumeScene(volume, mapper="cpu")
                window = offscreen_window(8, 8)
                prepared.attach(window)
                prepared.apply_preset(load_preset("ct-bone"))
                window.Render()
            else:
                prepared = prepare_full(volume, "cpu", load_preset("ct-bone"))
            gc.collect()
            after_volume = rss_bytes() - baseline
            z, y, x = prepared.volume.array.shape
            print(f"  MPR + 3D ({x}x{y}x{z} for 3D, gradients computed): resident memory grew "
                  f"{after_volume / 2**20:.0f} MiB -> {after_volume / raw:.2f}x raw; target {TARGET_VOLUME}x -> "
                  f"{'met' if after_volume / raw <= TARGET_VOLUME else 'NOT met'}")
            del prepared, controller, volume
        session.close()
        widget.close()
    finally:
        remove_home(cache, home)


if __name__ == "__main__":
    main()
