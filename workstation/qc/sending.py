"""Sending what QC produced to an archive."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from workstation.config import Node
from workstation.qc.instances import Produced

if TYPE_CHECKING:  # pynetdicom loads at the first send, not when the window starts
    from workstation.net.association import Peer
    from workstation.net.send import SendReport

log = logging.getLogger(__name__)


def send(produced: Sequence[Produced], node: Node | Peer, calling_ae: str) -> SendReport:
    """Send produced objects: corrected copies first, then the rejection notes.

    The order matters to archives that act on rejection notes: the replacement
    is there before the originals disappear.
    """
    from workstation.net.send import send_files

    ordered = [p for p in produced if p.kind != "note"] + [p for p in produced if p.kind == "note"]
    report = send_files([p.path for p in ordered], node, calling_ae)
    log.info("QC sent %d of %d objects to %s", report.sent, len(ordered), report.peer)
    return report
