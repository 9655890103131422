"""The floor under any pynetdicom C-GET: bare pynetdicom, no Lightbox code, raw received data sets to files.

    python -m bench._pynetdicom_floor HOST PORT CALLED_AE STUDY_UID OUT_DIR

Run by bench.retrieve in a process of its own (Lightbox configures pynetdicom
process-wide when its network modules are imported; none are here).  The SCU
asks a STUDY-level C-GET with pynetdicom as documented: maximum PDU size 0
(unlimited), ``_config.STORE_RECV_CHUNKED_DATASET`` so each data set streams to
a file as its PDUs arrive, and an ``EVT_C_STORE`` handler that moves that file
into OUT_DIR and answers Success.  Prints one JSON line: seconds from the
association request to its release, and the files written.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, StoragePresentationContexts, _config, build_role, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet


def main(argv: list[str]) -> int:
    host, port, called, study_uid, out = argv[0], int(argv[1]), argv[2], argv[3], Path(argv[4])
    _config.STORE_RECV_CHUNKED_DATASET = True
    _config.LOG_HANDLER_LEVEL = "none"
    out.mkdir(parents=True, exist_ok=True)
    written = 0

    def on_store(event: Any) -> int:
        nonlocal written
        os.replace(event.dataset_path, out / f"{written:05d}.dcm")
        written += 1
        return 0x0000

    ae = AE("FLOOR")
    ae.maximum_pdu_size = 0
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    classes = [cx.abstract_syntax for cx in StoragePresentationContexts[:127]]
    for cls in classes:
        ae.add_requested_context(cls)
    roles = [build_role(cls, scp_role=True) for cls in classes]
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    t0 = time.perf_counter()
    assoc = ae.associate(host, port, ae_title=called, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    if not assoc.is_established:
        print(json.dumps({"error": "no association"}))
        return 1
    for _status, _ds in assoc.send_c_get(identifier, StudyRootQueryRetrieveInformationModelGet):
        pass
    assoc.release()
    print(json.dumps({"seconds": time.perf_counter() - t0, "files": written}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
