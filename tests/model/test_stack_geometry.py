"""Look-ups by patient position over a stack's cached geometry agree with a pass over every frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from workstation.imaging.cross_reference import matching_index, position_along, stack_normal
from workstation.model.stack import FrameRef, ImageStack, sort_frames
from workstation.store.queries import SeriesRow


def _series(uid: str = "1.2.3", frame_uid: str = "1.2.9") -> SeriesRow:
    fields = {name: None for name in SeriesRow.__dataclass_fields__}
    fields.update(series_uid=uid, study_uid="1.2", frame_of_reference_uid=frame_uid, modality="CT")
    return SeriesRow(**fields)


def _frame(i: int, z: float, orientation=(1.0, 0, 0, 0, 1.0, 0), instance: int | None = None) -> FrameRef:
    return FrameRef(sop_instance_uid=f"1.2.3.{i}", sop_class_uid="1.2.840.10008.5.1.4.1.1.2", frame=0,
                    number_of_frames=1, instance_number=instance if instance is not None else i + 1,
                    path=Path(f"/nowhere/{i}.dcm"), rows=4, columns=4, bits_allocated=16, samples_per_pixel=1,
                    pixel_representation=1, photometric_interpretation="MONOCHROME2",
                    position=np.array([-10.0, -10.0, z]), orientation=np.array(orientation, float),
                    pixel_spacing=(1.0, 1.0))


def _stack(zs, orientation=(1.0, 0, 0, 0, 1.0, 0), uid="1.2.3") -> ImageStack:
    frames, spatial = sort_frames([_frame(i, z, orientation) for i, z in enumerate(zs)])
    return ImageStack(series=_series(uid), frames=frames, spatially_sorted=spatial)


def _brute_nearest(stack: ImageStack, point) -> int | None:
    """The former pass over every frame: the first frame of least distance to its own plane."""
    best, best_d = None, np.inf
    for i, f in enumerate(stack.frames):
        n = np.cross(f.orientation[:3], f.orientation[3:])
        n = n / np.linalg.norm(n)
        d = abs(float((point - f.position) @ n))
        if d < best_d:
            best, best_d = i, d
    return best


def test_frame_normal_is_computed_once_and_cannot_be_changed_by_a_caller():
    f = _frame(0, 0.0, orientation=(0, 1.0, 0, 0, 0, -1.0))  # sagittal
    n = f.normal
    assert np.allclose(n, np.cross([0, 1, 0], [0, 0, -1]))
    assert f.normal is n  # the same array: no np.cross per call
    with pytest.raises(ValueError):
        n *= -1  # shared by every caller: read-only
    f.orientation = np.array([1.0, 0, 0, 0, 1.0, 0])  # a new orientation gives a new normal
    assert np.allclose(f.normal, [0, 0, 1])
    f.orientation = np.array([1.0, 0, 0, 1.0, 0, 0])  # degenerate
    assert f.normal is None


@pytest.mark.parametrize("zs", [
    [0.0, 1.0, 2.0, 3.0, 5.0, 8.0],  # irregular gaps
    [4.0, 3.0, 2.0, 1.0, 0.0],  # acquired head to feet: instance numbers run against z
    [0.0, 1.0, 1.0, 1.0, 2.0, 3.0],  # several frames at one position
])
def test_nearest_and_binary_search_agree_with_a_pass_over_every_frame(zs):
    stack = _stack(zs)
    assert stack.geometry.along is not None
    for z in np.linspace(min(zs) - 3, max(zs) + 3, 97):
        point = np.array([1.0, 2.0, z])
        expected = _brute_nearest(stack, point)
        assert stack.nearest_index(point) == expected, z
        assert stack.index_at(float(point @ stack.normal)) == expected, z


def test_stack_geometry_follows_a_new_list_of_frames():
    stack = _stack([0.0, 1.0, 2.0])
    assert stack.index_of("1.2.3.2") == 2 and stack.index_of("1.2.3.2", 1) is None
    stack.frames = stack.frames[:2]
    assert stack.index_of("1.2.3.2") is None
    assert stack.nearest_index(np.array([0, 0, 2.0])) == 1


def test_unsorted_stack_uses_each_frames_own_plane():
    axial, coronal = (1.0, 0, 0, 0, 1.0, 0), (1.0, 0, 0, 0, 0, -1.0)
    frames = [_frame(0, 0.0, axial), _frame(1, 5.0, coronal), _frame(2, 10.0, axial)]
    stack = ImageStack(series=_series(), frames=frames, spatially_sorted=False)
    assert stack.normal is None and stack.geometry.along is None
    for point in ([0, 0, 9.0], [0, -10.0, 3.0], [0, -9.0, 0.5]):
        assert stack.nearest_index(np.array(point)) == _brute_nearest(stack, np.array(point))
    assert stack.nearest_index(np.array([0, 50.0, 50.0]), max_distance=5) is None


def test_linked_matching_with_an_offset_and_a_reversed_target():
    source = _stack([float(z) for z in range(20)])
    target = _stack([float(z) for z in range(19, -1, -1)], uid="1.2.4")  # instance 1 at the top
    assert np.allclose(stack_normal(target), [0, 0, 1])
    for i in range(20):
        expected = _brute_nearest(target, source.frames[i].position + np.array([0, 0, 2.0]))
        assert matching_index(source, i, target, 2.0) == expected
        assert position_along(source, i) == pytest.approx(float(i))
