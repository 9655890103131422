"""Presentation states and key object selections of images in every character set keep the name exactly."""

from __future__ import annotations

import io

import pydicom
import pytest
from pydicom.data import get_charset_files

from workstation.dicom.charset import encode_dataset
from workstation.imaging.key_images import build_key_object_selection
from workstation.imaging.pipeline import Window
from workstation.imaging.presentation import PresentationView, build_gsps

IMAGES = [f for f in sorted(get_charset_files("chr*.dcm"))
          if {"PatientName", "SOPClassUID", "Rows"} <= set(pydicom.dcmread(f, stop_before_pixels=True).dir())]


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: p.split("/")[-1])
@pytest.mark.parametrize("kind", ["KOS", "GSPS"])
def test_object_keeps_the_images_name(path, kind):
    header = pydicom.dcmread(path, stop_before_pixels=True)
    before = header.get("SpecificCharacterSet")
    if kind == "KOS":
        ds = build_key_object_selection([header], description="Befund: Rundherd")
    else:
        ds = build_gsps([header], PresentationView(window=Window(40, 400)), content_description="Ελληνικά")
    back = pydicom.dcmread(io.BytesIO(encode_dataset(ds)))
    assert str(back.PatientName) == str(header.PatientName)
    assert header.get("SpecificCharacterSet") == before  # the image's header is left as it was
