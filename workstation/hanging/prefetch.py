"""Prior prefetch: which of the patient's earlier studies to bring in for a study, and bringing them.

1. :func:`query_patient_studies` asks an archive (C-FIND, STUDY level) for the
   patient's other studies by Patient ID (with its issuer) and, separately,
   by name and birth date: the second kind only ever become *possible
   matches* (:mod:`workstation.hanging.priors`), never priors.  The body parts
   of earlier studies come from a SERIES-level query, since prior rules compare
   them.
2. :func:`prefetch_list` hangs the study with those remote studies added and
   lists the priors the chosen protocol shows, plus ``extra`` more relevant
   ones (:class:`HangingSettings`), each marked cached or not.
3. :func:`fetch_priors` retrieves the ones not cached, one study at a time
   (the current study's retrieve, started first by the viewer, keeps the
   archive's associations), and calls ``on_arrival`` after each so the
   viewer can re-hang the viewports that were waiting for it.

Everything here is Qt-free: the viewer runs :func:`fetch_priors` as a job on
its background runner.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from pydicom.multival import MultiValue

from workstation.config import Node, Settings
from workstation.hanging.attributes import StudyFacts, split_values
from workstation.hanging.library import ProtocolLibrary
from workstation.hanging.plan import HangingPlan, PriorPlan
from workstation.hanging.priors import is_earlier
from workstation.hanging.service import plan_study
from workstation.home import Home
from workstation.store.cache import StudyCache

log = logging.getLogger(__name__)

SETTINGS_KEY = "hanging"
#: At most this many earlier studies of one patient get a SERIES-level query for their body parts.
MAX_SERIES_QUERIES = 20


@dataclass
class HangingSettings:
    """Prior settings, kept under ``Settings.extra["hanging"]`` in config.json.

    Attributes
    ----------
    extra_priors : int
        Relevant priors to prefetch beyond those the protocol shows.
    prior_nodes : list of str
        Nodes asked for priors; empty means every configured node.
    """

    extra_priors: int = 1
    prior_nodes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, settings: Settings) -> HangingSettings:
        raw = settings.extra.get(SETTINGS_KEY, {})
        raw = raw if isinstance(raw, dict) else {}
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        if not isinstance(values.get("prior_nodes", []), list):
            values["prior_nodes"] = []
        out = cls(**values)
        try:
            out.extra_priors = max(0, int(out.extra_priors))
        except (TypeError, ValueError):
            out.extra_priors = cls.extra_priors
        return out

    def store(self, settings: Settings) -> None:
        raw = settings.extra.get(SETTINGS_KEY, {})
        merged = dict(raw) if isinstance(raw, dict) else {}
        merged.update(asdict(self))
        settings.extra[SETTINGS_KEY] = merged

    def nodes(self, settings: Settings) -> list[Node]:
        """The nodes to ask for priors."""
        if not self.prior_nodes:
            return list(settings.nodes)
        return [n for n in settings.nodes if n.name in self.prior_nodes]


@dataclass(frozen=True)
class PrefetchItem:
    """One prior to have in the cache for a study."""

    study_uid: str
    study_date: str
    description: str
    role: str  # prior1 ... or "extra"
    in_cache: bool
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "") if ds is not None else ""
    if value is None:
        return ""
    if isinstance(value, (list, tuple, MultiValue)):  # not PersonName, which iterates its characters
        return "\\".join(str(v) for v in value)
    return str(value).strip()


#: Study attributes from STUDY-level query keys.
_STUDY_KEYS = {
    "ModalitiesInStudy": "ModalitiesInStudy",
    "StudyDescription": "StudyDescription",
    "NumberOfStudyRelatedSeries": "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances": "NumberOfStudyRelatedInstances",
    "PatientSex": "PatientSex",
    "StudyDate": "StudyDate",
}
_NUMBERS = {"NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances"}


def _series_values(answers: list[Any], keyword: str) -> str | None:
    """The distinct values of a key over SERIES-level answers; None when no answer carries it."""
    if not any(keyword in a for a in answers):
        return None
    values = sorted({_text(a, keyword).upper() for a in answers} - {""})
    return "\\".join(values)


def facts_from_identifier(ds: Any, source: str, body_parts: str | None = None,
                          series_modalities: str | None = None) -> StudyFacts:
    """Study facts from a STUDY-level C-FIND response (not in the cache).

    Parameters
    ----------
    ds : Dataset
    source : str
        The node's name.
    body_parts : str, optional
        Body Part Examined of its series, backslash-separated; None when the
        archive did not tell (an attribute it does not report is *unknown*,
        not absent).
    series_modalities : str, optional
        Modality of its series, for archives that do not report Modalities
        in Study.
    """
    attributes: dict[str, Any] = {}
    unknown = set()
    for name, keyword in _STUDY_KEYS.items():
        if keyword not in ds:
            unknown.add(name)
            continue
        text = _text(ds, keyword)
        if name in _NUMBERS:
            attributes[name] = int(text) if text.isdigit() else None
        else:
            attributes[name] = split_values(text) if name == "ModalitiesInStudy" else (text or None)
    if "ModalitiesInStudy" in unknown and series_modalities is not None:
        unknown.discard("ModalitiesInStudy")
        attributes["ModalitiesInStudy"] = split_values(series_modalities)
    if body_parts is None:
        unknown.add("BodyPartExamined")
    else:
        attributes["BodyPartExamined"] = split_values(body_parts)
    # Never in a study query's answer: judged once the study is in the cache.
    unknown |= {"ProcedureCodeSequence", "InstitutionName", "Laterality"}
    return StudyFacts(
        study_uid=_text(ds, "StudyInstanceUID"), patient_id=_text(ds, "PatientID"),
        issuer=_text(ds, "IssuerOfPatientID"), patient_name=_text(ds, "PatientName"),
        birth_date=_text(ds, "PatientBirthDate"), study_date=_text(ds, "StudyDate"),
        study_time=_text(ds, "StudyTime"), attributes=attributes, in_cache=False, source=source,
        unknown=frozenset(unknown),
    )


def node_name(node: Any) -> str:
    """A node's name, or ``AE@host:port`` for a bare peer."""
    name = getattr(node, "name", "")
    return name or f"{node.ae_title}@{node.host}:{node.port}"


