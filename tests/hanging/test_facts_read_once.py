"""Study facts of an open: the index asked once per study, a header's procedure codes read once per file."""

from __future__ import annotations

from pydicom.dataset import Dataset

from tests.factories import ct_dataset, uid
from workstation.hanging import facts
from workstation.store.importer import import_paths


def _study_with_procedure_code(tmp_path, cache, meaning: str) -> str:
    study, series = uid(), uid()
    paths = []
    for i in range(3):
        ds = ct_dataset(study_uid=study, series_uid=series, index=i, patient_name="Сергеев^Иван")
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "RPID16", "RADLEX", meaning
        ds.ProcedureCodeSequence = [item]
        path = tmp_path / f"{study[-6:]}-{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(str(path))
    assert import_paths(cache, paths).imported == 3
    return study


def test_procedure_codes_come_from_one_header_read_once(tmp_path, cache, monkeypatch):
    study = _study_with_procedure_code(tmp_path, cache, "CT CHEST W CONTRAST")
    reads: list[str] = []
    real = facts._read_header

    def counting(path, tags):
        reads.append(path.name)
        return real(path, tags)

    monkeypatch.setattr(facts, "_read_header", counting)
    first = facts.study_facts(cache, study)
    assert first.get("ProcedureCodeSequence") == ("RPID16", "CT CHEST W CONTRAST")
    assert len(reads) == 1
    again = facts.study_facts(cache, study, with_series=False)
    assert again.get("ProcedureCodeSequence") == first.get("ProcedureCodeSequence")
    assert len(reads) == 1  # the same file as indexed: not read again
    # Another study's file is read.
    other = _study_with_procedure_code(tmp_path, cache, "CT ABDOMEN")
    assert facts.study_facts(cache, other).get("ProcedureCodeSequence") == ("RPID16", "CT ABDOMEN")
    assert len(reads) == 2


def test_an_unreadable_header_is_tried_again(tmp_path, cache, monkeypatch):
    study = _study_with_procedure_code(tmp_path, cache, "CT HEAD")
    real = facts._read_header
    monkeypatch.setattr(facts, "_read_header", lambda path, tags: None)
    assert facts.study_facts(cache, study).get("ProcedureCodeSequence") is None
    monkeypatch.setattr(facts, "_read_header", real)
    assert facts.study_facts(cache, study).get("ProcedureCodeSequence") == ("RPID16", "CT HEAD")
