"""Volume assembly of a cached 500-slice CT (stacks, order, gaps, reading) against SimpleITK's ImageSeriesReader.

    .venv/bin/python -m bench.volume_build [--runs 5]

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
        files = [str(cache.path_of(r)) for r in cache.instances(series_uid)]
        folder = str(cache.path_of(cache.instances(series_uid)[0]).parent)
        ours, theirs = [], []
        vol = img = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            vol = load_series_volume(cache, series_uid)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            reader = sitk.ImageSeriesReader()
            reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder, series_uid) or files)
            reader.SetOutputPixelType(sitk.sitkInt16)
            img = reader.Execute()
            arr = sitk.GetArrayViewFromImage(img)
            theirs.append(time.perf_counter() - t0)
        same = np.array_equal(vol.array, arr)
        geometry = max(
            np.abs(vol.origin - img.GetOrigin()).max(),
            np.abs(vol.spacing - img.GetSpacing()).max(),
            np.abs(vol.direction.ravel() - img.GetDirection()).max(),
        )
        print(f"assemble {len(files)} cached slices 512x512 into one int16 volume, median of {args.runs}:")
        print(f"  lightbox:  {median(ours):.3f} s   (runs {', '.join(f'{x:.3f}' for x in ours)})")
        print(f"  SimpleITK: {median(theirs):.3f} s   (ImageSeriesReader, int16 output, GDCM file order)")
        print(f"  ratio lightbox/SimpleITK: {median(ours) / median(theirs):.2f}  (target <= 0.70)")
        print(f"  identical voxels: {same}; largest geometry difference {geometry:.2e} mm; dtype {vol.array.dtype}")
        cache.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
