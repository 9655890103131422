"""Grayscale Softcopy Presentation States: building, validating with DCMTK and dicom3tools, reading, applying."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from tests import factories
from workstation.imaging.pipeline import FramePipeline, Window
from workstation.imaging.presentation import (
    DisplayedArea,
    GraphicItem,
    ImageAnnotation,
    PresentationView,
    TextItem,
    build_gsps,
    measurement_annotation,
)
from workstation.imaging.presentation_state import is_gsps, read_gsps, spatially_transformed


def _series(n=3, size=32, **kw):
    study, series = factories.uid(), factories.uid()
    images = [factories.ct_dataset(study_uid=study, series_uid=series, index=i, size=size, **kw) for i in range(n)]
    for image in images:
        image.RescaleIntercept = -1024
    return images


def _view(images):
    target = str(images[1].SOPInstanceUID)
    return PresentationView(
        window=Window(40, 400, "LINEAR", "SOFT TISSUE"),
        rotation=90,
        flip_horizontal=True,
        displayed_area=DisplayedArea((3, 4), (30, 28), "MAGNIFY", magnification=2.0),
        annotations=(
            measurement_annotation("POLYLINE", [(10.5, 10.5), (30.5, 10.5)], "10.0 mm", sop_instance_uid=target),
            ImageAnnotation(
                layer="ROI",
                graphics=(GraphicItem("ELLIPSE", ((5, 10), (15, 10), (10, 7), (10, 13))),),
                texts=(TextItem("mean 40.0 HU", bounding_box=(1, 1, 20, 5)),),
            ),
        ),
    )


def _written(ds: Dataset, tmp_path, name: str):
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.skipif(shutil.which("dcmpschk") is None, reason="DCMTK's dcmpschk is not installed")
def test_dcmpschk_accepts_the_gsps(tmp_path):
    images = _series()
    path = _written(build_gsps(images, _view(images), content_label="Lightbox view"), tmp_path, "gsps.dcm")
    done = subprocess.run(["dcmpschk", str(path)], capture_output=True, text=True, timeout=60)
    output = done.stdout + done.stderr
    # dcmpschk exits 0 either way; its verdict is in the text.
    assert "Test passed" in output and "Test failed" not in output, output
    assert [line for line in output.splitlines() if line.startswith(("E:", "F:"))] == []


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools' dciodvfy is not installed")
def test_dciodvfy_accepts_the_gsps(tmp_path):
    images = _series()
    path = _written(build_gsps(images, _view(images), content_creator="Reader^Rita"), tmp_path, "gsps.dcm")
    done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]
    assert errors == []


def test_round_trip_of_every_part_of_the_view(tmp_path):
    images = _series()
    gsps = build_gsps(images, _view(images), content_label="Lightbox view", content_description="chest")
    back = pydicom.dcmread(_written(gsps, tmp_path, "gsps.dcm"))
    assert is_gsps(back)
    state = read_gsps(back)
    assert state.content_label == "LIGHTBOX VIEW" and state.content_description == "chest"
    assert [r.sop_instance_uid for r in state.referenced] == [str(im.SOPInstanceUID) for im in images]
    assert state.rescale == (1.0, -1024.0) and state.units == "HU"
    assert state.presentation_lut_shape == "IDENTITY"
    assert (state.rotation, state.flip_horizontal) == (90, True)
    uid0, uid1 = str(images[0].SOPInstanceUID), str(images[1].SOPInstanceUID)
    assert state.window_for(uid0) == Window(40, 400, "LINEAR", "SOFT TISSUE")
    area = state.displayed_area_for(uid0)
    assert (area.top_left, area.bottom_right, area.size_mode, area.magnification) == ((3, 4), (30, 28), "MAGNIFY", 2.0)
    # The measurement is on the second image only; the ROI layer on all three.
    assert [a.layer for a in state.annotations_for(uid0)] == ["ROI"]
    on_second = {a.layer: a for a in state.annotations_for(uid1)}
    line = on_second["MEASUREMENTS"]
    assert line.graphics[0].graphic_type == "POLYLINE"
    assert line.graphics[0].points == ((10.5, 10.5), (30.5, 10.5))
    assert line.texts[0].text == "10.0 mm" and line.texts[0].anchor == (30.5, 10.5)
    roi = on_second["ROI"]
    assert roi.graphics[0].graphic_type == "ELLIPSE" and roi.texts[0].bounding_box == (1, 1, 20, 5)
    view = state.view_for(uid1)
    assert view.rotation == 90 and len(view.annotations) == 2


def test_applying_the_state_renders_as_it_says():
    images = _series(size=8)
    gsps = build_gsps(images, PresentationView(window=Window(0, 200), rotation=90))
    state = read_gsps(gsps)
    stored = (np.arange(64, dtype=np.int16).reshape(8, 8) * 10 + 950).astype(np.int16)
    pipeline = FramePipeline.from_dataset(images[0])
    uid = str(images[0].SOPInstanceUID)
    shown = state.render(pipeline, stored, uid)
    expected = np.rot90(pipeline.to_display(stored, Window(0, 200)), k=-1)
    assert np.array_equal(shown, expected)
    assert state.pipeline_for(pipeline, uid).windows == [Window(0, 200)]


def test_presentation_lut_shape_replaces_monochrome1():
    images = _series(size=4)
    for image in images:
        image.PhotometricInterpretation = "MONOCHROME1"
    saved = read_gsps(build_gsps(images, PresentationView(window=Window(0, 100))))
    assert saved.presentation_lut_shape == "INVERSE"  # the image's own look, said explicitly
    stored = np.array([[1024 - 100, 1024 + 100]], dtype=np.int16)  # -100 HU and +100 HU
    pipeline = FramePipeline.from_dataset(images[0])
    uid = str(images[0].SOPInstanceUID)
    assert saved.render(pipeline, stored, uid).tolist() == [[255, 0]]
    upright = read_gsps(build_gsps(images, PresentationView(window=Window(0, 100), presentation_lut_shape="IDENTITY")))
    assert upright.render(pipeline, stored, uid).tolist() == [[0, 255]]


def test_absent_transformations_are_identities():
    """PS3.4 N.2: what the presentation state leaves out is the identity, not the image's own."""
    images = _series(size=4)
    gsps = build_gsps(images, PresentationView(window=Window(40, 400)))
    del gsps.RescaleSlope, gsps.RescaleIntercept, gsps.RescaleType
    del gsps.SoftcopyVOILUTSequence
    state = read_gsps(gsps)
    pipeline = FramePipeline.from_dataset(images[0])
    uid = str(images[0].SOPInstanceUID)
    applied = state.pipeline_for(pipeline, uid)
    assert applied.windows == [] and applied.modality_values(np.array([5])).tolist() == [5]
    # Identity VOI: the whole stored range (signed 16 bit) spread over 0..255.
    shown = state.render(pipeline, np.array([[-32768, 0, 32767]], dtype=np.int16), uid)
    assert shown.tolist() == [[0, 127, 255]]


