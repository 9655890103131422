"""DICOM SEG: segments (not temporal positions), each over the right referenced images."""

from __future__ import annotations

import json

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.sr.codedict import codes

from tests.clinical.conftest import series_files
from workstation.clinical.seg import SegmentationError, SegmentationObject, cielab_to_rgb, outline, overlay_rgba
from workstation.demo.phantoms import CT_SPHERES


def _ct(small_demo_dir) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p) for p in series_files(small_demo_dir, "ct-chest-2024", "soft")]


def _sphere_masks(cts, sphere) -> np.ndarray:
    out = np.zeros((len(cts), cts[0].Rows, cts[0].Columns), bool)
    for k, ds in enumerate(cts):
        x0, y0, z = (float(v) for v in ds.ImagePositionPatient)
        dy, dx = (float(v) for v in ds.PixelSpacing)
        yy, xx = np.mgrid[: ds.Rows, : ds.Columns]
        c = sphere.centre_mm
        out[k] = (x0 + xx * dx - c[0]) ** 2 + (y0 + yy * dy - c[1]) ** 2 + (z - c[2]) ** 2 <= sphere.radius_mm**2
    return out


def _description(number: int, label: str, lab=None) -> hd.seg.SegmentDescription:
    d = hd.seg.SegmentDescription(
        segment_number=number, segment_label=label,
        segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
        segmented_property_type=codes.SCT.Nodule, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )  # fmt: skip
    if lab is not None:
        d.RecommendedDisplayCIELabValue = lab
    return d


def _seg(cts, pixels, kind, descriptions):
    return hd.seg.Segmentation(
        source_images=cts, pixel_array=pixels, segmentation_type=kind, segment_descriptions=descriptions,
        series_instance_uid=hd.UID(), series_number=90, sop_instance_uid=hd.UID(), instance_number=1,
        manufacturer="Lightbox test", manufacturer_model_name="test", software_versions="1", device_serial_number="1",
        max_fractional_value=100 if kind == "FRACTIONAL" else 255,
    )  # fmt: skip


@pytest.fixture(scope="module")
def binary_seg(small_demo_dir, tmp_path_factory):
    cts = _ct(small_demo_dir)
    nodule, cyst = _sphere_masks(cts, CT_SPHERES[0]), _sphere_masks(cts, CT_SPHERES[2])
    pixels = np.stack([nodule, cyst], axis=-1).astype(np.uint8)
    seg = _seg(cts, pixels, "BINARY",
               [_description(1, "RLL nodule", [35585, 53662, 50860]), _description(2, "Liver cyst")])
    path = tmp_path_factory.mktemp("seg") / "binary.dcm"
    seg.save_as(path)
    return path, cts, (nodule, cyst)


def test_binary_seg_segments_lie_on_the_right_ct_slices(binary_seg):
    path, cts, masks = binary_seg
    seg = SegmentationObject(path)
    assert seg.segmentation_type == "BINARY"
    assert [(s.number, s.label) for s in seg.segments.values()] == [(1, "RLL nodule"), (2, "Liver cyst")]
    for number, truth in zip((1, 2), masks, strict=True):
        expected = {str(cts[k].SOPInstanceUID) for k in range(len(cts)) if truth[k].any()}
        assert set(seg.segments[number].frames) == expected
        for k, ds in enumerate(cts):
            m = seg.mask(number, str(ds.SOPInstanceUID))
            if truth[k].any():
                assert np.array_equal(m, truth[k])
            else:
                assert m is None
    # The two segments never share a slice here: the nodule is at z -200, the cyst at z -240.
    assert not set(seg.segments[1].frames) & set(seg.segments[2].frames)
    # Red from its CIELab value; the second segment gets a default colour.
    r, g, b = seg.segments[1].colour
    assert r > 200 and g < 80 and b < 80


