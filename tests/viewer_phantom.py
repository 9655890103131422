"""A small CT phantom series for the viewer's tests: known geometry, known values, known slice marks.

Each slice is 64 x 64 pixels of 0.5 mm (32 mm square), 2.5 mm apart along z,
stored with Rescale Intercept -1024 so stored 1024 is 0 HU.  It holds:

* background air (-1000 HU);
* a 20 x 20 pixel square of 100 HU whose top left pixel is (column 20, row 20);
* in pixel (column 1, row 1) the slice's index, as a HU value, to tell slices apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.factories import ct_dataset, uid
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths

SIZE = 64
SPACING = 0.5
SLICE_GAP = 2.5
SQUARE = (20, 20, 20)  # first column, first row, side (pixels)
SQUARE_HU = 100
AIR_HU = -1000


def phantom_pixels(index: int) -> np.ndarray:
    """Stored values of slice ``index``."""
    hu = np.full((SIZE, SIZE), AIR_HU, dtype=np.int32)
    c, r, n = SQUARE
    hu[r:r + n, c:c + n] = SQUARE_HU
    hu[1, 1] = index
    return (hu + 1024).astype("<i2")


def write_phantom(folder: Path, n: int = 10, *, patient_id: str = "PHANTOM-1",
                  patient_name: str = "Phantom^Paula", study_uid: str | None = None,
                  series_number: int = 1, description: str = "phantom axial",
                  frame_of_reference: str | None = None, z0: float = 0.0,
                  orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), origin=None, issuer: str = "") -> list[Path]:
    """Write an ``n``-slice phantom series into ``folder``; returns the paths (written shuffled).

    Slice ``i``'s first pixel is at ``origin + normal * (z0 + i * SLICE_GAP)``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or uid()
    series_uid = uid()
    frame_of_reference = frame_of_reference or uid()
    row = np.array(orientation[:3], float)
    col = np.array(orientation[3:], float)
    normal = np.cross(row, col)
    paths = []
    for i in np.random.default_rng(5).permutation(n):
        ds = ct_dataset(study_uid=study_uid, series_uid=series_uid, index=int(i), size=SIZE,
                        spacing=SLICE_GAP, patient_id=patient_id, patient_name=patient_name)
        ds.FrameOfReferenceUID = frame_of_reference
        if issuer:
            ds.IssuerOfPatientID = issuer
        ds.SeriesNumber = series_number
        ds.SeriesDescription = description
        ds.PixelSpacing = [SPACING, SPACING]
        ds.ImageOrientationPatient = list(orientation)
        first = np.array(origin if origin is not None else (-16.0, -16.0, 0.0), dtype=float)
        ds.ImagePositionPatient = [float(v) for v in first + normal * (z0 + i * SLICE_GAP)]
        ds.SliceLocation = float(z0 + i * SLICE_GAP)
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
        ds.RescaleType = "HU"
        ds.WindowCenter = 40
        ds.WindowWidth = 400
        ds.KVP = 120
        ds.InstitutionName = "Phantom Hospital"
        ds.PixelData = phantom_pixels(int(i)).tobytes()
        p = folder / f"{series_number:02d}_{int(i):04d}.dcm"
        ds.save_as(p, enforce_file_format=True)
        paths.append(p)
    return paths


def phantom_study(cache: StudyCache, folder: Path, n: int = 10, **kw) -> str:
    """Import a one-series phantom study into ``cache``; returns its Study Instance UID."""
    study_uid = kw.pop("study_uid", None) or uid()
    write_phantom(folder, n, study_uid=study_uid, **kw)
    summary = import_paths(cache, [folder])
    assert summary.imported == n, summary
    return study_uid
