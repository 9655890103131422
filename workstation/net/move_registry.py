"""The C-MOVEs this process has outstanding, so the storage SCP can tell their results apart.

The storage SCP answers Success to a C-STORE before the file is synced only
when the instance belongs to a C-MOVE that *this process* has asked for and
not yet finished: the C-STORE's Move Originator Message ID is that C-MOVE's
Message ID, its Move Originator AE Title is ours, and it comes from the
archive's address.  A sender can put anything in the Move Originator fields;
without all three matching, the instance is synced and indexed before
Success, like any push.  The retrieve then checks the cache, not the answers,
for what it reports, and flushes the receiver's group at its end.
"""

from __future__ import annotations

import ipaddress
import itertools
import socket
import threading
from contextlib import contextmanager
from collections.abc import Iterator

__all__ = ["outstanding_move", "is_outstanding", "next_message_id", "host_addresses", "normalised_address",
           "archive_awaited"]

_lock = threading.Lock()
# message id -> (our AE title, addresses the archive may send from)
_moves: dict[int, tuple[str, frozenset[str]]] = {}
_ids = itertools.count(1)


def next_message_id() -> int:
    """A Message ID not used by another outstanding C-MOVE of this process (1..65535)."""
    with _lock:
        for _ in range(65535):
            candidate = (next(_ids) - 1) % 65535 + 1
            if candidate not in _moves:
                return candidate
    raise RuntimeError("65535 C-MOVEs outstanding")


def host_addresses(host: str) -> frozenset[str]:
    """The addresses ``host`` names (resolved now), loopback spelt both ways."""
    found = {host}
    try:
        for info in socket.getaddrinfo(host, None):
            found.add(str(info[4][0]))
    except (OSError, UnicodeError):
        pass
    normalised = set()
    for text in found:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            normalised.add(text)
            continue
        normalised.add(str(address))
        if address.is_loopback:  # 127.0.0.1 and ::1 are the same machine
            normalised.update({"127.0.0.1", "::1"})
    return frozenset(normalised)


@contextmanager
def outstanding_move(message_id: int, our_ae_title: str, archive_host: str) -> Iterator[None]:
    """Register a C-MOVE for as long as the ``with`` block runs.

    Parameters
    ----------
    message_id : int
        The C-MOVE request's Message ID (see :func:`next_message_id`).
    our_ae_title : str
        The calling AE title of the C-MOVE (the Move Originator).
    archive_host : str
        The archive's host name or address (the C-STOREs come from there).
    """
    entry = (our_ae_title.strip(), host_addresses(archive_host))
    with _lock:
        _moves[message_id] = entry
    try:
        yield
    finally:
        with _lock:
            if _moves.get(message_id) is entry:
                del _moves[message_id]


def is_outstanding(message_id: object, originator_ae: str, peer_address: str) -> bool:
    """True when a C-STORE's Move Originator fields and sender match an outstanding C-MOVE."""
    if not isinstance(message_id, (int, str)):  # absent (None) or not a number
        return False
    try:
        key = int(message_id)
    except ValueError:
        return False
    with _lock:
        entry = _moves.get(key)
    if entry is None:
        return False
    ae_title, addresses = entry
    if originator_ae.strip() != ae_title:
        return False
    return normalised_address(peer_address) in addresses


def normalised_address(address: str) -> str:
    """An IP address as :func:`host_addresses` spells it (IPv4-mapped IPv6 as IPv4)."""
    try:
        peer = str(ipaddress.ip_address(str(address).split("%")[0]))
    except ValueError:
        peer = str(address)
    return peer[7:] if peer.startswith("::ffff:") else peer


def archive_awaited(peer_address: str) -> bool:
    """True when a C-MOVE of this process is outstanding with an archive at ``peer_address``."""
    peer = normalised_address(peer_address)
    with _lock:
        return any(peer in addresses for _ae, addresses in _moves.values())
