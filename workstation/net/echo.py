"""C-ECHO: "is this node there, and does it talk to us?"."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from workstation.config import Node
from workstation.net.association import NetworkError, Peer, associate, peer_of, status_category
from workstation.net.sop_class_names import Verification

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EchoResult:
    """The outcome of one C-ECHO.

    Attributes
    ----------
    ok : bool
        True when the peer answered with Success.
    status : int or None
        The C-ECHO response status, None when no response came.
    message : str
        A one-line summary for the user (the fix, when it failed).
    elapsed_s : float
        Seconds from the association request to the end.
    """

    ok: bool
    status: int | None
    message: str
    elapsed_s: float


def echo(node: Node | Peer, calling_ae: str) -> EchoResult:
    """Send a C-ECHO to ``node`` and report what happened; never raises for network trouble.

    Parameters
    ----------
    node : Node or Peer
        The remote AE.
    calling_ae : str
        Our AE title.

    Returns
    -------
    EchoResult
    """
    peer = peer_of(node)
    started = time.monotonic()
    status: int | None = None
    try:
        with associate(peer, calling_ae, [Verification]) as assoc:
            rsp = assoc.send_c_echo()
            status = int(rsp.Status) if "Status" in rsp else None
    except NetworkError as exc:
        elapsed = time.monotonic() - started
        log.info("C-ECHO to %s failed after %.2f s: %s", peer.describe(), elapsed, type(exc).__name__)
        return EchoResult(False, None, str(exc), elapsed)
    elapsed = time.monotonic() - started
    if status is None:
        message = f"no C-ECHO response from {peer.describe()} within {peer.timeout:g} s"
        ok = False
    elif status == 0x0000:
        message = f"{peer.describe()} answered C-ECHO in {elapsed * 1000:.0f} ms"
        ok = True
    else:
        message = f"{peer.describe()} answered C-ECHO with {status_category(status)} status 0x{status:04X}"
        ok = False
    log.info("C-ECHO to %s: status %s in %.3f s", peer.describe(), status, elapsed)
    return EchoResult(ok, status, message, elapsed)
