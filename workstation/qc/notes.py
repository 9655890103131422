"""Which instances of a study are rejected: IHE IOCM rejection notes in the cache, read once.

A rejection note is a Key Object Selection document whose title is one of the
rejection titles (:mod:`workstation.qc.codes`); it lists the rejected
instances in its Current Requested Procedure Evidence Sequence.
:func:`rejected_sop_uids` is what readers call: every instance of a study
rejected by a note in the cache, whether Lightbox made the note or it came
from an archive.  Each note is read once (and again only if its file changes)
and remembered in the index (migration 4), so the call costs a query.

Kept apart from the making of notes so that readers do not load highdicom.
"""

from __future__ import annotations

import logging

from pydicom.dataset import Dataset

from workstation.qc import state
from workstation.qc.codes import REJECTION_CODE_KEYS
from workstation.qc.instances import KOS_SOP_CLASS, Produced, QcError, read
from workstation.store.cache import StudyCache
from workstation.store.queries import InstanceRow

log = logging.getLogger(__name__)


# Reading notes --------------------------------------------------------------------------------
def read_rejection_note(ds: Dataset) -> state.NoteRecord | None:
    """What a Key Object Selection document rejects; None when ``ds`` is not a rejection note."""
    if str(ds.get("SOPClassUID", "")) != KOS_SOP_CLASS:
        return None
    record = _read_kos(ds, "")
    return record if record.is_rejection else None


def _read_kos(ds: Dataset, file_hash: str) -> state.NoteRecord:
    title = ("", "", "")
    names = ds.get("ConceptNameCodeSequence") or []
    if names:
        c = names[0]
        title = (str(c.get("CodeValue", "")), str(c.get("CodingSchemeDesignator", "")), str(c.get("CodeMeaning", "")))
    is_rejection = (title[0], title[1]) in REJECTION_CODE_KEYS
    rejected = []
    if is_rejection:
        for study in ds.get("CurrentRequestedProcedureEvidenceSequence") or []:
            study_uid = str(study.get("StudyInstanceUID", ""))
            for series in study.get("ReferencedSeriesSequence") or []:
                series_uid = str(series.get("SeriesInstanceUID", ""))
                for sop in series.get("ReferencedSOPSequence") or []:
                    uid = str(sop.get("ReferencedSOPInstanceUID", ""))
                    if uid:
                        rejected.append((study_uid, series_uid, uid))
    return state.NoteRecord(str(ds.SOPInstanceUID), str(ds.get("StudyInstanceUID", "")), file_hash, is_rejection,
                            title, tuple(rejected))


def _kos_rows(cache: StudyCache, study_uid: str) -> list[InstanceRow]:
    return [row for s in cache.series(study_uid) if s.modality == "KO"
            for row in cache.instances(s.series_uid) if row.sop_class_uid == KOS_SOP_CLASS]


def refresh_notes(cache: StudyCache, study_uid: str) -> None:
    """Read the study's Key Object Selection documents not read before (or changed since)."""
    known = state.notes_read(cache, study_uid)
    rows = _kos_rows(cache, study_uid)
    fresh = []
    for row in rows:
        if known.get(row.sop_instance_uid) == row.file_hash:
            continue
        try:
            ds = read(cache, row, pixels=False)
        except QcError as exc:
            log.warning("cannot read Key Object Selection %s: %s", row.sop_instance_uid, exc)
            continue
        fresh.append(_read_kos(ds, row.file_hash))
    if fresh:
        state.record_notes(cache, fresh)
    gone = set(known) - {row.sop_instance_uid for row in rows}
    if gone:
        state.forget_notes(cache, gone)


def remember(cache: StudyCache, produced: list[Produced]) -> None:
    """Take notes just made into account at once."""
    for p in produced:
        row = cache.instance(p.sop_instance_uid)
        if row is not None:
            state.record_notes(cache, [_read_kos(read(cache, row, pixels=False), row.file_hash)])


def rejected_sop_uids(cache: StudyCache, study_uid: str) -> set[str]:
    """SOP Instance UIDs of a study's instances that a rejection note in the cache rejects.

    Readers hide these (unless asked to show rejected instances).  Notes made
    by Lightbox and notes received from an archive count alike.  Only notes in
    the same study are looked at: IOCM puts a note in the study of the
    instances it rejects.

    Parameters
    ----------
    cache : StudyCache
    study_uid : str

    Returns
    -------
    set of str
    """
    refresh_notes(cache, study_uid)
    return set(state.rejected_in_study(cache, study_uid))


def rejection_note_uids(cache: StudyCache, study_uid: str) -> set[str]:
    """SOP Instance UIDs of the study's rejection notes (readers hide them too)."""
    refresh_notes(cache, study_uid)
    return state.rejection_notes(cache, study_uid)
