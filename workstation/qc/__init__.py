"""Technologist QC, the IHE IOCM way: nothing stored is ever changed in place.

- :mod:`~workstation.qc.tags`, :mod:`~workstation.qc.tag_diff`: the data set tree, search, diff;
- :mod:`~workstation.qc.correction`: demographic and study correction (corrected copies, originals rejected);
- :mod:`~workstation.qc.restructure`: split a series, merge series;
- :mod:`~workstation.qc.rejection`: rejection notes (Key Object Selection with the IOCM titles);
- :mod:`~workstation.qc.notes`: :func:`rejected_sop_uids`, what readers hide;
- :mod:`~workstation.qc.checks`, :mod:`~workstation.qc.iod`, :mod:`~workstation.qc.completeness`:
  local checks and completeness against an archive;
- :mod:`~workstation.qc.checklist`: the checklist and the "QC done" mark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workstation.store.cache import StudyCache


def rejected_sop_uids(cache: StudyCache, study_uid: str) -> set[str]:
    """SOP Instance UIDs of the study's rejected instances (see :func:`workstation.qc.notes.rejected_sop_uids`)."""
    from workstation.qc.notes import rejected_sop_uids as _rejected

    return _rejected(cache, study_uid)


def rejection_note_uids(cache: StudyCache, study_uid: str) -> set[str]:
    """SOP Instance UIDs of the study's rejection notes (see :func:`workstation.qc.notes.rejection_note_uids`)."""
    from workstation.qc.notes import rejection_note_uids as _notes

    return _notes(cache, study_uid)


def hidden_sop_uids(cache: StudyCache, study_uid: str) -> set[str]:
    """What a reader hides unless asked to show rejected images: rejected instances and the rejection notes."""
    from workstation.qc.notes import rejected_sop_uids as _rejected
    from workstation.qc.notes import rejection_note_uids as _notes

    return _rejected(cache, study_uid) | _notes(cache, study_uid)
