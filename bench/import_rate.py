"""Import rate into a fresh cache against a plain copy + sync of the same files, in the same run.

    .venv/bin/python -m bench.import_rate [--runs 5] [--workers N]

A 500-slice 512x512 CT series (263 MB) is imported into a new home each run
(headers parsed, files copied and hashed, synced and indexed in groups), and
copied with ``shutil.copytree`` + ``sync`` into a new folder on the same
filesystem; the two alternate, so both see the same machine.  Prints medians,
the spread, and the ratio Lightbox / copy.
Target: ratio <= 1.5 (moonshot 1.2).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

from bench._ctseries import ct_series, fresh_home, median
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths

TARGET = 1.5


def _import(folder: Path, n: int, workers: int | None) -> float:
    home = fresh_home()
    try:
        cache = StudyCache(home / "index.sqlite", home / "cache")
        t0 = time.perf_counter()
        summary = import_paths(cache, [folder], workers=workers)
        elapsed = time.perf_counter() - t0
        cache.close()
        if summary.imported != n:
            raise SystemExit(f"imported {summary.imported} of {n}: {summary.as_dict()}")
        return elapsed
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _copy(folder: Path) -> float:
    """What the disk alone costs: copy the files, then sync."""
    home = fresh_home()
    try:
        t0 = time.perf_counter()
        shutil.copytree(folder, home / "copy")
        subprocess.run(["sync"], check=False)
        return time.perf_counter() - t0
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=None, help="import threads (default: the cores, at most 4)")
    args = ap.parse_args()
    folder = ct_series(500)
    files = sorted(p for p in folder.iterdir() if p.suffix == ".dcm")
    size = sum(p.stat().st_size for p in files)
    # Warm the page cache so the figures are about writing, not the source disk.
    for p in files:
        p.read_bytes()
    subprocess.run(["sync"], check=False)
    imports: list[float] = []
    copies: list[float] = []
    for _ in range(args.runs):
        imports.append(_import(folder, len(files), args.workers))
        copies.append(_copy(folder))
    t, c = median(imports), median(copies)
    ratio = t / c
    print(f"import of {len(files)} files ({size / 1e6:.0f} MB), {os.cpu_count()} cores, median of {args.runs}:")
    print(f"  lightbox import:   {t:.2f} s  ->  {len(files) / t:,.0f} files/s, {size / 1e6 / t:,.0f} MB/s"
          f"  (runs {', '.join(f'{x:.2f}' for x in imports)} s)")
    print(f"  plain copy + sync: {c:.2f} s  (runs {', '.join(f'{x:.2f}' for x in copies)} s)")
    print(f"  ratio lightbox import / copy + sync: {ratio:.2f}  (target <= {TARGET}: "
          f"{'met' if ratio <= TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
