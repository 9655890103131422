"""kill -9 of ``lightbox listen`` during pushes: no acknowledged instance may be lost.

Each round starts ``lightbox listen`` in its own home, pushes instances from
a sender in this process (with or without a Move Originator AE Title equal to
the listener's own, which any sender may claim), kills the listener with
SIGKILL after a random number of Success answers, and then opens the cache
afresh: every instance answered Success must be indexed and its file whole.

    python -m bench.kill_listener --rounds 20

prints, per mode, the acknowledged and lost counts.  The robustness tests run
a few rounds of the same code.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

LISTENER_AE = "LIGHTBOX"
SENDER_AE = "KILLTEST"


@dataclass
class RoundResult:
    """What one round acknowledged and what the cache held afterwards."""

    acknowledged: int
    lost: list[str]
    rc: int | None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _instance(study: str, series: str, number: int) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName, ds.PatientID = "Kill^Test", "KILL-1"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "CT", 1, number
    ds.Rows = ds.Columns = 64
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = np.full((64, 64), number, dtype="<i2").tobytes()
    return ds


def _lightbox(home: Path, *args: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, LIGHTBOX_HOME=str(home))
    return subprocess.Popen([sys.executable, "-m", "workstation", "--home", str(home), *args], env=env, **kwargs)


def _configure(home: Path, port: int) -> None:
    """Our sender is a configured node (only those may push by default)."""
    from workstation import config
    from workstation.home import Home

    settings = config.Settings(ae_title=LISTENER_AE, storage_port=port, storage_bind_address="127.0.0.1",
                               nodes=[config.Node("sender", SENDER_AE, "127.0.0.1", 104)])
    config.save(settings, Home.single(home).ensure().config_file, system_path=home / "no-system.json")


def one_round(workdir: Path, spoof_originator: bool, seed: int, count: int = 40) -> RoundResult:
    """Push ``count`` instances, SIGKILL the listener midway, check what was acknowledged."""
    from pynetdicom import AE

    rng = random.Random(seed)
    home = workdir / f"home-{seed}-{int(spoof_originator)}"
    home.mkdir(parents=True)
    port = _free_port()
    _configure(home, port)
    proc = _lightbox(home, "listen", stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 60
        line = ""
        while "Listening" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError("lightbox listen did not start")
        threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()  # keep the pipe drained
        study, series = generate_uid(), generate_uid()
        kill_after = rng.randint(1, count - 1)
        acknowledged: list[str] = []
        ae = AE(SENDER_AE)
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 10
        ae.add_requested_context(CTImageStorage, ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", port, ae_title=LISTENER_AE)
        if not assoc.is_established:
            raise RuntimeError("the listener refused the association")
        try:
            for number in range(1, count + 1):
                ds = _instance(study, series, number)
                extra = {"originator_aet": LISTENER_AE, "originator_id": 1} if spoof_originator else {}
                status = assoc.send_c_store(ds, **extra)
                if "Status" in status and int(status.Status) == 0:
                    acknowledged.append(str(ds.SOPInstanceUID))
                if len(acknowledged) >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    break
        finally:
            if assoc.is_established:
                assoc.abort()
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    return RoundResult(len(acknowledged), _lost(home, acknowledged), proc.returncode)


def _lost(home: Path, acknowledged: list[str]) -> list[str]:
    """Acknowledged UIDs not indexed, or indexed with a missing or short file."""
    from workstation.home import Home
    from workstation.store.cache import StudyCache

    cache = StudyCache.open(Home.single(home).ensure())
    try:
        lost = []
        for uid in acknowledged:
            row = cache.instance(uid)
            path = cache.path_of(row) if row is not None else None
            if row is None or not path.is_file() or path.stat().st_size != row.file_size:
                lost.append(uid)
        return lost
    finally:
        cache.close()


def run(rounds: int, seed: int = 1, count: int = 40) -> dict[str, tuple[int, int]]:
    """``rounds`` rounds per mode; returns {mode: (acknowledged, lost)}."""
    totals: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="lightbox-kill-") as tmp:
        for spoof in (False, True):
            mode = "move originator = ours" if spoof else "plain push"
            acked = lost = 0
            for index in range(rounds):
                result = one_round(Path(tmp), spoof, seed * 1000 + index, count)
                acked += result.acknowledged
                lost += len(result.lost)
            totals[mode] = (acked, lost)
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--count", type=int, default=40, help="instances pushed per round")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    totals = run(args.rounds, args.seed, args.count)
    for mode, (acked, lost) in totals.items():
        print(f"{mode:24} {args.rounds} rounds: {acked} acknowledged, {lost} lost")
    return 0 if all(lost == 0 for _, lost in totals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
