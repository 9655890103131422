"""Import rate into a fresh cache: files/s and MB/s for a 500-slice 512x512 CT series.

    .venv/bin/python -m bench.import_rate [--runs 3] [--workers N]

Target: at least 1,000 files/s on a 2-core machine.  Every run imports into a
new home (parse, hash, atomic synced write, indexed in batched transactions).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time

from bench._ctseries import ct_series, fresh_home, median
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    folder = ct_series(500)
    files = sorted(p for p in folder.iterdir() if p.suffix == ".dcm")
    size = sum(p.stat().st_size for p in files)
    # Warm the page cache so the figure is about Lightbox, not the source disk.
    for p in files:
        p.read_bytes()
    times = []
    for _ in range(args.runs):
        home = fresh_home()
        try:
            cache = StudyCache(home / "index.sqlite", home / "cache")
            t0 = time.perf_counter()
            summary = import_paths(cache, [folder], workers=args.workers)
            times.append(time.perf_counter() - t0)
            cache.close()
            assert summary.imported == len(files), summary.as_dict()
        finally:
            shutil.rmtree(home, ignore_errors=True)
    # Plain copy with sync as a floor: what the disk alone costs.
    home = fresh_home()
    t0 = time.perf_counter()
    shutil.copytree(folder, home / "copy")
    subprocess.run(["sync"], check=False)
    copy_s = time.perf_counter() - t0
    shutil.rmtree(home, ignore_errors=True)
    t = median(times)
    print(f"import of {len(files)} files ({size / 1e6:.0f} MB), {os.cpu_count()} cores, median of {args.runs}:")
    print(f"  lightbox import: {t:.2f} s  ->  {len(files) / t:,.0f} files/s, {size / 1e6 / t:,.0f} MB/s")
    print(f"  runs: {', '.join(f'{x:.2f}' for x in times)} s")
    print(f"  plain copy + sync (no parsing, no index): {copy_s:.2f} s -> ratio lightbox/copy {t / copy_s:.2f}")
    print("  target: >= 1,000 files/s")


if __name__ == "__main__":
    main()
