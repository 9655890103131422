"""A strictly hierarchical Patient Root archive for tests: a small pynetdicom AE.

    python -m tests.interop.patient_root_peer PORT FOLDER DESTINATION_PORT REQUEST_LOG [no-uid-lists]

Serves the ``*.dcm`` files of FOLDER on 127.0.0.1:PORT (AE title ``PATROOT``)
and prints ``ready`` once listening.  It supports ONLY the Patient Root
Query/Retrieve SOP classes (FIND, MOVE, GET) and Verification, so a Study
Root request is refused at association, and it checks every identifier as
PS3.4 requires of a hierarchical request:

* C-FIND (C.4.1.2.2.1): below PATIENT level, the unique key of every level
  above with a single value (the Patient ID first); the level's own unique
  key may be universal or a list.
* C-MOVE and C-GET (C.4.2.2.1, C.4.3.2.1): the unique key of every level
  above with a single value, and the level's own (one value or a list).

An identifier that breaks these rules is refused with 0xA900 (Identifier
Does Not Match SOP Class) and matches nothing.  Matching is exact, on the
decoded values (the Patient ID may be in any character set the request
declares).  C-MOVE sends to 127.0.0.1:DESTINATION_PORT for the AE title
``LIGHTBOX`` (any other destination: 0xA801).  With ``no-uid-lists`` it fails
(0xC000) a retrieve naming several SOP Instance UIDs, as some archives do.

Each request is appended to REQUEST_LOG as one JSON line: the service, the
level, whether it carried a Patient ID, how many SOP Instance UIDs it named
and the answer (``ok``, ``refused``, ``failed``, ``unknown destination``) --
never the Patient ID itself.  The test closes our stdin (or kills us) to stop.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, StoragePresentationContexts, evt
from pynetdicom.sop_class import (
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    Verification,
)

AE_TITLE = "PATROOT"
DESTINATION_AE = "LIGHTBOX"
LEVELS = ("PATIENT", "STUDY", "SERIES", "IMAGE")
UNIQUE = {"PATIENT": "PatientID", "STUDY": "StudyInstanceUID", "SERIES": "SeriesInstanceUID",
          "IMAGE": "SOPInstanceUID"}
NOT_MATCHING_SOP_CLASS = 0xA900


def _values(identifier: Dataset, keyword: str) -> list[str]:
    if keyword not in identifier:
        return []
    value = identifier[keyword].value
    items = list(value) if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue" else [value]
    return [str(v).strip() for v in items if str(v or "").strip()]


def check(identifier: Dataset, retrieve: bool) -> str | None:
    """Why ``identifier`` is not a valid hierarchical Patient Root request, or None."""
    level = str(identifier.get("QueryRetrieveLevel", "") or "")
    if level not in LEVELS:
        return f"level {level!r}"
    depth = LEVELS.index(level)
    for upper in LEVELS[:depth]:
        if len(_values(identifier, UNIQUE[upper])) != 1:
            return f"{UNIQUE[upper]} is not a single value"
    if retrieve and not _values(identifier, UNIQUE[level]):
        return f"no {UNIQUE[level]}"
    return None


def matches(datasets: list[Dataset], identifier: Dataset) -> list[Dataset]:
    """The instances at or below the identifier's level that its unique keys select."""
    level = str(identifier.QueryRetrieveLevel)
    out = []
    for ds in datasets:
        if all(not _values(identifier, UNIQUE[lv]) or str(ds.get(UNIQUE[lv], "")) in _values(identifier, UNIQUE[lv])
               for lv in LEVELS[:LEVELS.index(level) + 1]):
            out.append(ds)
    return out


