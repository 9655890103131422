"""A series' files as one :class:`~workstation.model.volume.Volume`, without the index.

For tools and tests that start from files (a folder of PET slices, a prior on
disk): planes are ordered by position along the slice normal, values are
modality values (Rescale Slope/Intercept applied per plane, float32).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pydicom

from workstation.model.volume import Volume, VolumeError


def read_series_files(paths: Iterable[Path | str]) -> tuple[Volume, list[pydicom.Dataset]]:
    """Read single-frame images of one series into a volume (float32 modality values).

    Parameters
    ----------
    paths : iterable of path
        Files of one series (one plane each, one orientation).

    Returns
    -------
    volume : Volume
    headers : list of pydicom.Dataset
        The datasets in plane order (pixel data still attached).

    Raises
    ------
    VolumeError
        No files, mixed orientations or matrix sizes, or fewer than two planes.
    """
    datasets: list[pydicom.Dataset] = [pydicom.dcmread(p) for p in paths]
    if len(datasets) < 2:
        raise VolumeError("a volume needs at least two planes")
    orientation = np.asarray(datasets[0].ImageOrientationPatient, float)
    row, col = orientation[:3], orientation[3:]
    normal = np.cross(row, col)
    for ds in datasets:
        if not np.allclose(np.asarray(ds.ImageOrientationPatient, float), orientation, atol=1e-4):
            raise VolumeError("the planes have different orientations")
        if (ds.Rows, ds.Columns) != (datasets[0].Rows, datasets[0].Columns):
            raise VolumeError("the planes have different matrix sizes")
    datasets.sort(key=lambda ds: float(np.dot(np.asarray(ds.ImagePositionPatient, float), normal)))
    positions = np.array([np.asarray(ds.ImagePositionPatient, float) for ds in datasets])
    steps = np.diff(positions @ normal)
    if np.any(steps <= 0):
        raise VolumeError("two planes share a position")
    array = np.empty((len(datasets), datasets[0].Rows, datasets[0].Columns), np.float32)
    for k, ds in enumerate(datasets):
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
        array[k] = ds.pixel_array.astype(np.float32) * slope + intercept
    spacing_rc = [float(v) for v in datasets[0].PixelSpacing]
    volume = Volume(
        array=array,
        origin=positions[0],
        spacing=np.array([spacing_rc[1], spacing_rc[0], float(np.median(steps))]),
        direction=np.column_stack([row, col, normal]),
        sop_instance_uids=[str(ds.SOPInstanceUID) for ds in datasets],
        rescaled=True,
        frame_of_reference_uid=str(datasets[0].get("FrameOfReferenceUID", "")),
        series_uid=str(datasets[0].get("SeriesInstanceUID", "")),
        modality=str(datasets[0].get("Modality", "")),
    )
    return volume, datasets
