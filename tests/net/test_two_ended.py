"""Bookkeeping of a series fetched from both ends (no network here)."""

from __future__ import annotations

import threading

from workstation.net.two_ended import Arrivals, second_walk

ORDER = [f"1.2.{i}" for i in range(10)]


def test_the_second_walk_starts_at_the_other_end():
    assert second_walk(ORDER, ORDER[:3]) == list(reversed(ORDER))
    assert second_walk(ORDER, ORDER[::-1][:2]) == ORDER


def test_no_walk_when_the_archive_order_is_its_own_or_unknown():
    assert second_walk(ORDER, [ORDER[4], ORDER[0], ORDER[8]]) is None  # both halves
    assert second_walk(ORDER, [ORDER[2], ORDER[1]]) is None  # not from an end
    assert second_walk(ORDER, []) is None
    assert second_walk(ORDER, ["9.9.9"]) is None  # not in the listing
    assert second_walk(ORDER[:1], ORDER[:1]) is None


def test_chunks_stop_short_of_the_first_association_and_it_stops_when_it_reaches_them():
    arrivals = Arrivals()
    for uid in ORDER[:2]:
        arrivals.first(uid)
    walk = second_walk(ORDER, arrivals.first_arrivals())
    assert walk is not None
    assert arrivals.claim_next(walk, 3, 2) == ["1.2.9", "1.2.8", "1.2.7"]
    for uid in ("1.2.9", "1.2.8", "1.2.7"):
        arrivals.second(uid)
    # 5 left (2..6), 2 of them kept for the first association: at most 3 more.
    assert arrivals.claim_next(walk, 4, 2) == ["1.2.6", "1.2.5", "1.2.4"]
    assert arrivals.claim_next(walk, 4, 2) == []  # only the middle is left: the first one's
    assert not arrivals.crossed.is_set()
    arrivals.first("1.2.2")
    arrivals.first("1.2.3")
    assert not arrivals.crossed.is_set()
    arrivals.first("1.2.4")  # asked for by the second one: the first one stops
    assert arrivals.crossed.is_set()
    assert arrivals.claim_next(walk, 4, 0) == []
    assert arrivals.second_count == 3


def test_claims_from_two_threads_never_overlap():
    order = [f"1.3.{i}" for i in range(2000)]
    arrivals = Arrivals()
    claimed: list[list[str]] = [[], []]

    def claim(k: int) -> None:
        while chunk := arrivals.claim_next(order, 7, 0):
            claimed[k] += chunk

    threads = [threading.Thread(target=claim, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(claimed[0] + claimed[1]) == sorted(order)
