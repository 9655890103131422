"""One identity comparison for priors, presentation states, report inputs and merges."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from workstation.dicom.patient_identity import PatientIdentity, compare_identities


def _ds(**kw) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


@pytest.mark.parametrize("a,b,same,conflicts", [
    (("1", "", "Doe^John", "19700101"), ("1", "", "DOE^JOHN^^", "19700101"), True, []),
    (("1", "", "Yamada^Tarou=山田^太郎", ""), ("1", "", "YAMADA^TAROU", "19700101"), True, []),
    (("1", "", "=山田^太郎", ""), ("1", "", "=山田^太郎=やまだ^たろう", ""), True, []),
    (("ＡＢＣ１", "", "Doe^John", ""), ("ABC1", "", "Doe^John", ""), True, []),  # full-width forms
    (("1", "", "Doe^John", ""), ("2", "", "Doe^John", ""), False, ["Patient ID"]),
    (("1", "HOSP-A", "Doe^John", ""), ("1", "HOSP-B", "Doe^John", ""), False, ["Issuer of Patient ID"]),
    (("1", "HOSP-A", "Doe^John", ""), ("1", "", "Doe^John", ""), False, ["Issuer of Patient ID"]),
    (("1", "", "Διονυσιος", ""), ("1", "", "김희중", ""), False, ["name"]),
    (("1", "", "Doe^John", "19700101"), ("1", "", "Doe^John", "19700102"), False, ["birth date"]),
])
def test_compare(a, b, same, conflicts):
    check = compare_identities(PatientIdentity(*a), PatientIdentity(*b))
    assert check.same is same and check.conflicts == conflicts


def test_datasets_and_rows_and_the_message_shows_both():
    class Row:
        patient_id, issuer, patient_name, birth_date = "1", "", "Doe^John", "19700101"

    ds = _ds(PatientID="1", PatientName="Yamada^Tarou=山田^太郎", PatientBirthDate="19700101")
    check = compare_identities(Row(), ds)
    assert not check.same
    message = check.message("the report", "the image")
    assert "the report is Doe, John, ID 1, born 1970-01-01" in message
    assert "the image is Yamada, Tarou (山田 太郎), ID 1, born 1970-01-01" in message


def test_a_birth_date_on_one_side_only_is_a_note_not_a_conflict():
    check = compare_identities(PatientIdentity("1", "", "Doe^John", "19700101"), PatientIdentity("1", "", "Doe^John"))
    assert check.same and check.notes == ["birth date given on one side only"]
