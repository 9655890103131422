"""The grayscale and colour display pipeline on synthetic images with known values."""

from __future__ import annotations

import numpy as np
import pytest

from tests import factories
from workstation.imaging.pipeline import FramePipeline, Window, apply_display_lut, default_window


def _ct(**kw):
    return factories.ct_dataset(study_uid=factories.uid(), series_uid=factories.uid(), **kw)


def test_ct_units_and_rescale():
    ds = _ct()
    ds.RescaleIntercept = -1024
    pipeline = FramePipeline.from_dataset(ds)
    assert pipeline.units == "HU"
    assert not pipeline.is_color
    assert (pipeline.rows, pipeline.columns) == (16, 16)
    assert pipeline.modality_values(np.array([0, 1024])).tolist() == [-1024.0, 0.0]


def test_linear_window_matches_the_standard_formula():
    ds = _ct()
    pipeline = FramePipeline.from_dataset(ds)
    window = Window(40, 400)
    stored = np.arange(-300, 300, dtype=np.int16).reshape(20, 30)
    out = pipeline.to_display(stored, window)
    x = stored.astype(float)
    expected = np.clip(((x - 39.5) / 399 + 0.5) * 255, 0, 255)
    expected[x <= 39.5 - 199.5] = 0
    expected[x > 39.5 + 199.5] = 255
    assert np.array_equal(out, np.floor(expected).astype(np.uint8))


def test_display_lut_is_the_same_as_to_display_for_every_signed_value():
    pipeline = FramePipeline.from_dataset(_ct())
    lut, offset = pipeline.display_lut(Window(100, 1000))
    assert offset == -32768 and len(lut) == 65536 and lut.dtype == np.uint8
    stored = np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)
    assert np.array_equal(apply_display_lut(stored, lut, offset), lut[stored.astype(int) - offset])


def test_monochrome1_and_user_invert():
    ds = _ct()
    ds.PhotometricInterpretation = "MONOCHROME1"
    pipeline = FramePipeline.from_dataset(ds)
    stored = np.array([[-1000, 1000]], dtype=np.int16)
    assert pipeline.to_display(stored, Window(0, 100)).tolist() == [[255, 0]]
    assert pipeline.to_display(stored, Window(0, 100), invert=True).tolist() == [[0, 255]]


def test_default_window_is_the_first_window_else_min_max():
    ds = _ct()
    pipeline = FramePipeline.from_dataset(ds)
    stored = np.array([[10, 20], [30, 50]], dtype=np.int16)
    window = default_window(pipeline, stored)
    assert pipeline.to_display(stored, window).tolist() == [[0, 63], [127, 255]]
    ds.WindowCenter = [40, 300]
    ds.WindowWidth = [400, 1500]
    ds.WindowCenterWidthExplanation = ["SOFT", "BONE"]
    pipeline = FramePipeline.from_dataset(ds)
    assert [w.explanation for w in pipeline.windows] == ["SOFT", "BONE"]
    assert default_window(pipeline, stored) == Window(40, 400, "LINEAR", "SOFT")
    assert pipeline.resolve_window(voi_index=1).center == 300
    with pytest.raises(IndexError):
        pipeline.resolve_window(voi_index=2)


# -- VOI functions and LUTs ------------------------------------------------------------

from pydicom.dataset import Dataset  # noqa: E402

from workstation.imaging.luts import apply_window  # noqa: E402


def test_linear_exact_and_sigmoid_follow_ps33():
    x = np.array([-300.0, -150.0, 0.0, 40.0, 150.0, 300.0])
    exact = apply_window(x, Window(0, 300, "LINEAR_EXACT"))
    assert exact.tolist() == pytest.approx(np.clip((x / 300 + 0.5) * 255, 0, 255).tolist())
    sigmoid = apply_window(x, Window(0, 300, "SIGMOID"))
    assert sigmoid.tolist() == pytest.approx((255 / (1 + np.exp(-4 * x / 300))).tolist())
    assert apply_window(x, Window(0, 300, "SIGMOID"), inverse=True).tolist() == pytest.approx(
        (255 - 255 / (1 + np.exp(-4 * x / 300))).tolist())


def test_window_of_width_one_is_a_threshold():
    out = apply_window(np.array([9.0, 9.5, 10.0, 11.0]), Window(10, 1))
    assert out.tolist() == [0.0, 0.0, 255.0, 255.0]


def test_voi_lut_sequence_item_and_its_bits():
    ds = _ct()
    item = Dataset()
    item.LUTDescriptor = [4, 100, 12]  # 4 entries from stored 100, 12-bit output
    item.LUTData = [0, 1000, 2000, 4095]
    item.LUTExplanation = "CUSTOM"
    ds.VOILUTSequence = [item]
    pipeline = FramePipeline.from_dataset(ds)
    assert len(pipeline.windows) == 1 and pipeline.windows[0].is_lut
    assert pipeline.windows[0].explanation == "CUSTOM"
    stored = np.array([[50, 100, 101, 102, 103, 500]], dtype=np.int16)
    # Below the first entry: the first output; above the last: the last; 4096 levels in 256 bins.
    assert pipeline.to_display(stored, voi_index=0).tolist() == [[0, 0, 62, 125, 255, 255]]


