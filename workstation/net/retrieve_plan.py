"""What a retrieve has to fetch: the archive's inventory of a study minus what is cached.

When nothing of the study (or of the wanted series) is cached yet, there is
nothing to subtract: :func:`outline` asks the archive only for the study's
instance count and SOP classes (one STUDY-level C-FIND answer, plus the
series' counts when the work is split by series), and the transfer starts at
once; listing every instance costs the archive a C-FIND answer per instance
(0.5-1 s for 500 here, more than a third of the transfer).

:func:`inventory` asks the archive (SERIES-level C-FIND, then IMAGE level per
series, as hierarchical archives such as dcmqrscp require the upper levels'
unique keys) which instances a study holds; :func:`plan_units` subtracts the
cache and cuts the rest into units of work, one C-MOVE or C-GET each: a whole
series when nothing of it is cached, else the missing instances by SOP
Instance UID (list-of-UID matching).  Big units are split so that several
associations can share them.

A node configured as Patient Root (``query_model == "patient"``) is asked in
its own model: every C-FIND below PATIENT level and every unit's C-MOVE or
C-GET identifier carries the study's Patient ID (the unique key of the level
above, PS3.4 C.4.1.2.2.1, C.4.2.2.1, C.4.3.2.1).  :func:`patient_id_of` finds
it when the caller does not know it.  The Patient ID travels in the
:class:`Outline`, :class:`Inventory` and :class:`Unit` (never in their repr:
it is PHI and must not reach a log).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset

from workstation.config import Node
from workstation.dicom.charset import UTF8, CharsetError, describe, query_character_set
from workstation.net.association import Cancel, NetworkError, NoAcceptedContext, Peer, ServiceFailed, peer_of
from workstation.net.find import find
from workstation.net.query_match import FilteredAnswers
from workstation.net.study_patients import recall
from workstation.store.cache import StudyCache

log = logging.getLogger("workstation.net.retrieve")  # the retrieve's logger

#: Most SOP Instance UIDs one instance-level request carries (keeps identifiers small).
MAX_UIDS_PER_REQUEST = 200
#: A whole series is cut for parallel associations only above this size: below it
#: one association is quick anyway, and a series-level request is the most portable.
MIN_SPLIT = 40


@dataclass
class SeriesInventory:
    """One series on the archive: its instances (SOP Instance UID -> SOP Class UID)."""

    series_uid: str
    modality: str = ""
    instances: dict[str, str] = field(default_factory=dict)


@dataclass
class Inventory:
    """A study on the archive, as far as C-FIND told."""

    study_uid: str
    series: list[SeriesInventory] = field(default_factory=list)
    #: The study's Patient ID, sent with every request to a patient-root node ("" otherwise).
    patient_id: str = field(default="", repr=False)

    @property
    def sop_uids(self) -> list[str]:
        return [uid for s in self.series for uid in s.instances]

    @property
    def sop_classes(self) -> set[str]:
        return {cls for s in self.series for cls in s.instances.values() if cls}

    def __len__(self) -> int:
        return sum(len(s.instances) for s in self.series)


@dataclass(frozen=True)
class Unit:
    """One C-MOVE or C-GET: a whole study or series, or a list of instances of one series.

    Attributes
    ----------
    level : str
        ``STUDY``, ``SERIES`` or ``IMAGE``.
    study_uid, series_uid : str
    sop_uids : tuple of str
        For ``IMAGE`` level.
    expected : int
        How many instances it should bring (0 when unknown).
    patient_id : str
        The study's Patient ID, for a patient-root node ("" for study root).
        Never in the repr: it is PHI.
    """

    level: str
    study_uid: str
    series_uid: str = ""
    sop_uids: tuple[str, ...] = ()
    expected: int = 0
    patient_id: str = field(default="", repr=False)

    def identifier_keys(self) -> dict[str, object]:
        """The C-MOVE/C-GET identifier's keys (with the Patient ID when there is one)."""
        keys: dict[str, object] = {"PatientID": self.patient_id} if self.patient_id else {}
        keys["StudyInstanceUID"] = self.study_uid
        if self.level in ("SERIES", "IMAGE"):
            keys["SeriesInstanceUID"] = self.series_uid
        if self.level == "IMAGE":
            keys["SOPInstanceUID"] = list(self.sop_uids)
        return keys


