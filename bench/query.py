"""Query speed: a study-level C-FIND that returns 1,000 studies, through ``lightbox query`` and in-process.

    .venv/bin/python -m bench.query [--studies 1000] [--runs 3]

Stores 1,000 studies (one small CT image each, made once under bench/.data)
into an Orthanc started on 127.0.0.1 for the run, then times, three runs each:

* ``lightbox query PACS`` as a user runs it (a subprocess: start-up, the
  C-FIND, printing the table), and with ``--json``;
* :func:`workstation.net.find.find` in this process: time to the first
  result and to the last (what the GUI's streaming search waits for);
* DCMTK's ``findscu`` with the same return keys, for comparison.

Prints medians and the ratio to findscu.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from bench._ctseries import DATA, median
from tests.interop.peers import Modality, dcmtk_env, free_port, start_orthanc
from workstation.net.association import Peer
from workstation.net.find import build_identifier, find

ROOT = Path(__file__).resolve().parents[1]
CALLING_AE = "LIGHTBOX"


def studies(n: int) -> Path:
    """A folder of ``n`` one-image studies (made once; later runs reuse it)."""
    folder = DATA / f"studies{n}"
    done = folder / ".complete"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    pixels = np.zeros((8, 8), dtype="<i2").tobytes()
    for i in range(n):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        sop = f"2.25.32{i:06d}3"
        ds.file_meta.MediaStorageSOPInstanceUID = sop
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, sop
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.PatientName = f"Query^Patient{i % 400:03d}"
        ds.PatientID = f"QB{i % 400:05d}"
        ds.PatientBirthDate, ds.PatientSex = "19600101", "F" if i % 2 else "M"
        ds.StudyInstanceUID = f"2.25.32{i:06d}1"
        ds.SeriesInstanceUID = f"2.25.32{i:06d}2"
        ds.StudyDate = f"2024{1 + i % 12:02d}{1 + i % 28:02d}"
        ds.StudyTime = "101500"
        ds.AccessionNumber = f"QACC{i:06d}"
        ds.StudyID = str(i)
        ds.StudyDescription = "CT CHEST" if i % 3 else "CT ABDOMEN PELVIS"
        ds.ReferringPhysicianName = "Referrer^Rita"
        ds.Modality = "CT"
        ds.SeriesNumber = ds.InstanceNumber = 1
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.Rows = ds.Columns = 8
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.PixelData = pixels
        ds.save_as(folder / f"S{i:05d}.dcm", enforce_file_format=True)
    done.write_text("ok\n")
    return folder


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}... failed: {done.stderr.strip()[-500:]}")
    return elapsed, done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    folder = studies(args.studies)
    files = sorted(str(p) for p in folder.glob("*.dcm"))
    work = Path(tempfile.mkdtemp(prefix="lightbox-bench-query-"))
    arc = start_orthanc(work / "orthanc", [Modality(CALLING_AE, free_port()), Modality("FINDSCU", 1)],
                        dicomweb=False)
    try:
        t0 = time.perf_counter()
        for start in range(0, len(files), 250):  # a few associations: argument lists stay short
            subprocess.run(["storescu", "-aec", arc.ae_title, "127.0.0.1", str(arc.port), *files[start:start + 250]],
                           check=True, env=dcmtk_env(), stdout=subprocess.DEVNULL, timeout=600)
        print(f"{len(files)} studies stored into Orthanc in {time.perf_counter() - t0:.1f} s")

        env = dict(os.environ, LIGHTBOX_HOME=str(work / "home"), LIGHTBOX_SYSTEM_CONFIG=str(work / "none.json"))
        lightbox = [sys.executable, "-m", "workstation"]
        _timed([*lightbox, "nodes", "add", "PACS", "--ae", arc.ae_title, "--host", "127.0.0.1", "--port",
                str(arc.port)], env)
        startup, _ = _timed([*lightbox, "config", "show"], env)
        # findscu asks for the same return keys as Lightbox's study search.
        keys = [kw for kw in build_identifier("STUDY", {}).dir() if kw != "QueryRetrieveLevel"]
        findscu = ["findscu", "-aet", "FINDSCU", "-aec", arc.ae_title, "-S", "-k", "QueryRetrieveLevel=STUDY",
                   *[arg for kw in keys for arg in ("-k", kw)], "127.0.0.1", str(arc.port)]
        peer = Peer("127.0.0.1", arc.port, arc.ae_title, timeout=60)
        times: dict[str, list[float]] = {"lightbox query": [], "lightbox query --json": [], "find() first result": [],
                                         "find() all results": [], "findscu": []}
        for run in range(args.runs):
            elapsed, out = _timed([*lightbox, "query", "PACS"], env)
            times["lightbox query"].append(elapsed)
            rows = sum(1 for line in out.splitlines()[1:] if line.strip())
            elapsed, out = _timed([*lightbox, "query", "PACS", "--json"], env)
            times["lightbox query --json"].append(elapsed)
            if rows != len(files) or len(json.loads(out)) != len(files):
                raise SystemExit(f"lightbox query listed {rows} studies, expected {len(files)}")
            t0 = time.perf_counter()
            first = 0.0
            n = 0
            for _ds in find(peer, CALLING_AE, "STUDY", {}):
                n += 1
                if n == 1:
                    first = time.perf_counter() - t0
            times["find() all results"].append(time.perf_counter() - t0)
            times["find() first result"].append(first)
            if n != len(files):
                raise SystemExit(f"find() returned {n} studies, expected {len(files)}")
            elapsed, _ = _timed(findscu, dcmtk_env())
            times["findscu"].append(elapsed)
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
        med = {k: median(v) for k, v in times.items()}
        print(f"\nmedians over {args.runs} runs, a study-level C-FIND returning {len(files)} studies from Orthanc:")
        for k, v in med.items():
            print(f"  {k:22} median {v:6.2f} s  (runs {min(times[k]):.2f}-{max(times[k]):.2f} s)")
        print(f"  lightbox start-up alone ('config show'): {startup:.2f} s")
        print(f"  ratio lightbox query / findscu:   {med['lightbox query'] / med['findscu']:.2f}")
        print(f"  ratio find() all / findscu:       {med['find() all results'] / med['findscu']:.2f}")
    finally:
        arc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
