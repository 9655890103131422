"""Stacks of a series: sorting, gaps, duplicates, 4D, localizers, gantry tilt, rescale, messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.model.conftest import write_stack
from workstation.model.series_volume import describe_series, load_series_volume, series_stacks
from workstation.model.volume import VolumeError, shift_plane
from workstation.store.importer import import_paths


def _load(cache, folder, series, **kw):
    import_paths(cache, [folder])
    return series_stacks(cache, series), load_series_volume(cache, series, **kw)


def test_order_is_by_position_along_the_normal_not_instance_number(cache, tmp_path):
    zs = [5.0, -5.0, 0.0, 10.0, 2.5, 7.5, -2.5]
    series = write_stack(tmp_path / "s", [(0, 0, z) for z in zs], extra=lambda i, ds: setattr(ds, "InstanceNumber", 1))
    _, vol = _load(cache, tmp_path / "s", series)
    order = np.argsort(zs)
    assert [int(vol.array[k, 0, 0]) for k in range(len(zs))] == list(order)
    assert vol.origin.tolist() == [0, 0, -5.0] and vol.spacing[2] == pytest.approx(2.5)


def test_missing_slices_are_filled_and_reported(cache, tmp_path):
    zs = [0, 2, 4, 6, 14, 16, 18, 20]  # 3 slices missing between 6 and 14
    series = write_stack(tmp_path / "s", [(0, 0, z) for z in zs], values=lambda i: np.full((16, 16), 100 + i))
    found, vol = _load(cache, tmp_path / "s", series)
    stack = found.primary
    assert stack.shape[0] == 11 and vol.spacing[2] == pytest.approx(2.0)
    assert [g.missing for g in stack.gaps] == [3]
    assert stack.messages()[0] == "3 slices missing between z = 6.00 and z = 14.00 mm"
    assert vol.acquired.tolist() == [True] * 4 + [False] * 3 + [True] * 4
    assert (vol.array[4:7] == 100).all()  # filled with the lowest value found
    assert vol.array[7, 0, 0] == 104


def test_a_large_gap_cuts_the_stack_in_two(cache, tmp_path):
    zs = [0, 1, 2, 3, 200, 201, 202]
    series = write_stack(tmp_path / "s", [(0, 0, z) for z in zs])
    found = series_stacks(cache, series) if import_paths(cache, [tmp_path / "s"]) else None
    assert [s.shape[0] for s in found.stacks] == [4, 3]
    assert "part 1 of 2" in found.stacks[0].messages()[0]


def test_duplicate_positions_keep_one_image_and_say_so(cache, tmp_path):
    zs = [0, 1, 2, 2, 3]
    series = write_stack(tmp_path / "s", [(0, 0, z) for z in zs])
    found, vol = _load(cache, tmp_path / "s", series)
    stack = found.primary
    assert vol.shape[0] == 4 and len(stack.duplicates) == 1
    assert stack.messages()[0].startswith("2 images at z = 2.00 mm: kept ")


def test_equal_repeats_of_every_position_are_temporal_positions(cache, tmp_path):
    zs = [0, 1, 2, 3] * 3  # three passes over four positions
    times = [f"1000{i // 4:02d}" for i in range(12)]
    series = write_stack(
        tmp_path / "s", [(0, 0, z) for z in zs], values=lambda i: np.full((16, 16), 10 * (i // 4) + i % 4),
        extra=lambda i, ds: setattr(ds, "AcquisitionTime", times[i]),
    )
    import_paths(cache, [tmp_path / "s"])
    stack = series_stacks(cache, series).primary
    assert stack.phases == 3 and stack.shape[0] == 4 and not stack.duplicates
    for phase in range(3):
        vol = load_series_volume(cache, series, phase=phase)
        assert vol.array[:, 0, 0].tolist() == [10 * phase + k for k in range(4)]
    with pytest.raises(VolumeError, match="temporal position 4 does not exist"):
        load_series_volume(cache, series, phase=3)


def test_localizers_are_a_stack_of_their_own_and_never_primary(cache, tmp_path):
    series = write_stack(tmp_path / "s", [(0, 0, z) for z in range(3)])

    def localizer(i, ds):
        ds.ImageType = ["ORIGINAL", "PRIMARY", "LOCALIZER"]
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.3.{i + 90}"

    write_stack(tmp_path / "s", [(0, 0, z) for z in range(4)], series_uid=series, extra=localizer, name="loc", size=16)
    found = series_stacks(cache, series) if import_paths(cache, [tmp_path / "s"]) else None
    assert [s.localizer for s in found.stacks] == [False, True]
    assert found.primary is found.stacks[0] and found.primary.shape[0] == 3


def test_gantry_tilt_is_resampled_onto_a_rectilinear_grid(cache, tmp_path):
    """A bright column through the slices of a tilted acquisition comes out straight."""
    size, step, tilt = 32, 2.0, np.radians(20)
    shift_per_slice = step * np.tan(tilt)  # mm along y (the column direction)
    def values(i):
        a = np.zeros((size, size), dtype=np.int16)
        # The same patient point (x=8 px, y=16 px) drifts by -shift per slice in the slice's own pixels.
        a[int(round(16 - i * shift_per_slice / 0.5)), 8] = 1000
        return a
    positions = [(0, i * shift_per_slice, i * step) for i in range(6)]
    series = write_stack(tmp_path / "s", positions, size=size, values=values)
    found, vol = _load(cache, tmp_path / "s", series)
    stack = found.primary
    assert stack.sheared and stack.tilt_degrees == pytest.approx(20, abs=0.01)
    assert any("resampled onto a rectilinear grid" in m for m in stack.messages())
    assert vol.spacing[2] == pytest.approx(step)
    peaks = [np.unravel_index(np.argmax(vol.array[k]), vol.array[k].shape) for k in range(6)]
    assert all(abs(y - 16) <= 1 and x == 8 for y, x in peaks)


def test_shift_plane_moves_content_with_linear_interpolation():
    a = np.zeros((4, 4), dtype=np.int16)
    a[1, 1] = 100
    out = shift_plane(a, 1.0, 0.5, fill=-5)
    assert out[2, 1] == 50 and out[2, 2] == 50 and out[0, 0] == -5  # the top row came from outside


def test_planes_with_their_own_rescale_give_float_modality_values(cache, tmp_path):
    def slope(i, ds):
        ds.RescaleSlope = 1 + i
        ds.RescaleIntercept = 0
    series = write_stack(tmp_path / "s", [(0, 0, z) for z in range(3)],
                         values=lambda i: np.full((16, 16), 10), extra=slope)
    _, vol = _load(cache, tmp_path / "s", series)
    assert vol.array.dtype == np.float32 and vol.rescaled
    assert vol.array[:, 0, 0].tolist() == [10, 20, 30]


def test_bits_above_bits_stored_are_cleared_like_a_decoder(cache, tmp_path):
    def twelve_bits(i, ds):
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 12, 11, 0
        ds.RescaleIntercept = 0
    series = write_stack(
        tmp_path / "s", [(0, 0, z) for z in range(3)],
        values=lambda i: np.full((16, 16), 0x7000 | 123), extra=twelve_bits,
    )
    _, vol = _load(cache, tmp_path / "s", series)
    assert (vol.array == 123).all()


def test_description_is_json_with_geometry_and_messages(cache, tmp_path):
    series = write_stack(tmp_path / "s", [(0, y, 0) for y in (0, 2, 4, 8)], orientation=(1, 0, 0, 0, 0, -1))
    import_paths(cache, [tmp_path / "s"])
    d = json.loads(json.dumps(describe_series(series_stacks(cache, series))))
    stack = d["stacks"][0]
    assert d["primary_stack"] == 1 and stack["orientation"] == "coronal"
    assert stack["dimensions"] == [16, 16, 5] and stack["spacing"] == [0.5, 0.5, 2.0]
    assert stack["direction"] == [1, 0, 0, 0, 0, -1, 0, 1, 0]
    assert stack["gaps"] == [{"after_z": 4.0, "before_z": 8.0, "missing": 1}]
