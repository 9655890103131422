"""Patient names in ISO_IR 100, ISO_IR 192 and ISO 2022 IR 87 (Japanese) come back from a query decoded."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from pydicom.data import get_charset_files
from pydicom.uid import generate_uid

from tests.interop.conftest import CALLING_AE
from workstation.net.find import find
from workstation.net.send import send_files

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def charset_files(tmp_path_factory):
    """(path, patient ID, expected name) for a Latin-1, a UTF-8 and a Japanese ISO 2022 name."""
    folder = tmp_path_factory.mktemp("charsets")
    out = []
    for name, charset, pid in (("chrFren.dcm", None, "LBX-CS-100"), ("chrFren.dcm", "ISO_IR 192", "LBX-CS-192"),
                               ("chrH31.dcm", None, "LBX-CS-87")):
        ds = dcmread(get_charset_files(name)[0])
        expected = str(ds.PatientName)
        if charset:
            ds.SpecificCharacterSet = charset
        ds.PatientID = pid
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        path = folder / f"{pid}.dcm"
        ds.save_as(path, enforce_file_format=True)
        out.append((path, pid, expected))
    return out


@pytest.mark.parametrize("archive_name", ["orthanc", "qrscp"])
def test_names_decode(archive_name, request, charset_files):
    arc = request.getfixturevalue(archive_name)
    assert send_files([p for p, _i, _n in charset_files], arc.peer, CALLING_AE).ok
    for _path, pid, expected in charset_files:
        if archive_name == "qrscp" and pid == "LBX-CS-87":
            # qrscp answers without Specific Character Set and has already replaced the kanji with '?'.
            continue
        found = list(find(arc.peer, CALLING_AE, "STUDY", {"PatientID": pid}))
        assert len(found) == 1
        assert str(found[0].PatientName) == expected, (pid, found[0].get("SpecificCharacterSet"))
