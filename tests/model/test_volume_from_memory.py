"""MPR and 3D take the voxels the 2D viewer already read: the same memory, the same values as from the files."""

from __future__ import annotations

import numpy as np
import pytest

from tests.model.conftest import write_stack
from workstation.model import pixel_memory
from workstation.model.series_volume import load_series_volume, series_stacks, volume_from_memory
from workstation.model.stack import load_stack
from workstation.model.stack_pixels import StackLoader, StackPixels
from workstation.store.importer import import_paths


def _values(i):
    yy, xx = np.mgrid[:16, :16]
    return (xx + 16 * yy + 300 * i).astype("<i2")


def _series(cache, tmp_path, positions, **kw):
    uid = write_stack(tmp_path / "s", positions, values=_values,
                      extra=lambda i, ds: setattr(ds, "RescaleIntercept", -1024), **kw)
    import_paths(cache, [tmp_path / "s"])
    return next(s for s in cache.series(cache.studies()[0].study_uid) if s.series_uid == uid)


def _read_in_2d(cache, series):
    pixels = StackPixels(load_stack(cache, series))
    loader = StackLoader(pixels)
    loader.start(0)
    assert loader.join(30)
    return pixels


def test_the_volume_is_a_view_of_the_2d_array_with_the_values_read_from_files(cache, tmp_path):
    series = _series(cache, tmp_path, [(0, 0, 2.0 * z) for z in range(8)])
    from_files = load_series_volume(cache, series.series_uid)  # read from the files: no 2D stack open yet
    pixels = _read_in_2d(cache, series)
    assert pixel_memory.pixels_of(series.series_uid) is pixels
    shared = load_series_volume(cache, series.series_uid)
    assert np.shares_memory(shared.array, pixels.volume)
    assert not shared.rescaled and shared.rescale_intercept == -1024
    assert np.array_equal(shared.modality_value(shared.array), from_files.modality_value(from_files.array))
    assert np.allclose(shared.origin, from_files.origin) and np.allclose(shared.spacing, from_files.spacing)
    assert np.allclose(shared.direction, from_files.direction)
    assert shared.minimum() == float(pixels.volume.min())


def test_planes_in_the_opposite_order_are_copied_into_volume_order(cache, tmp_path):
    # Orientation with the column direction reversed: the 2D order runs against the volume's z.
    series = _series(cache, tmp_path, [(0, 0, 2.0 * z) for z in range(6)], orientation=(1, 0, 0, 0, -1, 0))
    pixels = _read_in_2d(cache, series)
    found = series_stacks(cache, series.series_uid)
    shared = volume_from_memory(found.primary, pixels)
    pixel_memory.forget(series.series_uid)
    from_files = load_series_volume(cache, series.series_uid)
    assert shared is not None
    assert np.array_equal(shared.modality_value(shared.array), from_files.modality_value(from_files.array))


def test_frames_not_read_in_2d_yet_are_read_for_the_volume_and_a_gap_falls_back_to_files(cache, tmp_path):
    series = _series(cache, tmp_path, [(0, 0, 2.0 * z) for z in range(5)])
    pixels = StackPixels(load_stack(cache, series))  # nothing read yet
    found = series_stacks(cache, series.series_uid)
    shared = volume_from_memory(found.primary, pixels)
    assert shared is not None and pixels.done
    assert np.array_equal(shared.array[3], _values(3))
    pixels.errors[2] = "cannot read image: damaged"  # a frame the 2D viewer could not read
    pixels.loaded[:] = True
    assert volume_from_memory(found.primary, pixels) is None


@pytest.mark.parametrize("phase", [1])
def test_a_temporal_position_the_stack_lacks_is_not_taken_from_memory(cache, tmp_path, phase):
    series = _series(cache, tmp_path, [(0, 0, 2.0 * z) for z in range(4)])
    pixels = _read_in_2d(cache, series)
    assert volume_from_memory(series_stacks(cache, series.series_uid).primary, pixels, phase=phase) is None


def test_a_few_frames_of_a_series_do_not_replace_the_whole_stack_in_memory(cache, tmp_path):
    from workstation.model.stack import ImageStack

    series = _series(cache, tmp_path, [(0, 0, 2.0 * z) for z in range(6)])
    whole = StackPixels(load_stack(cache, series))
    some = StackPixels(ImageStack(series=whole.stack.series, frames=whole.stack.frames[:2]))  # key images, say
    assert some.volume is not None
    assert pixel_memory.pixels_of(series.series_uid) is whole
