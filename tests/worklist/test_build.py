"""The worklist's rules without a network: matching orders to studies, STAT first, filters, claims."""

from __future__ import annotations

from pydicom.dataset import Dataset

from workstation.worklist.build import RemoteStudy, WorklistFilter, build_worklist
from workstation.worklist.claims import Claim
from workstation.worklist.orders import Order, order_from_mwl, priority_word
from workstation.worklist.settings import Reader


def _remote(uid, acc, date="20240105", time="100000", mod="CT"):
    return RemoteStudy(node="PACS", study_uid=uid, accession=acc, patient_id="P" + uid, study_date=date,
                       study_time=time, modalities=mod)


def test_stat_first_then_longest_waiting_and_order_context():
    remote = [_remote("1", "A1", time="080000"), _remote("2", "A2", time="120000"), _remote("3", "A3", time="090000")]
    orders = [Order("A2", priority="STAT", reason="bleed?"), Order("A3", reason="pain", study_uid="3")]
    items = build_worklist([], remote, orders)
    assert [i.accession for i in items] == ["A2", "A1", "A3"]
    assert items[0].reason == "bleed?" and items[2].reason == "pain"


def test_accession_issuer_and_study_uid_decide_the_match():
    remote = [RemoteStudy("PACS", "9", accession="A1", accession_issuer="HOSP-B", study_date="20240101")]
    other_issuer = Order("A1", accession_issuer="HOSP-A", reason="not this one")
    other_study = Order("A1", study_uid="8", reason="another study")
    items = build_worklist([], remote, [other_issuer, other_study])
    study = [i for i in items if i.study_uid == "9"][0]
    assert study.reason == ""
    # The unmatched orders are shown as not acquired, not lost.
    assert sorted(i.reason for i in items if i.location == "not acquired") == ["another study", "not this one"]


def test_filters_and_claims():
    remote = [_remote("1", "A1", mod="MR"), _remote("2", "A2"), _remote("3", "A3", date="20230101")]
    claims = {"1": Claim("1", "Me^Doc", "", ""), "2": Claim("2", "Other^Doc", "", "")}
    me = Reader("Me^Doc")
    items = build_worklist([], remote, [], claims=claims, reader=me)
    assert {i.study_uid: i.reading_status for i in items} == {"1": "in progress", "2": "in progress", "3": "unread"}
    assert [i.study_uid for i in items if i.busy_elsewhere] == ["2"]
    assert [i.study_uid for i in build_worklist([], remote, [], claims=claims, reader=me,
                                                flt=WorklistFilter(mine=True))] == ["1"]
    assert [i.study_uid for i in build_worklist([], remote, [], flt=WorklistFilter(modality="mr"))] == ["1"]
    assert [i.study_uid for i in build_worklist([], remote, [], flt=WorklistFilter(date_from="20240101"))] == ["1", "2"]
    assert [i.study_uid for i in build_worklist([], remote, [], claims=claims,
                                                flt=WorklistFilter(reading_status="unread"))] == ["3"]


def test_priorities_from_dicom_and_hl7():
    assert [priority_word(p) for p in ("STAT", "S", "ASAP", "^^^^^S", "", "MEDIUM", "LOW", "junk")] == [
        "STAT", "STAT", "HIGH", "STAT", "ROUTINE", "ROUTINE", "LOW", "ROUTINE"]


def test_order_from_mwl_answer():
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.AccessionNumber = "A9"
    ds.PatientName = "Ηλίας^Νίκος"
    ds.RequestedProcedurePriority = "STAT"
    ds.ReasonForTheRequestedProcedure = "fever"
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = "HOSP"
    ds.IssuerOfAccessionNumberSequence = [issuer]
    step = Dataset()
    step.Modality = "CR"
    step.ScheduledProcedureStepStartDate = "20240102"
    step.ScheduledProcedureStepStartTime = "0930"
    ds.ScheduledProcedureStepSequence = [step]
    order = order_from_mwl(ds, "mwl:RIS")
    assert (order.accession, order.accession_issuer, order.priority, order.modality, order.scheduled) == (
        "A9", "HOSP", "STAT", "CR", "202401020930")
    assert order.patient_name == "Ηλίας^Νίκος" and order.source == "mwl:RIS"


def test_claims_grow_stale(tmp_path):
    import datetime as dt

    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.worklist import claims as claims_mod

    cache = StudyCache.open(Home.single(tmp_path / "home").ensure())
    try:
        claims_mod.claim(cache, "1.2.3", "Me^Doc")
        assert "1.2.3" in claims_mod.claims(cache)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=13)
        assert claims_mod.claims(cache, now=later) == {}
        claims_mod.release(cache, "1.2.3")
        assert claims_mod.claims(cache) == {}
    finally:
        cache.close()
