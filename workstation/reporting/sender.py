"""The outbox sender: deliver queued reports by C-STORE, then Storage Commitment.

Each round takes the items that are due, groups them by destination node,
sends the queued ones over one association (:func:`workstation.net.send.send_files`)
and asks the archive to commit what it stored
(:func:`workstation.net.commitment.request_commitment`).  Every step is
recorded in the index before the next one, so a restart (or kill -9) goes on
where it stopped:

- queued → stored: the archive answered the C-STORE with success;
- stored → committed: the archive committed it (the hold on the study ends);
- failed: the archive refused it (its reason is kept and shown), the file
  changed since signing, or the attempts ran out.

While the archive cannot be reached, or does not answer the commitment
request in time, the item waits with exponential backoff.  The file sent is
checked against the hash recorded when it was signed: never two different
objects under one SOP Instance UID.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from workstation import audit
from workstation.config import ConfigError, Node, Settings, SettingsSource, as_settings
from workstation.hl7.settings import DESTINATION_PREFIX, HL7Settings
from workstation.home import Home
from workstation.jobs.core import CancelToken
from workstation.net.association import NetworkError
from workstation.net.commitment import (
    COMMITTED as NET_COMMITTED,
    FAILED as NET_FAILED,
    CommitmentInbox,
    CommitmentNotSupported,
    CommitmentReport,
    check_by_find,
    request_commitment,
)
from workstation.net.send import SendReport, send_files
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.layout import content_hash
from workstation.store.outbox import COMMITTED, FAILED, QUEUED, STORED, OutboxItem

log = logging.getLogger(__name__)

#: Asks ``node`` to commit ``items`` (already stored there); the default is :func:`storage_commitment`.
Committer = Callable[[Node, Sequence[OutboxItem]], CommitmentReport]
Sender = Callable[..., SendReport]


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1: ``first_s`` doubling each time, at most ``max_s``."""

    first_s: float = 10.0
    max_s: float = 900.0
    max_attempts: int = 50

    def delay(self, attempts: int) -> float:
        return min(self.max_s, self.first_s * 2.0 ** max(0, attempts - 1))


@dataclass
class RoundReport:
    """What one round did: (SOP Instance UID, new state, message) per item touched."""

    changes: list[tuple[str, str, str]] = field(default_factory=list)

    def state_of(self, sop_uid: str) -> str | None:
        states = [s for u, s, _m in self.changes if u == sop_uid]
        return states[-1] if states else None


def storage_commitment(home: Home, settings: Settings, cache: StudyCache, timeout: float = 60.0) -> Committer:
    """The standard committer: N-ACTION, report received by this home's storage SCP.

    Archives without Storage Commitment get the weaker image-level C-FIND check.
    """
    from workstation.net.listener import ensure_listener

    def commit(node: Node, items: Sequence[OutboxItem]) -> CommitmentReport:
        refs = [(i.sop_class_uid, i.sop_instance_uid) for i in items]
        try:
            with ensure_listener(home, settings, cache):
                return request_commitment(node, settings.ae_title, refs, inbox=CommitmentInbox(home), timeout=timeout)
        except CommitmentNotSupported:
            rows = [(i, cache.instance(i.sop_instance_uid)) for i in items]
            return check_by_find(node, settings.ae_title, [
                (i.study_uid, r.series_uid if r else "", i.sop_class_uid, i.sop_instance_uid) for i, r in rows])

    return commit


