"""Two associations on one series whose instances are not listed up front: one from each end.

A retrieve of a study of which nothing is cached starts at once with a
STUDY-level request on one association (the archive picks the order); with
one association the archive and this process take turns (it waits for each
C-STORE answer before sending the next object), so half of the two cores
idle.  Meanwhile the series' instances are listed; once the list is there
and the first association's arrivals show which end it started from, a
second association asks for the instances from the other end, a chunk at a
time (:meth:`Arrivals.claim_next`), until the two walks meet.  The first
association is cancelled (C-CANCEL) as soon as it receives an instance the
second one asked for.  Whatever neither brought (the archive's order was not
what it looked like, a refusal) is fetched by SOP Instance UID afterwards.

Pure bookkeeping, no network: :mod:`workstation.net.retrieve` runs the
associations.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence


class Arrivals:
    """What the two associations received and asked for (any thread).

    ``crossed`` is set when the first association receives an instance the
    second one has asked for: the walks have met, the first one stops.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: list[str] = []
        self._seen: set[str] = set()
        self._claimed: set[str] = set()
        self.second_count = 0
        self.crossed = threading.Event()
        self.abandoned = threading.Event()

    def first(self, sop_uid: str) -> None:
        """The first association (the STUDY-level request) received ``sop_uid``."""
        with self._lock:
            self._first.append(sop_uid)
            self._seen.add(sop_uid)
            if sop_uid in self._claimed:
                self.crossed.set()

    def second(self, sop_uid: str) -> None:
        """The second association received ``sop_uid``."""
        with self._lock:
            self._seen.add(sop_uid)
            self.second_count += 1

    def abandon(self) -> None:
        """The second association failed: what it asked for and did not bring is the first one's again."""
        with self._lock:
            self._claimed.clear()
            self.abandoned.set()

    def first_arrivals(self) -> list[str]:
        """What the first association received so far, in order."""
        with self._lock:
            return list(self._first)

    def claim_next(self, walk: Sequence[str], size: int, keep: int) -> list[str]:
        """The second association's next chunk: up to ``size`` instances of ``walk`` nobody has.

        Parameters
        ----------
        walk : sequence of str
            The second association's order (from the far end of the series).
        size : int
            Most instances one request asks for.
        keep : int
            Instances left to the first association, in the middle, so the
            two do not ask for the same ones as they meet.

        Returns
        -------
        list of str
            Claimed now (the first association stops if it receives one of
            them); empty when no more than ``keep`` are left or the walks met.
        """
        with self._lock:
            if self.crossed.is_set():
                return []
            free = [uid for uid in walk if uid not in self._seen and uid not in self._claimed]
            if len(free) <= keep:
                return []
            chunk = free[:min(size, len(free) - keep)]
            self._claimed.update(chunk)
            return chunk


def second_walk(order: Sequence[str], first_arrivals: Sequence[str]) -> list[str] | None:
    """The order in which the second association should ask for ``order``'s instances, or None.

    Parameters
    ----------
    order : sequence of str
        The series' SOP Instance UIDs as the archive listed them.
    first_arrivals : sequence of str
        What the first association received so far.

    Returns
    -------
    list of str or None
        ``order`` reversed when the first association is walking it from the
        start, ``order`` itself when from the end; None when its arrivals are
        not at one end (an order of the archive's own: no split).
    """
    index = {uid: i for i, uid in enumerate(order)}
    positions = [index[uid] for uid in first_arrivals if uid in index]
    if not positions or len(order) < 2:
        return None
    half = len(order) / 2
    if max(positions) < half and min(positions) == 0:
        return list(reversed(order))
    if min(positions) >= half and max(positions) == len(order) - 1:
        return list(order)
    return None
