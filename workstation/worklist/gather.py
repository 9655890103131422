"""Fill the worklist: orders from the worklist providers, studies from the archives and the cache.

Network failures of one node do not empty the worklist: each is kept as a note
in plain words and the rest is shown.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydicom.dataset import Dataset

from workstation import audit
from workstation.config import Node, Settings
from workstation.store.cache import StudyCache
from workstation.store.queries import StudyFilter
from workstation.worklist import claims as claims_mod
from workstation.worklist.build import RemoteStudy, WorklistFilter, WorklistItem, build_worklist
from workstation.worklist.orders import list_orders, order_from_mwl, save_orders
from workstation.worklist.settings import WorklistSettings, archive_nodes, reader_of, worklist_nodes

if TYPE_CHECKING:  # the network modules are loaded only when the worklist asks a peer
    from workstation.net.association import Cancel

log = logging.getLogger(__name__)


@dataclass
class WorklistResult:
    """The worklist and what could not be asked (one line per node that failed)."""

    items: list[WorklistItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    orders_received: int = 0
    #: What the archives listed (kept by the worklist tab to filter again without asking them).
    remote: list[RemoteStudy] = field(default_factory=list)


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    if type(value).__name__ == "MultiValue" or isinstance(value, (list, tuple)):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def remote_study(node: str, ds: Dataset) -> RemoteStudy:
    """A study-level C-FIND answer as a :class:`RemoteStudy`."""
    issuer = ""
    seq = ds.get("IssuerOfAccessionNumberSequence")
    if seq:
        issuer = _text(seq[0], "LocalNamespaceEntityID")
    try:
        images = int(ds.get("NumberOfStudyRelatedInstances") or 0)
    except (TypeError, ValueError):
        images = 0
    return RemoteStudy(node=node, study_uid=_text(ds, "StudyInstanceUID"), accession=_text(ds, "AccessionNumber"),
                       accession_issuer=issuer, patient_id=_text(ds, "PatientID"),
                       patient_name=_text(ds, "PatientName"), study_date=_text(ds, "StudyDate"),
                       study_time=_text(ds, "StudyTime"), description=_text(ds, "StudyDescription"),
                       modalities=_text(ds, "ModalitiesInStudy"),
                       referring_physician=_text(ds, "ReferringPhysicianName"),
                       num_instances=images)


def _default_range(flt: WorklistFilter, days: int, today: dt.date) -> tuple[str, str]:
    if flt.date_from or flt.date_to:
        return flt.date_from, flt.date_to
    return (today - dt.timedelta(days=days)).strftime("%Y%m%d"), today.strftime("%Y%m%d")


def fetch_orders(cache: StudyCache, settings: Settings, flt: WorklistFilter, *, notes: list[str],
                 mwl_nodes: list[Node] | None = None, cancel: Cancel | None = None) -> int:
    """Ask each worklist provider for its orders (all dates: an order waits until read) and keep them."""
    from workstation.net.association import NetworkError
    from workstation.net.mwl import mwl_identifier, query_worklist

    received = 0
    for node in worklist_nodes(settings) if mwl_nodes is None else mwl_nodes:
        ident = mwl_identifier(modality=flt.modality.upper() if flt.modality else "")
        try:
            orders = [order_from_mwl(ds, f"mwl:{node.name}") for ds in query_worklist(node, settings.ae_title, ident,
                                                                                       cancel)]
        except NetworkError as exc:
            notes.append(f"worklist {node.name}: {exc}")
            audit.worklist_queried(node, ident, ok=False)  # one Query event a provider and refresh
            continue
        audit.worklist_queried(node, ident)
        received += save_orders(cache, orders)
    return received


#: Accessions asked one by one at most per refresh (and studies of unknown Patient ID looked up on a
#: Patient Root archive): an archive is not sent hundreds of associations every minute.
MAX_ACCESSION_QUERIES = 20


def fetch_remote_studies(settings: Settings, flt: WorklistFilter, accessions: list[str], *, notes: list[str],
                         study_uids: Sequence[str] = (), patient_ids: Mapping[str, str] | None = None,
                         today: dt.date | None = None, cancel: Cancel | None = None) -> list[RemoteStudy]:
    """Studies the archives list for the date range, then the orders' studies not found that way.

    The orders' Study UIDs are asked with list-of-UID matching (one query per
    :data:`~workstation.worklist.archive_queries.UID_BATCH`); orders without
    one by accession, at most :data:`MAX_ACCESSION_QUERIES` a refresh (an
    archive is not sent hundreds of associations every minute).

    A Patient Root archive is asked as :mod:`workstation.worklist.archive_queries`
    says: the orders' studies with their Patient ID (``patient_ids``: Study
    Instance UID or accession to the order's Patient ID), the date range in the
    Study Root model when the archive offers it, else a note says it cannot be
    listed by date (its orders' studies are still looked up).
    """
    from workstation.net.association import NetworkError
    from workstation.worklist.archive_queries import NotListableByDate, list_by_date, studies_by_key, studies_by_uid

    wl = WorklistSettings.of(settings)
    if not wl.archives:
        return []
    known = dict(patient_ids or {})
    date_from, date_to = _default_range(flt, wl.days, today or dt.date.today())
    out: list[RemoteStudy] = []
    for node in archive_nodes(settings):
        seen: set[str] = set()
        found_acc: set[str] = set()
        keys: dict[str, Any] = {"StudyDate": f"{date_from}-{date_to}"}
        if flt.modality:
            keys["ModalitiesInStudy"] = flt.modality.upper()

        # (defaults bind this node's sets: the function is called within this iteration only)
        def keep(answers: Sequence[Dataset], node: Node = node, seen: set[str] = seen,
                 found_acc: set[str] = found_acc) -> None:
            for ds in answers:
                study = remote_study(node.name, ds)
                if study.study_uid and study.study_uid not in seen:
                    seen.add(study.study_uid)
                    found_acc.add(study.accession)
                    out.append(study)

        listed = True
        try:
            try:
                keep(list_by_date(node, settings.ae_title, keys, cancel))
            except NotListableByDate as exc:
                listed = False
                notes.append(f"archive {exc}")  # the message starts with the node's name
            missing = sorted({u for u in study_uids if u} - seen)
            if missing:
                # An archive that just answered the date range in Study Root is asked so for the rest too.
                found = studies_by_uid(node, settings.ae_title, missing, known, cancel,
                                       max_lookups=MAX_ACCESSION_QUERIES, study_root=listed)
                keep(found.answers)
                if found.unasked:
                    notes.append(f"archive {node.name}: {found.unasked} ordered stud"
                                 f"{'ies' if found.unasked != 1 else 'y'} not looked up: the Patient Root archive "
                                 "would not say under which Patient ID it files them")
            no_patient = 0
            for accession in sorted({a for a in accessions if a} - found_acc)[:MAX_ACCESSION_QUERIES]:
                answers = studies_by_key(node, settings.ae_title, {"AccessionNumber": accession},
                                         known.get(accession, ""), cancel)
                if answers is None:
                    no_patient += 1
                else:
                    keep(answers)
            if no_patient:
                notes.append(f"archive {node.name}: {no_patient} order{'s' if no_patient != 1 else ''} without a "
                             "Patient ID not looked up (a Patient Root archive needs it)")
        except (NetworkError, ValueError) as exc:
            notes.append(f"archive {node.name}: {exc}")
            audit.worklist_queried(node, level="STUDY", keys=keys, ok=False)
            continue
        # One Query event an archive and refresh (its date-range query), not one per answer or follow-up.
        audit.worklist_queried(node, level="STUDY", keys=keys, ok=listed)
    return out


def rebuild(cache: StudyCache, settings: Settings, remote: list[RemoteStudy],
            flt: WorklistFilter | None = None) -> list[WorklistItem]:
    """The worklist from what the index holds now and what the archives listed last (no network)."""
    return build_worklist(cache.studies(StudyFilter()), remote, list_orders(cache), claims=claims_mod.claims(cache),
                          reporters=claims_mod.reporters(cache), reader=reader_of(settings), flt=flt)


def load_worklist(cache: StudyCache, settings: Settings, flt: WorklistFilter | None = None, *, network: bool = True,
                  today: dt.date | None = None, cancel: Cancel | None = None,
                  progress: Callable[[str], None] | None = None) -> WorklistResult:
    """The worklist now: ask the providers and archives (unless ``network`` is False), then build it."""
    flt = flt or WorklistFilter()
    result = WorklistResult()
    remote: list[RemoteStudy] = []
    if network:
        if progress:
            progress("asking the worklist providers")
        result.orders_received = fetch_orders(cache, settings, flt, notes=result.notes, cancel=cancel)
    orders = list_orders(cache)
    local = cache.studies(StudyFilter())
    local_uids = {s.study_uid for s in local}
    local_accessions = {s.accession for s in local if s.accession}
    if network:
        if progress:
            progress("asking the archives")
        pending = [o for o in orders if not (o.study_uid and o.study_uid in local_uids)
                   and not (not o.study_uid and o.accession in local_accessions)]
        # The orders' Patient IDs: a Patient Root archive is asked for their studies with them.
        patient_ids = {o.study_uid or o.accession: o.patient_id for o in pending if o.patient_id}
        remote = fetch_remote_studies(settings, flt, [o.accession for o in pending if not o.study_uid],
                                      study_uids=[o.study_uid for o in pending if o.study_uid], notes=result.notes,
                                      patient_ids=patient_ids, today=today, cancel=cancel)
    result.remote = remote
    result.items = rebuild(cache, settings, remote, flt)
    for note in result.notes:
        log.warning("worklist: %s", note)
    return result
