"""The Patient ID in a patient-root retrieve's units and identifiers (pure, no network).

The archives themselves are in tests/interop/test_patient_root_retrieve.py.
"""

from __future__ import annotations

import pytest
from pydicom.data import get_charset_files
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom import dcmread

from workstation.config import Node, Settings
from workstation.dicom.charset import CharsetError
from workstation.net import study_patients
from workstation.net.association import Peer
from workstation.net.retrieve import retrieve
from workstation.net.retrieve_plan import Inventory, Outline, SeriesInventory, Unit, outline_units, plan_units
from workstation.net.retrieve_units import _identifier

CYRILLIC_ID = "ЛЮК-0002"


def _encoded(ds) -> bytes:
    buf = DicomBytesIO()
    buf.is_little_endian, buf.is_implicit_VR = True, False
    write_dataset(buf, ds)
    return buf.getvalue()


def test_a_unit_names_its_patient_in_the_identifier_but_not_in_its_repr():
    unit = Unit("IMAGE", "1.2.3", "1.2.3.4", ("1.2.3.4.5", "1.2.3.4.6"), 2, "LBX-SECRET-7")
    assert "LBX-SECRET-7" not in repr(unit)
    assert list(unit.identifier_keys()) == ["PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"]
    ds = _identifier(unit)
    assert (ds.QueryRetrieveLevel, ds.PatientID, list(ds.SOPInstanceUID)) == ("IMAGE", "LBX-SECRET-7",
                                                                               ["1.2.3.4.5", "1.2.3.4.6"])
    assert "SpecificCharacterSet" not in ds  # plain ASCII: nothing to declare
    assert "PatientID" not in _identifier(Unit("STUDY", "1.2.3"))  # study root: no Patient ID


def test_a_non_latin_patient_id_is_declared_in_the_node_character_set():
    ds = _identifier(Unit("STUDY", "1.2.3", patient_id=CYRILLIC_ID), "ISO_IR 192")
    assert ds.SpecificCharacterSet == "ISO_IR 192"
    assert CYRILLIC_ID.encode("utf-8") in _encoded(ds)
    latin = str(dcmread(get_charset_files("chrGerm.dcm")[0], stop_before_pixels=True).PatientName)
    umlaut = _identifier(Unit("STUDY", "1.2.3", patient_id=latin[:6]), "ISO_IR 100")
    assert umlaut.SpecificCharacterSet == "ISO_IR 100" and latin[:6].encode("latin-1") in _encoded(umlaut)
    with pytest.raises(CharsetError):
        _identifier(Unit("STUDY", "1.2.3", patient_id=CYRILLIC_ID), "ISO_IR 100")


def test_units_planned_from_an_outline_or_inventory_carry_its_patient_id():
    plan = Outline("1.2.3", 5, {"1.2.840.10008.5.1.4.1.1.2"}, {"1.2.3.1": 3, "1.2.3.2": 2}, patient_id="P-1")
    assert {u.patient_id for u in outline_units(plan)} == {"P-1"}
    assert [u.level for u in outline_units(Outline("1.2.3", 5, set(), patient_id="P-1"))] == ["STUDY"]
    inv = Inventory("1.2.3", [SeriesInventory("1.2.3.1", "CT", {f"1.2.3.1.{i}": "" for i in range(3)})],
                    patient_id="P-1")
    units = plan_units(inv, {"1.2.3.1.0"})
    assert [(u.level, u.sop_uids, u.patient_id) for u in units] == [("IMAGE", ("1.2.3.1.1", "1.2.3.1.2"), "P-1")]
    assert "P-1" not in repr(plan) + repr(inv) + repr(units)


def test_a_patient_id_the_node_character_set_cannot_hold_is_refused_before_any_association(home, cache):
    # Nobody listens on port 1: the refusal comes before anything is sent.
    node = Node(name="PR", ae_title="PR", host="127.0.0.1", port=1, query_model="patient", charset="ISO_IR 100")
    with pytest.raises(CharsetError) as caught:
        retrieve(node, Settings(), home, cache, "1.2.3", method="get", patient_id=CYRILLIC_ID)
    assert "Patient ID cannot be written in Specific Character Set ISO_IR 100" in str(caught.value)
    assert CYRILLIC_ID not in str(caught.value)


def test_the_patient_id_of_a_query_answer_is_remembered_per_archive_and_study():
    pacs, other = Peer("127.0.0.1", 104, "PACS"), Peer("127.0.0.1", 105, "OTHER")
    study_patients.forget()
    try:
        study_patients.remember(pacs, _answer("1.2.3", CYRILLIC_ID))
        study_patients.remember(pacs, _answer("1.2.4", ""))  # no Patient ID in the answer: nothing to note
        assert study_patients.recall(pacs, "1.2.3") == CYRILLIC_ID
        assert study_patients.recall(other, "1.2.3") == "" and study_patients.recall(pacs, "1.2.4") == ""
        study_patients.remember(pacs, _answer("1.2.3", CYRILLIC_ID))
        assert study_patients.recall(pacs, "1.2.3") == CYRILLIC_ID
        study_patients.remember(pacs, _answer("1.2.3", "P-OTHER"))  # two patients for one study: ask the archive
        assert study_patients.recall(pacs, "1.2.3") == ""
        for i in range(study_patients.LIMIT + 1):
            study_patients.remember(other, _answer(f"1.9.{i}", "P"))
        assert study_patients.recall(other, "1.9.0") == "" and study_patients.recall(other, "1.9.1") == "P"
    finally:
        study_patients.forget()


def _answer(study_uid: str, patient_id: str):
    from pydicom.dataset import Dataset

    ds = Dataset()
    ds.StudyInstanceUID, ds.PatientID = study_uid, patient_id
    return ds
