"""Answers checked against the keys sent: an archive that ignores or loosens a key brings no other patient in."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from workstation.net.find import build_identifier
from workstation.net.query_match import FilteredAnswers, answer_mismatches, matching_keys


def _answer(**values) -> Dataset:
    ds = Dataset()
    for k, v in values.items():
        setattr(ds, k, v)
    return ds


def _bad(keys: dict, **answer) -> list[str]:
    return answer_mismatches(matching_keys(build_identifier("STUDY", keys)), _answer(**answer))


@pytest.mark.parametrize("query,name,ok", [
    ("Buc^Jérôme", "Buc^Jérôme", True),
    ("buc^jerome", "Buc^Jérôme", True),  # case and accents are the archive's choice: kept
    ("Buc*", "Buc^Jérôme", True),
    ("Buc", "Buc^Jérôme", False),  # single value matching is exact
    ("Διονυσιος", "김희중", False),  # an archive folding both to ASCII matched them
    ("Διονυσιος", "Διονυσιος", True),
    ("Δι?νυσιος", "Διονυσιος", True),
    ("山田^太郎", "Yamada^Tarou=山田^太郎=やまだ^たろう", True),  # one component group
    ("Yamada^Tarou", "Yamada^Tarou=山田^太郎=やまだ^たろう", True),
    ("やまだ*", "Yamada^Tarou=山田^太郎=やまだ^たろう", True),
    ("Yamada^Tarou=山田^太郎", "Yamada^Tarou=山田^太郎=やまだ^たろう", False),
    ("Doe^John", "Doe^John^^^", True),
    ("Doe^John", "", False),  # an answer without the name cannot be shown to be this patient
])
def test_patient_name(query, name, ok):
    answer = {"PatientName": name} if name else {}
    assert (_bad({"PatientName": query}, **answer) == []) is ok


def test_patient_id_is_exact_and_case_sensitive():
    assert _bad({"PatientID": "ABC1"}, PatientID="ABC1") == []
    assert _bad({"PatientID": "ABC1"}, PatientID="abc1") == ["PatientID"]
    assert _bad({"PatientID": "ABC*"}, PatientID="ABC12") == []


@pytest.mark.parametrize("query,modalities,ok", [
    ("CT", ["CT", "SR"], True), ("CT", "MR", False), ("CT", ["MR", "PR"], False), ("ct", "CT", True),
])
def test_modalities_in_study(query, modalities, ok):
    assert (_bad({"Modality": query}, ModalitiesInStudy=modalities) == []) is ok


def test_modalities_left_empty_by_the_archive_are_unknown_not_wrong():
    assert _bad({"Modality": "CT"}) == []


@pytest.mark.parametrize("query,date,ok", [
    ("20240101-20240131", "20240115", True), ("20240101-20240131", "20240201", False),
    ("20240101-", "20250101", True), ("-20240101", "20250101", False), ("20240101", "20240101", True),
    ("20240101", "20240102", False),
])
def test_study_date(query, date, ok):
    assert (_bad({"StudyDate": query}, StudyDate=date) == []) is ok


def test_filtered_answers_count_and_say_once():
    identifier = build_identifier("STUDY", {"Modality": "CT", "PatientName": "Doe*"})
    answers = [_answer(PatientName="Doe^A", ModalitiesInStudy="CT"),
               _answer(PatientName="Doe^B", ModalitiesInStudy="MR"),
               _answer(PatientName="Roe^C", ModalitiesInStudy="CT"),
               _answer(PatientName="Doe^D", ModalitiesInStudy="MR")]
    done = []
    filtered = FilteredAnswers(iter(answers), identifier, done.append)
    assert [str(a.PatientName) for a in filtered] == ["Doe^A"]
    assert filtered.dropped == 3 and filtered.left_out == {"ModalitiesInStudy": 2, "PatientName": 1}
    assert done == [filtered]
    assert "3 answers" in filtered.note() and "ModalitiesInStudy (2)" in filtered.note()
    assert FilteredAnswers(iter(answers[:1]), identifier).note() is None
