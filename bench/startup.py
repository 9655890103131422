"""Start-up as the reader feels it: ``lightbox studies --json`` and the GUI up to the study list shown.

    .venv/bin/python -m bench.startup [--studies 1000] [--runs 5] [--source DIR] [--no-gui]

A fresh home is filled with ``--studies`` studies (one CT series of one
instance each, non-Latin names among them) through the index's own commit
path; the instances are placeholders, as neither measured path opens a file.

1. ``python -m workstation --home H studies --json``: wall time of the whole
   process, median of ``--runs``; the peer is the interpreter's own start
   (``python -c pass``, the floor of any Python command).  Also lists which
   heavy packages the command loaded (it should load none of them).
   Target: at most 250 ms with 1,000 studies.
2. GUI cold start under Qt offscreen: a new process composes the main window
   as ``lightbox`` does (without the storage listener and background senders)
   and shows it; the figure is from process start until the study list shows
   every study and the window has painted.  Target: at most 1.5 s.

``--source DIR`` runs both from another checkout of the package (``git
archive`` of an older commit, say) to measure before and after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench._ctseries import fresh_home, median
from bench._source import load_note

TARGET_CLI_S = 0.250
TARGET_GUI_S = 1.5
HEAVY = ("PySide6", "vtkmodules", "SimpleITK", "highdicom", "pynetdicom", "pydicom")
NAMES = ("Yamada^Tarou=山田^太郎", "Wang^XiaoDong=王^小東", "Müller^Jürgen", "Кузнецов^Иван", "Smith^John")


def fill_home(home: Path, n: int) -> None:
    """``n`` studies in a fresh index under ``home`` (one placeholder instance each)."""
    from workstation.dicom.header import InstanceRecord
    from workstation.home import Home
    from workstation.store.cache import StudyCache
    from workstation.store.layout import stage_bytes, sync_filesystem
    from workstation.store.writer import PendingInstance

    cache = StudyCache.open(Home.single(home))
    try:
        batch = []
        for i in range(n):
            root = f"2.25.{900000000000 + i}"
            rec = InstanceRecord(
                patient_name=NAMES[i % len(NAMES)], patient_id=f"P{i // 3:05d}", patient_birth_date="19600101",
                patient_sex="MF"[i % 2], study_uid=f"{root}.1", study_date=f"2024{1 + i % 12:02d}{1 + i % 28:02d}",
                study_time="101500", study_description="CT CHEST WITH CONTRAST", accession_number=f"A{i:06d}",
                series_uid=f"{root}.2", series_number=2, series_description="Chest", modality="CT",
                sop_class_uid="1.2.840.10008.5.1.4.1.1.2", sop_instance_uid=f"{root}.3", instance_number=1,
                transfer_syntax_uid="1.2.840.10008.1.2.1", rows=512, columns=512, specific_character_set="ISO_IR 192",
            )
            batch.append(PendingInstance(stage_bytes(cache.cache_dir, f"placeholder {i}".encode(), sync=False), rec))
            if len(batch) == 500:
                sync_filesystem(cache.cache_dir)
                cache.commit(batch)
                batch = []
        if batch:
            sync_filesystem(cache.cache_dir)
            cache.commit(batch)
        assert len(cache.studies()) == n
    finally:
        cache.close()


def _env(source: str | None) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if source:
        env["LIGHTBOX_BENCH_SOURCE"] = source
    return env


# The editable install's import hook outranks sys.path: for --source it is taken out first.
_USE_SOURCE = ("import os, sys\nsource = os.environ.get('LIGHTBOX_BENCH_SOURCE')\nif source:\n"
               "    sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f)]\n"
               "    sys.path.insert(0, source)\n")


def _command(source: str | None, *args: str) -> list[str]:
    if not source:
        return [sys.executable, "-m", "workstation", *args]
    return [sys.executable, "-c", _USE_SOURCE + "import runpy\nsys.argv[1:] = " + repr(list(args))
            + "\nrunpy.run_module('workstation', run_name='__main__')"]


def time_cli(home: Path, runs: int, source: str | None) -> tuple[float, int, list[str]]:
    """Median wall seconds of ``studies --json``, the number of studies printed, heavy packages loaded."""
    walls = []
    out = ""
    for _ in range(runs):
        t0 = time.perf_counter()
        out = subprocess.run(_command(source, "--home", str(home), "studies", "--json"), check=True,
                             capture_output=True, text=True, env=_env(source)).stdout
        walls.append(time.perf_counter() - t0)
    probe = (_USE_SOURCE + "from workstation.cli import main\n"
             f"main(['--home', {str(home)!r}, 'studies', '--json'])\n"
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})), file=sys.stderr)")
    loaded = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True,
                            env=_env(source)).stderr.strip().splitlines()[-1]
    return median(walls), len(json.loads(out)), json.loads(loaded.replace("'", '"'))


def time_python(runs: int) -> float:
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        walls.append(time.perf_counter() - t0)
    return median(walls)


_GUI_PROBE = r"""
import time
from workstation.home import Home
from workstation.ui.app import application, compose_main_window
from workstation.store.cache import StudyCache
app = application()
home = Home.single(sys.argv[1])
cache = StudyCache.open(home)
window = compose_main_window(home, cache, listen=False, background=False)
window.show()
want = int(sys.argv[2])
deadline = time.time() + 60
while time.time() < deadline:
    app.processEvents()
    if len(window.browser.shown_study_uids()) >= want and window.browser.table.isVisible():
        window.repaint()
        break
    time.sleep(0.002)
