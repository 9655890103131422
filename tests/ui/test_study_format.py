"""The study list's text, sort keys and filters: plain functions, no Qt."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from types import SimpleNamespace

from workstation.store.queries import StudyFilter
from workstation.ui.study_format import (
    ANY,
    Column,
    FilterInput,
    build_filter,
    count_label,
    display_value,
    format_da,
    format_modalities,
    format_person_name,
    import_summary_message,
    modality_choices,
    sort_key,
)


def test_person_names():
    assert format_person_name("Müller^Anna") == "Müller, Anna"
    assert format_person_name("CompressedSamples^CT1") == "CompressedSamples, CT1"
    assert format_person_name("Last^First^mid^pre") == "Last, pre First mid"
    assert format_person_name("Doe^John^^Dr^Jr") == "Doe, Dr John, Jr"
    assert format_person_name("OB^^^^") == "OB"
    assert format_person_name("^^^^") == ""
    assert format_person_name("") == ""
    assert format_person_name("^Anna") == "Anna"
    assert format_person_name("Anonymized") == "Anonymized"
    assert format_person_name(" Smith ^ Jo ") == "Smith, Jo"
    # Alphabetic group first, the ideographic one in parentheses (the default name display).
    assert format_person_name("Yamada^Tarou=山田^太郎=やまだ^たろう") == "Yamada, Tarou (山田 太郎)"
    assert format_person_name("=山田^太郎") == "山田 太郎"
    assert format_person_name("Doe^Jane\\Roe^Rick") == "Doe, Jane; Roe, Rick"


def test_dates_and_modalities():
    assert format_da("20240315") == "2024-03-15"
    assert format_da("1997.04.24") == "1997-04-24"
    assert format_da("") == ""
    assert format_da("2024") == "2024"  # not a date: shown as stored, never hidden
    assert format_modalities("CT\\PT\\SR") == "CT, PT, SR"
    assert format_modalities("") == ""


def test_count_label():
    assert count_label(0) == "0 studies"
    assert count_label(1) == "1 study"
    assert count_label(12) == "12 studies"


def _row(**kw):
    base = dict(
        study_uid="1.2.3", patient_name="Müller^Anna", patient_id="P1", birth_date="19800229", sex="F",
        study_date="20240315", study_time="093000", description="Chest", accession="A1",
        modalities="CT\\SR", num_series=3, num_instances=120, mixed_patients=False,
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_display_values_and_sort_keys():
    row = _row()
    shown = [display_value(row, c) for c in Column]
    assert shown == ["Müller, Anna", "P1", "1980-02-29", "F", "2024-03-15", "CT, SR", "Chest", "A1", "3", "120",
                     "unread"]
    assert sort_key(row, Column.IMAGES) == 120  # numbers sort as numbers
    assert sort_key(_row(num_instances=9), Column.IMAGES) < sort_key(row, Column.IMAGES)
    assert sort_key(_row(study_time="080000"), Column.STUDY_DATE) < sort_key(row, Column.STUDY_DATE)
    assert sort_key(_row(patient_name="adams^x"), Column.PATIENT_NAME) < sort_key(row, Column.PATIENT_NAME)


def test_build_filter():
    assert build_filter(FilterInput()) == StudyFilter()
    flt = build_filter(FilterInput(patient_name="  Müller, Anna ", patient_id=" P1 ", accession="A*",
                                   modality="ct", date_from=dt.date(2024, 3, 1), date_to=None))
    assert flt == StudyFilter(patient_name="Müller^Anna", patient_id="P1", accession="A*", modality="CT",
                              date_from="20240301", date_to="")
    assert build_filter(FilterInput(patient_name="Müller,")).patient_name == "Müller"
    assert build_filter(FilterInput(modality=ANY)).modality == ""
    # Reversed ends are swapped rather than matching nothing.
    flt = build_filter(FilterInput(date_from=dt.date(2024, 5, 1), date_to=dt.date(2024, 1, 1)))
    assert (flt.date_from, flt.date_to) == ("20240101", "20240501")


def test_modality_choices():
    choices = modality_choices(["CT\\PT", "XYZ"])
    assert choices[0] == ANY
    assert {"CT", "MR", "PT", "XYZ"} <= set(choices)
    assert choices[1:] == sorted(choices[1:])


def test_import_summary_message_holds_counts_only():
    summary = SimpleNamespace(imported=4, duplicates=2, conflicts=1, failed=0, skipped=[object()] * 3, cancelled=False)
    assert import_summary_message(summary) == "Import finished: 4 imported, 2 duplicates, 1 conflict, 3 skipped"
    summary.cancelled, summary.failed = True, 1
    assert import_summary_message(summary).startswith("Import cancelled: ")
    assert import_summary_message(summary).endswith(", 1 failed")


def test_formatting_needs_no_qt():
    code = "import sys, workstation.ui.study_format; sys.exit('PySide6' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0
