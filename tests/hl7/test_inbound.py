"""Orders and patient updates from a RIS over MLLP: a peer built on hl7apy sends, Lightbox applies and acknowledges."""

from __future__ import annotations

import pytest

from tests.audit.schema import validate
from tests.hl7.peer import message, send_mllp
from workstation import audit
from workstation.hl7.inbound import start_listener
from workstation.hl7.messages import parse, read_ack
from workstation.hl7.settings import HL7Settings
from workstation.store.queries import StudyFilter
from workstation.worklist.build import WorklistFilter, build_worklist
from workstation.worklist.orders import list_orders, order_for_study
from workstation.worklist.patients import patient_changes

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def listener(cache):
    hs = HL7Settings(listen_address="127.0.0.1")
    applied = []
    lst = start_listener(cache, hs, port=0, on_applied=applied.append)
    try:
        yield lst, applied
    finally:
        lst.stop()


def _patient(cache, pid):
    return [s for s in cache.studies(StudyFilter()) if s.patient_id == pid]


def test_orm_order_enriches_the_worklist(cache, listener):
    lst, applied = listener
    study = _patient(cache, "HL7-A")[0]
    orm = message("ORM_O01", {
        "PID": {"pid_3": "HL7-A^^^HOSP", "pid_5": "Müller^Anna"},
        "ORC": {"orc_1": "NW", "orc_2": "PL-1", "orc_3": "FL-1"},
        "OBR": {"obr_4": "CTCH^CT chest", "obr_13": "Smoker, 30 pack-years", "obr_16": "D1^House^Gregory",
                "obr_18": study.accession or "ACC-A", "obr_27": "^^^^^S", "obr_31": "^Haemoptysis"},
        "ZDS": {"zds_1": study.study_uid},
    }, control_id="ORM-1")
    ack = read_ack(send_mllp(lst.port, orm))
    assert (ack.code, ack.control_id) == ("AA", "ORM-1")
    order = order_for_study(cache, study.study_uid)
    assert order is not None
    assert (order.reason, order.clinical_history, order.priority, order.requested_procedure) == (
        "Haemoptysis", "Smoker, 30 pack-years", "STAT", "CT chest")
    assert order.referring_physician == "House^Gregory" and order.placer_order == "PL-1"
    items = build_worklist(cache.studies(StudyFilter()), [], list_orders(cache), flt=WorklistFilter())
    assert items[0].study_uid == study.study_uid and items[0].priority == "STAT"
    assert items[0].reason == "Haemoptysis"
    assert applied[-1].ack_code == "AA"


def test_omi_order_by_ipc(cache, listener):
    lst, _ = listener
    omi = message("OMI_O23", {
        "PID": {"pid_3": "HL7-C", "pid_5": "Ηλίας^Νίκος"},
        "ORC": {"orc_1": "NW"},
        "TQ1": {"tq1_9": "R"},
        "OBR": {"obr_4": "MRKN^MR knee", "obr_31": "^Knee pain|locking"},
        "IPC": {"ipc_1": "ACC-OMI", "ipc_2": "RP1", "ipc_3": "1.2.826.0.1.3680043.99.1", "ipc_4": "SPS1",
                "ipc_5": "MR"},
    }, control_id="OMI-1")
    # "|" in the reason was escaped by hl7apy and comes back as written
    assert "\\F\\" in omi
    assert read_ack(send_mllp(lst.port, omi)).code == "AA"
    order = [o for o in list_orders(cache) if o.accession == "ACC-OMI"][0]
    assert (order.study_uid, order.modality, order.priority, order.reason) == (
        "1.2.826.0.1.3680043.99.1", "MR", "ROUTINE", "Knee pain|locking")
    assert order.patient_name == "Ηλίας^Νίκος"


def test_adt_a08_corrects_the_name_and_keeps_the_original(cache, listener):
    lst, _ = listener
    a08 = message("ADT_A01", {"EVN": {"evn_1": "A08"},
                              "PID": {"pid_3": "HL7-B", "pid_5": "山田^春子", "pid_7": "19800203", "pid_8": "F"}},
                  control_id="A08-1", event="ADT^A08")
    assert read_ack(send_mllp(lst.port, a08)).code == "AA"
    study = _patient(cache, "HL7-B")[0]
    assert study.patient_name == "山田^春子" and study.birth_date == "19800203"
    changes = {c.field: (c.old_value, c.new_value) for c in patient_changes(cache, "HL7-B")}
    assert changes["name"] == ("山田^花子", "山田^春子")
    assert all(c.source == "hl7 ADT^A08" for c in patient_changes(cache, "HL7-B"))
    # The correction is an audit event: Patient Record (DCM 110110), action Update, naming the patient.
    [rec] = [r for r in audit.current().store.records() if r["event_code"] == "110110"]
    assert rec["action"] == "U" and rec["patients"] == ["HL7-B"] and "ADT^A08" in rec["xml"]
    assert "山田^春子" in rec["xml"]
    validate(rec["xml"])
    # The same name sent again changes nothing and records nothing.
    assert read_ack(send_mllp(lst.port, a08.replace("A08-1", "A08-2"))).code == "AA"
    assert len([r for r in audit.current().store.records() if r["event_code"] == "110110"]) == 1


def test_adt_a40_merges_studies_under_the_survivor(cache, listener):
    lst, _ = listener
    before = {s.study_uid for s in cache.studies(StudyFilter())}
    moved = _patient(cache, "HL7-B")[0].study_uid
    a40 = message("ADT_A39", {"EVN": {"evn_1": "A40"}, "PID": {"pid_3": "HL7-A", "pid_5": "Müller^Anna"},
                              "MRG": {"mrg_1": "HL7-B"}}, control_id="A40-1", event="ADT^A40")
    assert read_ack(send_mllp(lst.port, a40)).code == "AA"
    after = cache.studies(StudyFilter())
    assert {s.study_uid for s in after} == before  # nothing lost
    assert {s.study_uid for s in _patient(cache, "HL7-A")} == before
    change, name = patient_changes(cache, study_uid=moved)
    assert (change.action, change.field, change.old_value, change.new_value) == ("merge", "patient_id", "HL7-B",
                                                                                  "HL7-A")
    # The files still name the prior patient: that name is recorded too.
    assert (name.action, name.field, name.old_value, name.new_value) == ("merge", "name", "山田^花子", "Müller^Anna")
    # The merge is audited: Patient Record naming both patients, and the moved study updated.
    [rec] = [r for r in audit.current().store.records() if r["event_code"] == "110110"]
    assert rec["action"] == "U" and set(rec["patients"]) == {"HL7-A", "HL7-B"} and "ADT^A40" in rec["xml"]
    validate(rec["xml"])
    [accessed] = [r for r in audit.current().store.records() if r["event_code"] == "110103"]
    assert accessed["action"] == "U" and accessed["studies"] == [moved]


def test_unknown_type_is_rejected_and_garbage_gets_an_error(cache, listener):
    lst, applied = listener
    other = message("ADT_A01", {"PID": {"pid_3": "X"}}, control_id="A01-1", event="ADT^A01")
    ack = read_ack(send_mllp(lst.port, other))
    assert ack.code == "AR" and "rejected" in ack.words()
    broken = message("ORM_O01", {"PID": {"pid_3": "X"}, "ORC": {"orc_1": "NW"}}, control_id="ORM-X")
    ack = read_ack(send_mllp(lst.port, broken))
    assert ack.code == "AE" and "OBR" in ack.text
    assert parse(send_mllp(lst.port, message("ORM_O01", {"PID": {"pid_3": "X"}}))).name == "ACK"