def test_display_units_become_pixel_units():
    images = _series(size=100)
    gsps = build_gsps(images, PresentationView(displayed_area=DisplayedArea((1, 1), (100, 100))))
    item = Dataset()
    item.GraphicLayer = "DISPLAYED"
    graphic = Dataset()
    graphic.GraphicAnnotationUnits = "DISPLAY"
    graphic.GraphicDimensions = 2
    graphic.NumberOfGraphicPoints = 1
    graphic.GraphicData = [0.25, 0.5]
    graphic.GraphicType = "POINT"
    graphic.GraphicFilled = "N"
    item.GraphicObjectSequence = [graphic]
    gsps.GraphicAnnotationSequence = [item]
    gsps.GraphicLayerSequence = [Dataset()]
    gsps.GraphicLayerSequence[0].GraphicLayer = "DISPLAYED"
    gsps.GraphicLayerSequence[0].GraphicLayerOrder = 1
    uid = str(images[0].SOPInstanceUID)
    assert read_gsps(gsps).annotations_for(uid)[0].graphics[0].points == ((25.0, 50.0),)
    # Shown rotated a quarter turn clockwise, a quarter from the left is a quarter from the top.
    gsps.ImageRotation = 90
    assert read_gsps(gsps).annotations_for(uid)[0].graphics[0].points == ((50.0, 75.0),)


def test_spatial_transform_order():
    a = np.arange(6).reshape(2, 3)
    assert spatially_transformed(a, 90).tolist() == [[3, 0], [4, 1], [5, 2]]
    assert spatially_transformed(a, 0, True).tolist() == [[2, 1, 0], [5, 4, 3]]
    assert spatially_transformed(a, 90, True).tolist() == [[0, 3], [1, 4], [2, 5]]


def test_bad_arguments_are_refused():
    images = _series(n=2)
    other = _series(n=1)
    with pytest.raises(ValueError, match="one study"):
        build_gsps(images + other, PresentationView())
    with pytest.raises(ValueError, match="not referenced"):
        build_gsps(images, PresentationView(annotations=(measurement_annotation(
            "POLYLINE", [(0, 0), (1, 1)], "x", sop_instance_uid=str(other[0].SOPInstanceUID)),)))
    with pytest.raises(ValueError):
        GraphicItem("CIRCLE", ((0, 0),))
    with pytest.raises(ValueError):
        PresentationView(rotation=45)
    with pytest.raises(ValueError):
        read_gsps(images[0])


def test_displayed_area_zoom_and_centre():
    area = DisplayedArea((1, 1), (200, 100))
    assert area.center == (100.0, 50.0)
    assert area.zoom((800, 800)) == 4.0  # the width fits
    assert area.zoom((800, 800), rotation=90) == 4.0  # now 100 wide and 200 high: the height fits
    assert area.zoom((400, 800), rotation=90) == 4.0
    assert DisplayedArea((1, 1), (10, 10), "MAGNIFY", magnification=3.0).zoom((100, 100)) == 3.0
    true_size = DisplayedArea((1, 1), (10, 10), "TRUE SIZE", pixel_spacing=(0.5, 0.5))
    assert true_size.zoom((100, 100), display_pixel_pitch=0.25) == 2.0
    visible = DisplayedArea.from_visible_rect(10.2, 20.7, 50.5, 60.0, zoom=2.5)
    assert (visible.top_left, visible.bottom_right, visible.size_mode) == ((11, 21), (51, 60), "MAGNIFY")
    assert visible.center == (30.5, 40.0)


def test_the_gsps_carries_the_images_patient_module_with_the_issuer():
    images = _series(2)
    for image in images:
        image.IssuerOfPatientID = "HOSPITAL A"
        other = Dataset()
        other.PatientID = "OLD-7"
        other.IssuerOfPatientID = "HOSPITAL B"
        image.OtherPatientIDsSequence = [other]
    gsps = build_gsps(images, PresentationView())
    assert gsps.IssuerOfPatientID == "HOSPITAL A"
    assert gsps.OtherPatientIDsSequence[0].PatientID == "OLD-7"
