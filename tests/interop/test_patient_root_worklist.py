"""The worklist and a day's prefetch on an archive configured as Patient Root (``Node.query_model == "patient"``).

The orders' studies are asked with their Patient ID (PS3.4 C.4.1.2.2.1), so a
strictly hierarchical archive answers; a date range is listed in the Study
Root model when the archive offers it (dcmqrscp with both models, ``-XM
-XF``), and an archive offering Patient Root only (the strict pynetdicom
archive, dcmqrscp ``-QS -QO -XM -XF``) gets a note in plain words instead of
a raw error or a silently empty list.  Patients: Cyrillic and Chinese names
and IDs (pydicom's charset files) and a Latin-1 one.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from pydicom import dcmread

from tests.interop.patient_root_archives import (
    charset_name,
    files_of,
    loaded_dcmqrscp,
    STRICT_PATIENT_ROOT,
    PatientStudy,
    PeerProcess,
    patient_root_peer,
    write_patient_study,
)
from tests.interop.peers import ArchiveProcess
from workstation.config import Settings
from workstation.worklist.archive_queries import forget_refusals
from workstation.worklist.build import WorklistFilter
from workstation.worklist.gather import load_worklist
from workstation.worklist.orders import Order, save_orders

pytestmark = [pytest.mark.interop, pytest.mark.timeout(300), pytest.mark.usefixtures("no_remembered_patients")]

#: Both query models, identifiers checked strictly (an empty Patient ID in a Patient Root query is refused).
STRICT_BOTH_MODELS = ("-XM", "-XF")
DATES = {"russ": "20240105", "wang": "20240106", "latin": "20240107", "lone": "20240108", "prior": "20231201"}
NOT_LISTABLE = "cannot be listed by date"


@pytest.fixture(autouse=True)
def _no_remembered_refusals() -> Iterator[None]:
    forget_refusals()
    yield
    forget_refusals()


@pytest.fixture(scope="module")
def studies(tmp_path_factory) -> dict[str, PatientStudy]:
    """Five studies on five days, each with its own accession."""
    folder = tmp_path_factory.mktemp("patient-root-worklist")
    made = {
        "russ": write_patient_study(folder / "russ", charset_name("chrRuss.dcm"), "ЛЮК-0002", [2]),
        "wang": write_patient_study(folder / "wang", charset_name("chrX1.dcm"), "王小東-0001", [1]),
        "latin": write_patient_study(folder / "latin", "Quercia^Ottavio", "LBX-PR-1", [1], charset="ISO_IR 100"),
        "lone": write_patient_study(folder / "lone", "Solo^Nadia", "LBX-PR-2", [1], charset="ISO_IR 100"),
        # The Cyrillic patient's earlier study: a prior for the day's prefetch.
        "prior": write_patient_study(folder / "prior", charset_name("chrRuss.dcm"), "ЛЮК-0002", [1]),
    }
    for key, study in made.items():
        for path in study.files:
            ds = dcmread(path)
            ds.StudyDate, ds.AccessionNumber = DATES[key], f"PRW-{key.upper()}"
            ds.save_as(path, enforce_file_format=True)
    return made


@pytest.fixture(scope="module")
def patroot(tmp_path_factory, storage_port, studies) -> Iterator[PeerProcess]:
    with patient_root_peer(tmp_path_factory.mktemp("patroot-wl"), files_of(studies), storage_port) as peer:
        yield peer
    assert not peer.running


def _dcmqrscp(tmp_path_factory, storage_port, studies, name: str, options: tuple[str, ...]) -> Iterator[ArchiveProcess]:
    with loaded_dcmqrscp(tmp_path_factory.mktemp(name), storage_port, files_of(studies), "PRWLSCP", options) as arc:
        yield arc


@pytest.fixture(scope="module")
def dcmqrscp_patient_only(tmp_path_factory, storage_port, studies) -> Iterator[ArchiveProcess]:
    yield from _dcmqrscp(tmp_path_factory, storage_port, studies, "dcmqrscp-prwl", STRICT_PATIENT_ROOT)


@pytest.fixture(scope="module")
def dcmqrscp_both(tmp_path_factory, storage_port, studies) -> Iterator[ArchiveProcess]:
    yield from _dcmqrscp(tmp_path_factory, storage_port, studies, "dcmqrscp-prwl2", STRICT_BOTH_MODELS)


PATIENT_ONLY = ("patroot", "dcmqrscp_patient_only")


def _orders(studies: dict[str, PatientStudy]) -> list[Order]:
    """The RIS's orders: one by Study UID and one by accession, both with the patient's ID; one without it."""
    russ, wang, lone = studies["russ"], studies["wang"], studies["lone"]
    return [Order("PRW-RUSS", study_uid=russ.study_uid, patient_id=russ.patient_id, patient_name=russ.name,
                  priority="STAT"),
            Order("PRW-WANG", patient_id=wang.patient_id, patient_name=wang.name),
            Order("PRW-LONE", study_uid=lone.study_uid)]


@pytest.mark.parametrize("archive", PATIENT_ONLY)
def test_a_patient_root_only_archive_gives_the_orders_studies_and_says_it_cannot_be_listed(
        request, cache, studies, archive):
    arc = request.getfixturevalue(archive)
    if isinstance(arc, PeerProcess):
        arc.forget_requests()
    settings = Settings(nodes=[arc.node("pr", query_model="patient")])
    save_orders(cache, _orders(studies))
    result = load_worklist(cache, settings, WorklistFilter(date_from="20240101", date_to="20241231"))
    by_accession = {i.accession: i for i in result.items}
    russ, wang = studies["russ"], studies["wang"]
    # The ordered studies were found on the archive, with the patient's name and ID.
    assert (by_accession["PRW-RUSS"].study_uid, by_accession["PRW-RUSS"].location) == (russ.study_uid, "pr")
    assert (by_accession["PRW-RUSS"].patient_name, by_accession["PRW-RUSS"].patient_id) == (russ.name,
                                                                                           russ.patient_id)
    assert (by_accession["PRW-WANG"].study_uid, by_accession["PRW-WANG"].location) == (wang.study_uid, "pr")
    assert by_accession["PRW-WANG"].patient_name == wang.name
    # The order without a Patient ID: this archive will not say whose study it is, so it stays not acquired.
    assert by_accession["PRW-LONE"].location == "not acquired"
    # Nothing else: the date range could not be listed, and the notes say so in plain words.
    assert studies["latin"].study_uid not in {i.study_uid for i in result.items}
    assert len(result.notes) == 2, result.notes
    assert NOT_LISTABLE in result.notes[0] and "Study Root node" in result.notes[0]
    assert "1 ordered study not looked up" in result.notes[1]
    for note in result.notes:
        assert "0xA900" not in note and russ.patient_id not in note and wang.patient_id not in note
    if isinstance(arc, PeerProcess):
        asked = arc.requests()
        finds = [r for r in asked if r["service"] == "C-FIND"]
        # Every query below PATIENT level with a Patient ID was answered; the one refused is the lookup of the
        # study whose Patient ID nobody knew (asked once, by UID).
        assert [r for r in finds if r["answer"] != "ok"] == [
            {"service": "C-FIND", "level": "STUDY", "patient_id": False, "answer": "refused", "uids": 0}]
        assert sum(r["patient_id"] and r["answer"] == "ok" for r in finds) == 2
        # The next refresh (a minute later) does not ask again what the archive just refused; the notes stay.
        arc.forget_requests()
        again = load_worklist(cache, settings, WorklistFilter(date_from="20240101", date_to="20241231"))
        assert again.notes == result.notes
        assert [r["answer"] for r in arc.requests()] == ["ok", "ok"]


def test_a_patient_root_node_offering_study_root_is_listed_by_date(cache, studies, dcmqrscp_both):
    """dcmqrscp with both models: the date range is asked in the Study Root model and lists every study."""
    settings = Settings(nodes=[dcmqrscp_both.node("pr", query_model="patient")])
    save_orders(cache, _orders(studies))
    result = load_worklist(cache, settings, WorklistFilter(date_from="20240105", date_to="20240107"))
    assert result.notes == []
    by_uid = {i.study_uid: i for i in result.items}
    for key in ("russ", "wang", "latin"):
        s = studies[key]
        assert (by_uid[s.study_uid].patient_name, by_uid[s.study_uid].patient_id) == (s.name, s.patient_id)
        assert by_uid[s.study_uid].location == "pr"
    # The ordered study outside the range, whose Patient ID the order lacks, is asked by UID in Study Root too
    # (the worklist then shows it when its date is in the range).
    listed = {r.study_uid: r for r in result.remote}
    lone = studies["lone"]
    assert (listed[lone.study_uid].node, listed[lone.study_uid].patient_name) == ("pr", lone.name)
    assert lone.study_uid not in by_uid


@pytest.mark.slow
@pytest.mark.parametrize("archive", ("patroot", "dcmqrscp_both"))
def test_cli_worklist_on_a_patient_root_node(request, lightbox_cmd, home, studies, archive):
    """``lightbox worklist --json``: the real command, with the orders of the RIS in its index."""
    from workstation.store.cache import StudyCache

    arc = request.getfixturevalue(archive)

    def run(*args: object) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*lightbox_cmd, *map(str, args)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    run("nodes", "add", "PR", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port,
        "--query-model", "patient")
    with StudyCache.open(home) as c:
        save_orders(c, _orders(studies)[:2])
    shown = json.loads(run("worklist", "--from", "20240105", "--to", "20240107", "--json").stdout)
    by_accession = {i["accession"]: i for i in shown["items"]}
    russ = studies["russ"]
    assert (by_accession["PRW-RUSS"]["study_uid"], by_accession["PRW-RUSS"]["location"]) == (russ.study_uid, "PR")
    assert by_accession["PRW-RUSS"]["patient_name"] == russ.name
    assert by_accession["PRW-WANG"]["location"] == "PR"
    if archive == "patroot":
        assert len(shown["notes"]) == 1 and NOT_LISTABLE in shown["notes"][0]
        assert studies["latin"].study_uid not in {i["study_uid"] for i in shown["items"]}
    else:
        assert shown["notes"] == []
        assert by_accession["PRW-LATIN"]["patient_name"] == "Quercia^Ottavio"


@pytest.mark.slow
@pytest.mark.parametrize("archive", ("patroot", "dcmqrscp_both"))
def test_cli_prefetch_of_a_day_on_a_patient_root_node(request, lightbox_cmd, home, studies, archive):
    """``lightbox prefetch``: the day's studies listed in Study Root where offered, else one plain error line."""
    from workstation.store.cache import StudyCache

    arc = request.getfixturevalue(archive)

    def run(*args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*lightbox_cmd, *map(str, args)], capture_output=True, text=True, timeout=120)

    added = run("nodes", "add", "PR", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port", arc.port,
                "--query-model", "patient")
    assert added.returncode == 0, added.stderr
    done = run("prefetch", "--node", "PR", "--study-date", DATES["russ"], "--method", "get", "--json")
    russ = studies["russ"]
    if archive == "patroot":
        assert done.returncode == 1
        assert NOT_LISTABLE in done.stderr and "Traceback" not in done.stderr
        assert russ.patient_id not in done.stderr and "0xA900" not in done.stderr
        return
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert [(r["study_uid"], r["ok"]) for r in results] == [(russ.study_uid, True)]
    # Its patient's other studies were asked patient first, then by Patient ID: the prior is among them.
    assert studies["prior"].study_uid in [p["study_uid"] for p in results[0]["priors"]], results
    with StudyCache.open(home) as c:
        held = c.study(russ.study_uid)
        assert held is not None and (held.patient_id, held.patient_name) == (russ.patient_id, russ.name)


