"""The study table model and its sorting proxy over a real cache."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.dicom_files import CT_SMALL_STUDY, MR_SMALL_STUDY, write_instance
from workstation.store.importer import import_paths
from workstation.ui.study_format import MIXED_PATIENTS_TOOLTIP, Column
from workstation.ui.study_model import STUDY_UID_ROLE, StudySortProxy, StudyTableModel


def _cell(model, row, column, role=Qt.ItemDataRole.DisplayRole):
    return model.index(row, column).data(role)


def test_model_shows_imported_studies(qapp, filled_cache):
    model = StudyTableModel()
    assert model.set_rows(filled_cache.studies())
    assert model.rowCount() == 4 and model.columnCount() == 11
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(10)]
    assert headers == ["Patient name", "Patient ID", "Birth date", "Sex", "Study date", "Modalities",
                       "Description", "Accession", "Series", "Images"]
    ct = model.row_of(CT_SMALL_STUDY)
    assert _cell(model, ct, Column.PATIENT_NAME) == "CompressedSamples, CT1"
    assert _cell(model, ct, Column.PATIENT_ID) == "1CT1"
    assert _cell(model, ct, Column.STUDY_DATE) == "2004-01-19"
    assert _cell(model, ct, Column.MODALITIES) == "CT"
    assert _cell(model, ct, Column.IMAGES) == "1"
    assert _cell(model, ct, 0, STUDY_UID_ROLE) == CT_SMALL_STUDY
    assert _cell(model, ct, Column.PATIENT_NAME, Qt.ItemDataRole.ToolTipRole) is None
    # Same rows again: nothing to do.
    assert not model.set_rows(filled_cache.studies())


def test_proxy_sorts_numbers_as_numbers(qapp, filled_cache, tmp_path):
    study = "1.2.826.0.1.3680043.10.1234.77"
    for i in range(11):  # 11 images: sorts above 2 as a number, below it as text
        write_instance(tmp_path / "big" / f"{i}.dcm", study_uid=study)
    import_paths(filled_cache, [tmp_path / "big"])
    model = StudyTableModel()
    model.set_rows(filled_cache.studies())
    proxy = StudySortProxy()
    proxy.setSourceModel(model)
    proxy.sort(Column.IMAGES, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, 0).data(STUDY_UID_ROLE) == study
    proxy.sort(Column.STUDY_DATE, Qt.SortOrder.AscendingOrder)
    dates = [proxy.index(r, Column.STUDY_DATE).data() for r in range(proxy.rowCount())]
    assert dates == sorted(dates)


def test_mixed_patients_are_flagged(qapp, cache, tmp_path):
    study = "1.2.826.0.1.3680043.10.1234.99"
    write_instance(tmp_path / "a.dcm", study_uid=study, patient_id="P-A")
    write_instance(tmp_path / "b.dcm", study_uid=study, patient_id="P-B", patient_name="Other^Bob")
    import_paths(cache, [tmp_path / "a.dcm", tmp_path / "b.dcm"])
    model = StudyTableModel()
    model.set_rows(cache.studies())
    row = model.row_of(study)
    assert cache.study(study).mixed_patients
    assert _cell(model, row, Column.DESCRIPTION, Qt.ItemDataRole.ToolTipRole) == MIXED_PATIENTS_TOOLTIP
    assert _cell(model, row, Column.PATIENT_NAME, Qt.ItemDataRole.ForegroundRole) is not None
    assert not _cell(model, row, Column.PATIENT_NAME, Qt.ItemDataRole.DecorationRole).isNull()
    assert _cell(model, row, Column.IMAGES, Qt.ItemDataRole.DecorationRole) is None


def test_counts_update_in_place(qapp, filled_cache, tmp_path):
    """A refresh with the same studies changes cells, not the rows (the selection survives)."""
    model = StudyTableModel()
    model.set_rows(filled_cache.studies())
    resets, changes = [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b: changes.append(a.row()))
    rows = filled_cache.studies()
    bumped = [r if r.study_uid != MR_SMALL_STUDY else type(r)(**{**r.__dict__, "num_instances": 5}) for r in rows]
    assert model.set_rows(bumped)
    assert not resets and changes == [model.row_of(MR_SMALL_STUDY)]
    assert _cell(model, model.row_of(MR_SMALL_STUDY), Column.IMAGES) == "5"
