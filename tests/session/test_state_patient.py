"""A presentation state is applied only to images of its own patient; a refusal names both patients."""

from __future__ import annotations

import pydicom
import pytest

from tests import factories
from workstation.imaging.pipeline import Window
from workstation.imaging.presentation import PresentationView, build_gsps
from workstation.session.saved_objects import store_object
from workstation.session.saved_views import SaveError, check_state_patient
from workstation.store.importer import import_paths


def test_state_of_another_patient_is_refused(cache, tmp_path):
    ours = factories.write_series(tmp_path / "ours", 2, patient_name="Διονυσιος^", patient_id="GR-1")
    theirs = factories.write_series(tmp_path / "theirs", 2, patient_name="김희중", patient_id="KR-1")
    import_paths(cache, [str(p) for p in ours + theirs])
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in ours]
    gsps = build_gsps(headers, PresentationView(window=Window(40, 400)))
    store_object(cache, gsps)
    studies = {s.patient_id: s for s in cache.studies()}
    check_state_patient(cache, str(gsps.SOPInstanceUID), studies["GR-1"])  # its own patient: no complaint
    with pytest.raises(SaveError) as err:
        check_state_patient(cache, str(gsps.SOPInstanceUID), studies["KR-1"])
    message = str(err.value)
    assert "the presentation state's patient is Διονυσιος, ID GR-1" in message
    assert "the images' patient is 김희중, ID KR-1" in message