@pytest.mark.gui
@pytest.mark.slow
def test_worklist_tab_refresh_on_a_patient_root_only_archive(qtbot, home, cache, studies, patroot):
    """The Worklist tab's Refresh button: the orders' studies come from the strict archive, the note says why
    nothing else is listed."""
    from PySide6.QtCore import Qt

    from workstation import config
    from workstation.ui.app import compose_main_window

    settings = config.Settings(nodes=[patroot.node("PR", query_model="patient", retrieve="get")])
    settings.extra["worklist"] = {"days": 3650}
    config.save(settings, home.config_file)
    save_orders(cache, _orders(studies)[:2])
    patroot.forget_requests()

    window = compose_main_window(home, cache, listen=False, background=False)
    qtbot.addWidget(window)
    window.show()
    tab = window.worklist
    window.study_tabs.setCurrentWidget(tab)
    tab.network = True  # this window asks the archive
    russ, wang = studies["russ"], studies["wang"]
    try:
        qtbot.mouseClick(tab.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not tab.fetcher.is_running() and NOT_LISTABLE in tab.note.text(), timeout=60_000)
        by_uid = {i.study_uid: i for i in tab.items}
        assert (by_uid[russ.study_uid].location, by_uid[russ.study_uid].patient_name) == ("PR", russ.name)
        assert (by_uid[wang.study_uid].location, by_uid[wang.study_uid].patient_name) == ("PR", wang.name)
        assert studies["latin"].study_uid not in by_uid
        shown = tab.note.text()
        assert "0xA900" not in shown and russ.patient_id not in shown and "Study Root node" in shown
        # The row shows the patient's name as the order gave it (Cyrillic, Chinese).
        table = tab.table
        texts = {table.item(r, c).text() for r in range(table.rowCount()) for c in range(table.columnCount())
                 if table.item(r, c) is not None}
        assert any("Люкceмбypг" in t for t in texts) and any("王" in t for t in texts), texts
    finally:
        window.close()
        window.viewer.shutdown()
        qtbot.wait(50)
    finds = [r for r in patroot.requests() if r["service"] == "C-FIND"]
    assert finds and all(r["answer"] == "ok" and r["patient_id"] for r in finds), finds
