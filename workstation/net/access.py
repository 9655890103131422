"""Who may open an association with our storage SCP.

By default (``accept_known_nodes_only``, on unless the site turns it off) an
association is accepted only from a configured node: its calling AE title is
the node's AE title *and* it comes from one of the addresses the node's host
names.  An archive this process has a C-MOVE outstanding with may also send
(its results come from its address, possibly under another AE title).  Every
refusal is logged (AE titles and addresses only) and counted for the listener
status.  pynetdicom checks calling AE titles only, so the check runs in its
association negotiation (see :func:`install`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pynetdicom.acse import ACSE
from pynetdicom import evt

from workstation import audit
from workstation.config import Settings
from workstation.net.move_registry import archive_awaited, host_addresses, normalised_address

log = logging.getLogger(__name__)

__all__ = ["SenderPolicy", "Refusal", "RefusalLog", "install"]


@dataclass(frozen=True)
class Refusal:
    """One refused association."""

    when: float
    calling_ae: str
    address: str
    reason: str

    def describe(self) -> str:
        return f"{time.strftime('%H:%M:%S', time.localtime(self.when))} {self.calling_ae or '?'} from " \
               f"{self.address}: {self.reason}"


@dataclass
class RefusalLog:
    """Refusals since start, for the listener's status (thread-safe)."""

    count: int = 0
    recent: list[Refusal] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, refusal: Refusal) -> None:
        with self.lock:
            self.count += 1
            self.recent = (self.recent + [refusal])[-20:]

    @property
    def last(self) -> Refusal | None:
        with self.lock:
            return self.recent[-1] if self.recent else None


class SenderPolicy:
    """Decides whether a calling AE title at an address may associate."""

    def __init__(self, settings: Settings) -> None:
        self.open = not settings.accept_known_nodes_only
        # Resolved once: a node's host name is looked up when the listener starts.
        self.nodes = [(n.ae_title.strip(), host_addresses(n.host)) for n in settings.nodes]

    def check(self, calling_ae: str, address: str) -> str | None:
        """None when allowed, else why not (no patient data: titles and addresses only)."""
        if self.open:
            return None
        peer = normalised_address(address)
        calling = calling_ae.strip()
        if any(calling == ae and peer in addresses for ae, addresses in self.nodes):
            return None
        if archive_awaited(peer):
            return None  # results of our own C-MOVE, whatever AE title the archive sends them under
        if any(calling == ae for ae, _addresses in self.nodes):
            return "its AE title is a configured node's, but not from that node's address"
        if any(peer in addresses for _ae, addresses in self.nodes):
            return "it comes from a configured node's address, but with another AE title"
        return "not a configured node (only configured nodes may send; see accept_known_nodes_only)"


def install(event: Any, policy: SenderPolicy, refusals: RefusalLog) -> None:
    """EVT_CONN_OPEN handler: make this association's negotiation apply ``policy``."""
    acse = getattr(event.assoc, "acse", None)
    if acse is None or type(acse) is not ACSE:
        return
    acse.__class__ = _CheckedACSE
    acse._lightbox_policy = (policy, refusals)  # type: ignore[attr-defined]


class _CheckedACSE(ACSE):
    """pynetdicom's ACSE with the calling AE title *and* address checked before negotiation."""

    def _negotiate_as_acceptor(self) -> None:
        policy, refusals = self._lightbox_policy  # type: ignore[attr-defined]
        request = self.requestor.primitive
        calling = str(getattr(request, "calling_ae_title", "") or "").strip()
        try:
            address = str(self.assoc.requestor.address)
        except Exception:  # noqa: BLE001 - no address: refused below
            address = "?"
        reason = policy.check(calling, address)
        if reason is None:
            super()._negotiate_as_acceptor()
            return
        refusal = Refusal(time.time(), calling, address, reason)
        refusals.add(refusal)
        log.warning("storage SCP refused an association from %s (calling AE %s): %s", address, calling or "?",
                    reason)
        audit.security_alert(f"association refused: {reason}", peer=f"{calling or '?'}@{address}")
        self.requestor.ae_title = calling
        # Rejected permanent, by the service user, calling AE title not recognised.
        self.send_reject(0x01, 0x01, 0x03)
        evt.trigger(self.assoc, evt.EVT_REJECTED, {})
        self.assoc.kill()
