"""Prior prefetch against a real archive: query, list, retrieve, and the late prior filling its viewport."""

from __future__ import annotations

import json

import pytest

from tests.net.helpers import free_port
from workstation import config as config_mod
from workstation.config import Settings
from workstation.hanging.facts import study_facts
from workstation.hanging.library import ProtocolLibrary
from workstation.hanging.plan import changed_viewports
from workstation.hanging.prefetch import (
    HangingSettings,
    fetch_priors,
    prefetch_list,
    query_patient_studies,
)
from workstation.hanging.service import plan_study
from workstation.home import Home
from workstation.net.archive import EmbeddedArchive
from workstation.net.association import Peer
from workstation.net.send import send_files
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths

CALLING_AE = "LIGHTBOX"


def test_hanging_settings_round_trip():
    settings = Settings()
    assert HangingSettings.of(settings).extra_priors == 1
    HangingSettings(extra_priors=3, prior_nodes=["PACS"]).store(settings)
    settings.extra["hanging"]["future_key"] = True
    again = HangingSettings.of(settings)
    assert (again.extra_priors, again.prior_nodes) == (3, ["PACS"])
    settings.extra["hanging"]["extra_priors"] = "many"
    assert HangingSettings.of(settings).extra_priors == 1


@pytest.fixture(scope="module")
def archive(demo, tmp_path_factory):
    """A running archive holding the first demo patient's studies (two images of the current CT) and a study
    of the second."""
    arc = EmbeddedArchive(tmp_path_factory.mktemp("archive"), port=free_port())
    try:
        arc.start(timeout=30)
        peer = Peer("127.0.0.1", arc.port, arc.ae_title, timeout=10)
        keys = ("ct-chest-2023", "dx-chest-2024", "dx-chest-2023", "us-carotid-2024")
        # two images of the current CT: enough for it to be one of the day's studies
        sent = send_files([f for k in keys for f in demo.files[k]] + demo.files["ct-chest-2024"][:2], peer,
                          CALLING_AE)
        assert sent.ok, sent.summary()
        yield arc
    finally:
        arc.stop()


@pytest.mark.slow
def test_prior_on_an_archive_is_listed_retrieved_and_fills_its_viewport(demo, archive, tmp_path):
    home = Home.single(tmp_path / "home")
    cache = StudyCache.open(home)
    try:
        assert import_paths(cache, demo.files["ct-chest-2024"], workers=1).imported == 48
        peer = Peer("127.0.0.1", archive.port, archive.ae_title, timeout=10)
        current_uid, prior_uid = demo.uids["ct-chest-2024"], demo.uids["ct-chest-2023"]
        lib = ProtocolLibrary.load()

        # cache only: no prior, the comparison stages are skipped
        alone = plan_study(cache, lib, current_uid)
        assert not alone.priors and alone.stages[alone.initial_stage].id == "current"
        assert prefetch_list(cache, lib, current_uid) == []

        remote = query_patient_studies(peer, CALLING_AE, study_facts(cache, current_uid, with_series=False))
        by_uid = {s.study_uid: s for s in remote}
        assert set(by_uid) == {prior_uid, demo.uids["dx-chest-2023"], demo.uids["dx-chest-2024"]}
        prior = by_uid[prior_uid]
        assert not prior.in_cache and prior.get("ModalitiesInStudy") == "CT"
        # this archive does not report Body Part Examined: unknown, not absent (Orthanc does report it)
        assert prior.get("BodyPartExamined") == "CHEST" or "BodyPartExamined" in prior.unknown

        waiting = plan_study(cache, lib, current_uid, remote=remote)
        assert [p.study_uid for p in waiting.priors] == [prior_uid] and waiting.initial_stage == 0
        vp = waiting.stages[0].viewports[1]
        assert vp.status == "pending" and vp.study_uid == prior_uid and not vp.series_uid
        assert "not in the cache yet" in vp.note

        items = prefetch_list(cache, lib, current_uid, remote=remote, extra=2)
        assert [(i.study_uid, i.role, i.in_cache) for i in items] == [(prior_uid, "prior1", False)]

        arrived = []
        settings = config_mod.load(home.config_file)
        reports = fetch_priors(peer, settings, home, cache, items, method="get",
                               on_arrival=lambda uid, report: arrived.append(uid))
        assert arrived == [prior_uid] and reports[0].ok, reports[0].summary()

        filled = plan_study(cache, lib, current_uid, remote=remote)
        vp = filled.stages[0].viewports[1]
        assert vp.status == "filled" and vp.series_uid == filled.stages[1].viewports[1].series_uid
        assert filled.priors[0].in_cache
        # only the prior's viewports change: the reader's work in the others is left alone
        assert changed_viewports(waiting, filled) == [(0, 1), (1, 1)]
        # and nothing is left to fetch
        assert all(i.in_cache for i in prefetch_list(cache, lib, current_uid, remote=remote))
    finally:
        cache.close()


@pytest.mark.slow
def test_a_days_studies_and_their_priors_are_prefetched(demo, archive, tmp_path, capsys):
    from workstation.cli import main
    from workstation.config import Node

    home = Home.single(tmp_path / "home").ensure()
    settings = config_mod.load(home.config_file)
    settings.nodes.append(Node("ARCHIVE", archive.ae_title, "127.0.0.1", archive.port, retrieve="get",
                               max_associations=1))
    config_mod.save(settings, home.config_file)
    capsys.readouterr()
    code = main(["--home", str(home.config_dir), "prefetch", "--node", "ARCHIVE", "--study-date", "20240312",
                 "--modality", "DX", "--json"])
    results = json.loads(capsys.readouterr().out)
    assert code == 0
    # the day's CT is left out: this archive ignores Modalities in Study, Lightbox checks the series
    assert [r["study_uid"] for r in results] == [demo.uids["dx-chest-2024"]]
    assert results[0]["ok"] and [(p["study_uid"], p["role"], p["fetched"]) for p in results[0]["priors"]] == \
        [(demo.uids["dx-chest-2023"], "prior1", True)]
    with StudyCache.open(home) as cache:
        assert {s.study_uid for s in cache.studies()} == {demo.uids["dx-chest-2024"], demo.uids["dx-chest-2023"]}