def query_patient_studies(node: Node, calling_ae: str, current: StudyFacts,
                          cancel: Callable[[], bool] | None = None) -> list[StudyFacts]:
    """The studies ``node`` holds that may be the patient of ``current``.

    Parameters
    ----------
    node : Node or Peer
    calling_ae : str
        Our AE title.
    current : StudyFacts
        The study being read.
    cancel : callable, optional

    Raises
    ------
    NetworkError
        The archive cannot be reached or refuses the query.
    """
    from workstation.net.patient_root_find import find_studies
    from workstation.worklist.archive_queries import series_of

    found: dict[str, Any] = {}
    queries = []
    if current.patient_id.strip():
        queries.append({"PatientID": current.patient_id, "IssuerOfPatientID": ""})
    if current.patient_name.strip() and current.birth_date:
        queries.append({"PatientName": current.patient_name, "PatientBirthDate": current.birth_date,
                        "IssuerOfPatientID": ""})
    for keys in queries:
        # A Patient Root node is asked the patients first, then their studies by Patient ID.
        for ds in find_studies(node, calling_ae, keys, cancel):
            uid = _text(ds, "StudyInstanceUID")
            if uid and uid != current.study_uid:
                found.setdefault(uid, ds)
    out = []
    earlier = sorted(found.values(), key=lambda d: _text(d, "StudyDate") + _text(d, "StudyTime"), reverse=True)
    for i, ds in enumerate(earlier):
        facts = facts_from_identifier(ds, node_name(node))
        if i < MAX_SERIES_QUERIES and is_earlier(facts, current):
            answers = series_of(node, calling_ae, ds, cancel)
            facts = facts_from_identifier(ds, node_name(node), _series_values(answers, "BodyPartExamined"),
                                          _series_values(answers, "Modality"))
        out.append(facts)
    log.info("prior query of %s: %d other studies", node_name(node), len(out))
    return out


def _item(p: PriorPlan, role: str) -> PrefetchItem:
    return PrefetchItem(p.study_uid, p.study_date, p.description, role, p.in_cache, p.source)


def prefetch_items(plan: HangingPlan, extra: int = 0) -> list[PrefetchItem]:
    """The priors a plan shows, then ``extra`` more relevant ones, each cached or not."""
    items = [_item(p, p.role) for p in plan.priors]
    items += [_item(p, "extra") for p in plan.more_priors[:max(extra, 0)]]
    return items


def prefetch_list(cache: StudyCache, library: ProtocolLibrary, study_uid: str, *,
                  remote: Sequence[StudyFacts] = (), extra: int = 0,
                  protocol_id: str | None = None) -> list[PrefetchItem]:
    """Which priors a study wants: the cache's knowledge plus what archives reported.

    Parameters
    ----------
    cache, library
    study_uid : str
        The study being read (cached).
    remote : sequence of StudyFacts
        From :func:`query_patient_studies`; empty for a cache-only answer.
    extra : int
        Relevant priors beyond those the protocol shows.
    protocol_id : str, optional
        The protocol in use, when the reader chose one.
    """
    plan = plan_study(cache, library, study_uid, protocol_id=protocol_id, remote=remote)
    return prefetch_items(plan, extra)


