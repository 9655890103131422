"""Opening a worklist item: retrieve it when it is not in the cache, claim it, hang it.

Qt-free: the CLI (``lightbox worklist --open``) and the worklist tab both call
:func:`open_item`; the tab then shows the plan in the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workstation import audit
from workstation.config import ConfigError, Settings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.dicom.person_name import format_person_name
from workstation.worklist.build import LOCAL, NOT_ACQUIRED, WorklistItem
from workstation.worklist.claims import IN_PROGRESS
from workstation.worklist.settings import Reader, reader_of

if TYPE_CHECKING:  # the hanging engine is loaded only when an item is hung
    from workstation.hanging.plan import HangingPlan
    from workstation.net.association import Cancel
    from workstation.net.retrieve import ProgressCallback, RetrieveReport


class OpenRefused(RuntimeError):
    """The item cannot be opened; the message says why in plain words."""


class ReadByAnother(OpenRefused):
    """Another reader has the study in progress: ask before opening (no double reading)."""


@dataclass
class OpenResult:
    study_uid: str
    retrieved: int = 0
    notes: list[str] = field(default_factory=list)
    plan: HangingPlan | None = None


def taken_words(item: WorklistItem) -> str:
    """Who has the item, in a sentence: "Doe, Jane is reading this study" / "… has reported it (final)"."""
    who = format_person_name(item.claimed_by) or "another reader"
    if item.reading_status == IN_PROGRESS:
        return f"{who} is reading this study"
    return f"{who} has reported this study ({item.reading_status})"


def find_item(items: list[WorklistItem], key: str) -> WorklistItem | None:
    """The item whose key, Study Instance UID or accession is ``key``."""
    for item in items:
        if key in (item.key, item.study_uid, item.accession):
            return item
    return None


def ensure_local(item: WorklistItem, settings: Settings, home: Home, cache: StudyCache, *,
                 progress: ProgressCallback | None = None, cancel: Cancel | None = None) -> int:
    """Bring the item's study into the cache from its archive; returns the number of instances retrieved."""
    if item.location == LOCAL or cache.study(item.study_uid) is not None:
        return 0
    if item.location == NOT_ACQUIRED or not item.study_uid:
        raise OpenRefused(f"no images yet for accession {item.accession}: the study has not been acquired")
    from workstation.net.association import NetworkError
    from workstation.net.retrieve import retrieve

    try:
        node = settings.node(item.location)
    except ConfigError as exc:
        raise OpenRefused(str(exc)) from None
    try:
        # The item's Patient ID (the archive's answer, else the order's): a Patient Root archive needs it.
        report: RetrieveReport = audit.retrieved(
            node, cache, retrieve(node, settings, home, cache, item.study_uid, progress=progress, cancel=cancel,
                                  patient_id=item.patient_id or None))
    except NetworkError as exc:
        raise OpenRefused(f"cannot retrieve the study from {node.name}: {exc}") from None
    if cache.study(item.study_uid) is None:
        raise OpenRefused(f"the study did not arrive from {node.name}: {report.error or 'nothing retrieved'}")
    return report.retrieved


def open_item(item: WorklistItem, settings: Settings, home: Home, cache: StudyCache, *, reader: Reader | None = None,
              force: bool = False, hang: bool = True, progress: ProgressCallback | None = None,
              cancel: Cancel | None = None) -> OpenResult:
    """Retrieve (if needed), mark "in progress" for this reader (the RIS is told), and plan the hanging.

    Raises
    ------
    ReadByAnother
        Another reader has it in progress and ``force`` is False.
    OpenRefused
        Not acquired yet, archive unknown or unreachable.
    """
    from workstation.worklist.reading import start_reading  # HL7 messages (hl7apy): loaded when a study is opened

    reader = reader or reader_of(settings)
    if item.busy_elsewhere and not force:
        raise ReadByAnother(f"{taken_words(item)}; open it anyway?")
    result = OpenResult(item.study_uid)
    result.retrieved = ensure_local(item, settings, home, cache, progress=progress, cancel=cancel)
    cache.mark_opened(item.study_uid)
    start_reading(cache, settings, item.study_uid, reader=reader)
    if hang:
        from workstation.hanging.library import ProtocolLibrary
        from workstation.hanging.service import plan_study

        result.plan = plan_study(cache, ProtocolLibrary.load(home), item.study_uid)
    return result
