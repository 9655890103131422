"""Send objects and find out whether the archive really has them: C-STORE, then a check.

:func:`deliver` is what ``lightbox send`` (and, later, report sending) calls.
After the C-STORE it checks, when asked to, in the strongest way the archive
offers: Storage Commitment (:mod:`workstation.net.commitment`), else an
image-level C-FIND per series; ``report.check`` says which.  Every object
ends in one state:

* ``committed`` — the archive committed to keep it (or, with the C-FIND
  check, lists it);
* ``failed`` — not stored, or the archive's commitment report says failed
  (with its reason), or the C-FIND check did not find it;
* ``unknown`` — stored, but no commitment report came in time;
* ``stored`` — stored, and no check was asked for.

DICOMweb nodes (retrieve method ``dicomweb``) are sent to with STOW-RS; its
response names each instance as stored or failed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread

from workstation.config import Node, Settings
from workstation.home import Home
from workstation.net.association import Cancel
from workstation.net.commitment import (
    COMMITTED,
    CommitmentInbox,
    CommitmentNotSupported,
    CommitmentReport,
    check_by_find,
    request_commitment,
)
from workstation.net.send import Progress, SendReport, send_files
from workstation.store.cache import StudyCache

log = logging.getLogger(__name__)

STORED = "stored"


@dataclass(frozen=True)
class DeliveryOutcome:
    """One object: ``state`` is committed, failed, unknown or stored; ``reason`` in plain words."""

    path: Path
    sop_instance_uid: str
    state: str
    reason: str = ""


@dataclass
class DeliveryReport:
    """The send and the check, with one outcome per file in the order given."""

    node: str
    check: str = "none"  # "storage commitment", "C-FIND check" or "none"
    outcomes: list[DeliveryOutcome] = field(default_factory=list)
    send: SendReport | None = None
    commitment: CommitmentReport | None = None
    notes: list[str] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    @property
    def ok(self) -> bool:
        wanted = STORED if self.check == "none" else COMMITTED
        return bool(self.outcomes) and all(o.state == wanted for o in self.outcomes)

    def summary(self) -> str:
        parts = [f"{self.count(s)} {s}" for s in ("committed", "stored", "failed", "unknown") if self.count(s)]
        text = f"{len(self.outcomes)} objects to {self.node}: " + (", ".join(parts) or "nothing sent")
        if self.check != "none":
            text += f" (checked by {self.check})"
        return text


def _header(path: Path) -> tuple[str, str, str, str]:
    ds = dcmread(path, stop_before_pixels=True, force=True)
    return (str(ds.get("StudyInstanceUID", "")), str(ds.get("SeriesInstanceUID", "")),
            str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", "")))


def deliver(
    paths: Iterable[str | os.PathLike[str]],
    node: Node,
    *,
    home: Home,
    settings: Settings,
    cache: StudyCache,
    commit: bool = False,
    timeout: float = 60.0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> DeliveryReport:
    """Send files to ``node`` and, with ``commit``, check that the archive keeps them.

    Parameters
    ----------
    paths : iterable of path-like
    node : Node
    home, settings, cache
        This Lightbox (our AE title; the listener receiving commitment reports).
    commit : bool
        Request Storage Commitment (or check by C-FIND when unsupported).
    timeout : float
        Seconds to wait for the commitment report.
    progress : callable(done, total), optional
    cancel : callable or threading.Event, optional

    Returns
    -------
    DeliveryReport

    Raises
    ------
    NetworkError
        When no association could be established for the send.
    """
    files = [Path(p) for p in paths]
    report = DeliveryReport(node=f"{node.name} ({node.ae_title}@{node.host}:{node.port})")
    if node.retrieve == "dicomweb" and node.url:
        from workstation.net.dicomweb import stow

        report.node = f"{node.name} ({node.url})"
        for path, (uid, ok, message) in zip(files, stow(node, files, progress=progress, cancel=cancel), strict=False):
            report.outcomes.append(DeliveryOutcome(path, uid, STORED if ok else "failed", message))
        report.check = "none"
        if commit:
            report.notes.append("DICOMweb has no storage commitment: the STOW-RS response is the check")
        return report
    sent = send_files(files, node, settings.ae_title, progress=progress, cancel=cancel)
    report.send = sent
    stored = [o for o in sent.outcomes if o.ok]
    verdict: dict[str, tuple[str, str]] = {}
    if commit and stored:
        headers = {}
        for o in stored:
            try:
                headers[o.sop_instance_uid] = _header(o.path)
            except Exception as exc:  # noqa: BLE001 - it was readable a moment ago; say so, do not crash
                verdict[o.sop_instance_uid] = ("unknown", f"cannot read the file again to check it: {exc}")
        refs = [(h[2], uid) for uid, h in headers.items()]
        try:
            from workstation.net.listener import ensure_listener

            with ensure_listener(home, settings, cache):
                result = request_commitment(node, settings.ae_title, refs, inbox=CommitmentInbox(home),
                                            timeout=timeout, cancel=cancel)
        except CommitmentNotSupported:
            report.notes.append(f"{node.name} does not support Storage Commitment: checked with an image-level C-FIND")
            result = check_by_find(node, settings.ae_title, [headers[uid] for uid in headers], cancel)
        report.commitment = result
        report.check = result.method
        for outcome in result.outcomes:
            verdict[outcome.sop_instance_uid] = (outcome.state, outcome.reason)
        if result.error:
            report.notes.append(result.error)
    for o in sent.outcomes:
        if not o.ok:
            report.outcomes.append(DeliveryOutcome(o.path, o.sop_instance_uid, "failed", o.message))
        elif commit:
            state, reason = verdict.get(o.sop_instance_uid, ("unknown", "not checked"))
            report.outcomes.append(DeliveryOutcome(o.path, o.sop_instance_uid, state, reason))
        else:
            report.outcomes.append(DeliveryOutcome(o.path, o.sop_instance_uid, STORED, o.message))
    log.info("delivery to %s: %s", node.name, report.summary())
    return report