class OutboxSender:
    """Delivers the outbox of one home.

    Parameters
    ----------
    cache : StudyCache
    settings : Settings or SettingsSource
        Our AE title and the nodes; a source is read again before each round,
        so nodes and destinations changed in the settings dialog apply at once.
    commit : Committer
        How commitment is asked (injected: tests and other transports plug in here).
    send : callable
        :func:`send_files` or a stand-in with its signature.
    backoff : Backoff
    clock : callable returning an aware datetime
    reload_settings : callable returning Settings, optional
        Called before each round, so nodes added while the sender runs are known.
    on_change : callable(sop_instance_uid, state, message), optional
        Told of each item's new state as it is recorded (the window shows
        "sent" before the commitment arrives).
    """

    def __init__(self, cache: StudyCache, settings: Settings | SettingsSource, commit: Committer, *,
                 send: Sender = send_files, backoff: Backoff = Backoff(),
                 clock: Callable[[], dt.datetime] | None = None,
                 reload_settings: Callable[[], Settings] | None = None,
                 on_change: Callable[[str, str, str], None] | None = None) -> None:
        self.cache = cache
        self.source = settings if isinstance(settings, SettingsSource) else None
        self.settings = as_settings(settings)
        self.reload_settings = reload_settings
        self.on_change = on_change
        self.commit = commit
        self.send = send
        self.backoff = backoff
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # One round -------------------------------------------------------------------------
    def run_once(self, cancel: CancelToken | None = None) -> RoundReport:
        """Attempt every due item once."""
        report = RoundReport()
        if self.source is not None:
            self.settings = self.source.current()
        if self.reload_settings is not None:
            try:
                self.settings = self.reload_settings()
            except ConfigError as exc:
                log.warning("settings unreadable, the outbox keeps the ones it had: %s", exc)
        groups: dict[str, list[OutboxItem]] = {}
        for item in outbox.due_items(self.cache, self.clock()):
            groups.setdefault(item.destination, []).append(item)
        for destination, items in groups.items():
            if cancel is not None and cancel.cancelled:
                break
            if destination.startswith(DESTINATION_PREFIX):
                self._send_hl7(report, items)
                continue
            try:
                node = self.settings.node(destination)
            except ConfigError as exc:
                for item in items:
                    self._set(report, item, FAILED, f"cannot send: {exc}")
                continue
            to_commit = [i for i in items if i.state == STORED]
            queued = [i for i in items if i.state == QUEUED]
            if queued:
                to_commit += self._store(report, node, queued, cancel)
            if to_commit and not (cancel is not None and cancel.cancelled):
                self._commit(report, node, to_commit)
        return report

    def _store(self, report: RoundReport, node: Node, items: list[OutboxItem],
               cancel: CancelToken | None) -> list[OutboxItem]:
        paths, sendable = [], []
        for item in items:
            row = self.cache.instance(item.sop_instance_uid)
            problem = ""
            if row is None:
                problem = "the report is no longer in the cache"
            else:
                try:
                    path = self.cache.path_of(row)
                    if content_hash(path.read_bytes()) != item.file_hash:
                        problem = "the stored file differs from the one signed; not sent (run 'lightbox cache verify')"
                except OSError as exc:
                    problem = f"cannot read the stored report ({exc.strerror or exc})"
            if problem:
                self._set(report, item, FAILED, problem)
            else:
                paths.append(path)
                sendable.append(item)
        if not sendable:
            return []
        try:
            result = self.send(paths, node, self.settings.ae_title,
                               cancel=(lambda: cancel.cancelled) if cancel is not None else None)
        except NetworkError as exc:
            for item in sendable:
                self._retry(report, item, QUEUED, str(exc))
            return []
        stored = []
        for item, outcome in zip(sendable, result.outcomes, strict=False):
            if outcome.ok:
                self._set(report, item, STORED, "", count=True)
                stored.append(item)
            elif outcome.status is None or (outcome.status >> 8) == 0xA7:
                # No answer, association lost, cancelled, or out of resources: worth trying again.
                self._retry(report, item, QUEUED, outcome.message)
            else:
                self._set(report, item, FAILED, f"{node.name} refused it: {outcome.message}", count=True)
        audit.sent(node, self.cache, [i.sop_instance_uid for i in sendable], ok=len(stored) == len(sendable))
        return stored

    def _commit(self, report: RoundReport, node: Node, items: list[OutboxItem]) -> None:
        try:
            result = self.commit(node, items)
        except NetworkError as exc:
            for item in items:
                self._retry(report, item, STORED, f"stored; commitment not yet asked: {exc}")
            return
        by_uid = {o.sop_instance_uid: o for o in result.outcomes}
        for item in items:
            o = by_uid.get(item.sop_instance_uid)
            if o is not None and o.state == NET_COMMITTED:
                note = "" if result.method == "storage commitment" else f"confirmed by {result.method}"
                self._set(report, item, COMMITTED, note, transaction_uid=result.transaction_uid)
            elif o is not None and o.state == NET_FAILED:
                self._set(report, item, FAILED, f"{node.name} did not commit it: {o.reason}",
                          transaction_uid=result.transaction_uid)
            else:
                why = (o.reason if o is not None and o.reason else result.error) or "no commitment report"
                self._retry(report, item, STORED, f"stored; not committed yet: {why}")

    def _send_hl7(self, report: RoundReport, items: list[OutboxItem]) -> None:
        """Report messages to the RIS: sent over MLLP; AA commits, AE/AR fail with the reason, no answer retries."""
        from workstation.hl7.messages import HL7Error, read_ack
        from workstation.hl7.mllp import MllpError, send as mllp_send

        hs = HL7Settings.of(self.settings)
        for item in items:
            stored = outbox.hl7_message(self.cache, item.pk)
            if stored is None:
                self._set(report, item, FAILED, "the HL7 message of this report is missing")
                continue
            if not hs.sends_reports:
                self._retry(report, item, QUEUED, "no RIS host and port set (Settings › RIS)")
                continue
            control_id, message = stored
            try:
                answer = mllp_send(hs.ris_host, hs.ris_port, message, encoding=hs.encoding, timeout=hs.timeout_s)
                ack = read_ack(answer)
            except MllpError as exc:
                self._retry(report, item, QUEUED, str(exc))
                continue
            except HL7Error as exc:
                self._retry(report, item, QUEUED, f"the RIS's answer could not be read: {exc}")
                continue
            outbox.record_ack(self.cache, item.pk, ack.code, ack.text)
            if ack.control_id and ack.control_id != control_id:
                self._retry(report, item, QUEUED, "the RIS acknowledged another message; sending again")
            elif ack.accepted:
                self._set(report, item, COMMITTED, f"acknowledged by the RIS ({ack.code})", count=True)
            else:
                self._set(report, item, FAILED, f"{ack.words()} ({ack.code})", count=True)

    # Recording --------------------------------------------------------------------------
    def _set(self, report: RoundReport, item: OutboxItem, state: str, message: str, *, count: bool = False,
             transaction_uid: str | None = None) -> None:
        outbox.update_item(self.cache, item.pk, state=state, error=message, count_attempt=count,
                           transaction_uid=transaction_uid, next_attempt=self.clock().isoformat(timespec="seconds"))
        report.changes.append((item.sop_instance_uid, state, message))
        log.info("outbox: %s to %s %s", item.sop_instance_uid, item.destination, state)
        self._tell(item, state, message)

    def _retry(self, report: RoundReport, item: OutboxItem, state: str, message: str) -> None:
        attempts = item.attempts + 1
        if attempts >= self.backoff.max_attempts:
            self._set(report, item, FAILED, f"gave up after {attempts} attempts: {message}", count=True)
            return
        when = self.clock() + dt.timedelta(seconds=self.backoff.delay(attempts))
        outbox.update_item(self.cache, item.pk, state=state, error=message, count_attempt=True,
                           next_attempt=when.isoformat(timespec="seconds"))
        report.changes.append((item.sop_instance_uid, state, message))
        log.info("outbox: %s to %s waits until %s (attempt %d)", item.sop_instance_uid, item.destination,
                 when.isoformat(timespec="seconds"), attempts)
        self._tell(item, state, message)

    def _tell(self, item: OutboxItem, state: str, message: str) -> None:
        if self.on_change is not None:
            try:
                self.on_change(item.sop_instance_uid, state, message)
            except Exception:  # noqa: BLE001 - a watcher's failure must not stop delivery
                log.exception("outbox watcher failed")

    # The job ----------------------------------------------------------------------------
    def run(self, cancel: CancelToken, *, poll_s: float = 5.0, until_idle: bool = False,
            on_round: Callable[[RoundReport], None] | None = None) -> None:
        """Rounds until cancelled (or, with ``until_idle``, until nothing is pending).

        Sleeps until the next item is due, at most ``poll_s`` (new items may arrive).
        """
        wake = threading.Event()
        while not cancel.cancelled:
            result = self.run_once(cancel)
            if on_round is not None and result.changes:
                on_round(result)
            due = outbox.next_due(self.cache)
            if due is None and until_idle:
                return
            wait = poll_s
            if due is not None:
                wait = min(poll_s, max(0.0, (dt.datetime.fromisoformat(due) - self.clock()).total_seconds()))
            # Short naps so cancellation is seen promptly.
            slept = 0.0
            while slept < wait and not cancel.cancelled:
                step = min(0.2, wait - slept)
                wake.wait(step)
                slept += step
