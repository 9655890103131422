"""Reading a cached 500-slice CT into one int16 volume, against SimpleITK's ImageSeriesReader.

    .venv/bin/python -m bench.volume_read [--runs 5]

Same files, same run; SimpleITK with int16 output.  Target: Lightbox at most 0.7x SimpleITK.
"""

from __future__ import annotations

import argparse
import shutil
import time

import numpy as np
import SimpleITK as sitk

from bench._ctseries import ct_series, fresh_home, median
from workstation.model.series_volume import load_series_volume
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    home = fresh_home()
    try:
        cache = StudyCache(home / "index.sqlite", home / "cache")
        import_paths(cache, [ct_series(500)])
        series_uid = cache.series(cache.studies()[0].study_uid)[0].series_uid
        rows = cache.instances(series_uid)
        files = [str(cache.path_of(r)) for r in rows]
        ours, theirs = [], []
        vol = img = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            vol = load_series_volume(cache, series_uid)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(
                sitk.ImageSeriesReader().GetGDCMSeriesFileNames(str(cache.path_of(rows[0]).parent), series_uid)
                or files)
            reader.SetOutputPixelType(sitk.sitkInt16)
            img = reader.Execute()
            arr = sitk.GetArrayViewFromImage(img)
            theirs.append(time.perf_counter() - t0)
        same = np.array_equal(vol.array, arr)
        print(f"read {len(files)} slices 512x512 into one int16 volume, median of {args.runs}:")
        print(f"  lightbox:  {median(ours):.3f} s   (runs {', '.join(f'{x:.3f}' for x in ours)})")
        print(f"  SimpleITK: {median(theirs):.3f} s   (ImageSeriesReader, int16 output)")
        print(f"  ratio lightbox/SimpleITK: {median(ours) / median(theirs):.2f}  (target <= 0.70)")
        print(f"  identical voxels: {same}; origin {np.round(vol.origin, 4).tolist()} "
              f"vs {list(np.round(img.GetOrigin(), 4))}")
        cache.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