def test_modality_lut_sequence():
    ds = _ct()
    del ds.RescaleSlope, ds.RescaleIntercept
    item = Dataset()
    item.LUTDescriptor = [3, 0, 16]
    item.LUTData = [10, 20, 40]
    item.ModalityLUTType = "OD"
    ds.ModalityLUTSequence = [item]
    pipeline = FramePipeline.from_dataset(ds)
    assert pipeline.units == "OD"
    assert pipeline.modality_values(np.array([0, 1, 2, 7])).tolist() == [10, 20, 40, 40]
    assert pipeline.modality_range == (10.0, 40.0)


def test_padding_value_and_range_show_as_black():
    ds = _ct()
    ds.PixelPaddingValue = -2000
    ds.PixelPaddingRangeLimit = -1990
    pipeline = FramePipeline.from_dataset(ds)
    assert pipeline.padding == (-2000, -1990)
    stored = np.array([[-2001, -2000, -1995, -1990, -1989]], dtype=np.int16)
    out = pipeline.to_display(stored, Window(-3000, 10))  # everything above the window is white
    assert out.tolist() == [[255, 0, 0, 0, 255]]
    # The min-max default window leaves padding out.
    window = default_window(pipeline, np.array([[-2000, 0, 100]], dtype=np.int16))
    assert (window.center, window.width) == (50.5, 101.0)
    # MONOCHROME1 inverts the image, padding stays black.
    ds.PhotometricInterpretation = "MONOCHROME1"
    assert FramePipeline.from_dataset(ds).to_display(stored, Window(-3000, 10)).tolist() == [[0, 0, 0, 0, 0]]


def test_twelve_bit_signed_stored_values():
    ds = _ct()
    ds.BitsStored, ds.HighBit = 12, 11
    pipeline = FramePipeline.from_dataset(ds)
    assert pipeline.stored_range == (-2048, 2047)
    lut, offset = pipeline.display_lut(Window(0, 4096))
    assert (len(lut), offset) == (4096, -2048)
    stored = np.array([[-2048, -1, 0, 2047]], dtype=np.int16)
    assert pipeline.to_display(stored, Window(0, 4096)).tolist() == [[0, 127, 127, 255]]


def test_presentation_lut_shape_in_the_image():
    ds = _ct()
    ds.PresentationLUTShape = "INVERSE"
    assert FramePipeline.from_dataset(ds).inverted
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.PresentationLUTShape = "IDENTITY"  # the explicit shape wins, as DCMTK does
    assert not FramePipeline.from_dataset(ds).inverted


def test_float_pixel_data():
    ds = _ct()
    del ds.PixelData
    ds.FloatPixelData = np.zeros((16, 16), np.float32).tobytes()
    ds.BitsAllocated = ds.BitsStored = 32
    pipeline = FramePipeline.from_dataset(ds)
    assert pipeline.is_float and not pipeline.has_display_lut
    stored = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    window = default_window(pipeline, stored)
    assert window.function == "LINEAR_EXACT"
    assert pipeline.to_display(stored, window).tolist() == [[0, 127, 255]]
    with pytest.raises(ValueError):
        pipeline.display_lut(window)


def test_enhanced_multiframe_per_frame_functional_groups():
    ds = _ct()
    ds.NumberOfFrames = 2
    shared = Dataset()
    transform = Dataset()
    transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = 1, -1024, "HU"
    shared.PixelValueTransformationSequence = [transform]
    ds.SharedFunctionalGroupsSequence = [shared]
    frames = []
    for center, width in ((40, 400), (-600, 1500)):
        item = Dataset()
        voi = Dataset()
        voi.WindowCenter, voi.WindowWidth = center, width
        voi.WindowCenterWidthExplanation = "SOFT" if center == 40 else "LUNG"
        item.FrameVOILUTSequence = [voi]
        frames.append(item)
    ds.PerFrameFunctionalGroupsSequence = frames
    del ds.RescaleSlope, ds.RescaleIntercept
    first, second = FramePipeline.from_dataset(ds, 0), FramePipeline.from_dataset(ds, 1)
    assert first.units == "HU" and first.rescale_intercept == -1024
    assert first.windows == [Window(40, 400, "LINEAR", "SOFT")]
    assert second.windows == [Window(-600, 1500, "LINEAR", "LUNG")]
    assert second.frame == 1 and second.number_of_frames == 2


def test_with_transforms_leaves_the_original_alone():
    ds = _ct()
    ds.RescaleIntercept = -1024
    pipeline = FramePipeline.from_dataset(ds)
    changed = pipeline.with_transforms(rescale=None, windows=[Window(1, 2)], inverted=True)
    assert changed.modality_values(np.array([5])).tolist() == [5]
    assert pipeline.modality_values(np.array([5])).tolist() == [-1019.0]
    assert changed.inverted and not pipeline.inverted and pipeline.windows == []


# -- overlays and colour ------------------------------------------------------------------

import pydicom  # noqa: E402

