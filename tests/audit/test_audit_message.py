"""DICOM Audit Messages built by workstation.audit, validated against the PS3.15 A.5.1 schema."""

from __future__ import annotations

import base64

import pydicom
import pytest
from lxml import etree
from pydicom.data import get_charset_files

from tests.audit.schema import validate
from workstation.audit import codes, events
from workstation.audit.identity import Identity

WHO = Identity(user_id="jdoe", user_name="Dr Jane Doe", ae_title="LIGHTBOX", host="reading-1")
PATIENT = [("PAT-001", "Müller^Hans")]
STUDY = ["1.2.826.0.1.3680043.8.498.1"]

BUILDERS = {
    "start": lambda: events.application_activity(WHO, True),
    "stop": lambda: events.application_activity(WHO, False),
    "login": lambda: events.user_authentication(WHO, True),
    "lock": lambda: events.user_authentication(WHO, False, description="screen locked after 5 min idle"),
    "wrong password": lambda: events.user_authentication(WHO, True, ok=False),
    "query": lambda: events.query(WHO, "ORTHANC", "127.0.0.1", b"\x08\x00\x52\x00", "1.2.840.10008.5.1.4.1.2.2.1"),
    "begin retrieve": lambda: events.begin_transferring(WHO, "ORTHANC", "127.0.0.1", STUDY, PATIENT, we_send=False),
    "retrieved": lambda: events.instances_transferred(WHO, "ORTHANC", "127.0.0.1", STUDY, PATIENT, we_send=False),
    "sent": lambda: events.instances_transferred(WHO, "PACS", "10.0.0.5", STUDY, PATIENT, we_send=True, ok=False),
    "opened": lambda: events.instances_accessed(WHO, STUDY, PATIENT),
    "report signed": lambda: events.instances_accessed(WHO, STUDY, PATIENT, action="C", description="report signed"),
    "deleted": lambda: events.study_deleted(WHO, STUDY, PATIENT, description="cache prune"),
    "patient record": lambda: events.patient_record(WHO, PATIENT, description="QC correction"),
    "order record": lambda: events.order_record(WHO, PATIENT, ["ACC42"], STUDY),
    "export": lambda: events.export(WHO, "/media/usb", STUDY, PATIENT, anonymized=True),
    "association refused": lambda: events.security_alert(WHO, "association refused: unknown calling AE",
                                                         peer="EVIL", event_type=codes.NODE_AUTHENTICATION),
    "audit log used": lambda: events.audit_log_used(WHO, "file:///home/jdoe/.local/share/Lightbox/audit/audit.jsonl"),
    "signature invalid": lambda: events.security_alert(WHO, "report signature does not verify", patients=PATIENT,
                                                       study_uids=STUDY),
}


@pytest.mark.parametrize("kind", list(BUILDERS))
def test_every_event_is_valid_against_the_schema(kind):
    event = BUILDERS[kind]()
    validate(event.to_xml())


def test_event_codes_and_participants_follow_the_standard():
    doc = etree.fromstring(BUILDERS["opened"]().to_xml())
    ev = doc.find("EventIdentification")
    assert ev.get("EventActionCode") == "R"
    assert ev.find("EventID").get("csd-code") == "110103"
    assert ev.find("EventID").get("codeSystemName") == "DCM"
    users = doc.findall("ActiveParticipant")
    assert [u.get("UserID") for u in users if u.get("UserIsRequestor") == "true"] == ["jdoe"]
    assert doc.find("AuditSourceIdentification").get("AuditSourceID") == "LIGHTBOX"
    objs = {o.find("ParticipantObjectIDTypeCode").get("csd-code"): o
            for o in doc.findall("ParticipantObjectIdentification")}
    assert objs["2"].get("ParticipantObjectID") == "PAT-001"
    assert objs["2"].get("ParticipantObjectTypeCodeRole") == "1"
    assert objs["2"].findtext("ParticipantObjectName") == "Müller^Hans"
    assert objs["110180"].get("ParticipantObjectID") == STUDY[0]


def test_query_carries_the_query_dataset_in_base64():
    doc = etree.fromstring(BUILDERS["query"]().to_xml())
    q = doc.find("ParticipantObjectIdentification/ParticipantObjectQuery")
    assert base64.b64decode(q.text) == b"\x08\x00\x52\x00"
    assert doc.find("EventIdentification/EventID").get("csd-code") == "110112"


def test_the_schema_rejects_a_broken_message():
    event = BUILDERS["opened"]()
    root = event.to_element()
    root.remove(root.find("AuditSourceIdentification"))
    import xml.etree.ElementTree as ET

    with pytest.raises(AssertionError, match="not valid"):
        validate(ET.tostring(root, encoding="unicode"))


CHARSET_NAMES = sorted({str(pydicom.dcmread(f, stop_before_pixels=True).get("PatientName", ""))
                        for f in get_charset_files("chr*.dcm")} - {""})


@pytest.mark.parametrize("name", CHARSET_NAMES)
def test_names_in_every_pydicom_character_set_reach_the_message_exactly(name):
    event = events.instances_accessed(WHO, STUDY, [("P1", name)])
    xml = event.to_xml()
    validate(xml)
    got = etree.fromstring(xml).find("ParticipantObjectIdentification[@ParticipantObjectID='P1']/ParticipantObjectName")
    # the schema's token type folds runs of white space; the standard's names have none to fold
    assert got.text == name
