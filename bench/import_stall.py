"""The main window while it imports: the longest event-loop stall during a background import.

    .venv/bin/python -m bench.import_stall [--slices 500]

The benchmark CT (``--slices`` slices of 512 x 512, bench._ctseries) is imported
into a fresh cache through the main window's own import (``start_import``: a
worker thread, the importer's worker processes for the parsing), Qt offscreen,
while a 10 ms timer runs.  Its largest gap between two ticks is the longest
time the window could not answer.  Target: at most 0.5 s (the bound the GUI
test once asserted; the test now checks deterministically that the import runs
off the GUI thread, and the figure lives here).
"""

from __future__ import annotations

import argparse
import time

from bench._ctseries import ct_series, fresh_home
from bench._viewer import application, remove_home

TARGET_STALL_S = 0.5


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=500)
    args = ap.parse_args()
    app = application()
    from bench._volume_open import StallMeter
    from workstation.store.cache import StudyCache
    from workstation.ui.main_window import MainWindow

    folder = ct_series(args.slices)
    for p in folder.iterdir():  # warm the page cache: the figure is about the window, not the disk
        p.read_bytes()
    home = fresh_home()
    cache = StudyCache(home / "index.sqlite", home / "cache")
    window = None
    try:
        window = MainWindow(cache, poll_interval_ms=100)
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        done = []
        window.imports.finished.connect(done.append)
        meter = StallMeter()
        meter.start()
        t0 = time.perf_counter()
        assert window.start_import([folder])
        deadline = t0 + 600  # bounded: a broken import ends the run instead of hanging it
        while not done and time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.002)
        secs = time.perf_counter() - t0
        stall = meter.stop()
        if not done:
            raise SystemExit("the import did not finish within 600 s")
        summary = done[0]
        print(f"background import of {summary.imported} slices 512x512 from the main window, Qt offscreen:")
        print(f"  {secs:.1f} s ({summary.imported / secs:.0f} files/s); longest event-loop stall "
              f"{stall * 1e3:.0f} ms; target {TARGET_STALL_S * 1e3:.0f} ms -> "
              f"{'met' if stall <= TARGET_STALL_S else 'NOT met'} (ratio to target {stall / TARGET_STALL_S:.2f})")
    finally:
        if window is not None:
            window.close()
        remove_home(cache, home)


if __name__ == "__main__":
    main()
