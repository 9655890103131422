"""A query's keys in the audit message keep a non-Latin name (the query used to fail before it was sent)."""

from __future__ import annotations

from pydicom import dcmread
from pydicom.data import get_charset_files
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset

from workstation.audit.hooks import query_dataset


def _read(data: bytes):
    return read_dataset(DicomBytesIO(data), is_implicit_VR=False, is_little_endian=True)


def test_a_non_latin_name_is_written_in_utf8():
    for charset_file in ("chrRuss.dcm", "chrX1.dcm", "chrH31.dcm"):
        name = str(dcmread(get_charset_files(charset_file)[0], stop_before_pixels=True).PatientName)
        ds = _read(query_dataset("patient", {"PatientName": f"{name}*"}))
        assert ds.SpecificCharacterSet == "ISO_IR 192"
        assert str(ds.PatientName) == f"{name}*" and ds.QueryRetrieveLevel == "PATIENT"


def test_a_latin_query_declares_no_character_set():
    ds = _read(query_dataset("study", {"PatientName": "Test^A*"}))
    assert "SpecificCharacterSet" not in ds and str(ds.PatientName) == "Test^A*"
