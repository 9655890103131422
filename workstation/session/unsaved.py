"""What closing studies or quitting would lose or leave behind, and what the reader's answer does (no Qt).

The window asks before it closes studies (opening another one, Close study)
or quits, when :func:`check_closing` finds something; it shows
:attr:`ClosingCheck.message` with :attr:`ClosingCheck.choices` and hands the
answer to :func:`apply_answer`.

- Measurements, annotations and key-image marks not saved with their study
  (autosave off, or the home could not be written): **Save** writes them,
  **Discard** drops the changes.  They are the only thing Discard can lose.
- Report drafts of the studies (kept in the index, not signed): the reader is
  reminded; the draft stays either way and comes back when the study is opened.
- Quitting only: objects in the outbox not yet sent (reports, presentation
  states, key images): they stay queued and go at the next start, so the
  reader knows the archive does not have them yet.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import TYPE_CHECKING

from workstation.reporting.lifecycle import own_drafts
from workstation.store import outbox

if TYPE_CHECKING:  # for the annotations only
    from workstation.session.reading import ReadingSession

log = logging.getLogger(__name__)

MEASUREMENTS, DRAFT, OUTBOX = "measurements", "report draft", "outbox"
SAVE, DISCARD, CLOSE, CANCEL = "save", "discard", "close", "cancel"


@dataclass(frozen=True)
class PendingWork:
    """One kind of work left when studies close.

    Attributes
    ----------
    kind : str
        :data:`MEASUREMENTS`, :data:`DRAFT` or :data:`OUTBOX`.
    study_uids : tuple of str
        The studies it belongs to.
    text : str
        One line for the prompt (no patient names: the reader knows whose study is open).
    lost_on_discard : bool
        Whether Discard drops it.
    """

    kind: str
    study_uids: tuple[str, ...]
    text: str
    lost_on_discard: bool


@dataclass
class ClosingCheck:
    """What is pending when studies close or the application quits."""

    items: list[PendingWork] = field(default_factory=list)
    quitting: bool = False

    @property
    def needs_answer(self) -> bool:
        return bool(self.items)

    @property
    def choices(self) -> tuple[str, ...]:
        """Save / Discard / Cancel when something can be lost, else Close / Cancel."""
        if any(i.lost_on_discard for i in self.items):
            return SAVE, DISCARD, CANCEL
        return CLOSE, CANCEL

    @property
    def title(self) -> str:
        return "Quit Lightbox?" if self.quitting else "Close the study?"

    @property
    def message(self) -> str:
        lines = [f"• {i.text}" for i in self.items]
        if any(i.lost_on_discard for i in self.items):
            lines.append("")
            lines.append("Save keeps the measurements with the study; Discard drops the unsaved changes.")
        return "\n".join(lines)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def check_closing(session: ReadingSession, study_uids: Iterable[str] | None = None, *,
                  quitting: bool = False) -> ClosingCheck:
    """What is pending for ``study_uids`` (default: the studies open in ``session``).

    Parameters
    ----------
    session : ReadingSession
    study_uids : iterable of str, optional
    quitting : bool
        The application quits: unsent outbox items are listed too.
    """
    uids = [s.study_uid for s in session.studies] if study_uids is None else list(study_uids)
    check = ClosingCheck(quitting=quitting)
    unsaved = session.work.unsaved(uids)
    if unsaved:
        annotations = sum(len(session.work.work(u).annotations) for u in unsaved)
        marks = sum(len(session.work.work(u).key_images) for u in unsaved)
        what = []
        if annotations:
            what.append(_plural(annotations, "measurement or annotation", "measurements and annotations"))
        if marks:
            what.append(_plural(marks, "key-image mark", "key-image marks"))
        text = ("Changes to " + " and ".join(what) if what else "Removed measurements") + " not saved"
        check.items.append(PendingWork(MEASUREMENTS, tuple(unsaved), text, True))
    try:
        drafts = own_drafts([d for u in uids for d in outbox.list_drafts(session.cache, u)])
    except Exception:  # noqa: BLE001 - an unreadable index must not keep the window open
        log.exception("report drafts could not be listed")
        drafts = []
    if drafts:
        check.items.append(PendingWork(
            DRAFT, tuple(dict.fromkeys(d.study_uid for d in drafts)),
            f"{_plural(len(drafts), 'report draft', 'report drafts')} not signed "
            "(kept; it comes back when the study is opened)", False))
    if quitting:
        try:
            waiting = outbox.list_outbox(session.cache, (outbox.QUEUED, outbox.FAILED))
        except Exception:  # noqa: BLE001
            log.exception("the outbox could not be listed")
            waiting = []
        if waiting:
            failed = sum(1 for i in waiting if i.state == outbox.FAILED)
            text = f"{_plural(len(waiting), 'object', 'objects')} not yet sent to the archive"
            if failed:
                text += f" ({failed} failed)"
            text += "; they stay queued and are sent at the next start"
            check.items.append(PendingWork(OUTBOX, tuple(dict.fromkeys(i.study_uid for i in waiting)), text, False))
    return check


def apply_answer(session: ReadingSession, check: ClosingCheck, answer: str) -> tuple[bool, str]:
    """Do what the reader chose; returns (go on closing, a message for the reader or "").

    Save that fails (the home cannot be written) keeps the studies open.
    """
    if answer == CANCEL:
        return False, ""
    measured = [u for i in check.items if i.kind == MEASUREMENTS for u in i.study_uids]
    if answer == SAVE:
        try:
            session.work.save(measured)
        except OSError as exc:
            log.warning("measurements not saved: %s", type(exc).__name__)
            return False, f"Measurements not saved: {exc.strerror or exc}"
        return True, ""
    if answer == DISCARD:
        session.work.discard(measured)
        return True, ""
    if answer == CLOSE:
        return True, ""
    raise ValueError(f"unknown answer {answer!r}")
