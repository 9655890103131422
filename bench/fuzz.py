"""The hostile-input campaign: seeded mutants of public DICOM files through import, render, snapshot and the SCP.

    python -m bench.fuzz --count 10000            # the full campaign
    python -m bench.fuzz --count 200 --seed 7     # a short one

Mutant *i* of seed *s* is made from one of the public test files (pydicom's,
pydicom-data's) by a random number generator seeded with (s, i), so any
finding is reproduced with ``--only I``.  Every mutant carries a planted
patient name and ID (and a damaged UI value holding the name), so a log
that names a patient is found by a grep.

Mutants run in child processes, many per child, with a memory limit
(``RLIMIT_AS``) and a watchdog: a child that stops reporting for
``--hang-s`` seconds is killed and the mutant counted as a hang; a child
killed by a signal counts as a crash; the next child resumes after that
mutant.  In each child, every mutant is imported into a cache, rendered
(``render_file``), pushed to a storage SCP over loopback (a second cache)
and, for one in ``--snapshot-every``, its study is snapshot in the real
viewer on Qt's offscreen platform.  An exception escaping any of these
(anything but the documented refusal) counts as uncaught.

Printed at the end: mutants, crashes, hangs, uncaught exceptions,
tracebacks in the logs, log lines naming a planted patient, the peak
resident memory of any child, and the outcomes (imported / refused ...).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# PLANTED_NAME and PLANTED_ID are imported from here by the tests.
from bench.fuzz_mutants import MARKERS, PLANTED_ID, PLANTED_NAME, make_mutant, seed_files  # noqa: F401


# -- the child ------------------------------------------------------------------------------------


def _limit_memory(limit_mb: int) -> None:
    import resource

    if limit_mb > 0:
        limit = limit_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Pusher:
    """C-STORE to our SCP over loopback on one long association (one-off ones for odd contexts)."""

    def __init__(self, port: int, seeds: list[str]) -> None:
        from pydicom import dcmread
        from pynetdicom import AE

        self.port = port
        self.ae = AE("FUZZER")
        self.ae.acse_timeout = self.ae.dimse_timeout = self.ae.network_timeout = 8
        pairs = set()
        for seed in seeds:
            try:
                ds = dcmread(seed, stop_before_pixels=True)
                pairs.add((str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID)))
            except Exception:  # noqa: BLE001 - not a usable seed for a context
                continue
        self.pairs = sorted(pairs)[:120]
        self.assoc = None

    def _contexts(self, pairs):
        from pynetdicom import build_context

        return [build_context(sop_class, [syntax]) for sop_class, syntax in pairs]

    def _shared(self):
        if self.assoc is None or not self.assoc.is_established:
            self.assoc = self.ae.associate("127.0.0.1", self.port, ae_title="LIGHTBOX",
                                           contexts=self._contexts(self.pairs))
        return self.assoc if self.assoc.is_established else None

    def close(self) -> None:
        if self.assoc is not None and self.assoc.is_established:
            self.assoc.release()

    def push(self, path: Path) -> str:
        from pydicom import dcmread

        try:
            ds = dcmread(path, force=True)
            pair = (str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
            # pynetdicom logs a traceback for a data set it cannot encode: that would be the
            # sender's, not Lightbox's; find those first.
            import io
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds.save_as(io.BytesIO(), enforce_file_format=False)
            from pydicom.uid import UID

            if not all(UID(uid).is_valid for uid in pair):
                return "unsendable"  # pynetdicom would hang on encoding the association request
            contexts = self._contexts([pair])
        except Exception:  # noqa: BLE001 - the sender cannot read it either: nothing to push
            return "unsendable"
        one_off = pair not in self.pairs
        assoc = (self.ae.associate("127.0.0.1", self.port, ae_title="LIGHTBOX", contexts=contexts) if one_off
                 else self._shared())
        if assoc is None or not assoc.is_established:
            return "association refused"
        try:
            try:
                status = assoc.send_c_store(ds)
            except Exception as exc:  # noqa: BLE001 - pynetdicom cannot encode it: the sender's problem
                return f"unsendable ({type(exc).__name__})"
            if "Status" not in status:
                return "no answer"
            return f"0x{int(status.Status):04X}"
        finally:
            if one_off and assoc.is_established:
                assoc.release()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _new_tracebacks(path: Path, offset: list[int]) -> list[str]:
    """The exception lines of tracebacks logged since ``offset``."""
    try:
        with open(path, "rb") as f:
            f.seek(offset[0])
            lines = f.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    found = []
    for n, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last)"):
            found.append(next((x for x in lines[n + 1:] if x and not x.startswith(" ")), "?")[:120])
    return found


def _worker(spec: dict) -> int:
    """Run mutants ``spec['indices']``, reporting ``S i`` / ``D i json`` lines on stdout."""
    _limit_memory(spec["memory_mb"])
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import logging

    from workstation import config, logs
    from workstation.home import Home
    from workstation.imaging.render import RenderError, render_file
    from workstation.net.storage_scp import StorageSCP
    from workstation.store.cache import StudyCache
    from workstation.store.importer import import_paths

    work = Path(spec["work"])
    seeds = spec["seeds"]
    home = Home.single(work / "home").ensure()
    scp_home = Home.single(work / "scp-home").ensure()
    logs.configure(home.log_dir)
    out = sys.stdout
    cache = StudyCache.open(home)
    scp_cache = StudyCache.open(scp_home)
    settings = config.Settings(storage_port=1, storage_bind_address="127.0.0.1", accept_known_nodes_only=False,
                               nodes=[config.Node("fuzzer", "FUZZER", "127.0.0.1", 104)])
    scp = StorageSCP(scp_cache, settings, port=0, bind_address="127.0.0.1")
    scp.start()
    pusher = _Pusher(scp.port, seeds)
    snapshot_every = spec["snapshot_every"]
    log_offset = [_size(home.log_dir / "lightbox.log")]
    try:
        for index in spec["indices"]:
            print(f"S {index}", file=out, flush=True)
            path, seed, changes = make_mutant(seeds, spec["seed"], index, work)
            row: dict = {"i": index, "seed": seed, "changes": changes, "uncaught": []}
            started = time.monotonic()
            study = None
            try:
                summary = import_paths(cache, [path], workers=1)
                row["import"] = ("imported" if summary.imported else "duplicate" if summary.duplicates
                                 else "failed" if summary.failed else "skipped")
                reasons = [s.reason for s in summary.skipped + summary.failures]
                row["reasons"] = reasons
                if summary.study_uids:
                    study = sorted(summary.study_uids)[0]
            except Exception as exc:  # noqa: BLE001 - counted
                row["uncaught"].append(f"import: {type(exc).__name__}")
            try:
                render_file(path, 0)
                row["render"] = "rendered"
            except RenderError as exc:
                row["render"] = "refused"
                row["render_reason"] = str(exc)
            except Exception as exc:  # noqa: BLE001 - counted
                row["uncaught"].append(f"render: {type(exc).__name__}: {str(exc)[:80]}")
            try:
                row["push"] = pusher.push(path)
            except Exception as exc:  # noqa: BLE001 - counted
                row["uncaught"].append(f"push: {type(exc).__name__}")
            if study is not None and snapshot_every and index % snapshot_every == 0:
                try:
                    from workstation.ui.hanging_snapshot import snapshot

                    snapshot(home, study, work / "snap.png", size=(320, 240))
                    row["snapshot"] = "ok"
                except (KeyError, IndexError) as exc:
                    row["snapshot"] = f"refused ({type(exc).__name__})"
                except Exception as exc:  # noqa: BLE001 - counted
                    row["uncaught"].append(f"snapshot: {type(exc).__name__}: {str(exc)[:80]}")
            row["log_tracebacks"] = _new_tracebacks(home.log_dir / "lightbox.log", log_offset)
            log_offset[0] = _size(home.log_dir / "lightbox.log")
            row["seconds"] = round(time.monotonic() - started, 3)
            row["rss_mb"] = round(_peak_rss_mb(), 1)
            path.unlink(missing_ok=True)
            print("D " + json.dumps(row), file=out, flush=True)
    finally:
        pusher.close()
        scp.stop()
        cache.close()
        scp_cache.close()
        logging.shutdown()
    return 0


# -- the parent -----------------------------------------------------------------------------------


@dataclass
class CampaignResult:
    """What the campaign saw."""

    mutants: int = 0
    crashes: list[dict] = field(default_factory=list)
    hangs: list[dict] = field(default_factory=list)
    uncaught: list[dict] = field(default_factory=list)
    tracebacks: int = 0
    planted_in_logs: list[str] = field(default_factory=list)
    planted_in_reasons: list[dict] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    slowest: tuple[float, int] = (0.0, -1)
    outcomes: Counter = field(default_factory=Counter)
    traceback_kinds: Counter = field(default_factory=Counter)
    elapsed_s: float = 0.0

    @property
    def clean(self) -> bool:
        return not (self.crashes or self.hangs or self.uncaught or self.tracebacks or self.planted_in_logs
                    or self.planted_in_reasons)

    def summary(self) -> str:
        lines = [
            f"mutants: {self.mutants} in {self.elapsed_s:.0f} s",
            f"process deaths: {len(self.crashes)}",
            f"hangs: {len(self.hangs)}",
            f"uncaught exceptions: {len(self.uncaught)}",
            f"tracebacks in logs: {self.tracebacks}",
            f"log lines naming a planted patient: {len(self.planted_in_logs)}",
            f"skip/refusal reasons naming a planted patient: {len(self.planted_in_reasons)}",
            f"peak memory of a child: {self.peak_rss_mb:.0f} MB",
            f"slowest mutant: {self.slowest[0]:.1f} s (#{self.slowest[1]})",
            "outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items())),
        ]
        for what, items in (("crash", self.crashes), ("hang", self.hangs), ("uncaught", self.uncaught)):
            for item in items[:10]:
                lines.append(f"  {what}: {json.dumps(item)}")
        for kind, n in self.traceback_kinds.most_common(10):
            lines.append(f"  traceback {n}x: {kind}")
        for line in self.planted_in_logs[:5]:
            lines.append(f"  log: {line[:200]}")
        return "\n".join(lines)


def _run_child(indices: list[int], spec: dict, work: Path, result: CampaignResult, hang_s: float) -> list[int]:
    """Run one child over ``indices``; returns the indices it did not reach."""
    spec = dict(spec, indices=indices, work=str(work))
    env = dict(os.environ, MALLOC_ARENA_MAX="2", QT_QPA_PLATFORM="offscreen",
               LIGHTBOX_SYSTEM_CONFIG=str(work / "no-system-config.json"))
    proc = subprocess.Popen([sys.executable, "-m", "bench.fuzz", "--worker", json.dumps(spec)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                            cwd=str(Path(__file__).resolve().parent.parent))
    current: int | None = None
    done: set[int] = set()
    buffer = b""
    last = time.monotonic()
    hung = False
    fd = proc.stdout.fileno()
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if text.startswith("S "):
                    current, last = int(text[2:]), time.monotonic()
                elif text.startswith("D "):
                    row = json.loads(text[2:])
                    done.add(row["i"])
                    current = None
                    last = time.monotonic()
                    _account(result, row)
        elif current is not None and time.monotonic() - last > hang_s:
            hung = True
            proc.kill()
            break
        elif current is None and time.monotonic() - last > 120:  # start-up or shutdown stuck
            proc.kill()
            break
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    result.peak_rss_mb = max(result.peak_rss_mb, usage.ru_maxrss / 1024)
    if hung and current is not None:
        result.hangs.append({"i": current, "seconds": hang_s})
        result.mutants += 1
        done.add(current)
    elif os.WIFSIGNALED(status) and current is not None:
        result.crashes.append({"i": current, "signal": signal.Signals(os.WTERMSIG(status)).name})
        result.mutants += 1
        done.add(current)
    elif current is not None:
        result.crashes.append({"i": current, "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else status})
        result.mutants += 1
        done.add(current)
    _scan_logs(work, result)
    return [i for i in indices if i not in done]


def _account(result: CampaignResult, row: dict) -> None:
    result.mutants += 1
    if row.get("log_tracebacks"):
        result.uncaught.append({"i": row["i"], "seed": row["seed"], "changes": row["changes"],
                                "logged": row["log_tracebacks"]})
    if row["uncaught"]:
        result.uncaught.append({"i": row["i"], "seed": row["seed"], "changes": row["changes"],
                                "what": row["uncaught"]})
    for key in ("import", "render", "push", "snapshot"):
        if key in row:
            result.outcomes[f"{key} {row[key]}"] += 1
    texts = " ".join(row.get("reasons", [])) + " " + row.get("render_reason", "")
    if any(marker in texts for marker in MARKERS):
        result.planted_in_reasons.append({"i": row["i"], "changes": row["changes"]})
    if row["seconds"] > result.slowest[0]:
        result.slowest = (row["seconds"], row["i"])


def _scan_logs(work: Path, result: CampaignResult) -> None:
    for log in work.rglob("*.log*"):
        try:
            text = log.read_text("utf-8", "replace")
        except OSError:
            continue
        result.tracebacks += text.count("Traceback (most recent call last)")
        lines = text.splitlines()
        for n, line in enumerate(lines):
            if line.startswith("Traceback (most recent call last)"):
                # The exception line ends the traceback: the first line after it that is not indented.
                tail = next((x for x in lines[n + 1:] if x and not x.startswith(" ")), "?")
                where = next((x.strip() for x in reversed(lines[max(0, n - 3):n]) if " ERROR " in x
                              or " WARNING " in x), "")
                result.traceback_kinds[f"{tail[:100]} <- {where[:120]}"] += 1
        for line in text.splitlines():
            if any(marker in line for marker in MARKERS):
                result.planted_in_logs.append(line)
        log.unlink(missing_ok=True)


def run_campaign(count: int, *, seed: int = 1, jobs: int = 2, batch: int = 150, memory_mb: int = 2048,
                 hang_s: float = 10.0, snapshot_every: int = 25, only: list[int] | None = None,
                 progress: bool = False) -> CampaignResult:
    """Run ``count`` mutants (or just ``only``); see the module notes."""
    import threading

    result = CampaignResult()
    seeds = seed_files()
    spec = {"seeds": seeds, "seed": seed, "memory_mb": memory_mb, "snapshot_every": snapshot_every}
    indices = list(only) if only else list(range(count))
    queue = [indices[i:i + batch] for i in range(0, len(indices), batch)]
    lock = threading.Lock()
    started = time.monotonic()

    def runner(slot: int) -> None:
        while True:
            with lock:
                if not queue:
                    return
                chunk = queue.pop(0)
            with tempfile.TemporaryDirectory(prefix=f"lightbox-fuzz-{slot}-") as tmp:
                left = chunk
                while left:
                    left = _run_child(left, spec, Path(tmp), result, hang_s)
            if progress:
                print(f"  {result.mutants} mutants, {len(result.crashes)} deaths, {len(result.hangs)} hangs, "
                      f"{len(result.uncaught)} uncaught", file=sys.stderr, flush=True)

    threads = [threading.Thread(target=runner, args=(slot,)) for slot in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed_s = time.monotonic() - started
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="children at a time (default 2)")
    parser.add_argument("--batch", type=int, default=150, help="mutants per child (default 150)")
    parser.add_argument("--memory-mb", type=int, default=2048, help="RLIMIT_AS of each child (default 2048)")
    parser.add_argument("--hang-s", type=float, default=10.0, help="a mutant taking longer is a hang (default 10)")
    parser.add_argument("--snapshot-every", type=int, default=25, help="snapshot one mutant in N (0: never)")
    parser.add_argument("--only", type=int, nargs="*", help="run just these mutant numbers")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(json.loads(args.worker))
    result = run_campaign(args.count, seed=args.seed, jobs=args.jobs, batch=args.batch, memory_mb=args.memory_mb,
                          hang_s=args.hang_s, snapshot_every=args.snapshot_every, only=args.only, progress=True)
    print(result.summary())
    return 0 if result.clean else 1


if __name__ == "__main__":
    sys.exit(main())