def fetch_priors(node: Node, settings: Settings, home: Home, cache: StudyCache, items: Iterable[PrefetchItem], *,
                 on_arrival: Callable[[str, Any], None] | None = None,
                 cancel: Callable[[], bool] | None = None, method: str | None = None) -> list[Any]:
    """Retrieve the listed priors not yet cached from ``node``, one study at a time.

    Parameters
    ----------
    node, settings, home, cache
        As :func:`workstation.net.retrieve.retrieve` takes them (a Node or a Peer).
    items : iterable of PrefetchItem
        Usually :func:`prefetch_list`'s; cached ones and other nodes' are skipped.
    on_arrival : callable, optional
        ``on_arrival(study_uid, report)`` after each study, from this thread.
    cancel : callable, optional
        Stops between and inside retrieves; what arrived stays.
    method : {"move", "get", "dicomweb"}, optional
        Overrides the node's retrieve method.

    Returns
    -------
    list of RetrieveReport
    """
    from workstation.net.retrieve import retrieve

    reports = []
    for item in items:
        if item.in_cache or item.source != node_name(node):
            continue
        if cancel is not None and cancel():
            break
        report = retrieve(node, settings, home, cache, item.study_uid, method=method, cancel=cancel)
        reports.append(report)
        log.info("prior %s retrieved from %s: %s", item.study_uid, node_name(node), report.summary())
        if on_arrival is not None:
            on_arrival(item.study_uid, report)
    return reports


def _modalities(node: Node, calling_ae: str, ds: Any, cancel: Callable[[], bool] | None) -> set[str]:
    """A study's modalities from its C-FIND answer, else from its series (asked with its Patient ID)."""
    from workstation.worklist.archive_queries import series_of

    told = _text(ds, "ModalitiesInStudy")
    if told:
        return {m.strip().upper() for m in told.split("\\")}
    return {_text(a, "Modality").upper() for a in series_of(node, calling_ae, ds, cancel)}


def prefetch_day(node: Node, settings: Settings, home: Home, cache: StudyCache, library: ProtocolLibrary,
                 study_date: str, *, modality: str = "", extra: int = 0, method: str | None = None,
                 cancel: Callable[[], bool] | None = None,
                 on_study: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Bring a day's studies and their priors into the cache before reading starts.

    Each study the node holds for ``study_date`` (and ``modality``) is
    retrieved, then the node is asked for the patient's other studies and
    the priors its protocol shows, plus ``extra`` more, are retrieved.

    Returns
    -------
    list of dict
        Per study: its UID, date, description, the retrieve's summary, and
        the priors fetched or already cached (UIDs only, no patient identity).
    """
    from workstation.hanging.facts import study_facts
    from workstation.net.retrieve import retrieve
    from workstation.worklist.archive_queries import list_by_date

    keys: dict[str, Any] = {"StudyDate": study_date}
    if modality:
        keys["Modality"] = modality
    # A Patient Root node is listed in Study Root (NotListableByDate, a NetworkError, when it offers only Patient Root).
    studies = {_text(ds, "StudyInstanceUID"): ds for ds in list_by_date(node, settings.ae_title, keys, cancel)}
    if modality:
        # Archives that do not match on Modalities in Study answer with every study of the day.
        studies = {uid: ds for uid, ds in studies.items()
                   if modality.upper() in _modalities(node, settings.ae_title, ds, cancel)}
    results = []
    for uid, ds in sorted(studies.items(), key=lambda kv: _text(kv[1], "StudyTime")):
        if not uid or (cancel is not None and cancel()):
            continue
        # The day's query gave the study's Patient ID: a Patient Root archive needs it with the retrieve.
        report = retrieve(node, settings, home, cache, uid, method=method, cancel=cancel,
                          patient_id=_text(ds, "PatientID") or None)
        entry: dict[str, Any] = {"study_uid": uid, "study_date": _text(ds, "StudyDate"),
                                 "description": _text(ds, "StudyDescription"), "retrieve": report.summary(),
                                 "ok": report.ok, "priors": []}
        current = study_facts(cache, uid, with_series=False)
        if current is not None:
            remote = query_patient_studies(node, settings.ae_title, current, cancel)
            items = prefetch_list(cache, library, uid, remote=remote, extra=extra)
            reports: dict[str, Any] = {}
            fetch_priors(node, settings, home, cache, items, method=method, cancel=cancel,
                         on_arrival=reports.__setitem__)
            entry["priors"] = [{"study_uid": i.study_uid, "role": i.role, "study_date": i.study_date,
                                "fetched": i.study_uid in reports, "ok": i.in_cache or reports[i.study_uid].ok}
                               for i in items]
        results.append(entry)
        if on_study is not None:
            on_study(entry)
    return results
