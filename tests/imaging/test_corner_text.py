"""Four-corner text: fields, ages, per-modality layouts, and the patient's identity always shown."""

from __future__ import annotations

from dataclasses import replace

from pydicom.dataset import Dataset

from workstation.imaging.corner_text import CornerContext, age_at, corner_text, layout_for, person_name
from workstation.store.queries import SeriesRow, StudyRow

STUDY = StudyRow(
    study_uid="1.2", patient_name="Doe^Jane^Q", patient_id="ID-7", issuer="", birth_date="19800615", sex="F",
    study_date="20240614", study_time="081500", description="CT CHEST", accession="A123", study_id="1",
    referring_physician="", institution="General", modalities="CT", body_parts="", num_series=1,
    num_instances=1, last_opened=None, pinned=False, mixed_patients=False, size_bytes=0)
SERIES = SeriesRow(series_uid="1.2.3", study_uid="1.2", series_number=4, description="Lung 1mm", modality="CT",
                   body_part="", laterality="", frame_of_reference_uid="", protocol_name="",
                   contrast_bolus_agent="", num_instances=10)


def test_radiologists_fields_in_their_corners():
    header = Dataset()
    header.KVP = "120"
    header.Exposure = "250"
    ctx = CornerContext(STUDY, SERIES, header, index=4, count=10, slice_location=-12.5, slice_thickness=1.0,
                        window_text="W 400 L 40", zoom=1.5)
    text = corner_text(ctx)
    assert text["top_left"] == ["DOE, Jane Q", "ID ID-7", "DOB 1980-06-15 (043Y) F", "General"]
    assert text["top_right"] == ["2024-06-14 08:15:00", "CT CHEST", "Acc A123", "Se 4 Lung 1mm"]
    assert text["bottom_left"] == ["Im 5/10", "Loc -12.5 mm  Th 1 mm", "120 kVp  250 mAs"]
    assert text["bottom_right"] == ["W 400 L 40", "Zoom 150%"]


def test_ages_and_names():
    assert age_at("20000229", "20240228") == "023Y"
    assert age_at("20231001", "20240615") == "008M"
    assert age_at("20240601", "20240615") == "014D"
    assert age_at("", "20240615") == age_at("20240615", "20240101") == ""
    assert person_name("Müller^Anna") == "MÜLLER, Anna"
    assert person_name("Smith") == "SMITH"
    assert person_name("=Yamada^Tarou") == "Yamada Tarou"  # a name only in its ideographic group is shown
    assert person_name("Yamada^Tarou=山田^太郎=やまだ^たろう") == "YAMADA, Tarou (山田 太郎)"


def test_layouts_per_modality_and_overrides_never_hide_the_patient():
    assert "view" in layout_for("DX")["bottom_left"]
    layout = layout_for("CT", {"CT": {"top_left": ["institution"], "bottom_right": ["zoom", "nonsense"]}})
    assert layout["top_left"] == ["patient_name", "patient_id", "institution"]
    assert layout["bottom_right"] == ["zoom"]
    nameless = replace(STUDY, patient_name="", patient_id="")
    text = corner_text(CornerContext(nameless, SERIES), layout)
    assert text["top_left"][:2] == ["(no name)", "ID (none)"]
