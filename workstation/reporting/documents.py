"""A study's documents as the reader sees them: its reports, and the other objects readers made.

Shared by the report panel and ``lightbox report list``: reports (SR documents
that are reports, see :mod:`~workstation.reporting.kinds`) with their state,
signature and delivery; key images, presentation states, rejection notes and
PDF copies each under their own kind with their delivery state.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation.reporting import kinds
from workstation.reporting.certificates import TrustStore
from workstation.reporting.signature import SignatureStatus, verify
from workstation.reporting.sr_text import summarize
from workstation.store import outbox
from workstation.store.cache import StudyCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExistingReport:
    """One report of the study as the panel lists it."""

    sop_instance_uid: str
    title: str
    state: str
    content_datetime: str
    signature: str  # valid / invalid – document altered / unsigned / untrusted certificate / cannot be verified
    delivery: str  # queued / stored / committed / failed / "" (not queued)
    delivery_message: str
    replaces: str = ""

    def line(self) -> str:
        """``Final · 2026-01-02 10:11 · signature valid · committed``."""
        when = self.content_datetime[:16]
        text = f"{self.state.capitalize()} · {when} · signature {self.signature}"
        text += f" · {delivery_words(self.delivery)}" if self.delivery else " · not sent"
        if self.delivery_message:
            text += f" ({self.delivery_message})"
        return text


@dataclass(frozen=True)
class OtherDocument:
    """An object of the study that is not a report: key images, a presentation state, a rejection note…"""

    sop_instance_uid: str
    kind: str
    title: str
    content_datetime: str
    delivery: str
    delivery_message: str

    def line(self) -> str:
        text = f"{self.kind.capitalize()} · {self.content_datetime[:16] or 'no date'}"
        text += f" · {delivery_words(self.delivery)}" if self.delivery else " · not sent"
        if self.delivery_message:
            text += f" ({self.delivery_message})"
        return text


def delivery_words(state: str) -> str:
    """An outbox state as a reader says it."""
    return {"queued": "queued", "stored": "sent, awaiting commitment", "committed": "committed",
            "failed": "not delivered"}.get(state, state)


def _latest_items(cache: StudyCache, study_uid: str) -> dict[str, outbox.OutboxItem]:
    out: dict[str, outbox.OutboxItem] = {}
    for item in outbox.list_outbox(cache):
        if item.study_uid == study_uid:
            out[item.sop_instance_uid] = item  # ordered by pk: the latest wins
    return out


def study_documents(cache: StudyCache, study_uid: str,
                    trust: TrustStore) -> tuple[list[ExistingReport], list[OtherDocument]]:
    """The study's reports and its other reader-made objects, each by content date."""
    ours = {r.sop_instance_uid: r for r in outbox.list_reports(cache, study_uid)}
    sending = _latest_items(cache, study_uid)
    reports: list[ExistingReport] = []
    others: list[OtherDocument] = []
    for series in cache.series(study_uid):
        for inst in cache.instances(series.series_uid):
            cls = inst.sop_class_uid
            if not (cls.startswith((kinds.SR_CLASS_PREFIX, kinds.PS_CLASS_PREFIX))
                    or cls == kinds.ENCAPSULATED_PDF_CLASS):
                continue
            item = sending.get(inst.sop_instance_uid)
            delivery, message = (item.state, item.last_error) if item else ("", "")
            try:
                header = dcmread(cache.path_of(inst), stop_before_pixels=True)
                kind = kinds.kind_of(cls, header)
            except Exception as exc:  # noqa: BLE001 - one unreadable object is listed as such
                if cls.startswith(kinds.SR_CLASS_PREFIX) and cls != kinds.KOS_CLASS:
                    reports.append(ExistingReport(inst.sop_instance_uid, "unreadable report", "unreadable", "",
                                                  SignatureStatus.UNVERIFIABLE.value, delivery, str(exc)))
                continue
            when = _when(header)
            if kind != kinds.REPORT:
                label = str(header.get("ContentLabel", "") or header.get("SeriesDescription", "") or "")
                others.append(OtherDocument(inst.sop_instance_uid, kind, label, when, delivery, message))
                continue
            try:
                ds = dcmread(cache.path_of(inst))
                s = summarize(ds)
                checks = verify(ds, trust)
            except Exception as exc:  # noqa: BLE001 - one unreadable SR is shown as such
                reports.append(ExistingReport(inst.sop_instance_uid, "unreadable report", "unreadable", "",
                                              SignatureStatus.UNVERIFIABLE.value, delivery, str(exc)))
                continue
            sig = SignatureStatus.UNSIGNED.value if not checks else next(
                (c.status.value for c in checks if c.status is not SignatureStatus.VALID), SignatureStatus.VALID.value)
            mine = ours.get(inst.sop_instance_uid)
            reports.append(ExistingReport(inst.sop_instance_uid, s.title, mine.state if mine else s.state,
                                          s.content_datetime, sig, delivery, message,
                                          s.predecessors[0] if s.predecessors else ""))
    return sorted(reports, key=lambda r: r.content_datetime), sorted(others, key=lambda o: o.content_datetime)


def _when(ds: Dataset) -> str:
    from workstation.reporting.sr_text import _datetime

    date = str(ds.get("ContentDate", "") or ds.get("PresentationCreationDate", "") or ds.get("SeriesDate", "") or "")
    time = str(ds.get("ContentTime", "") or ds.get("PresentationCreationTime", "") or "")
    return _datetime(date + time) if date else ""


def describe_delivery(item: outbox.OutboxItem | None) -> tuple[str, str, bool]:
    """What a reader is told about one object's delivery: (state word, the rest, whether Retry helps).

    ``item`` None means the object was not queued (no destination was known).
    """
    if item is None:
        return "Kept here", "in this workstation only: no destination is known for this study", False
    where, answer = item.destination, item.last_error
    if item.state == outbox.QUEUED and item.attempts:
        return "Queued", f"for {where}: not reached yet ({answer}); tried again automatically", True
    if item.state == outbox.QUEUED:
        return "Queued", f"for {where}: sending…", False
    if item.state == outbox.STORED:
        rest = f"to {where}; waiting for its storage commitment"
        return "Sent", rest + (f" ({answer})" if item.attempts > 1 and answer else ""), False
    if item.state == outbox.COMMITTED:
        return "Committed", f"{where} keeps it", False
    return "Not delivered", answer or f"{where} refused it", True
