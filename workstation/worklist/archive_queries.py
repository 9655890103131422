"""Study queries the worklist and a day's prefetch send to an archive, in the archive's own query model.

A node set to Patient Root (``Node.query_model == "patient"``) wants the
Patient ID, single-valued, with every C-FIND below PATIENT level (PS3.4
C.4.1.2.2.1); a strictly hierarchical archive refuses anything else (0xA900).

* Studies named by UID or accession (the orders' studies) are asked with their
  Patient ID: the order's, else the one this archive answered for the study in
  this process (:mod:`workstation.net.study_patients`), else the archive's own
  answer to a PATIENT-root STUDY query by UID
  (:func:`workstation.net.retrieve_plan.patient_id_of`).  One query per
  patient, the UIDs as a list.
* A day's (date range's) studies cannot be listed in the Patient Root model
  without patient keys.  The node is asked in the Study Root model instead,
  which archives offering both models accept; an archive offering only
  Patient Root refuses that association, and :class:`NotListableByDate` says
  in plain words what to configure instead.

Patient IDs are PHI: they travel in the identifiers only, never in a log
line or a message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from workstation.config import Node
from workstation.net.association import NetworkError, NoAcceptedContext, peer_of
from workstation.net.patient_root_find import uses_patient_root

if TYPE_CHECKING:
    from workstation.net.association import Cancel

#: Study UIDs asked in one C-FIND (list-of-UID matching).
UID_BATCH = 50
#: Seconds an archive's refusal (no Study Root; a study's Patient ID it would not name) is taken as its answer
#: before it is asked again: the worklist refreshes every minute, an archive is not asked in vain each time.
REFUSAL_MEMORY_S = 600.0

_lock = threading.Lock()
_refused: dict[tuple[str, str], float] = {}  # (archive, "study root" or a Study UID) -> when it refused


def _refused_lately(archive: str, what: str) -> bool:
    with _lock:
        when = _refused.get((archive, what))
        return when is not None and time.monotonic() - when < REFUSAL_MEMORY_S


def _note_refusal(archive: str, what: str) -> None:
    with _lock:
        _refused[(archive, what)] = time.monotonic()
        if len(_refused) > 4096:  # bounded: the oldest go first
            for key in sorted(_refused, key=_refused.__getitem__)[:1024]:
                del _refused[key]


def forget_refusals() -> None:
    """Ask every archive again at the next refresh (the node's settings changed, a test starts)."""
    with _lock:
        _refused.clear()


class NotListableByDate(NetworkError):
    """A Patient Root archive that offers no Study Root queries: its studies cannot be listed by date."""


def list_by_date(node: Node, calling_ae: str, keys: Mapping[str, Any], cancel: Cancel | None = None) -> list[Dataset]:
    """The studies ``node`` holds matching study keys without a patient key (a date range, a modality).

    Parameters
    ----------
    node : Node
        The archive.  A Patient Root node is asked in the Study Root model.
    calling_ae : str
        Our AE title.
    keys : mapping of keyword to value
        STUDY-level matching keys (``StudyDate``, ``ModalitiesInStudy``...).
    cancel : optional
        Ends the query (C-CANCEL) when set.

    Returns
    -------
    list of Dataset
        The STUDY-level answers (Study Root answers carry the patient's name and ID).

    Raises
    ------
    NotListableByDate
        A Patient Root node whose archive accepts no Study Root query.
    NetworkError
        Any other failure (no association, a refused query).
    """
    from workstation.net.find import find

    if not uses_patient_root(node):
        return list(find(node, calling_ae, "STUDY", keys, cancel))
    archive = peer_of(node).describe()
    # Short enough for a status line (a Patient Root query needs the patient's ID, so no date listing).
    why = (f"{node.name} takes only Patient Root queries, so it cannot be listed by date: configure a Study Root "
           "node for it or use the Modality Worklist")
    if _refused_lately(archive, "study root"):
        raise NotListableByDate(why, peer_of(node))
    try:
        # Study Root is the only model that can list studies without a patient: an archive offering it answers.
        return list(find(node, calling_ae, "STUDY", keys, cancel, model="study"))
    except NoAcceptedContext as exc:
        _note_refusal(archive, "study root")
        raise NotListableByDate(why, exc.peer) from exc


@dataclass
class UidLookup:
    """What :func:`studies_by_uid` found and what it could not ask.

    Attributes
    ----------
    answers : list of Dataset
        STUDY-level answers, each with its Patient ID.
    unasked : int
        Studies not asked: the archive would not say under which Patient ID it files them.
    """

    answers: list[Dataset] = field(default_factory=list)
    unasked: int = 0


def studies_by_uid(node: Node, calling_ae: str, study_uids: Sequence[str], patient_ids: Mapping[str, str],
                   cancel: Cancel | None = None, *, max_lookups: int = 20, study_root: bool = False) -> UidLookup:
    """The studies of ``study_uids`` that ``node`` holds, asked in its query model.

    Parameters
    ----------
    node : Node
    calling_ae : str
    study_uids : sequence of str
    patient_ids : mapping of Study Instance UID to Patient ID
        What the caller knows (an order's Patient ID).
    cancel : optional
    max_lookups : int
        At most this many studies of unknown Patient ID are looked up one by
        one on a Patient Root archive (one C-FIND each) per call.
    study_root : bool
        The archive is known to take Study Root queries (it just answered
        one): studies of unknown Patient ID are asked that way, all at once.

    Returns
    -------
    UidLookup

    Raises
    ------
    NetworkError
        A query failed (other than an archive not saying a study's Patient ID).
    """
    from workstation.net.find import find

    out = UidLookup()
    uids = [u for u in dict.fromkeys(study_uids) if u]
    if not uses_patient_root(node):
        for start in range(0, len(uids), UID_BATCH):
            out.answers += find(node, calling_ae, "STUDY", {"StudyInstanceUID": uids[start:start + UID_BATCH]},
                                cancel)
        return out
    by_patient, unknown = _group_by_patient(node, uids, patient_ids)
    if study_root:
        for start in range(0, len(unknown), UID_BATCH):
            out.answers += find(node, calling_ae, "STUDY", {"StudyInstanceUID": unknown[start:start + UID_BATCH]},
                                cancel, model="study")
        unknown = []
    archive = peer_of(node).describe()
    for uid in unknown:
        pid: str | None = ""
        if max_lookups > 0 and not _refused_lately(archive, uid):
            max_lookups -= 1
            pid = _ask_patient_id(node, calling_ae, uid, cancel)
            if pid == "":
                _note_refusal(archive, uid)
        if pid is None:
            continue  # the archive answered: it has no such study
        if not pid:
            out.unasked += 1
            continue
        by_patient.setdefault(pid, []).append(uid)
    for pid, wanted in by_patient.items():
        for start in range(0, len(wanted), UID_BATCH):
            keys = {"PatientID": pid, "StudyInstanceUID": wanted[start:start + UID_BATCH]}
            out.answers += _with_patient_id(find(node, calling_ae, "STUDY", keys, cancel, model="patient"), pid)
    return out


def studies_by_key(node: Node, calling_ae: str, keys: Mapping[str, Any], patient_id: str,
                   cancel: Cancel | None = None) -> list[Dataset] | None:
    """STUDY-level answers for ``keys`` (an accession), with the patient's ID on a Patient Root node.

    Returns
    -------
    list of Dataset or None
        None when ``node`` is Patient Root and ``patient_id`` is empty: the
        query cannot be asked there.
    """
    from workstation.net.find import find

    if not uses_patient_root(node):
        return list(find(node, calling_ae, "STUDY", keys, cancel))
    if not patient_id:
        return None
    return _with_patient_id(find(node, calling_ae, "STUDY", {**keys, "PatientID": patient_id}, cancel,
                                 model="patient"), patient_id)


def series_of(node: Node, calling_ae: str, study: Dataset, cancel: Callable[[], bool] | None = None) -> list[Dataset]:
    """SERIES-level answers of a study found by a STUDY query (``study``: its answer, with its Patient ID)."""
    from workstation.net.retrieve_plan import find_in_study

    uid = str(study.get("StudyInstanceUID", "") or "").strip()
    pid = str(study.get("PatientID", "") or "").strip()
    return list(find_in_study(node, calling_ae, "SERIES", {"StudyInstanceUID": uid}, pid, cancel))


def _group_by_patient(node: Node, uids: Iterable[str],
                      patient_ids: Mapping[str, str]) -> tuple[dict[str, list[str]], list[str]]:
    from workstation.net.study_patients import recall

    peer = peer_of(node)
    by_patient: dict[str, list[str]] = {}
    unknown: list[str] = []
    for uid in uids:
        pid = (patient_ids.get(uid) or "").strip() or recall(peer, uid)
        if pid:
            by_patient.setdefault(pid, []).append(uid)
        else:
            unknown.append(uid)
    return by_patient, unknown


def _ask_patient_id(node: Node, calling_ae: str, study_uid: str, cancel: Cancel | None) -> str | None:
    """The archive's Patient ID for the study; None: it has no such study; "": it would not say."""
    from workstation.net.retrieve_plan import PatientUnknown, patient_id_of

    try:
        return patient_id_of(node, calling_ae, study_uid, cancel)
    except PatientUnknown as exc:
        return None if exc.no_study else ""


def _with_patient_id(answers: Iterable[Dataset], patient_id: str) -> list[Dataset]:
    """The answers, each with the Patient ID asked for where the archive left it out."""
    out = []
    for ds in answers:
        if not str(ds.get("PatientID", "") or "").strip():
            ds.PatientID = patient_id
        out.append(ds)
    return out
