"""A study of which nothing is cached is retrieved without listing its instances first.

The archive is asked for the study's count and SOP classes (one STUDY-level
answer, plus the series' counts when the work is shared), and the transfer
starts at once.  Only when something did not arrive are the instances listed,
to name what is missing.  Archives that cannot report the counts get the full
inventory as before.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from pydicom import dcmread

from tests.interop.conftest import CALLING_AE, orthanc_holding_one_series
from tests.interop.peers import ArchiveProcess
from workstation.dicom.header import UnusableInstance
from workstation.net import retrieve_plan
from workstation.net.received import Payload
from workstation.net.retrieve import retrieve
from workstation.net.send import send_files
from workstation.store.maintenance import verify

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


@pytest.fixture
def levels(monkeypatch) -> Counter[str]:
    """The levels of the C-FINDs the retrieve asks (the real queries run)."""
    seen: Counter[str] = Counter()
    real = retrieve_plan.find

    def spy(node, calling_ae, level, *args, **kwargs):
        seen[level] += 1
        return real(node, calling_ae, level, *args, **kwargs)

    monkeypatch.setattr(retrieve_plan, "find", spy)
    return seen


def _studies(files) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        out.setdefault(str(ds.StudyInstanceUID), {}).setdefault(str(ds.SeriesInstanceUID), []).append(
            str(ds.SOPInstanceUID))
    return out


@pytest.fixture
def big_study(interop_files) -> Iterator[tuple[str, dict[str, list[str]]]]:
    studies = _studies(interop_files)
    uid = max(studies, key=lambda s: sum(len(v) for v in studies[s].values()))
    yield uid, studies[uid]


@pytest.mark.parametrize("method,parallel", [("get", 1), ("get", 2), ("move", 2)])
def test_nothing_cached_is_fetched_without_an_instance_listing(loaded_orthanc: ArchiveProcess, big_study, levels,
                                                               method, parallel, home, settings, cache):
    study, series = big_study
    total = sum(len(v) for v in series.values())
    report = retrieve(loaded_orthanc.node(max_associations=parallel), settings, home, cache, study, method=method)
    assert report.ok, report.summary()
    assert (report.expected, report.already_cached, report.retrieved, report.failed) == (total, 0, total, 0)
    assert levels["IMAGE"] == 0 and levels["STUDY"] == 1
    # Shared between associations by series (one SERIES query), or one STUDY-level request.
    assert levels["SERIES"] == (1 if parallel > 1 else 0)
    assert cache.study(study).num_instances == total
    assert verify(cache, check_hashes=True).consistent
    # Something cached now: a second retrieve lists the instances to fetch only what is missing.
    again = retrieve(loaded_orthanc.node(max_associations=parallel), settings, home, cache, study, method=method)
    assert (again.retrieved, again.already_cached, again.failed) == (0, total, 0)
    assert levels["IMAGE"] == len(series)


def test_only_the_wanted_series_are_counted(loaded_orthanc, big_study, levels, home, settings, cache):
    study, series = big_study
    wanted = sorted(series, key=lambda s: len(series[s]))[-1]
    report = retrieve(loaded_orthanc.node(max_associations=1), settings, home, cache, study, [wanted], method="get")
    assert report.ok, report.summary()
    assert (report.expected, report.retrieved) == (len(series[wanted]), len(series[wanted]))
    assert [s.series_uid for s in cache.series(study)] == [wanted]
    assert levels["IMAGE"] == 0


def test_what_did_not_arrive_is_named(loaded_orthanc, big_study, levels, monkeypatch, home, settings, cache):
    study, series = big_study
    victim = sorted(series.values(), key=len)[-1][1]
    real = Payload.record

    def record(self):
        rec = real(self)
        if rec.sop_instance_uid == victim:
            raise UnusableInstance("refused by the test")
        return rec

    monkeypatch.setattr(Payload, "record", record)
    total = sum(len(v) for v in series.values())
    report = retrieve(loaded_orthanc.node(max_associations=1), settings, home, cache, study, method="get")
    assert not report.ok
    assert (report.expected, report.retrieved, report.failed, report.missing) == (total, total - 1, 1, [victim])
    assert "refused by the test" in " ".join(report.notes)
    assert levels["IMAGE"] == len(series)  # listed afterwards, to name the missing one
    assert cache.instance(victim) is None


@pytest.mark.parametrize("archive_name", ["dcmqrscp", "qrscp"])
def test_archives_without_counts_get_the_full_inventory(archive_name, request, interop_files, big_study, levels,
                                                         home, settings, cache):
    arc = request.getfixturevalue(archive_name)
    assert send_files(interop_files, arc.peer, CALLING_AE).ok
    study, series = big_study
    total = sum(len(v) for v in series.values())
    report = retrieve(arc.node(max_associations=2), settings, home, cache, study, method="get")
    assert report.ok, report.summary()
    assert (report.expected, report.retrieved, report.failed) == (total, total, 0)
    # Neither reports SOP Classes in Study: the outline (its STUDY and SERIES questions asked at once,
    # as two associations will share the work) is not enough, and the instances are listed series by series.
    assert (levels["STUDY"], levels["SERIES"], levels["IMAGE"]) == (1, 2, len(series))


N_SERIES = 150


@pytest.fixture(scope="module")
def one_series(tmp_path_factory, storage_port):
    """Orthanc holding one study of one series of 150 small CT slices."""
    yield from orthanc_holding_one_series(tmp_path_factory, storage_port, "ends", ("Ends^Both", "LBX-E1"),
                                          N_SERIES, 32)


@pytest.fixture
def first_waits_for_second(monkeypatch):
    """The study-level association pauses after 5 objects until the other one has brought one (at most 20 s).

    On a fast machine the small series could otherwise be done before it is
    listed; this makes the two associations really share it.
    """
    from workstation.net import two_ended

    real = two_ended.Arrivals.first

    def first(self, sop_uid):
        real(self, sop_uid)
        if len(self.first_arrivals()) == 5:
            deadline = time.monotonic() + 20
            while (self.second_count == 0 and not self.crossed.is_set() and not self.abandoned.is_set()
                   and time.monotonic() < deadline):
                time.sleep(0.01)

    monkeypatch.setattr(two_ended.Arrivals, "first", first)


def _both_ends_line(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if "retrieve from both ends" in r.getMessage()]
    assert len(lines) == 1, lines
    return lines[0]


def test_one_series_is_fetched_from_both_ends(one_series, first_waits_for_second, levels, caplog, home, settings,
                                              cache):
    arc, study = one_series
    caplog.set_level(logging.INFO, logger="workstation.net.retrieve")
    report = retrieve(arc.node(max_associations=2), settings, home, cache, study, method="get")
    assert report.ok, report.summary()
    assert (report.expected, report.retrieved, report.failed) == (N_SERIES, N_SERIES, 0)
    line = _both_ends_line(caplog)
    first, second, left = (int(x) for x in re.findall(r"(\d+) (?:by|from|left)", line))
    assert first >= 5 and second > 0 and left == 0, line
    assert cache.study(study).num_instances == N_SERIES
    assert verify(cache, check_hashes=True).tidy
    assert levels["IMAGE"] == 1  # the series listed once, while the transfer ran


def test_what_the_two_ends_miss_is_fetched_by_uid(one_series, first_waits_for_second, monkeypatch, caplog, home,
                                                  settings, cache):
    """An archive whose order is not what it looked like: the second walk runs into the first; nothing is lost."""
    from workstation.net import retrieve as retrieve_module

    arc, study = one_series
    # The second association walks the same way as the first: they collide at once.
    monkeypatch.setattr(retrieve_module, "second_walk", lambda order, arrived: list(reversed(order)) if
                        arrived and arrived[0] == order[-1] else list(order))
    caplog.set_level(logging.INFO, logger="workstation.net.retrieve")
    report = retrieve(arc.node(max_associations=2), settings, home, cache, study, method="get")
    assert report.ok, report.summary()
    assert (report.expected, report.retrieved, report.failed, report.cancelled) == (N_SERIES, N_SERIES, 0, False)
    first, second, left = (int(x) for x in re.findall(r"(\d+) (?:by|from|left)", _both_ends_line(caplog)))
    assert left > 0 and first + second + left >= N_SERIES
    assert verify(cache, check_hashes=True).tidy


def test_cancelling_a_retrieve_from_both_ends(one_series, first_waits_for_second, home, settings, cache):
    arc, study = one_series
    cancel = threading.Event()

    def progress(p):
        if p.completed >= 10:
            cancel.set()

    report = retrieve(arc.node(max_associations=2), settings, home, cache, study, method="get", progress=progress,
                      cancel=cancel)
    assert report.cancelled and not report.ok
    assert 0 < report.retrieved < N_SERIES and report.failed == N_SERIES - report.retrieved
    assert cache.study(study).num_instances == report.retrieved
    again = retrieve(arc.node(max_associations=2), settings, home, cache, study, method="get")
    assert again.ok and again.retrieved == N_SERIES - report.retrieved
    assert verify(cache, check_hashes=True).tidy


def test_an_archive_that_refuses_a_second_association(one_series, first_waits_for_second, monkeypatch, home, settings,
                                                      cache):
    """The second association is a bonus: refused, the first one brings everything and nothing fails."""
    from workstation.net import retrieve as retrieve_module
    from workstation.net.association import NetworkError

    real = retrieve_module._run_get

    def run_get(*args, **kwargs):
        if args[5] == 1:  # the key of the second association
            raise NetworkError("ORTHANC rejected the association (local limit exceeded)")
        return real(*args, **kwargs)

    monkeypatch.setattr(retrieve_module, "_run_get", run_get)
    arc, study = one_series
    report = retrieve(arc.node(max_associations=2), settings, home, cache, study, method="get")
    assert report.ok and not report.error, report.summary()
    assert (report.retrieved, report.failed) == (N_SERIES, 0)


@pytest.fixture
def doomed_series(tmp_path_factory, storage_port):
    """An Orthanc of its own, to be killed."""
    yield from orthanc_holding_one_series(tmp_path_factory, storage_port, "doomed", ("Doomed^Both", "LBX-D1"), 120, 32)


def test_the_archive_killed_while_both_ends_run(doomed_series, first_waits_for_second, monkeypatch, home, settings,
                                                cache):
    """Both associations drop at once: what arrived whole is cached and indexed, the rest counted as failed."""
    from workstation.net import two_ended
    from workstation.store.layout import INCOMING

    arc, study = doomed_series
    real = two_ended.Arrivals.second
    killed: list[int] = []

    def second(self, sop_uid):
        real(self, sop_uid)
        if not killed and self.second_count >= 3:
            killed.append(self.second_count)
            arc.kill()  # SIGKILL: no goodbye on either association

    monkeypatch.setattr(two_ended.Arrivals, "second", second)
    report = retrieve(arc.node(max_associations=2, timeout=10), settings, home, cache, study, method="get")
    assert killed, "the retrieve ended before the archive could be killed"
    assert not report.ok and report.error
    assert report.retrieved + report.failed == 120 and report.retrieved >= 5 + 3
    check = verify(cache, check_hashes=True)
    assert check.consistent and not check.missing and not check.mismatched
    assert cache.study(study).num_instances == report.retrieved
    assert not list((cache.cache_dir / INCOMING).glob("*.part"))
