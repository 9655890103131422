"""From "open study" to the first image painted, for a cached 500-slice CT; and the memory it then holds.

    .venv/bin/python -m bench.first_image [--runs 5]

Each run builds a new viewer (Qt offscreen, 1600 x 1000), opens the study
and measures until the first viewport has painted its first image; then how
long the background reader takes for the rest, and that scrolling at once
works over the slices already read (the others are marked as loading).
Target: first image at most 200 ms.

Memory: resident size growth of the process once the 500 slices are read
and each has been shown once, against their raw size (500 x 512 x 512 x 2 bytes).  Target: at most 1.3x.
"""

from __future__ import annotations

import argparse
import gc
import time

from bench._ctseries import median
from bench._ctseries import rss_bytes
from bench._viewer import application, cached_ct, remove_home


def _one_run(app, cache, study_uid: str) -> dict:
    from workstation.ui.viewer.viewer import ViewerWidget

    viewer = ViewerWidget(cache)
    viewer.resize(1600, 1000)
    viewer.show()
    app.processEvents()
    painted: list[float] = []
    viewer.first_image_painted.connect(painted.append)
    gc.collect()
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    viewer.open_study(study_uid)
    while not painted and time.perf_counter() - t0 < 30:
        app.processEvents()
    first = time.perf_counter() - t0
    w = viewer.viewports[0]
    pixels = w.model.pixels
    loaded_at_first = pixels.count_loaded
    # Scroll at once, 30 slices: count those shown versus marked as loading.
    shown = 0
    for _ in range(30):
        w.model.scroll(1)
        w.repaint()
        shown += w.model.is_loaded()
    loader = viewer.session.display_sets[0].loader
    loader.join(120)
    all_read = time.perf_counter() - t0
    # Memory as read: after the whole series has been looked at once (display caches at their fullest).
    for _ in range(len(pixels)):
        w.model.scroll(1)
        w.repaint()
    app.processEvents()
    gc.collect()
    grown = rss_bytes() - rss0
    raw = pixels.volume.nbytes if pixels.volume is not None else pixels.nbytes
    result = dict(first=first, signal=painted[0] if painted else float("nan"), all_read=all_read,
                  loaded_at_first=loaded_at_first, shown=shown, grown=grown, raw=raw, n=len(pixels))
    viewer.shutdown()
    viewer.close()
    viewer.deleteLater()
    app.processEvents()
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    app = application()
    cache, study_uid, home = cached_ct()
    try:
        results = [_one_run(app, cache, study_uid) for _ in range(args.runs)]
    finally:
        remove_home(cache, home)
    firsts = [r["first"] * 1e3 for r in results]
    r0 = results[0]
    print(f"open study -> first image painted, {r0['n']}-slice 512x512 CT cached, median of {args.runs}:")
    print(f"  first image: {median(firsts):.0f} ms (runs: {', '.join(f'{x:.0f}' for x in firsts)} ms); "
          f"target <= 200 ms -> {'met' if median(firsts) <= 200 else 'NOT met'}")
    print(f"  whole series read in the background after: "
          f"{median([r['all_read'] for r in results]):.2f} s")
    print(f"  slices read when the first image showed: {median([r['loaded_at_first'] for r in results]):.0f}; "
          f"scrolling 30 slices at once showed {median([r['shown'] for r in results]):.0f} images "
          f"(the rest marked loading)")
    # Memory: the first run grows the most (later runs reuse freed pages).
    ratio = r0["grown"] / r0["raw"]
    print(f"  memory: resident size grew {r0['grown'] / 2**20:.0f} MiB for {r0['raw'] / 2**20:.0f} MiB of raw "
          f"pixels -> {ratio:.2f}x; target <= 1.3x -> {'met' if ratio <= 1.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
