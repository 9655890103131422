"""A misbehaving archive for tests: a small pynetdicom AE whose answers are broken on purpose.

    python -m tests.interop.bad_peer MODE PORT FOLDER

Serves the ``*.dcm`` files of FOLDER as a study-root C-FIND and C-GET SCP on
127.0.0.1:PORT (AE title ``BADPEER``), prints ``ready`` once listening, and
breaks one thing according to MODE:

``find-no-status``
    the second C-FIND pending response carries no Status element;
``find-bad-identifier``
    the second C-FIND pending response carries an identifier that cannot be decoded;
``find-abort``
    the association is aborted after the first C-FIND pending response;
``get-bad-store``
    the second C-STORE sub-operation of a C-GET carries a malformed data set,
    the third a data set without Study and Series Instance UIDs;
``freeze``
    a frozen archive: C-ECHO is never answered, C-FIND stops after its first
    pending response, C-GET and C-MOVE (to ``DESTINATION_PORT`` on 127.0.0.1,
    whatever the destination AE) stop after their first C-STORE, holding the
    storage association open.  Nothing is closed until the process is killed.

    python -m tests.interop.bad_peer freeze PORT FOLDER [DESTINATION_PORT]

``freeze-transfer``
    as ``freeze``, but C-ECHO and C-FIND answer normally: only the transfer freezes.

It runs in its own process because the breakage patches pynetdicom's message
encoder, which must not touch the Lightbox side of the conversation.
"""

from __future__ import annotations

import copy
import sys
import time
from io import BytesIO
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pynetdicom import AE, StoragePresentationContexts, dimse_messages, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

AE_TITLE = "BADPEER"
#: A sequence of undefined length whose content is not items: no DICOM parser can read it.
GARBAGE = b"\x08\x00\x15\x11" + b"\xff\xff\xff\xff" + b"\xde\xad\xbe\xef" * 4
MODES = ("find-no-status", "find-bad-identifier", "find-abort", "get-bad-store", "freeze", "freeze-transfer")
#: How long a frozen archive stays frozen (the test kills it long before).
FROZEN_S = 3600


def _break_messages(mode: str) -> None:
    real = dimse_messages.DIMSEMessage.primitive_to_message
    seen = {"find": 0, "store": 0}

    def broken(self, primitive):  # noqa: ANN001 - pynetdicom's signature
        real(self, primitive)
        name = type(self).__name__
        if name == "C_FIND_RSP" and self.command_set.get("Status") == 0xFF00:
            seen["find"] += 1
            if seen["find"] == 2 and mode == "find-no-status":
                del self.command_set.Status
                self._set_command_group_length()
            elif seen["find"] == 2 and mode == "find-bad-identifier":
                self.data_set = BytesIO(GARBAGE)
        elif name == "C_STORE_RQ" and mode == "get-bad-store":
            seen["store"] += 1
            if seen["store"] == 2:
                self.data_set = BytesIO(GARBAGE)

    dimse_messages.DIMSEMessage.primitive_to_message = broken


def _matches(datasets: list[Dataset], identifier: Dataset) -> list[Dataset]:
    out = []
    for ds in datasets:
        if all(not str(identifier.get(kw, "") or "") or str(identifier.get(kw)) == str(ds.get(kw, ""))
               for kw in ("StudyInstanceUID", "SeriesInstanceUID")):
            out.append(ds)
    return out


def main(argv: list[str]) -> int:
    mode, port, folder = argv[0], int(argv[1]), Path(argv[2])
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    datasets = [dcmread(p) for p in sorted(folder.glob("*.dcm"))]
    _break_messages(mode)

    def on_find(event):
        identifier = event.identifier
        level = str(identifier.QueryRetrieveLevel)
        found, seen = [], set()
        for ds in _matches(datasets, identifier):
            key = str(ds.StudyInstanceUID if level == "STUDY" else ds.SeriesInstanceUID if level == "SERIES"
                      else ds.SOPInstanceUID)
            if key in seen:
                continue
            seen.add(key)
            rsp = Dataset()
            rsp.QueryRetrieveLevel = level
            for kw in identifier.dir():
                if kw in ds and kw != "QueryRetrieveLevel":
                    setattr(rsp, kw, ds.data_element(kw).value)
            found.append(rsp)
        for n, rsp in enumerate(found, 1):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            if mode == "freeze" and n == 2:
                time.sleep(FROZEN_S)
            yield 0xFF00, rsp
            if mode == "find-abort" and n == 1:
                time.sleep(0.2)  # let the first response leave before the A-ABORT
                event.assoc.abort()
                return

    def on_get(event):
        matched = _matches(datasets, event.identifier)
        yield len(matched)
        for n, ds in enumerate(matched, 1):
            if event.is_cancelled:
                yield 0xFE00, None
                return
            if mode.startswith("freeze") and n == 2:
                time.sleep(FROZEN_S)
            if mode == "get-bad-store" and n == 3:
                ds = copy.deepcopy(ds)
                del ds.StudyInstanceUID
                del ds.SeriesInstanceUID
            yield 0xFF00, ds

    def on_move(event):
        matched = _matches(datasets, event.identifier)
        yield "127.0.0.1", destination_port
        yield len(matched)
        for n, ds in enumerate(matched, 1):
            if n == 2 and mode.startswith("freeze"):
                time.sleep(FROZEN_S)
            yield 0xFF00, ds

    def on_echo(event):
        if mode == "freeze":
            time.sleep(FROZEN_S)
        return 0x0000

    destination_port = int(argv[3]) if len(argv) > 3 else 0
    ae = AE(AE_TITLE)
    ae.add_supported_context(Verification)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelMove)
    for cx in StoragePresentationContexts:
        ae.add_requested_context(cx.abstract_syntax)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelFind)
    ae.add_supported_context(StudyRootQueryRetrieveInformationModelGet)
    for cx in StoragePresentationContexts:
        ae.add_supported_context(cx.abstract_syntax, scp_role=True, scu_role=False)
    server = ae.start_server(("127.0.0.1", port), block=False,
                             evt_handlers=[(evt.EVT_C_FIND, on_find), (evt.EVT_C_GET, on_get),
                                           (evt.EVT_C_MOVE, on_move), (evt.EVT_C_ECHO, on_echo)])
    print("ready", flush=True)
    try:
        sys.stdin.read()  # the test closes our stdin (or kills us) to stop
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
