"""When a prior fetched in the background lands, the layout moves to the first stage that now fills."""

from __future__ import annotations

from dataclasses import replace

from tests.hanging.conftest import demo  # noqa: F401 - the session's demo cache
from workstation.hanging.facts import study_facts
from workstation.hanging.library import ProtocolLibrary
from workstation.hanging.plan import stage_after_update, stage_fills
from workstation.hanging.service import plan_study
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


def test_the_comparison_stage_is_shown_once_the_prior_lands(demo, tmp_path):  # noqa: F811
    lib = ProtocolLibrary.load()
    current_uid, prior_uid = demo.uids["ct-chest-2024"], demo.uids["ct-chest-2023"]
    # the prior as an archive reports it: known, not in this cache
    remote = replace(study_facts(demo.cache, prior_uid, with_series=False), in_cache=False, source="ARCHIVE")
    with StudyCache.open(Home.single(tmp_path / "home")) as cache:
        import_paths(cache, demo.files["ct-chest-2024"], workers=1)
        alone = plan_study(cache, lib, current_uid)
        shown = alone.initial_stage
        assert alone.stages[shown].id == "current" and shown > 0  # fell back: the comparison stage is skipped

        waiting = plan_study(cache, lib, current_uid, remote=[remote])
        assert waiting.stages[0].enabled and not stage_fills(waiting.stages[0])  # its prior is pending
        assert stage_after_update(alone, waiting, shown, moved_by_reader=False) == shown

        import_paths(cache, demo.files["ct-chest-2023"], workers=1)
        landed = plan_study(cache, lib, current_uid, remote=[remote])
        assert stage_fills(landed.stages[0])
        assert stage_after_update(waiting, landed, shown, moved_by_reader=False) == 0
        # a reader who changed stages is left where they are
        assert stage_after_update(waiting, landed, shown, moved_by_reader=True) == shown
        assert stage_after_update(waiting, landed, 2, moved_by_reader=True) == 2
        # already on the comparison stage: it stays
        assert stage_after_update(waiting, landed, 0, moved_by_reader=False) == 0
        # another protocol now: the caller hangs it from its own first stage
        other = replace(landed, protocol_id="another")
        assert stage_after_update(waiting, other, shown, moved_by_reader=False) == shown