print(time.time(), len(window.browser.shown_study_uids()))
window.browser.stop()
if window.viewer is not None:
    window.viewer.shutdown()
cache.close()
"""


def time_gui(home: Path, n: int, runs: int, source: str | None) -> float:
    """Median seconds from process start to the study list shown with every study."""
    walls = []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run([sys.executable, "-c", _USE_SOURCE + _GUI_PROBE, str(home), str(n)], check=True,
                             capture_output=True, text=True, env=_env(source)).stdout.split()
        assert int(out[1]) >= n, out
        walls.append(float(out[0]) - t0)
    return median(walls)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--studies", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--source", help="run the package from this folder (another checkout) instead")
    ap.add_argument("--no-gui", action="store_true")
    args = ap.parse_args()
    source = str(Path(args.source).resolve()) if args.source else None
    home = fresh_home()
    try:
        t0 = time.perf_counter()
        # Filled by the package measured: an index another version wrote may have a newer schema.
        subprocess.run([sys.executable, "-c",
                        _USE_SOURCE + "from pathlib import Path\nfrom bench.startup import fill_home\n"
                        f"fill_home(Path({str(home)!r}), {args.studies})"], check=True, env=_env(source))
        print(f"{args.studies} studies indexed in {time.perf_counter() - t0:.1f} s"
              + (f"; package from {source}" if source else ""))
        floor = time_python(args.runs)
        wall, printed, loaded = time_cli(home, args.runs, source)
        print(f"lightbox studies --json, {printed} studies: {wall * 1e3:.0f} ms wall (median of {args.runs}); "
              f"python -c pass {floor * 1e3:.0f} ms; ratio {wall / floor:.2f}x the interpreter's start")
        print(f"  heavy packages loaded: {', '.join(loaded) or 'none'}; target <= {TARGET_CLI_S * 1e3:.0f} ms -> "
              f"{'met' if wall <= TARGET_CLI_S else 'NOT met'} (ratio to target {wall / TARGET_CLI_S:.2f})")
        if not args.no_gui:
            gui = time_gui(home, args.studies, max(1, args.runs // 2), source)
            print(f"GUI cold start (Qt offscreen{load_note()}) to the study list showing {args.studies} studies: "
                  f"{gui * 1e3:.0f} ms; target <= {TARGET_GUI_S:.1f} s -> "
                  f"{'met' if gui <= TARGET_GUI_S else 'NOT met'} "
                  f"(ratio to target {gui / TARGET_GUI_S:.2f})")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
