"""Presentation states and key object selections stored in the cache and found again."""

from __future__ import annotations

import pydicom

from tests import factories
from workstation.imaging.key_images import build_key_object_selection
from workstation.imaging.pipeline import Window
from workstation.imaging.presentation import PresentationView, build_gsps
from workstation.session.saved_objects import (
    key_object_selections,
    presentation_states_by_series,
    store_object,
)
from workstation.store.importer import import_paths
from workstation.store.writer import Outcome


def test_saved_gsps_and_kos_are_listed_under_their_study(cache, tmp_path):
    paths = factories.write_series(tmp_path / "ct", 3)
    import_paths(cache, paths)
    study_uid = cache.studies()[0].study_uid
    series_uid = cache.series(study_uid)[0].series_uid
    images = [cache.path_of(r) for r in cache.instances(series_uid)]
    headers = [pydicom.dcmread(p, stop_before_pixels=True) for p in images]
    gsps = build_gsps(headers, PresentationView(window=Window(40, 400)), content_label="MY VIEW")
    kos = build_key_object_selection(headers[1:2], description="see here")
    assert store_object(cache, gsps).outcome is Outcome.STORED
    assert store_object(cache, kos).outcome is Outcome.STORED
    assert store_object(cache, kos).outcome is Outcome.DUPLICATE
    # The new objects are in the same study, each in its own series.
    assert len(cache.series(study_uid)) == 3
    states = presentation_states_by_series(cache, study_uid)
    assert list(states) == [series_uid]
    assert states[series_uid][0].state.content_label == "MY VIEW"
    assert states[series_uid][0].path.is_file()
    selections = key_object_selections(cache, study_uid)
    assert [s.description for s in selections] == ["see here"]
    assert selections[0].sop_instance_uids() == [str(headers[1].SOPInstanceUID)]
