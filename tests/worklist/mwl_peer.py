"""DCMTK's wlmscpfs as a Modality Worklist provider on 127.0.0.1, with worklist files made by dump2dcm."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.interop.peers import ArchiveProcess, dcmtk_env, free_port

WLMSCPFS = shutil.which("wlmscpfs") or "/usr/bin/wlmscpfs"
DUMP2DCM = shutil.which("dump2dcm") or "/usr/bin/dump2dcm"


@dataclass
class MwlOrder:
    accession: str
    patient_id: str
    patient_name: str
    study_uid: str
    procedure: str
    reason: str
    priority: str = "ROUTINE"
    modality: str = "CT"
    date: str = "20240105"
    time: str = "101500"
    referring: str = "Referrer^Rita"
    history: str = ""


def dump_text(o: MwlOrder) -> str:
    """A worklist file in dcmdump's text form (dump2dcm's input)."""
    lines = [
        "(0008,0005) CS [ISO_IR 192]",
        f"(0008,0050) SH [{o.accession}]",
        f"(0008,0090) PN [{o.referring}]",
        f"(0010,0010) PN [{o.patient_name}]",
        f"(0010,0020) LO [{o.patient_id}]",
        "(0010,0030) DA [19700101]",
        "(0010,0040) CS [O]",
        f"(0010,21b0) LT [{o.history}]",
        f"(0020,000d) UI [{o.study_uid}]",
        f"(0032,1060) LO [{o.procedure}]",
        f"(0040,1001) SH [RP-{o.accession}]",
        f"(0040,1002) LO [{o.reason}]",
        f"(0040,1003) SH [{o.priority}]",
        "(0040,0100) SQ (Sequence with undefined length)",
        "(fffe,e000) na (Item with undefined length)",
        f"(0008,0060) CS [{o.modality}]",
        "(0040,0001) AE [CT1]",
        f"(0040,0002) DA [{o.date}]",
        f"(0040,0003) TM [{o.time}]",
        f"(0040,0007) LO [{o.procedure}]",
        f"(0040,0009) SH [SPS-{o.accession}]",
        "(fffe,e00d) na (ItemDelimitationItem)",
        "(fffe,e0dd) na (SequenceDelimitationItem)",
    ]
    return "\n".join(lines) + "\n"


def write_worklist(root: Path, ae_title: str, orders: list[MwlOrder]) -> Path:
    folder = root / ae_title
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lockfile").touch()
    for i, order in enumerate(orders):
        dump = root / f"order{i}.dump"
        dump.write_text(dump_text(order), encoding="utf-8")
        subprocess.run([DUMP2DCM, "-q", str(dump), str(folder / f"order{i}.wl")], check=True, timeout=30,
                       env=dcmtk_env())
    return folder


def start_wlmscpfs(root: Path, orders: list[MwlOrder], *, ae_title: str = "WLM") -> ArchiveProcess:
    """Start wlmscpfs serving ``orders`` under ``ae_title``; stop it with ``.stop()``."""
    write_worklist(root, ae_title, orders)
    port = free_port()
    log_path = root / "wlmscpfs.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([WLMSCPFS, "-dfp", str(root), str(port)], stdout=log, stderr=subprocess.STDOUT,
                                cwd=root, env=dcmtk_env(), start_new_session=True)
    arc = ArchiveProcess("wlmscpfs", ae_title, port, root, proc, 0, log_path)
    try:
        arc.wait_ready(30)
    except BaseException:
        arc.stop()
        raise
    return arc


__all__ = ["MwlOrder", "start_wlmscpfs", "write_worklist"]
