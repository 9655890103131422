"""The worklist: studies to read with their orders, filtered, STAT first, then by time waiting.

Pure: :func:`build_worklist` takes what is known (local studies, studies the
archives listed, orders, claims, reports) and returns the rows the worklist
shows.  :mod:`workstation.worklist.gather` fetches those inputs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from workstation.reporting.reading_status import reading_status_words
from workstation.store.queries import StudyRow
from workstation.dicom.person_name import format_person_name
from workstation.worklist.claims import CLAIM_STATUSES, IN_PROGRESS, Claim, accession_key
from workstation.worklist.orders import Order, match, priority_rank, priority_word
from workstation.worklist.settings import Reader

#: Reading statuses a worklist filters on (the study list's, plus "in progress").
WORKLIST_STATUSES = ("unread", "in progress", "draft", "preliminary", "final", "amended")
#: Where an item's images are: in the cache, at an archive, or not acquired yet.
LOCAL, NOT_ACQUIRED = "local", "not acquired"


@dataclass(frozen=True)
class RemoteStudy:
    """A study an archive listed (study-level C-FIND answer)."""

    node: str
    study_uid: str
    accession: str = ""
    accession_issuer: str = ""
    patient_id: str = ""
    patient_name: str = ""
    study_date: str = ""
    study_time: str = ""
    description: str = ""
    modalities: str = ""
    body_part: str = ""
    referring_physician: str = ""
    num_instances: int = 0


@dataclass(frozen=True)
class WorklistItem:
    """One row of the worklist."""

    study_uid: str
    accession: str
    accession_issuer: str
    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    study_date: str
    study_time: str
    modalities: str
    body_part: str
    description: str
    priority: str
    reading_status: str  # unread, in progress, draft, preliminary, final, amended
    claimed_by: str
    claimed_by_me: bool
    reported_by_me: bool
    location: str  # "local", a node name, or "not acquired"
    waiting_since: str  # ISO date-time the study (or the order) has been waiting since
    requested_procedure: str = ""
    reason: str = ""
    clinical_history: str = ""
    referring_physician: str = ""
    order_source: str = ""
    num_images: int = 0

    @property
    def key(self) -> str:
        """What identifies the row: the Study Instance UID, else the accession."""
        return self.study_uid or f"accession:{self.accession}"

    @property
    def is_local(self) -> bool:
        return self.location == LOCAL

    @property
    def busy_elsewhere(self) -> bool:
        """Another reader has it in progress or reported it: opening asks first (no double reading)."""
        return bool(self.claimed_by) and not self.claimed_by_me and self.reading_status in CLAIM_STATUSES

    @property
    def being_read_by(self) -> str:
        """The other reader who has the study in progress (DICOM PN), else ""."""
        return self.claimed_by if self.busy_elsewhere and self.reading_status == IN_PROGRESS else ""

    @property
    def status_words(self) -> str:
        """The reading status with who: "being read by Doe, Jane", "in progress (you)", "final by Doe, Jane"."""
        if self.reading_status not in CLAIM_STATUSES:
            return self.reading_status
        if self.claimed_by_me:
            return f"{self.reading_status} (you)"
        if not self.claimed_by:
            return self.reading_status
        who = format_person_name(self.claimed_by)
        return f"being read by {who}" if self.reading_status == IN_PROGRESS else f"{self.reading_status} by {who}"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["key"] = self.key
        d["being_read_by"] = self.being_read_by
        d["status_words"] = self.status_words
        return d


@dataclass
class WorklistFilter:
    """What the reader narrows the worklist to; empty fields mean "any".

    Dates are YYYYMMDD, inclusive.  ``mine``: claimed or reported by this reader.
    ``include_not_acquired``: orders with no images anywhere yet.
    """

    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    body_part: str = ""
    reading_status: str = ""
    priority: str = ""
    mine: bool = False
    include_not_acquired: bool = True
    include_reported: bool = True

    def accepts(self, item: WorklistItem) -> bool:
        date = item.study_date or item.waiting_since[:10].replace("-", "")
        if self.date_from and date and date < self.date_from:
            return False
        if self.date_to and date and date > self.date_to:
            return False
        if self.modality and self.modality.upper() not in item.modalities.upper().split("\\"):
            return False
        if self.body_part and self.body_part.upper() not in item.body_part.upper():
            return False
        status = self.reading_status.strip().lower()
        if status and status != "any" and not item.reading_status.startswith(status.split(" (")[0]):
            return False
        if self.priority and priority_word(self.priority) != item.priority:
            return False
        if self.mine and not (item.claimed_by_me or item.reported_by_me):
            return False
        if not self.include_not_acquired and item.location == NOT_ACQUIRED:
            return False
        return self.include_reported or item.reading_status not in ("preliminary", "final", "amended")


def _iso(date: str, time: str = "") -> str:
    """DICOM DA + TM (or an HL7 TS) as ISO text; '' when unknown."""
    digits = "".join(c for c in (date + time) if c.isdigit())
    if len(digits) < 8:
        return ""
    d = digits.ljust(14, "0")[:14]
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}T{d[8:10]}:{d[10:12]}:{d[12:14]}"


def sort_key(item: WorklistItem) -> tuple[int, bool, str, str, str]:
    """STAT first, then the longest waiting; unknown times after known ones, then by accession."""
    return (priority_rank(item.priority), item.waiting_since == "", item.waiting_since, item.accession, item.study_uid)


def _status(report_status: str, claim: Claim | None) -> str:
    """The report this station holds decides; without one, the claim's status (here or from the RIS)."""
    words = reading_status_words(report_status)
    if words.startswith("final"):
        return "final"
    if claim is not None and words in ("unread", "draft"):
        return claim.status
    return words


