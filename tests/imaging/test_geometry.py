"""Patient coordinates, orientation markers and reference lines on planes with known geometry."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydicom.dataset import Dataset

from tests import factories
from workstation.imaging.geometry import (
    ImagePlane,
    edge_labels,
    edge_labels_from_patient_orientation,
    orientation_letters,
    reference_line,
)

AXIAL = ([1, 0, 0], [0, 1, 0])
CORONAL = ([1, 0, 0], [0, 0, -1])
SAGITTAL = ([0, 1, 0], [0, 0, -1])


def _plane(row, col, position, rows=100, columns=100, spacing=(1.0, 1.0), frame="1.2.3"):
    return ImagePlane(
        position=np.array(position, float),
        row_direction=np.array(row, float),
        column_direction=np.array(col, float),
        row_spacing=spacing[0],
        column_spacing=spacing[1],
        rows=rows,
        columns=columns,
        frame_of_reference_uid=frame,
    )


def test_letters_of_patient_directions():
    assert orientation_letters([1, 0, 0]) == "L"
    assert orientation_letters([-1, 0, 0]) == "R"
    assert orientation_letters([0, 1, 0]) == "P"
    assert orientation_letters([0, 0, 1]) == "H"
    assert orientation_letters([0, 0, -1]) == "F"
    assert orientation_letters([math.cos(0.5), math.sin(0.5), 0]) == "LP"
    assert orientation_letters([0.7, -0.5, 0.5]) == "LAH"
    assert orientation_letters([1, 0, 0.05]) == "L"  # a few degrees of tilt is not named
    assert orientation_letters([0, 0, 0]) == ""


@pytest.mark.parametrize(
    "orientation, expected",
    [
        (AXIAL, {"left": "R", "right": "L", "top": "A", "bottom": "P"}),
        (CORONAL, {"left": "R", "right": "L", "top": "H", "bottom": "F"}),
        (SAGITTAL, {"left": "A", "right": "P", "top": "H", "bottom": "F"}),
    ],
)
def test_edge_markers_of_the_standard_planes(orientation, expected):
    assert edge_labels(*orientation) == expected


def test_edge_markers_follow_rotation_and_flip():
    # A quarter turn clockwise brings the image's left edge (R) to the top.
    assert edge_labels(*AXIAL, rotation=90) == {"left": "P", "right": "A", "top": "R", "bottom": "L"}
    assert edge_labels(*AXIAL, rotation=1) == edge_labels(*AXIAL, rotation=90)
    assert edge_labels(*AXIAL, rotation=180) == {"left": "L", "right": "R", "top": "P", "bottom": "A"}
    assert edge_labels(*AXIAL, flip_horizontal=True) == {"left": "L", "right": "R", "top": "A", "bottom": "P"}
    # The flip comes after the rotation (PS3.3 C.10.6): rotate 90 then mirror left-right.
    assert edge_labels(*AXIAL, rotation=90, flip_horizontal=True) == {
        "left": "A", "right": "P", "top": "R", "bottom": "L"}


def test_edge_markers_of_an_oblique_plane():
    a = math.radians(30)
    row = [math.cos(a), math.sin(a), 0]
    col = [-math.sin(a), math.cos(a), 0]
    labels = edge_labels(row, col)
    assert labels["right"] == "LP" and labels["left"] == "RA"
    assert labels["bottom"] == "PR" and labels["top"] == "AL"


def test_patient_orientation_fallback():
    labels = edge_labels_from_patient_orientation(["P", "F"])
    assert labels == {"left": "A", "right": "P", "top": "H", "bottom": "F"}
    assert edge_labels_from_patient_orientation(["L", "FP"], rotation=90)["top"] == "R"
    assert edge_labels_from_patient_orientation([]) == {"left": "", "right": "", "top": "", "bottom": ""}


def test_patient_point_of_pixel_centres_and_back():
    plane = _plane(*CORONAL, position=[-100, 20, 100], spacing=(0.5, 0.8))
    # The centre of the first pixel is Image Position (Patient).
    assert np.allclose(plane.patient_point(0.5, 0.5), [-100, 20, 100])
    # Column 10, row 4: 10 column spacings along the row, 4 row spacings down the column.
    assert np.allclose(plane.patient_point(10.5, 4.5), [-100 + 8.0, 20, 100 - 2.0])
    x, y, distance = plane.image_point([-92.0, 25.0, 98.0])
    assert (x, y, distance) == pytest.approx((10.5, 4.5, 5.0))  # this coronal plane's normal points posterior


def test_plane_from_dataset_and_from_functional_groups():
    ds = factories.ct_dataset(study_uid=factories.uid(), series_uid=factories.uid(), index=3)
    plane = ImagePlane.from_dataset(ds)
    assert plane.rows == 16 and plane.row_spacing == 0.5
    assert np.allclose(plane.position, [0, 0, 3 * 1.25])
    del ds.ImagePositionPatient
    assert ImagePlane.from_dataset(ds) is None

    enhanced = Dataset()
    enhanced.Rows, enhanced.Columns = 8, 8
    shared = Dataset()
    shared.PixelMeasuresSequence = [Dataset()]
    shared.PixelMeasuresSequence[0].PixelSpacing = [2.0, 2.0]
    shared.PlaneOrientationSequence = [Dataset()]
    shared.PlaneOrientationSequence[0].ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    enhanced.SharedFunctionalGroupsSequence = [shared]
    frames = []
    for z in (0.0, 5.0):
        item = Dataset()
        item.PlanePositionSequence = [Dataset()]
        item.PlanePositionSequence[0].ImagePositionPatient = [0, 0, z]
        frames.append(item)
    enhanced.PerFrameFunctionalGroupsSequence = frames
    second = ImagePlane.from_dataset(enhanced, frame=1)
    assert second.column_spacing == 2.0 and second.position[2] == 5.0


def test_reference_line_of_an_axial_slice_on_a_coronal_image():
    coronal = _plane(*CORONAL, position=[-100, 0, 100], rows=200, columns=200)
    axial = _plane(*AXIAL, position=[-50, -50, 10])
    (x0, y0), (x1, y1) = reference_line(axial, coronal)
    # z = 10 is row centre 90 (y = 90.5); the axial image spans x = -50.5 .. 49.5.
    assert y0 == pytest.approx(90.5) and y1 == pytest.approx(90.5)
    assert sorted([x0, x1]) == pytest.approx([50.0, 150.0])


def test_no_reference_line_for_parallel_planes_other_frames_or_no_overlap():
    coronal = _plane(*CORONAL, position=[-100, 0, 100], rows=200, columns=200)
    assert reference_line(_plane(*CORONAL, position=[-100, 10, 100]), coronal) is None
    assert reference_line(_plane(*AXIAL, position=[-50, -50, 10], frame="9.9"), coronal) is None
    # An axial slice above the top of the coronal image.
    assert reference_line(_plane(*AXIAL, position=[-50, -50, 150]), coronal) is None
    # An axial slice whose extent does not reach the coronal plane (y > 0 only).
    assert reference_line(_plane(*AXIAL, position=[-50, 10, 10]), coronal) is None


def test_reference_line_of_an_oblique_plane_crosses_where_it_should():
    axial = _plane(*AXIAL, position=[-99.5, -99.5, 0], rows=200, columns=200)
    a = math.radians(45)
    # A plane through the origin containing the z axis at 45 degrees: x = y on the axial slice.
    oblique = _plane([math.cos(a), math.sin(a), 0], [0, 0, -1], position=[-70, -70, 50], rows=100, columns=200)
    (x0, y0), (x1, y1) = reference_line(oblique, axial)
    for x, y in ((x0, y0), (x1, y1)):
        point = axial.patient_point(x, y)
        assert point[0] == pytest.approx(point[1], abs=1e-6)
