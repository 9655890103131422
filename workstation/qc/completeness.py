"""Is the cached study complete?  Counts and instance lists against the archive's, and fetching what is missing.

1. STUDY and SERIES level C-FIND give Number of Study/Series Related
   Instances; a series whose count matches the cache's is taken as complete.
2. For every other series (or every series, when asked for a thorough check,
   or when the archive does not return counts) an IMAGE level C-FIND lists
   the archive's SOP Instance UIDs.
3. Missing = on the archive, not in the cache, not known to be rejected.
   Instances the cache holds and the archive does not (objects made here and
   not sent yet) are listed apart; rejected ones the archive dropped are
   expected and not listed.

:func:`fetch_missing` brings the missing series' instances with the
connectivity layer's retrieve, which fetches only what the cache lacks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workstation.config import Node, Settings
from workstation.home import Home
from workstation.qc.instances import require_study
from workstation.qc.notes import rejected_sop_uids
from workstation.store.cache import StudyCache
from workstation.store.queries import SeriesRow

if TYPE_CHECKING:  # the network layer (pynetdicom) loads when a check runs, not when the window starts
    from pydicom.dataset import Dataset

    from workstation.net.association import Cancel, Peer
    from workstation.net.retrieve import ProgressCallback, RetrieveReport

log = logging.getLogger(__name__)


@dataclass
class SeriesCompleteness:
    """One series: cached against archived.

    Attributes
    ----------
    cached : int
        Instances in the cache (rejected ones included: the archive may still hold them).
    archived : int or None
        What the archive says it holds (None: it did not say).
    missing : list of str
        On the archive, not in the cache.
    not_on_archive : list of str
        In the cache (not rejected), not on the archive.
    listed : bool
        The archive's instances were listed one by one (IMAGE level).
    """

    series_uid: str
    series_number: int | None = None
    modality: str = ""
    description: str = ""
    cached: int = 0
    archived: int | None = None
    missing: list[str] = field(default_factory=list)
    not_on_archive: list[str] = field(default_factory=list)
    listed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"series_uid": self.series_uid, "series_number": self.series_number, "modality": self.modality,
                "description": self.description, "cached": self.cached, "archived": self.archived,
                "missing": self.missing, "not_on_archive": self.not_on_archive, "listed": self.listed}


@dataclass
class CompletenessReport:
    """The study on the archive compared with the cache."""

    study_uid: str
    node: str
    cached: int = 0
    archived: int | None = None
    series: list[SeriesCompleteness] = field(default_factory=list)
    error: str = ""

    @property
    def missing(self) -> list[str]:
        return [uid for s in self.series for uid in s.missing]

    @property
    def not_on_archive(self) -> list[str]:
        return [uid for s in self.series for uid in s.not_on_archive]

    @property
    def complete(self) -> bool:
        return not self.error and not self.missing

    def as_dict(self) -> dict[str, Any]:
        return {"study_uid": self.study_uid, "node": self.node, "cached": self.cached, "archived": self.archived,
                "complete": self.complete, "missing": len(self.missing), "not_on_archive": len(self.not_on_archive),
                "error": self.error, "series": [s.as_dict() for s in self.series]}


def _count(ds: Dataset, keyword: str) -> int | None:
    value = ds.get(keyword, None)
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def check_completeness(
    cache: StudyCache,
    node: Node | Peer,
    calling_ae: str,
    study_uid: str,
    *,
    thorough: bool = False,
    cancel: Cancel | None = None,
) -> CompletenessReport:
    """Compare the cached study with the archive's.

    Parameters
    ----------
    cache : StudyCache
    node : Node or Peer
        The archive.
    calling_ae : str
        Our AE title.
    study_uid : str
    thorough : bool
        List every series' instances, even where the counts agree.
    cancel : optional
        Checked between queries.

    Returns
    -------
    CompletenessReport
        A network failure is in ``error`` (the report then says nothing about completeness).
    """
    from workstation.dicom.charset import CharsetError
    from workstation.net.association import NetworkError, peer_of
    from workstation.net.retrieve_plan import find_in_study, inventory, request_patient_id
    from workstation.net.study_patients import recall

    require_study(cache, study_uid)
    held = cache.study(study_uid)
    name = node.name if isinstance(node, Node) else node.describe()
    report = CompletenessReport(study_uid, name)
    rejected = rejected_sop_uids(cache, study_uid)
    local = {s.series_uid: s for s in cache.series(study_uid)}
    local_uids = {uid: {r.sop_instance_uid for r in cache.instances(uid)} for uid in local}
    report.cached = sum(len(v) for v in local_uids.values())
    try:
        # A Patient Root archive wants the study's Patient ID with every query below PATIENT level: the one it
        # answered in this process, else the cached study's, else its own answer to a query by UID ("" for Study
        # Root).  Never logged: it is PHI.
        given = recall(peer_of(node), study_uid) or (held.patient_id if held is not None else "")
        patient_id = request_patient_id(node, calling_ae, cache, study_uid, given, cancel)
        if patient_id is None:
            report.error = f"{name} has no study {study_uid}"
            return report
        studies = list(find_in_study(node, calling_ae, "STUDY", {"StudyInstanceUID": study_uid}, patient_id,
                                     cancel))
        if not studies:
            report.error = f"{name} has no study {study_uid}"
            return report
        report.archived = _count(studies[0], "NumberOfStudyRelatedInstances")
        remote: dict[str, SeriesCompleteness] = {}
        for ds in find_in_study(node, calling_ae, "SERIES", {"StudyInstanceUID": study_uid}, patient_id, cancel):
            uid = str(ds.get("SeriesInstanceUID", "") or "")
            if uid:
                remote[uid] = SeriesCompleteness(uid, _count(ds, "SeriesNumber"), str(ds.get("Modality", "") or ""),
                                                 str(ds.get("SeriesDescription", "") or ""),
                                                 archived=_count(ds, "NumberOfSeriesRelatedInstances"))
        to_list = [uid for uid, s in remote.items()
                   if thorough or s.archived is None or s.archived != len(local_uids.get(uid, ()))]
        listed = inventory(node, calling_ae, study_uid, to_list, cancel, patient_id=patient_id) if to_list else None
    except (NetworkError, CharsetError) as exc:
        report.error = str(exc)
        return report
    archive_lists = {s.series_uid: set(s.instances) for s in listed.series} if listed else {}
    for uid in sorted(set(remote) | set(local), key=lambda u: _order(local.get(u), remote.get(u))):
        entry = remote.get(uid) or SeriesCompleteness(uid)
        row = local.get(uid)
        if row is not None:
            entry.series_number, entry.modality, entry.description = row.series_number, row.modality, row.description
        mine = local_uids.get(uid, set())
        entry.cached = len(mine)
        if uid in archive_lists:
            theirs = archive_lists[uid]
            entry.listed = True
            entry.archived = len(theirs)
            entry.missing = sorted(theirs - mine - rejected)
            entry.not_on_archive = sorted(mine - theirs - rejected)
        elif uid not in remote:
            entry.archived = 0
            entry.not_on_archive = sorted(mine - rejected)
        report.series.append(entry)
    log.info("completeness of %s against %s: %d cached, %s archived, %d missing, %d not on the archive",
             study_uid, name, report.cached, report.archived, len(report.missing), len(report.not_on_archive))
    return report


def _order(local: SeriesRow | None, remote: SeriesCompleteness | None) -> tuple[bool, int]:
    number = local.series_number if local is not None else (remote.series_number if remote is not None else None)
    return (number is None, number or 0)


def fetch_missing(
    cache: StudyCache,
    node: Node | Peer,
    settings: Settings,
    home: Home,
    report: CompletenessReport,
    *,
    progress: ProgressCallback | None = None,
    cancel: Cancel | None = None,
) -> RetrieveReport | None:
    """Retrieve the series with missing instances (only what the cache lacks is fetched).

    Returns
    -------
    RetrieveReport or None
        None when nothing is missing.
    """
    from workstation.net.retrieve import retrieve

    series = [s.series_uid for s in report.series if s.missing]
    if not series:
        return None
    result = retrieve(node, settings, home, cache, report.study_uid, series, progress=progress, cancel=cancel)
    log.info("fetched missing instances of %s: %s", report.study_uid, result.summary())
    return result