from tests.dicom.testdata import data_file  # noqa: E402
from workstation.dicom.pixels import decode_pixels  # noqa: E402
from workstation.imaging.overlays import overlay_planes  # noqa: E402


def test_overlay_data_is_burned_in_white():
    path = data_file("MR-SIEMENS-DICOM-WithOverlays.dcm")
    ds = pydicom.dcmread(path)
    pipeline = FramePipeline.from_dataset(ds)
    assert [p.group for p in pipeline.overlays] == [0x6000]
    expected = ds.overlay_array(0x6000).astype(bool)
    assert np.array_equal(pipeline.overlays[0].mask(ds.Rows, ds.Columns), expected)
    stored = decode_pixels(path, 0).array
    black = Window(100000, 1)  # every pixel below the window
    assert not pipeline.to_display(stored, black).any()
    assert np.array_equal(pipeline.to_display(stored, black, overlays=True) == 255, expected)


def _with_overlay(ds, rows, columns, origin, bits, frames=None, first_frame=None):
    ds[0x60000010] = pydicom.DataElement(0x60000010, "US", rows)
    ds[0x60000011] = pydicom.DataElement(0x60000011, "US", columns)
    ds[0x60000040] = pydicom.DataElement(0x60000040, "CS", "G")
    ds[0x60000050] = pydicom.DataElement(0x60000050, "SS", list(origin))
    ds[0x60000100] = pydicom.DataElement(0x60000100, "US", 1)
    ds[0x60000102] = pydicom.DataElement(0x60000102, "US", 0)
    if frames is not None:
        ds[0x60000015] = pydicom.DataElement(0x60000015, "IS", frames)
        ds[0x60000051] = pydicom.DataElement(0x60000051, "US", first_frame)
    packed = np.packbits(np.asarray(bits, dtype=np.uint8).ravel(), bitorder="little").tobytes()
    ds[0x60003000] = pydicom.DataElement(0x60003000, "OW", packed + b"\0" * (len(packed) % 2))


def test_overlay_origin_and_multi_frame_overlays():
    ds = _ct(size=8)
    ds.NumberOfFrames = 3
    bits = np.zeros((2, 2, 2), dtype=bool)
    bits[0, 0, 0] = True  # overlay frame 1 -> image frame 2
    bits[1, 1, 1] = True  # overlay frame 2 -> image frame 3
    _with_overlay(ds, 2, 2, (4, 3), bits, frames=2, first_frame=2)
    assert overlay_planes(ds, 0) == []
    on2 = overlay_planes(ds, 1)[0].mask(8, 8)
    on3 = overlay_planes(ds, 2)[0].mask(8, 8)
    # Origin (row 4, column 3), counted from 1.
    assert np.argwhere(on2).tolist() == [[3, 2]] and np.argwhere(on3).tolist() == [[4, 3]]


def test_overlay_embedded_in_pixel_data():
    ds = _ct(size=4)
    ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
    values = np.full((4, 4), 100, dtype=np.uint16)
    values[1, 2] |= 1 << 12  # the overlay bit above the stored bits
    ds.PixelData = values.astype("<u2").tobytes()
    ds[0x60000010] = pydicom.DataElement(0x60000010, "US", 4)
    ds[0x60000011] = pydicom.DataElement(0x60000011, "US", 4)
    ds[0x60000050] = pydicom.DataElement(0x60000050, "SS", [1, 1])
    ds[0x60000100] = pydicom.DataElement(0x60000100, "US", 16)
    ds[0x60000102] = pydicom.DataElement(0x60000102, "US", 12)
    pipeline = FramePipeline.from_dataset(ds)
    assert np.argwhere(pipeline.overlays[0].mask(4, 4)).tolist() == [[1, 2]]
    stored = decode_pixels(ds, 0).array
    assert int(stored.max()) == 100  # the overlay bit is not a pixel value
    assert pipeline.to_display(stored, Window(1000, 10), overlays=True)[1, 2] == 255


def test_planar_configuration_and_palettes():
    px, pl = data_file("color-px.dcm"), data_file("color-pl.dcm")
    shown = [FramePipeline.from_dataset(pydicom.dcmread(p)).to_display(decode_pixels(p, 0).array) for p in (px, pl)]
    assert np.array_equal(*shown)
    segmented = data_file("gdcm-US-ALOKA-16.dcm")  # a 16-bit segmented palette
    ds = pydicom.dcmread(segmented)
    out = FramePipeline.from_dataset(ds).to_display(decode_pixels(segmented, 0).array)
    expected = pydicom.pixels.apply_color_lut(ds.pixel_array, ds) >> 8
    assert np.array_equal(out, expected.astype(np.uint8))


def test_ybr_is_shown_as_rgb():
    ybr = data_file("SC_ybr_full_uncompressed.dcm")
    rgb = data_file("SC_rgb.dcm")
    a = FramePipeline.from_dataset(pydicom.dcmread(ybr)).to_display(decode_pixels(ybr, 0).array)
    b = FramePipeline.from_dataset(pydicom.dcmread(rgb)).to_display(decode_pixels(rgb, 0).array)
    assert a.shape == b.shape == (100, 100, 3)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 6  # the YBR file was converted with rounding
