"""The lean header scan gives exactly the record pydicom gives, or steps aside."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.dicom.testdata import all_files
from workstation.dicom.header import HEADER_CHUNK, NotDicom, UnusableInstance, parse_header, record_from_scan


def _files() -> list[Path]:
    return [Path(p) for p in all_files()]


def _comparable(rec) -> dict:
    d = dataclasses.asdict(rec)
    d.pop("extra")
    return d


def test_scan_matches_pydicom_on_every_public_file():
    scanned = fell_back = 0
    for path in _files():
        data = path.read_bytes()
        try:
            _ds, expected = parse_header(data)
        except (NotDicom, UnusableInstance):
            # The scan must not accept what pydicom refuses.
            assert record_from_scan(data, len(data)) is None, path.name
            continue
        got = record_from_scan(data[:HEADER_CHUNK], len(data))
        if got is None:
            fell_back += 1
            continue
        scanned += 1
        assert _comparable(got) == _comparable(expected), path.name
    assert scanned > 100, (scanned, fell_back)


def test_demo_headers_scan(tmp_path):
    from workstation.demo.studies import generate_demo_studies

    files = generate_demo_studies(tmp_path, size="small")
    for path in files[:: max(1, len(files) // 30)]:
        data = path.read_bytes()
        got = record_from_scan(data[:HEADER_CHUNK], len(data))
        assert got is not None, path
        assert _comparable(got) == _comparable(parse_header(data)[1])


@pytest.mark.parametrize("cut", [0, 10, 131, 132, 200, 400])
def test_truncated_headers_step_aside(cut):
    from tests.factories import ct_dataset, uid
    from io import BytesIO

    bio = BytesIO()
    ct_dataset(study_uid=uid(), series_uid=uid()).save_as(bio, enforce_file_format=True)
    data = bio.getvalue()
    assert record_from_scan(data[:cut], len(data)) is None
    assert record_from_scan(data, len(data)) is not None