def answer(level: str, identifier: Dataset, group: list[Dataset]) -> Dataset:
    """The C-FIND response for one entity (``group``: its instances), with the keys asked for."""
    first = group[0]
    rsp = Dataset()
    if "SpecificCharacterSet" in first:
        rsp.SpecificCharacterSet = first.SpecificCharacterSet
    rsp.QueryRetrieveLevel = level
    for kw in identifier.dir():
        if kw in ("QueryRetrieveLevel", "SpecificCharacterSet"):
            continue
        if kw == "NumberOfStudyRelatedInstances" or kw == "NumberOfSeriesRelatedInstances":
            setattr(rsp, kw, str(len(group)))
        elif kw == "SOPClassesInStudy":
            rsp.SOPClassesInStudy = sorted({str(ds.SOPClassUID) for ds in group})
        elif kw in first:
            setattr(rsp, kw, first.data_element(kw).value)
        else:
            setattr(rsp, kw, identifier[kw].value)
    return rsp


def main(argv: list[str]) -> int:
    port, folder, destination_port, log_path = int(argv[0]), Path(argv[1]), int(argv[2]), Path(argv[3])
    no_uid_lists = "no-uid-lists" in argv[4:]
    datasets = [dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    log_lock = threading.Lock()

    def record(service: str, identifier: Dataset, outcome: str) -> None:
        line = {"service": service, "level": str(identifier.get("QueryRetrieveLevel", "")),
                "patient_id": bool(_values(identifier, "PatientID")), "answer": outcome,
                "uids": len(_values(identifier, "SOPInstanceUID"))}
        with log_lock, open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")

    def on_find(event):
        identifier = event.identifier
        why = check(identifier, retrieve=False)
        record("C-FIND", identifier, "refused" if why else "ok")
        if why:
            yield NOT_MATCHING_SOP_CLASS, None
            return
        level = str(identifier.QueryRetrieveLevel)
        groups: dict[str, list[Dataset]] = {}
        for ds in matches(datasets, identifier):
            groups.setdefault(str(ds.get(UNIQUE[level], "")), []).append(ds)
        for group in groups.values():
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, answer(level, identifier, group)

    def retrieved(service: str, identifier: Dataset) -> tuple[int, list[Dataset]]:
        why = check(identifier, retrieve=True)
        if why is None and no_uid_lists and len(_values(identifier, "SOPInstanceUID")) > 1:
            record(service, identifier, "failed")
            return 0xC000, []
        record(service, identifier, "refused" if why else "ok")
        return (NOT_MATCHING_SOP_CLASS, []) if why else (0, matches(datasets, identifier))

    def sub_operations(event, service):
        """What a C-GET or C-MOVE handler yields after its destination: the count, then each object."""
        status, found = retrieved(service, event.identifier)
        if status:
            yield 1  # pynetdicom ends a retrieve of no sub-operations with Success: one, failed at once
            yield status, None
            return
        yield len(found)
        for ds in found:
            if event.is_cancelled:
                yield 0xFE00, None
                return
            yield 0xFF00, ds

    def on_get(event):
        yield from sub_operations(event, "C-GET")

    def on_move(event):
        if (event.move_destination or "").strip() != DESTINATION_AE:
            record("C-MOVE", event.identifier, "unknown destination")
            yield None, None
            return
        yield "127.0.0.1", destination_port
        yield from sub_operations(event, "C-MOVE")

    ae = AE(AE_TITLE)
    ae.add_supported_context(Verification)
    for model in (PatientRootQueryRetrieveInformationModelFind, PatientRootQueryRetrieveInformationModelMove,
                  PatientRootQueryRetrieveInformationModelGet):
        ae.add_supported_context(model)
    for cx in StoragePresentationContexts:
        ae.add_requested_context(cx.abstract_syntax)  # C-MOVE's sub-operations
        ae.add_supported_context(cx.abstract_syntax, scp_role=True, scu_role=False)  # C-GET's
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_FIND, on_find), (evt.EVT_C_GET, on_get),
                                           (evt.EVT_C_MOVE, on_move), (evt.EVT_C_ECHO, lambda event: 0x0000)])
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
