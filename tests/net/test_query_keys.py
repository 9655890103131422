"""Query identifier building: pure, no network."""

from __future__ import annotations

import datetime as dt

import pytest
from pydicom.dataset import Dataset

from workstation.net.find import build_identifier, dedup_key, normalise_level, query_value


def test_levels_normalised():
    assert normalise_level("study") == "STUDY"
    assert normalise_level(" instance ") == "IMAGE"
    with pytest.raises(ValueError, match="unknown query level"):
        normalise_level("FRAME")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ""),
        ("", ""),
        (dt.date(2024, 1, 31), "20240131"),
        (dt.datetime(2024, 1, 31, 23, 59), "20240131"),
        ((dt.date(2024, 1, 1), dt.date(2024, 1, 31)), "20240101-20240131"),
        ((dt.date(2024, 1, 1), None), "20240101-"),
        ((None, "20240131"), "-20240131"),
        ((None, None), ""),
        ("20240101-20240131", "20240101-20240131"),
        (" 20240101 - ", "20240101-"),
        ("-20240131", "-20240131"),
    ],
)
def test_date_values_and_ranges(value, expected):
    assert query_value("StudyDate", value) == expected


@pytest.mark.parametrize("bad", ["2024-01-31", "31.01.2024", "202401", "2024*", "-", "1-2-3"])
def test_bad_dates_refused(bad):
    with pytest.raises(ValueError):
        query_value("StudyDate", bad)


def test_time_range():
    assert query_value("StudyTime", (dt.time(8, 0), dt.time(12, 30))) == "080000-123000"
    assert query_value("StudyTime", "0800-1230") == "0800-1230"


def test_text_wildcards_kept():
    assert query_value("PatientName", "DOE*") == "DOE*"
    assert query_value("AccessionNumber", "A?C1") == "A?C1"


def test_uid_lists_and_no_wildcards():
    assert query_value("StudyInstanceUID", "1.2.3") == "1.2.3"
    assert query_value("StudyInstanceUID", ["1.2.3", "1.2.4"]) == ["1.2.3", "1.2.4"]
    with pytest.raises(ValueError, match="not a UID"):
        query_value("StudyInstanceUID", "1.2.*")


def test_unknown_keyword_refused():
    with pytest.raises(ValueError, match="unknown DICOM keyword"):
        query_value("PatientsNickname", "x")


def test_study_identifier_has_return_keys_and_matches():
    ds = build_identifier("STUDY", {"PatientName": "DOE*", "StudyDate": (dt.date(2024, 1, 1), None)})
    assert ds.QueryRetrieveLevel == "STUDY"
    assert ds.PatientName == "DOE*"
    assert ds.StudyDate == "20240101-"
    for kw in ("StudyInstanceUID", "AccessionNumber", "ModalitiesInStudy", "PatientID"):
        assert kw in ds and not ds[kw].value
    assert "SpecificCharacterSet" not in ds


def test_series_identifier_carries_upper_unique_key():
    ds = build_identifier("SERIES", {})
    assert "StudyInstanceUID" in ds and not ds.StudyInstanceUID
    ds = build_identifier("IMAGE", {"SeriesInstanceUID": "1.2.3"})
    assert "StudyInstanceUID" in ds and ds.SeriesInstanceUID == "1.2.3"


def test_patient_root_study_level_has_patient_id_but_not_patient_return_keys():
    ds = build_identifier("STUDY", {"PatientID": "X1"}, model="patient")
    assert ds.PatientID == "X1"
    assert "PatientBirthDate" not in ds


def test_modality_at_study_level_becomes_modalities_in_study():
    ds = build_identifier("STUDY", {"Modality": "CT"})
    assert ds.ModalitiesInStudy == "CT"
    assert "Modality" not in ds


def test_keys_below_level_refused():
    with pytest.raises(ValueError, match="SERIES-level key"):
        build_identifier("STUDY", {"SeriesInstanceUID": "1.2.3"})


def test_non_ascii_declares_charset():
    ds = build_identifier("PATIENT", {"PatientName": "Müller^Jörg"}, charset="ISO_IR 100")
    assert ds.SpecificCharacterSet == "ISO_IR 100"
    assert build_identifier("PATIENT", {"PatientName": "Müller"}).SpecificCharacterSet == "ISO_IR 192"


def test_dedup_key():
    ds = Dataset()
    ds.StudyInstanceUID = "1.2.3"
    assert dedup_key(ds, "STUDY") == ("1.2.3",)
    assert dedup_key(ds, "SERIES") is None
    ds.PatientID = "P1"
    assert dedup_key(ds, "PATIENT") == ("P1", "")


def test_binary_vr_keys_use_empty_values_and_numbers():
    assert query_value("Rows", None) is None
    assert query_value("Rows", "512") == 512
    ds = build_identifier("IMAGE", {})
    assert "Rows" in ds and ds.Rows is None


@pytest.mark.parametrize("charset", ["ISO_IR 100", "", "ISO_IR 6"])
def test_a_key_the_node_cannot_encode_is_refused_before_sending(charset):
    from workstation.dicom.charset import CharsetError

    with pytest.raises(CharsetError, match="wildcard"):
        build_identifier("STUDY", {"PatientName": "Διονυσιος"}, charset=charset)


def test_code_extensions_of_a_node_are_declared_as_terms():
    ds = build_identifier("STUDY", {"PatientName": "山田*"}, charset="ISO 2022 IR 6\\ISO 2022 IR 87")
    assert list(ds.SpecificCharacterSet) == ["ISO 2022 IR 6", "ISO 2022 IR 87"]
