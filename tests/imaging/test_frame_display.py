"""The viewer's 32-bit display tables give exactly the pipeline's display values."""

from __future__ import annotations

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.data import get_testdata_file

from workstation.dicom.pixels import decode_pixels
from workstation.imaging.frame_display import FrameDisplay, to_rgb32
from workstation.imaging.pipeline import FramePipeline, Window
from workstation.imaging.viewstate import VoiChoice

FILES = ["CT_small.dcm", "MR_small.dcm", "RG1_UNCI.dcm", "US1_UNCR.dcm", "OBXXXX1A.dcm"]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("invert", [False, True])
def test_table_render_equals_pipeline_display(name, invert):
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    ds = dcmread(path, stop_before_pixels=True)
    result = decode_pixels(path, frame=0)
    assert result.ok, result.error
    pipeline = FramePipeline.from_dataset(ds, 0)
    display = FrameDisplay()
    window = display.window_for(pipeline, VoiChoice(), result.array, stack_key="s")
    frame = display.render(pipeline, result.array, window, invert=invert,
                           photometric_interpretation=result.photometric_interpretation)
    expected = pipeline.to_display(result.array, window, invert=invert,
                                   photometric_interpretation=result.photometric_interpretation)
    assert np.array_equal(frame.pixels, to_rgb32(expected))
    assert frame.pixels.dtype == np.uint32 and frame.pixels.flags.c_contiguous


def test_explicit_window_and_shared_tables_across_frames():
    ds = dcmread(get_testdata_file("CT_small.dcm"), stop_before_pixels=True)
    stored = decode_pixels(get_testdata_file("CT_small.dcm"), 0).array
    display = FrameDisplay()
    a = display.pipeline(("a", 0), ds, 0)
    b = display.pipeline(("b", 0), ds, 0)
    w = display.window_for(a, VoiChoice(center=40, width=400), stored)
    assert w == Window(40, 400, "LINEAR", "")
    display.render(a, stored, w)
    display.render(b, stored, w)
    assert len(display._tables) == 1  # one table for frames with the same chain
    grey = display.render(a, stored, w).pixels & 0xFF
    assert np.array_equal(grey, a.to_display(stored, w))


def test_derived_pipeline_is_cached_apart_from_its_base_and_needs_the_base_key():
    ds = dcmread(get_testdata_file("CT_small.dcm"), stop_before_pixels=True)
    display = FrameDisplay()
    inverted = display.pipeline(("a", 0, "state"), ds, 0, base_key=("a", 0),
                                derive=lambda p: p.with_transforms(inverted=True))
    assert inverted.inverted and not display.pipeline(("a", 0), ds, 0).inverted
    with pytest.raises(ValueError, match="needs the key of the pipeline it is derived from"):
        display.pipeline(("b", 0, "state"), ds, 0, derive=lambda p: p)


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "RG1_UNCI.dcm"])
def test_sampled_render_is_the_full_render_at_the_samples(name):
    """The minified fast path picks stored pixels first, then looks them up: the same values as full size."""
    path = get_testdata_file(name)
    if path is None:
        pytest.skip(f"{name} is not installed")
    ds = dcmread(path, stop_before_pixels=True)
    stored = decode_pixels(path, 0).array
    pipeline = FramePipeline.from_dataset(ds, 0)
    display = FrameDisplay()
    window = display.window_for(pipeline, VoiChoice(), stored, stack_key="s")
    rows = np.arange(0, stored.shape[0], 3)
    cols = np.arange(stored.shape[1] - 1, -1, -2)  # a horizontal flip
    for invert in (False, True):
        full = display.render(pipeline, stored, window, invert=invert).pixels
        sampled = display.render_sampled(pipeline, stored, window, rows, cols, invert=invert)
        assert sampled is not None
        assert np.array_equal(sampled.pixels, full[np.ix_(rows, cols)])


def test_sampled_render_leaves_colour_to_the_full_path():
    path = get_testdata_file("US1_UNCR.dcm")
    if path is None:
        pytest.skip("US1_UNCR.dcm is not installed")
    ds = dcmread(path, stop_before_pixels=True)
    stored = decode_pixels(path, 0).array
    pipeline = FramePipeline.from_dataset(ds, 0)
    idx = np.arange(0, 10)
    assert FrameDisplay().render_sampled(pipeline, stored, None, idx, idx) is None


def _read(raw: bytes):
    from io import BytesIO

    return dcmread(BytesIO(raw), stop_before_pixels=True)


def test_images_of_a_series_alike_but_for_their_place_share_one_pipeline():
    """Headers differing only in identity, position and time share a pipeline; any other difference does not."""
    from io import BytesIO

    source = dcmread(get_testdata_file("CT_small.dcm"))

    def written(**changes) -> bytes:
        ds = source.copy()
        for keyword, value in changes.items():
            setattr(ds, keyword, value)
        out = BytesIO()
        ds.save_as(out)
        return out.getvalue()

    display = FrameDisplay()
    first = display.pipeline(("1", 0), _read(written()), 0)
    moved = display.pipeline(("2", 0), _read(written(SOPInstanceUID="1.2.3.2", InstanceNumber=2,
                                                     ImagePositionPatient=[0, 0, 5], SliceLocation=5)), 0)
    assert moved is first
    rescaled = display.pipeline(("3", 0), _read(written(SOPInstanceUID="1.2.3.3", RescaleIntercept=-1000)), 0)
    windowed = display.pipeline(("4", 0), _read(written(SOPInstanceUID="1.2.3.4", WindowCenter=300,
                                                        WindowWidth=800)), 0)
    assert rescaled is not first and rescaled.rescale_intercept == -1000
    assert windowed is not first and windowed.windows[0].center == 300
    # Headers whose values were decoded already (the corner text reads the name) are compared by their values.
    named = [_read(written(SOPInstanceUID=f"1.2.3.{n}", **extra)) for n, extra in ((5, {}), (6, {}),
                                                                                  (7, {"RescaleSlope": 2}))]
    for ds in named:
        assert str(ds.PatientName) and len(ds.ImageType) > 1
    shared = display.pipeline(("5", 0), named[0], 0)
    assert display.pipeline(("6", 0), named[1], 0) is shared
    assert display.pipeline(("7", 0), named[2], 0).rescale_slope == 2


def test_frames_of_a_multi_frame_image_keep_their_own_pipelines():
    path = get_testdata_file("emri_small.dcm")
    if path is None:
        pytest.skip("emri_small.dcm is not installed")
    ds = dcmread(path, stop_before_pixels=True)
    display = FrameDisplay()
    pipelines = [display.pipeline((ds.SOPInstanceUID, f), ds, f) for f in range(3)]
    assert [p.frame for p in pipelines] == [0, 1, 2]
    assert len({id(p) for p in pipelines}) == 3
