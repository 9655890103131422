"""A measurement or key image of another patient's image is not inserted into a report; both patients are named."""

from __future__ import annotations

from pydicom import dcmread

from tests.factories import write_series
from tests.reporting.conftest import measurements_on
from workstation.reporting.editor import ReportEditor
from workstation.reporting.inputs import ImageRef, KeyImage
from workstation.store.importer import import_paths


def test_another_patients_measurement_and_key_image_are_refused(study, settings, tmp_path):
    cache, study_uid, headers = study
    other_paths = write_series(tmp_path / "other", 1, patient_name="Yamada^Tarou=山田^太郎", patient_id="PID-JP")
    import_paths(cache, [str(p) for p in other_paths])
    other = dcmread(other_paths[0], stop_before_pixels=True)
    ed = ReportEditor(cache, settings)
    ed.open_study(study_uid)
    assert ed.add_measurements(measurements_on(other)) == 0
    assert ed.content.measurements == []
    assert "the image is Yamada, Tarou (山田 太郎), ID PID-JP" in ed.refusal
    assert "the report's patient is Müller, Anna" in ed.refusal
    key = KeyImage(ImageRef(str(other.SOPClassUID), str(other.SOPInstanceUID)))
    assert ed.add_key_image(key) is False and ed.content.key_images == [] and "differ" in ed.refusal
    # The report's own images go in, and clear the refusal.
    assert ed.add_measurements(measurements_on(headers[0])[:1]) == 1 and ed.refusal == ""
    own = KeyImage(ImageRef(str(headers[1].SOPClassUID), str(headers[1].SOPInstanceUID)))
    assert ed.add_key_image(own) is True and ed.refusal == ""
