"""Retrieve speed: Lightbox's C-GET and C-MOVE into the indexed cache against DCMTK's getscu and movescu.

    .venv/bin/python -m bench.retrieve [--runs 3] [--parallel N] [--n 500]

Stores a 500-slice 512x512 CT (250 MB) into an Orthanc started on 127.0.0.1
for the run, then times, three runs each, in turn: getscu and movescu writing
plain files (with ``TCP_NODELAY=1``, without which DCMTK is ten times slower
on loopback); the pynetdicom floor, a bare pynetdicom C-GET SCU in a process
of its own streaming each data set to a file (``bench._pynetdicom_floor``);
and Lightbox's C-GET and C-MOVE into a fresh home's cache (asked for, synced
in groups, renamed and indexed).  Prints medians (with the spread of the
runs) and the ratios: Lightbox / DCMTK against the targets, the floor /
getscu (what pynetdicom itself costs), and Lightbox / the floor (what
Lightbox adds on top).
Targets: C-GET / getscu <= 1.5, C-MOVE / movescu <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import subprocess
import tempfile
import time
from pathlib import Path

from bench._ctseries import ct_series, fresh_home, median
from tests.interop.peers import Modality, dcmtk_env, free_port, start_orthanc
from workstation.config import Settings
from workstation.home import Home
from workstation.net.retrieve import retrieve
from workstation.store.cache import StudyCache

STUDY_UID = "2.25.310000000000000000000000000000001"
GET_TARGET = 1.5
MOVE_TARGET = 1.2


def _dcmtk(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=dcmtk_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    return time.perf_counter() - t0


def _floor(arc, out: Path) -> float:
    """Seconds of a bare pynetdicom C-GET of the study (timed inside its own process)."""
    done = subprocess.run([sys.executable, "-m", "bench._pynetdicom_floor", "127.0.0.1", str(arc.port), arc.ae_title,
                           STUDY_UID, str(out)], check=True, capture_output=True, text=True, timeout=600)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if "seconds" not in result:
        raise SystemExit(f"pynetdicom floor failed: {result}")
    return float(result["seconds"])


def _lightbox(arc, method: str, parallel: int, storage_port: int) -> tuple[float, int]:
    root = fresh_home()
    try:
        home = Home.single(root).ensure()
        settings = Settings(storage_port=storage_port, storage_bind_address="127.0.0.1")
        with StudyCache.open(home) as cache:
            node = arc.node("BENCH", max_associations=parallel)
            t0 = time.perf_counter()
            report = retrieve(node, settings, home, cache, STUDY_UID, method=method)
            elapsed = time.perf_counter() - t0
        if not report.ok:
            raise SystemExit(f"Lightbox {method} failed: {report.summary()}")
        return elapsed, report.retrieved
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=2, help="Lightbox's associations (the node's max_associations)")
    ap.add_argument("--n", type=int, default=500, help="slices")
    args = ap.parse_args()
    folder = ct_series(args.n)
    files = sorted(p for p in folder.iterdir() if p.suffix == ".dcm")
    size = sum(p.stat().st_size for p in files)
    work = Path(tempfile.mkdtemp(prefix="lightbox-bench-retrieve-"))
    lb_port, move_port = free_port(), free_port()
    arc = start_orthanc(work / "orthanc", [Modality("LIGHTBOX", lb_port), Modality("GETSCU", 1),
                                            Modality("MOVESCU", move_port), Modality("FLOOR", 1)], dicomweb=False)
    try:
        t0 = time.perf_counter()
        subprocess.run(["storescu", "-aec", arc.ae_title, "127.0.0.1", str(arc.port), *map(str, files)], check=True,
                       env=dcmtk_env(), stdout=subprocess.DEVNULL, timeout=900)
        print(f"{len(files)} files, {size / 1e6:.0f} MB stored into Orthanc in {time.perf_counter() - t0:.1f} s")
        key = ["-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={STUDY_UID}"]
        times: dict[str, list[float]] = {"getscu": [], "movescu": [], "pynetdicom floor": [], "lightbox get": [],
                                         "lightbox move": []}
        for run in range(args.runs):
            for name in ("getscu", "movescu"):
                out = work / f"{name}-{run}"
                out.mkdir()
                if name == "getscu":
                    cmd = ["getscu", "-aet", "GETSCU", "-aec", arc.ae_title, "-S", *key, "-od", str(out),
                           "127.0.0.1", str(arc.port)]
                else:
                    cmd = ["movescu", "-aet", "MOVESCU", "-aem", "MOVESCU", "-aec", arc.ae_title, "--port",
                           str(move_port), "-S", *key, "-od", str(out), "127.0.0.1", str(arc.port)]
                times[name].append(_dcmtk(cmd))
                got = len(list(out.iterdir()))
                if got != len(files):
                    raise SystemExit(f"{name} wrote {got} of {len(files)} files")
                shutil.rmtree(out)
            out = work / f"floor-{run}"
            times["pynetdicom floor"].append(_floor(arc, out))
            got = len(list(out.iterdir()))
            if got != len(files):
                raise SystemExit(f"the pynetdicom floor wrote {got} of {len(files)} files")
            shutil.rmtree(out)
            for method in ("get", "move"):
                elapsed, n = _lightbox(arc, method, args.parallel, lb_port)
                if n != len(files):
                    raise SystemExit(f"Lightbox {method} retrieved {n} of {len(files)}")
                times[f"lightbox {method}"].append(elapsed)
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
        med = {k: median(v) for k, v in times.items()}
        print(f"\nmedians over {args.runs} runs ({len(files)} x 512x512 CT, {size / 1e6:.0f} MB, "
              f"Lightbox with {args.parallel} association(s)):")
        for k, v in med.items():
            spread = f"(runs {min(times[k]):.2f}-{max(times[k]):.2f} s)"
            print(f"  {k:16} median {v:6.2f} s {spread:22} {len(files) / v:5.0f} images/s  "
                  f"{size / 1e6 / v:5.0f} MB/s")
        ratio_get = med["lightbox get"] / med["getscu"]
        ratio_move = med["lightbox move"] / med["movescu"]
        print(f"  ratio Lightbox C-GET / getscu:   {ratio_get:.2f}  (target <= {GET_TARGET}: "
              f"{'met' if ratio_get <= GET_TARGET else 'NOT met'})")
        print(f"  ratio Lightbox C-MOVE / movescu: {ratio_move:.2f}  (target <= {MOVE_TARGET}: "
              f"{'met' if ratio_move <= MOVE_TARGET else 'NOT met'})")
        print(f"  ratio Lightbox C-MOVE / getscu:  {med['lightbox move'] / med['getscu']:.2f}")
        print(f"  ratio pynetdicom floor / getscu: {med['pynetdicom floor'] / med['getscu']:.2f}  "
              "(bare pynetdicom C-GET writing files: what the library itself costs)")
        print(f"  ratio Lightbox C-GET / pynetdicom floor: {med['lightbox get'] / med['pynetdicom floor']:.2f}  "
              "(what Lightbox adds: asking for the study, parsing, syncing and indexing every file)")
        print("  (Lightbox's times include asking the archive for the study and indexing every file;"
              " DCMTK and the floor only write files)")
    finally:
        arc.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
