"""Reading status shared with colleagues through the RIS, headless: two readers (two homes) on one RIS.

The RIS is a peer built on hl7apy (tests/hl7/peer.py) on 127.0.0.1: it acknowledges what a station sends and
passes it on to the other station's listener, as a RIS shares order status with the department.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pytest
from pydicom import dcmread

from tests.factories import write_series
from tests.hl7.peer import RisPeer, free_port, message, send_mllp
from workstation import config
from workstation.cli import main
from workstation.hl7.inbound import start_listener
from workstation.hl7.messages import first, read_ack, value
from workstation.hl7.settings import HL7Settings
from workstation.home import Home
from workstation.reporting.kinds import RIS_STATUS, kind_of
from workstation.reporting.sender import OutboxSender
from workstation.reporting.settings import ReportingSettings
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths
from workstation.worklist import claims as claims_mod
from workstation.worklist.gather import rebuild
from workstation.worklist.opening import ReadByAnother, open_item
from workstation.worklist.orders import Order, save_orders
from workstation.worklist.reading import DRAFT_KEPT, NOT_CLAIMED, RELEASED, start_reading, stop_reading

pytestmark = pytest.mark.timeout(120)
ACCESSION = "RS-ACC-1"


@dataclass
class Station:
    home: Home
    cache: StudyCache
    settings: config.Settings


def _never_commit(node, items):  # no DICOM destination in these tests
    raise AssertionError("no DICOM item expected")


@pytest.fixture
def study_files(tmp_path):
    paths = write_series(tmp_path / "study", 2, patient_name="山田^花子", patient_id="RS-1")
    for p in paths:
        ds = dcmread(p)
        ds.AccessionNumber = ACCESSION
        ds.save_as(p, enforce_file_format=True)
    return paths


def _station(tmp_path, name: str, reader: tuple[str, str], files, *, ris_port: int = 0,
             listen_port: int = 0) -> Station:
    home = Home.single(tmp_path / name).ensure()
    s = config.Settings()
    ReportingSettings(radiologist_name=reader[0], radiologist_id=reader[1]).store(s)
    HL7Settings(ris_host="127.0.0.1" if ris_port else "", ris_port=ris_port, listen_port=listen_port,
                timeout_s=5, sending_application=f"LIGHTBOX-{name.upper()}").store(s)
    config.save(s, home.config_file)
    cache = StudyCache.open(home)
    import_paths(cache, [str(p) for p in files])
    [study] = cache.studies()
    save_orders(cache, [Order(ACCESSION, study_uid=study.study_uid, requested_procedure="CT head", priority="STAT",
                              placer_order="PL-9", filler_order="FL-9", order_status="CM")])
    return Station(home, cache, s)


@pytest.fixture
def stations(tmp_path, study_files):
    """Reader A (sends to the RIS) and reader B (listens to the RIS), the same study cached at both."""
    b_port = free_port()
    made = []
    try:
        with RisPeer(forward=[b_port]) as ris:
            a = _station(tmp_path, "a", ("Alpha^Anna", "AA1"), study_files, ris_port=ris.port)
            made.append(a)
            b = _station(tmp_path, "b", ("Beta^Bruno", "BB2"), study_files, listen_port=b_port)
            made.append(b)
            listener = start_listener(b.cache, HL7Settings.of(b.settings))
            try:
                yield a, b, ris
            finally:
                listener.stop()
    finally:
        for st in made:
            st.cache.close()


def _deliver(station: Station) -> None:
    OutboxSender(station.cache, station.settings, _never_commit).run_once()


def test_reader_a_opening_shows_being_read_at_b_and_b_is_asked(stations, capsys):
    a, b, ris = stations
    [item_a] = rebuild(a.cache, a.settings, [])
    result = open_item(item_a, a.settings, a.home, a.cache, hang=False)
    assert claims_mod.claims(a.cache)[result.study_uid].reader == "Alpha^Anna"
    [queued] = [i for i in outbox.list_outbox(a.cache) if i.destination.startswith("hl7:")]
    assert kind_of(queued.sop_class_uid) == RIS_STATUS and queued.state == "queued"

    _deliver(a)
    assert outbox.get_item(a.cache, queued.pk).state == "committed"
    # The RIS got an order status change: ORC-1 SC, ORC-5 IP, the reader in OBR-32 and ORC-19, the accession.
    [msg] = ris.parsed()
    msh, orc, obr = first(msg, "MSH"), first(msg, "ORC"), first(msg, "OBR")
    assert (value(msh, 9), value(msh, 9, 2)) == ("ORM", "O01")
    assert (value(orc, 1), value(orc, 5)) == ("SC", "IP")
    assert (value(obr, 32, 1, 1), value(obr, 32, 1, 2), value(obr, 32, 1, 3)) == ("AA1", "Alpha", "Anna")
    assert (value(orc, 19, 1), value(orc, 19, 2)) == ("AA1", "Alpha")
    assert value(obr, 18) == ACCESSION and value(obr, 2) == "PL-9" and value(obr, 3) == "FL-9"
    assert value(first(msg, "ZDS"), 1) == result.study_uid
    assert value(first(msg, "PID"), 3) == "RS-1" and value(first(msg, "PID"), 5) == "山田"
    # ... passed it on to B's station, which acknowledged it.
    assert [read_ack(f).code for f in ris.forwarded] == ["AA"]

    # B's worklist: being read by A; opening asks first (the command line refuses without --force).
    [item_b] = rebuild(b.cache, b.settings, [])
    assert item_b.reading_status == "in progress" and item_b.busy_elsewhere
    assert item_b.being_read_by == "Alpha^Anna" and item_b.status_words == "being read by Alpha, Anna"
    with pytest.raises(ReadByAnother, match="Alpha, Anna is reading this study"):
        open_item(item_b, b.settings, b.home, b.cache, hang=False)
    assert main(["--home", str(b.home.config_dir), "worklist", "--local", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["items"]
    assert (row["being_read_by"], row["status_words"], row["accession"]) == (
        "Alpha^Anna", "being read by Alpha, Anna", ACCESSION)
    assert main(["--home", str(b.home.config_dir), "worklist", "--local", "--open", ACCESSION]) != 0
    assert "Alpha, Anna is reading this study" in capsys.readouterr().err

    # A leaves it without a report ('lightbox worklist --release'): released (ORC-5 back to CM, the RIS's
    # status before), and B sees it free.
    assert main(["--home", str(a.home.config_dir), "worklist", "--local", "--release", ACCESSION, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"study_uid": result.study_uid, "outcome": RELEASED}
    assert claims_mod.claims(a.cache) == {}
    _deliver(a)
    released = ris.parsed()[-1]
    assert (value(first(released, "ORC"), 1), value(first(released, "ORC"), 5)) == ("SC", "CM")
    [item_b] = rebuild(b.cache, b.settings, [])
    assert item_b.reading_status == "unread" and not item_b.busy_elsewhere and item_b.being_read_by == ""


def test_results_from_another_station_mark_preliminary_and_final_by_that_reader(stations):
    _a, b, _ris = stations
    [study] = b.cache.studies()
    listener_port = HL7Settings.of(b.settings).listen_port
    for status, words in (("P", "preliminary"), ("F", "final")):
        oru = message("ORU_R01", {
            "PID": {"pid_3": "RS-1"},
            "OBR": {"obr_3": "FL-9", "obr_18": ACCESSION, "obr_25": status, "obr_32": "GG7&Γάμμα&Γεωργία"},
            "OBX": {"obx_2": "TX", "obx_3": "GDT", "obx_5": "No acute findings.", "obx_11": status},
        }, control_id=f"ORU-{status}")
        assert read_ack(send_mllp(listener_port, oru)).code == "AA"
        [item] = rebuild(b.cache, b.settings, [])
        assert item.study_uid == study.study_uid  # matched by the accession alone
        assert (item.reading_status, item.status_words) == (words, f"{words} by Γάμμα, Γεωργία")
        assert item.busy_elsewhere and item.being_read_by == ""
        with pytest.raises(ReadByAnother, match=f"Γάμμα, Γεωργία has reported this study \\({words}\\)"):
            open_item(item, b.settings, b.home, b.cache, hang=False)


def test_a_status_for_an_order_not_cached_yet_follows_it_by_accession(stations):
    _a, b, _ris = stations
    port = HL7Settings.of(b.settings).listen_port
    new = message("ORM_O01", {"PID": {"pid_3": "RS-2"}, "ORC": {"orc_1": "NW"},
                              "OBR": {"obr_4": "XR^Chest", "obr_18": "RS-ACC-2"}}, control_id="NW-2")
    assert read_ack(send_mllp(port, new)).code == "AA"
    status = message("ORM_O01", {"PID": {"pid_3": "RS-2"}, "ORC": {"orc_1": "SC", "orc_5": "IP",
                                                                   "orc_19": "DD4^Delta^Dora"},
                                 "OBR": {"obr_18": "RS-ACC-2"}}, control_id="SC-2")
    assert read_ack(send_mllp(port, status)).code == "AA"
    [item] = [i for i in rebuild(b.cache, b.settings, []) if i.accession == "RS-ACC-2"]
    assert item.location == "not acquired" and item.being_read_by == "Delta^Dora"
    assert claims_mod.claims(b.cache)["accession:RS-ACC-2"].source == "ris"
    # A status change keeps the order as it was (its procedure), only its status changes.
    assert item.requested_procedure == "Chest"
    # A status change that names no order is answered with an error saying what is missing; nothing changes.
    bad = message("ORM_O01", {"PID": {"pid_3": "RS-2"}, "ORC": {"orc_1": "SC", "orc_5": "IP"}, "OBR": {"obr_1": "1"}},
                  control_id="SC-BAD")
    ack = read_ack(send_mllp(port, bad))
    assert ack.code == "AE" and "accession" in ack.text
    assert claims_mod.claims(b.cache)["accession:RS-ACC-2"].reader == "Delta^Dora"


def test_ris_claims_do_not_lapse_local_ones_do(stations):
    _a, b, _ris = stations
    [study] = b.cache.studies()
    claims_mod.claim(b.cache, study.study_uid, "Epsilon^Eva", "EE", source="ris")
    claims_mod.claim(b.cache, "other-study", "Beta^Bruno", "BB2")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=13)
    assert set(claims_mod.claims(b.cache, now=later)) == {study.study_uid}


def test_leaving_with_a_draft_keeps_the_study_in_progress_and_only_the_last_status_waits(stations):
    a, _b, ris = stations
    [study] = a.cache.studies()
    ris.code = "AE"  # nothing reaches B; the items below are never sent anyway
    start_reading(a.cache, a.settings, study.study_uid)
    outbox.save_draft(a.cache, "d1", study.study_uid, "general", {"findings": "…"})
    assert stop_reading(a.cache, a.settings, study.study_uid) == DRAFT_KEPT
    assert claims_mod.claims(a.cache)[study.study_uid].status == "in progress"
    outbox.delete_draft(a.cache, "d1")
    assert stop_reading(a.cache, a.settings, study.study_uid) == RELEASED
    assert stop_reading(a.cache, a.settings, study.study_uid) == NOT_CLAIMED
    # The start and the release were queued in turn; only the release is left to send.
    waiting = [i for i in outbox.list_outbox(a.cache) if kind_of(i.sop_class_uid) == RIS_STATUS]
    [only] = waiting
    control_id, text = outbox.hl7_message(a.cache, only.pk)
    assert "|SC|" in text and "|CM|" in text and control_id in text


def test_no_ris_no_message(tmp_path, study_files):
    st = _station(tmp_path, "solo", ("Solo^Sam", "SS"), study_files)
    try:
        [study] = st.cache.studies()
        start_reading(st.cache, st.settings, study.study_uid)
        assert stop_reading(st.cache, st.settings, study.study_uid) == RELEASED
        assert outbox.list_outbox(st.cache) == []
    finally:
        st.cache.close()