def build_worklist(
    local: Iterable[StudyRow],
    remote: Iterable[RemoteStudy],
    orders: Iterable[Order],
    *,
    claims: dict[str, Claim] | None = None,
    reporters: dict[str, set[str]] | None = None,
    reader: Reader | None = None,
    flt: WorklistFilter | None = None,
) -> list[WorklistItem]:
    """The worklist rows, sorted (STAT first, then by time waiting).

    Each study appears once: a study in the cache is shown as local even when an
    archive lists it too.  An order is matched to its study by Study Instance UID,
    else by accession (+ issuer); an order with no study anywhere is shown as not
    acquired.  Orders not matched and studies without orders are both listed.
    """
    claims = claims or {}
    reporters = reporters or {}
    reader = reader or Reader()
    flt = flt or WorklistFilter()
    orders = list(orders)
    used: set[int] = set()
    items: list[WorklistItem] = []
    seen: set[str] = set()

    # Orders indexed once (a day's worklist has thousands of studies and orders).
    uid_index: dict[str, list[int]] = {}
    acc_index: dict[str, list[int]] = {}
    for i, o in enumerate(orders):
        if o.study_uid:
            uid_index.setdefault(o.study_uid, []).append(i)
        elif o.accession:
            acc_index.setdefault(o.accession, []).append(i)

    def order_of(study_uid: str, accession: str, issuer: str = "") -> Order | None:
        by_uid = uid_index.get(study_uid, []) if study_uid else []
        # (an order naming another Study UID is not this study's, even with the same accession)
        by_acc = [i for i in acc_index.get(accession, []) if match(orders[i], study_uid, accession, issuer)]
        for i in by_uid + by_acc:
            used.add(i)
            return orders[i]
        return None

    def item(study_uid: str, accession: str, issuer: str, patient_id: str, patient_name: str, birth: str, sex: str,
             date: str, time: str, modalities: str, body: str, description: str, referring: str, location: str,
             report_status: str, images: int) -> WorklistItem:
        order = order_of(study_uid, accession, issuer)
        claim = claims.get(study_uid) if study_uid else None
        known_accession = accession or (order.accession if order else "")
        if claim is None and known_accession:  # the RIS named only the order
            claim = claims.get(accession_key(known_accession))
        names = reporters.get(study_uid, set())
        mine = claim is not None and claim.by(reader.name, reader.reader_id)
        reported_here = claim is not None and mine and claim.status != IN_PROGRESS
        return WorklistItem(
            study_uid=study_uid, accession=accession or (order.accession if order else ""),
            accession_issuer=issuer or (order.accession_issuer if order else ""),
            patient_id=patient_id or (order.patient_id if order else ""),
            patient_name=patient_name or (order.patient_name if order else ""),
            birth_date=birth or (order.birth_date if order else ""), sex=sex or (order.sex if order else ""),
            study_date=date, study_time=time,
            modalities=modalities or (order.modality if order else ""),
            body_part=body or (order.body_part if order else ""), description=description,
            priority=order.priority if order else "ROUTINE",
            reading_status=_status(report_status, claim),
            claimed_by=claim.reader if claim else "", claimed_by_me=mine,
            reported_by_me=(bool(reader.name) and reader.name in names) or reported_here,
            location=location, waiting_since=_iso(date, time) or (_iso(order.scheduled) if order else ""),
            requested_procedure=order.requested_procedure if order else "",
            reason=order.reason if order else "", clinical_history=order.clinical_history if order else "",
            referring_physician=(order.referring_physician if order and order.referring_physician else referring),
            order_source=order.source if order else "", num_images=images,
        )

    for s in local:
        seen.add(s.study_uid)
        items.append(item(s.study_uid, s.accession, "", s.patient_id, s.patient_name, s.birth_date, s.sex,
                          s.study_date, s.study_time, s.modalities, s.body_parts, s.description,
                          s.referring_physician, LOCAL, s.report_status, s.num_images_shown))
    for r in remote:
        if r.study_uid in seen:
            continue
        seen.add(r.study_uid)
        items.append(item(r.study_uid, r.accession, r.accession_issuer, r.patient_id, r.patient_name, "", "",
                          r.study_date, r.study_time, r.modalities, r.body_part, r.description,
                          r.referring_physician, r.node, "unreported", r.num_instances))
    for i, o in enumerate(orders):
        if i in used:
            continue
        used.add(i)
        items.append(item(o.study_uid, o.accession, o.accession_issuer, o.patient_id, o.patient_name, o.birth_date,
                          o.sex, "", "", o.modality, o.body_part, o.requested_procedure, o.referring_physician,
                          NOT_ACQUIRED, "unreported", 0))
    return sorted((i for i in items if flt.accepts(i)), key=sort_key)

