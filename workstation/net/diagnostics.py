"""``nodes test``: C-ECHO, a study-level C-FIND and a C-MOVE (or C-GET) of one instance to ourselves.

Each step yields a :class:`Check` whose message explains a failure in plain
words with the fix (association rejected because the archive does not know
our AE title; move destination unknown; connection refused or timed out;
TLS handshake failed).  Later steps are skipped when the node cannot be
reached at all.  The GUI's Test button shows the same checks.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workstation.config import Node, Settings
from workstation.home import Home
from workstation.net.association import AssociationRejected, ConnectionFailed, NetworkError, peer_of
from workstation.net.echo import echo
from workstation.net.find import find
from workstation.store.cache import StudyCache

if TYPE_CHECKING:  # imported where used at run time, as _move_one does (net modules import each other lazily)
    from workstation.net.retrieve_units import _Tally
    from workstation.net.retrieve_plan import Unit


@dataclass(frozen=True)
class Check:
    """One step of a node test.

    Attributes
    ----------
    name : str
        ``C-ECHO``, ``C-FIND``, ``C-MOVE`` or ``C-GET``.
    state : str
        ``ok``, ``failed`` or ``skipped``.
    message : str
        What happened; for a failure, why and what to do.
    elapsed_s : float
    """

    name: str
    state: str
    message: str
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def _move_destination_advice(settings: Settings) -> str:
    return (f"the archive does not know {settings.ae_title} as a move destination (status 0xA801) — add "
            f"{settings.ae_title} at this computer's address, port {settings.storage_port}, to the archive's "
            "list of DICOM nodes")


def _first_study(node: Node, calling_ae: str) -> tuple[str, str]:
    """One study on the archive (Study Instance UID, Patient ID), or ``("", "")``.

    A Patient Root node's hierarchical STUDY-level query needs a Patient ID:
    the first few patients listed are asked for their studies in turn.
    """
    patient_ids = [""]
    if node.query_model == "patient":
        patient_ids = []
        for ds in find(node, calling_ae, "PATIENT", {}):
            if pid := str(ds.get("PatientID", "") or ""):
                patient_ids.append(pid)
            if len(patient_ids) == 5:
                break  # closing the iterator sends C-CANCEL
    for pid in patient_ids:
        for ds in find(node, calling_ae, "STUDY", {"StudyDate": "", **({"PatientID": pid} if pid else {})}):
            if uid := str(ds.get("StudyInstanceUID", "") or ""):
                return uid, pid
            break  # one answer is enough
    return "", ""


def _one_instance(node: Node, calling_ae: str, study_uid: str, patient_id: str) -> tuple[str, str, str] | None:
    from workstation.net.retrieve_plan import find_in_study  # in the node's model (patient root: with the ID)

    for series in find_in_study(node, calling_ae, "SERIES", {"StudyInstanceUID": study_uid}, patient_id):
        series_uid = str(series.get("SeriesInstanceUID", "") or "")
        keys = {"StudyInstanceUID": study_uid, "SeriesInstanceUID": series_uid}
        for image in find_in_study(node, calling_ae, "IMAGE", keys, patient_id):
            uid = str(image.get("SOPInstanceUID", "") or "")
            if uid:
                return study_uid, series_uid, uid
    return None


def test_node(node: Node, settings: Settings, home: Home, cache: StudyCache) -> Iterator[Check]:
    """Run the checks one by one (a generator, so a caller can show each as it finishes).

    Parameters
    ----------
    node : Node
    settings : Settings
        Our AE title and storage port.
    home, cache
        Where a moved instance lands (the instance is kept in the cache).

    Yields
    ------
    Check
    """
    if node.retrieve == "dicomweb" and node.url:
        from workstation.net.dicomweb import test_dicomweb

        yield from test_dicomweb(node)
        return
    result = echo(node, settings.ae_title)
    yield Check("C-ECHO", "ok" if result.ok else "failed", result.message, result.elapsed_s)
    if not result.ok and result.status is None and _unreachable(node, settings):
        for name in ("C-FIND", "C-GET" if node.retrieve == "get" else "C-MOVE"):
            yield Check(name, "skipped", "skipped: the node cannot be reached")
        return

    started = time.monotonic()
    study_uid = patient_id = ""
    try:
        study_uid, patient_id = _first_study(node, settings.ae_title)
        message = "answered a study-level query" + ("" if study_uid else " (no studies on the archive)")
        yield Check("C-FIND", "ok", message, time.monotonic() - started)
    except AssociationRejected as exc:
        yield Check("C-FIND", "failed", str(exc), time.monotonic() - started)
    except NetworkError as exc:
        yield Check("C-FIND", "failed", f"the study-level query failed: {exc}", time.monotonic() - started)

    name = "C-GET" if node.retrieve == "get" else "C-MOVE"
    if not study_uid:  # (also when the query failed)
        yield Check(name, "skipped", "skipped: no study on the archive to retrieve one instance of")
        return
    yield _retrieve_one(node, settings, home, cache, study_uid, patient_id, name)


def _unreachable(node: Node, settings: Settings) -> bool:
    try:
        from workstation.net.association import associate

        with associate(peer_of(node), settings.ae_title, ["1.2.840.10008.1.1"]):
            return False
    except ConnectionFailed:
        return True
    except NetworkError:
        return False


def _retrieve_one(node: Node, settings: Settings, home: Home, cache: StudyCache, study_uid: str, patient_id: str,
                  name: str) -> Check:
    from workstation.net.retrieve_units import MOVE_DESTINATION_UNKNOWN, _sop_classes, _Tally
    from workstation.net.retrieve_plan import Unit

    started = time.monotonic()
    try:
        found = _one_instance(node, settings.ae_title, study_uid, patient_id)
    except NetworkError as exc:
        return Check(name, "failed", f"could not find an instance to retrieve: {exc}", time.monotonic() - started)
    if found is None:
        return Check(name, "skipped", "skipped: the archive listed no instance to retrieve")
    unit = Unit("IMAGE", found[0], found[1], (found[2],), 1, patient_id if node.query_model == "patient" else "")
    tally = _Tally(1, None)
    try:
        if name == "C-MOVE":
            status = _move_one(node, settings, home, cache, unit, tally)
        else:
            from workstation.net.retrieve_units import _run_get

            status = _run_get(peer_of(node), settings.ae_title, _sop_classes(node, False), set(), unit, 0, tally,
                              cache, lambda: False, charset=node.charset).status
    except NetworkError as exc:
        return Check(name, "failed", str(exc), time.monotonic() - started)
    elapsed = time.monotonic() - started
    snap = tally.snapshot()
    if status == MOVE_DESTINATION_UNKNOWN:
        return Check(name, "failed", _move_destination_advice(settings), elapsed)
    arrived = cache.instance(found[2]) is not None
    if arrived:
        return Check(name, "ok", f"one instance arrived in the cache in {elapsed:.1f} s", elapsed)
    if name == "C-MOVE" and (snap.failed or status not in (0x0000, None)):
        return Check(name, "failed", (
            f"the archive could not deliver to {settings.ae_title} (status 0x{status or 0:04X}) — check the host "
            f"and port ({settings.storage_port}) the archive has for {settings.ae_title}, and that no firewall "
            "blocks this port"), elapsed)
    return Check(name, "failed", f"the instance did not arrive (status 0x{status or 0:04X})", elapsed)


def _move_one(
    node: Node, settings: Settings, home: Home, cache: StudyCache, unit: Unit, tally: _Tally
) -> int | None:
    from workstation.net.listener import ensure_listener
    from workstation.net.retrieve_units import _run_move, _sop_classes

    with ensure_listener(home, settings, cache) as listener:
        status = _run_move(peer_of(node), settings.ae_title, settings.ae_title, _sop_classes(node, True), unit, 0,
                           tally, lambda: False, charset=node.charset).status
        listener.settle(cache, unit.sop_uids)
        return status


def summary(checks: list[Check]) -> str:
    """A summary line: "3 of 3 checks passed"."""
    return f"{sum(1 for c in checks if c.ok)} of {len(checks)} checks passed"