def test_fractional_seg_keeps_its_fractions(small_demo_dir, tmp_path):
    cts = _ct(small_demo_dir)
    truth = _sphere_masks(cts, CT_SPHERES[2]).astype(np.float32) * 0.75
    seg = _seg(cts, truth[..., None], "FRACTIONAL", [_description(1, "Cyst probability")])
    seg.save_as(tmp_path / "fractional.dcm")
    read = SegmentationObject(tmp_path / "fractional.dcm")
    assert read.segmentation_type == "FRACTIONAL" and read.fractional_type == "PROBABILITY"
    k = int(np.argmax(truth.reshape(len(cts), -1).sum(axis=1)))
    m = read.mask(1, str(cts[k].SOPInstanceUID))
    assert m.dtype == np.float32 and m.max() == pytest.approx(0.75) and np.array_equal(m > 0, truth[k] > 0)


def test_public_liver_seg_maps_each_frame_to_its_source_image():
    path = get_testdata_file("liver.dcm")  # pydicom-data: one segment over three CT slices
    seg = SegmentationObject(path)
    ds = pydicom.dcmread(path)
    expected = {
        str(item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID): [k]
        for k, item in enumerate(ds.PerFrameFunctionalGroupsSequence)
    }
    assert list(seg.segments) == [1] and seg.segments[1].label == "Liver"
    assert seg.segments[1].frames == expected
    for uid, (k,) in expected.items():
        assert np.array_equal(seg.mask(1, uid), ds.pixel_array[k] > 0)
    assert seg.describe()["segments"][0]["referenced_images"] == 3


def test_overlay_draws_visible_segments_only(binary_seg):
    path, cts, (nodule, _) = binary_seg
    seg = SegmentationObject(path)
    k = int(np.argmax(nodule.reshape(len(cts), -1).sum(axis=1)))
    uid = str(cts[k].SOPInstanceUID)
    layer = overlay_rgba(seg, uid)
    edge = outline(nodule[k])
    assert layer.shape == (cts[0].Rows, cts[0].Columns, 4)
    assert (layer[edge, 3] == 255).all() and (layer[~nodule[k], 3] == 0).all()
    assert tuple(layer[edge][0, :3]) == seg.segments[1].colour
    seg.segments[1].visible = False
    assert overlay_rgba(seg, uid) is None


def test_not_a_seg_is_refused():
    with pytest.raises(SegmentationError, match="not a Segmentation"):
        SegmentationObject(get_testdata_file("CT_small.dcm"))


def test_cielab_white_and_black():
    assert cielab_to_rgb([65535, 32896, 32896]) == (255, 255, 255)
    assert cielab_to_rgb([0, 32896, 32896]) == (0, 0, 0)


def test_lightbox_volume_of_a_seg_reports_segments(binary_seg, lightbox_home, capsys):
    from workstation.cli import main
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.store.importer import import_paths

    path, _, _ = binary_seg
    with StudyCache.open(Home.single(lightbox_home)) as cache:
        import_paths(cache, [path])
    uid = str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)
    assert main(["volume", uid]) == 0
    out = capsys.readouterr().out
    assert "temporal" not in out
    assert "2 segment(s)" in out and "segment 1: RLL nodule" in out and "segment 2: Liver cyst" in out
    assert main(["volume", uid, "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [s["label"] for s in d["segmentation"]["segments"]] == ["RLL nodule", "Liver cyst"]


def test_lightbox_volume_of_the_public_liver_seg(lightbox_home, capsys):
    from workstation.cli import main
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.store.importer import import_paths

    path = get_testdata_file("liver.dcm")
    with StudyCache.open(Home.single(lightbox_home)) as cache:
        import_paths(cache, [path])
    uid = str(pydicom.dcmread(path, stop_before_pixels=True).SeriesInstanceUID)
    assert main(["volume", uid]) == 0
    out = capsys.readouterr().out
    assert "binary segmentation, 1 segment(s), 3 frame(s)" in out
    assert "segment 1: Liver" in out and "3 frame(s) over 3 referenced image(s)" in out
    assert "temporal" not in out
