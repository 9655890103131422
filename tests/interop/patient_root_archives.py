"""Patient-root-only archives and studies for the patient-root retrieve tests.

* dcmqrscp with ``-QS -QO`` supports only the Patient Root models; with
  ``-XM`` it checks C-MOVE/C-GET identifiers strictly (the Patient ID of a
  STUDY-level request must be there), with ``-XF`` C-FIND identifiers too (it
  then refuses a STUDY-level query with an empty Patient ID: 0xA900).
* :mod:`tests.interop.patient_root_peer`, a pynetdicom archive supporting only
  the Patient Root SOP classes and refusing any identifier without the upper
  levels' unique keys, run as a child process of the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.data import get_charset_files
from pydicom.uid import generate_uid

from tests.interop.patient_root_peer import AE_TITLE
from tests.interop.peers import ArchiveProcess, Modality, free_port, start_dcmqrscp
from tests.net.helpers import CALLING_AE, make_ct

#: dcmqrscp's options: Patient Root only, C-MOVE/C-GET identifiers checked.
PATIENT_ROOT_ONLY = ("-QS", "-QO", "-XM")
#: ... and C-FIND identifiers checked as well (no empty Patient ID below PATIENT level).
STRICT_PATIENT_ROOT = (*PATIENT_ROOT_ONLY, "-XF")


@dataclass
class PatientStudy:
    """A study written for the tests: its patient, UIDs and files."""

    name: str
    patient_id: str
    study_uid: str
    series: dict[str, list[str]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.series.values())


def write_patient_study(folder: Path, name: str, patient_id: str, series_counts: list[int], *,
                        charset: str = "ISO_IR 192", rows: int = 8) -> PatientStudy:
    """A study of ``len(series_counts)`` CT series for one patient, names and ID in ``charset``."""
    folder.mkdir(parents=True, exist_ok=True)
    study = PatientStudy(name, patient_id, generate_uid())
    for number, count in enumerate(series_counts, 1):
        series_uid = generate_uid()
        study.series[series_uid] = []
        for i in range(1, count + 1):
            ds = make_ct((name, patient_id), study.study_uid, series_uid, i, series_number=number, rows=rows)
            ds.SpecificCharacterSet = charset
            path = folder / f"{ds.SOPInstanceUID}.dcm"
            ds.save_as(path, enforce_file_format=True)
            study.series[series_uid].append(str(ds.SOPInstanceUID))
            study.files.append(path)
    return study


@dataclass
class PeerProcess(ArchiveProcess):
    """The pynetdicom patient-root archive: its request log (one JSON line per request, no Patient ID)."""

    requests_path: Path | None = None

    def requests(self) -> list[dict]:
        if self.requests_path is None or not self.requests_path.exists():
            return []
        return [json.loads(line) for line in self.requests_path.read_text().splitlines() if line.strip()]

    def forget_requests(self) -> None:
        if self.requests_path is not None:
            self.requests_path.write_text("")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # its signal to shut down
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def patient_root_peer(root: Path, files: list[Path], destination_port: int, *,
                      no_uid_lists: bool = False) -> Iterator[PeerProcess]:
    """Run :mod:`tests.interop.patient_root_peer` on ``files`` until the block ends."""
    folder = root / "files"
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f.name).write_bytes(f.read_bytes())
    port, log_path, requests = free_port(), root / "peer.log", root / "requests.jsonl"
    argv = [sys.executable, "-m", "tests.interop.patient_root_peer", str(port), str(folder), str(destination_port),
            str(requests)] + (["no-uid-lists"] if no_uid_lists else [])
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                cwd=Path(__file__).resolve().parents[2])
    peer = PeerProcess("patroot", AE_TITLE, port, root, proc, 0, log_path, requests_path=requests)
    try:
        peer.wait_ready(30)
        yield peer
    finally:
        peer.stop()


def charset_name(charset_file: str) -> str:
    """The patient's name in one of pydicom's charset files (Chinese, Cyrillic, ...), decoded."""
    return str(dcmread(get_charset_files(charset_file)[0], stop_before_pixels=True).PatientName)


def files_of(studies: dict[str, PatientStudy]) -> list[Path]:
    """Every file of ``studies``."""
    return [f for s in studies.values() for f in s.files]


@contextmanager
def loaded_dcmqrscp(root: Path, destination_port: int, files: list[Path], ae_title: str,
                    options: tuple[str, ...]) -> Iterator[ArchiveProcess]:
    """dcmqrscp started with ``options`` and holding ``files`` until the block ends (then checked stopped)."""
    from workstation.net.send import send_files

    arc = start_dcmqrscp(root, [Modality(CALLING_AE, destination_port)], ae_title=ae_title, options=options)
    try:
        report = send_files(files, arc.peer, CALLING_AE)
        assert report.ok, report.summary()
        yield arc
    finally:
        arc.stop()
        assert not arc.running