@dataclass
class Outline:
    """A study as one STUDY-level (and maybe one SERIES-level) C-FIND told: counts and SOP classes.

    Attributes
    ----------
    study_uid : str
    instances : int
        Instances to fetch (the study's, or the wanted series').
    sop_classes : set of str
        SOP Classes in Study: the storage contexts a C-GET must offer.
    series : dict of str to int
        Series Instance UID -> its instance count, when asked for (empty otherwise).
    only_series : bool
        True when only the series in ``series`` are wanted, not the whole study.
    patient_id : str
        The study's Patient ID, for a patient-root node ("" otherwise; not in the repr).
    """

    study_uid: str
    instances: int
    sop_classes: set[str]
    series: dict[str, int] = field(default_factory=dict)
    only_series: bool = False
    patient_id: str = field(default="", repr=False)


def _count(ds: Dataset, keyword: str) -> int | None:
    try:
        value = int(str(ds.get(keyword, "") or "").strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def patient_root(node: Node | Peer) -> bool:
    """Whether ``node`` is asked in the Patient Root model (a configured node set so; a bare Peer never)."""
    return isinstance(node, Node) and node.query_model == "patient"


def find_in_study(node: Node | Peer, calling_ae: str, level: str, keys: dict[str, Any], patient_id: str,
                  cancel: Cancel | None = None) -> FilteredAnswers:
    """A C-FIND below PATIENT level in the node's model: patient root with the Patient ID when it is known.

    Without a Patient ID a patient-root node is asked in the Study Root model
    (an archive that supports both answers; one that does not refuses the
    association, and the caller says so).
    """
    if patient_id and patient_root(node):
        return find(node, calling_ae, level, {"PatientID": patient_id, **keys}, cancel, model="patient")
    return find(node, calling_ae, level, keys, cancel, model="study")


class PatientUnknown(NetworkError):
    """A patient-root node would need the study's Patient ID, and it could not be found.

    ``no_study`` is True when the archive answered and does not know the study at all.
    """

    def __init__(self, message: str, peer: Peer | None = None, *, no_study: bool = False) -> None:
        super().__init__(message, peer)
        self.no_study = no_study


def patient_id_of(node: Node | Peer, calling_ae: str, study_uid: str, cancel: Cancel | None = None) -> str:
    """The Patient ID under which a patient-root ``node`` files ``study_uid``.

    Asks a PATIENT-root STUDY-level C-FIND with the Study Instance UID and an
    empty (universal) Patient ID.  Strictly hierarchical archives refuse it
    (the unique key of the level above must be a single value, PS3.4
    C.4.1.2.2.1): the caller then needs the Patient ID from where the study was
    found (a query result, the cache).

    Parameters
    ----------
    node : Node or Peer
    calling_ae : str
    study_uid : str
    cancel : optional

    Returns
    -------
    str
        The Patient ID.

    Raises
    ------
    PatientUnknown
        The archive does not know the study, files it under more than one
        Patient ID, or refused the query (the message names no patient).
    NoAcceptedContext
        The archive does not take Patient Root queries at all.
    NetworkError
        The archive cannot be reached.
    """
    try:
        answers = list(find(node, calling_ae, "STUDY", {"StudyInstanceUID": study_uid}, cancel, model="patient"))
    except NoAcceptedContext as exc:
        raise NoAcceptedContext(f"{peer_of(node).describe()} does not accept Patient Root queries; if it supports "
                                "Study Root, set the node's query model to study", exc.peer) from exc
    except ServiceFailed as exc:
        raise PatientUnknown(f"{peer_of(node).describe()} would not say under which Patient ID it files study "
                             f"{study_uid} ({exc})", exc.peer) from exc
    ids = {str(ds.get("PatientID", "") or "").strip() for ds in answers
           if str(ds.get("StudyInstanceUID", "") or "") == study_uid}
    ids.discard("")
    if len(ids) != 1:
        why = "does not know study" if not ids else f"files under {len(ids)} different Patient IDs study"
        raise PatientUnknown(f"{peer_of(node).describe()} {why} {study_uid}", peer_of(node), no_study=not ids)
    return ids.pop()


def request_patient_id(node: Node | Peer, calling_ae: str, cache: StudyCache, study_uid: str, given: str | None,
                       cancel: Cancel | None = None) -> str | None:
    """The Patient ID a patient-root node's requests carry ("" for study root), or None when it has no such study.

    The caller's (``given``) first; else the one this archive answered for
    the study in a query of this process (:mod:`workstation.net.study_patients`:
    the Remote tab's search, a prefetch's); else the archive's answer to a
    PATIENT-root STUDY-level C-FIND; else, when the archive will not say, the
    cached study's.  Never logged: it is PHI.

    Parameters
    ----------
    node : Node or Peer
    calling_ae : str
    cache : StudyCache
        Asked for the study's Patient ID last.
    study_uid : str
    given : str or None
        The caller's Patient ID (from the query result that found the study).
    cancel : optional

    Returns
    -------
    str or None
        The Patient ID ("" for a study-root node); None when the archive
        answered that it does not hold the study (and the cache does not either).

    Raises
    ------
    PatientUnknown
        The archive would not say and the study is not cached.
    NoAcceptedContext
        The archive does not take Patient Root queries.
    CharsetError
        The node's character set cannot hold the Patient ID.
    """
    if not patient_root(node):
        return ""
    charset = node.charset if isinstance(node, Node) else None
    pid = (given or "").strip() or recall(peer_of(node), study_uid)
    if not pid:
        try:
            pid = patient_id_of(node, calling_ae, study_uid, cancel)
        except PatientUnknown as exc:
            held = cache.study(study_uid)
            if held is not None and held.patient_id:
                log.info("patient-root archive %s would not name the Patient ID of %s: the cached study's is used",
                         peer_of(node).describe(), study_uid)
                pid = held.patient_id
            elif exc.no_study:
                return None
            else:
                raise PatientUnknown(f"{exc}; a patient-root archive needs the study's Patient ID to retrieve it: "
                                     "retrieve the study from a query result, which carries it", exc.peer) from exc
    try:
        query_character_set([pid], UTF8 if charset is None else charset)
    except CharsetError:
        raise CharsetError(f"the study's Patient ID cannot be written in {describe(charset)}, set for "
                           f"{peer_of(node).describe()}: set the node's character set to {UTF8} if the archive "
                           "accepts UTF-8") from None
    return pid


def outline(node: Node | Peer, calling_ae: str, study_uid: str, series_uids: Sequence[str] = (),
            cancel: Cancel | None = None, *, by_series: bool = False, patient_id: str = "") -> Outline | None:
    """Counts and SOP classes of a study without listing its instances, or None when the archive cannot say.

    Parameters
    ----------
    node : Node or Peer
    calling_ae : str
    study_uid : str
    series_uids : sequence of str, optional
        Only these series (their counts come from a SERIES-level C-FIND).
    cancel : optional
    by_series : bool
        Also ask for every series' count (to share the work between associations).
    patient_id : str, optional
        The study's Patient ID: a patient-root node is then asked in its own model.

    Returns
    -------
    Outline or None
        None when the archive does not report Number of Study Related
        Instances and SOP Classes in Study (or a wanted series' count), or
        does not know the study: the caller lists the instances instead
        (:func:`inventory`).

    Raises
    ------
    NetworkError
        When a query fails.
    """
    def series_counts() -> dict[str, int]:
        counts: dict[str, int] = {}
        for ds in find_in_study(node, calling_ae, "SERIES", {"StudyInstanceUID": study_uid}, patient_id, cancel):
            uid = str(ds.get("SeriesInstanceUID", "") or "")
            n = _count(ds, "NumberOfSeriesRelatedInstances")
            if uid and n is not None:
                counts[uid] = n
        return counts

    # Both questions at once (two associations): each costs a round trip and an association.
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outline") if series_uids or by_series else None
    series_answer = pool.submit(series_counts) if pool is not None else None
    try:
        keys = {"StudyInstanceUID": study_uid, "SOPClassesInStudy": ""}
        answers = list(find_in_study(node, calling_ae, "STUDY", keys, patient_id, cancel))
        counts = series_answer.result() if series_answer is not None else {}
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    mine = [ds for ds in answers if str(ds.get("StudyInstanceUID", "") or "") == study_uid]
    if len(mine) != 1:
        return None
    total = _count(mine[0], "NumberOfStudyRelatedInstances")
    raw = mine[0].get("SOPClassesInStudy", None)
    classes = {str(v).strip() for v in ([raw] if isinstance(raw, str) else list(raw or []))}
    classes.discard("")
    if not total or not classes:
        return None
    result = Outline(study_uid, total, classes, patient_id=patient_id if patient_root(node) else "")
    if not series_uids and not by_series:
        return result
    if series_uids:
        if any(uid not in counts for uid in series_uids):
            return None
        result.series = {uid: counts[uid] for uid in series_uids}
        result.instances = sum(result.series.values())
        result.only_series = True
    elif sum(counts.values()) == total:
        result.series = counts
    return result


def inventory(node: Node | Peer, calling_ae: str, study_uid: str, series_uids: Sequence[str] = (),
              cancel: Cancel | None = None, *, patient_id: str = "") -> Inventory:
    """Ask the archive which instances of ``study_uid`` (or of ``series_uids``) it holds.

    ``patient_id``: the study's Patient ID; a patient-root node is then asked in
    its own model, and the units planned from the inventory carry it.

    Raises
    ------
    NetworkError
        When a query fails.
    """
    inv = Inventory(study_uid, patient_id=patient_id if patient_root(node) else "")
    wanted = set(series_uids)
    for ds in find_in_study(node, calling_ae, "SERIES", {"StudyInstanceUID": study_uid}, patient_id, cancel):
        uid = str(ds.get("SeriesInstanceUID", "") or "")
        if uid and (not wanted or uid in wanted):
            inv.series.append(SeriesInventory(uid, str(ds.get("Modality", "") or "")))
    for series in inv.series:
        keys = {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series.series_uid}
        for ds in find_in_study(node, calling_ae, "IMAGE", keys, patient_id, cancel):
            uid = str(ds.get("SOPInstanceUID", "") or "")
            if uid:
                series.instances[uid] = str(ds.get("SOPClassUID", "") or "")
    return inv


def cached_uids(cache: StudyCache, uids: Sequence[str]) -> set[str]:
    """The subset of ``uids`` that the cache holds."""
    return {uid for uid in uids if cache.instance(uid) is not None}


def plan_units(inv: Inventory, cached: set[str], parallel: int = 1) -> list[Unit]:
    """Units of work for what ``inv`` holds and the cache lacks.

    Parameters
    ----------
    inv : Inventory
    cached : set of str
        SOP Instance UIDs already in the cache.
    parallel : int
        Associations that will share the work: a series much bigger than its
        share is cut into instance lists so none of them idles.

    Returns
    -------
    list of Unit
        Biggest first (so parallel workers finish together).
    """
    units: list[Unit] = []
    total_missing = sum(1 for uid in inv.sop_uids if uid not in cached)
    share = max(1, -(-total_missing // max(1, parallel)))
    for series in inv.series:
        missing = [uid for uid in series.instances if uid not in cached]
        if not missing:
            continue
        whole = len(missing) == len(series.instances)
        if whole and (parallel <= 1 or len(missing) <= max(share, MIN_SPLIT)):
            units.append(Unit("SERIES", inv.study_uid, series.series_uid, (), len(missing), inv.patient_id))
            continue
        size = min(MAX_UIDS_PER_REQUEST, share if parallel > 1 else MAX_UIDS_PER_REQUEST)
        for start in range(0, len(missing), size):
            chunk = tuple(missing[start:start + size])
            units.append(Unit("IMAGE", inv.study_uid, series.series_uid, chunk, len(chunk), inv.patient_id))
    units.sort(key=lambda u: -u.expected)
    return units


def outline_units(plan: Outline) -> list[Unit]:
    """Units of work for a study of which nothing is cached: the whole study, or one per series.

    Parameters
    ----------
    plan : Outline

    Returns
    -------
    list of Unit
        Biggest first (with the outline's Patient ID); ``[]`` when only some
        series are wanted but their counts are unknown.
    """
    if plan.series and (plan.only_series or len(plan.series) > 1):
        units = [Unit("SERIES", plan.study_uid, uid, (), n, plan.patient_id) for uid, n in plan.series.items() if n > 0]
        units.sort(key=lambda u: -u.expected)
        return units
    if plan.only_series:
        return []
    return [Unit("STUDY", plan.study_uid, "", (), plan.instances, plan.patient_id)]
