"""Planes of a multi-frame image whose index row lacks the image size."""

from __future__ import annotations

import dataclasses

from tests.factories import ct_dataset, uid
from workstation.home import Home
from workstation.model.slices import slices_from_multiframe
from workstation.store.cache import StudyCache
from workstation.store.importer import import_paths


def test_a_multiframe_row_without_rows_or_columns_is_a_note_not_a_crash(lightbox_home, tmp_path):
    ds = ct_dataset(study_uid=uid(), series_uid=uid(), index=0, size=8)
    path = tmp_path / "one.dcm"
    ds.save_as(path, enforce_file_format=True)
    cache = StudyCache.open(Home.single(lightbox_home))
    try:
        import_paths(cache, [path])
        (row,) = cache.instances(ds.SeriesInstanceUID)
        sized = dataclasses.replace(row, number_of_frames=3)
        for unsized in (dataclasses.replace(sized, rows=None), dataclasses.replace(sized, columns=0)):
            planes, reason = slices_from_multiframe(unsized, cache.path_of(unsized))
            assert planes == []
            assert reason == "no image (not a volume slice)"
    finally:
        cache.close()
