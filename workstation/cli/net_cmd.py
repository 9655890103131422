"""Subcommands: query, retrieve, send, listen (connectivity)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from workstation import audit
from workstation.cli.common import CliError, Context, Subparsers, print_json
from workstation.config import ConfigError, Node

if TYPE_CHECKING:  # pynetdicom and the SCP are loaded by the commands that need them (start-up is mostly imports)
    from workstation.net.patient_root_find import PatientRootStudies
    from workstation.net.query_match import FilteredAnswers
    from workstation.net.retrieve import RetrieveProgress
    from workstation.net.storage_scp import Received

_T = TypeVar("_T")

# Columns shown per query level: (header, keyword, width).
_COLUMNS = {
    "PATIENT": [("patient name", "PatientName", 28), ("patient ID", "PatientID", 16),
                ("birth date", "PatientBirthDate", 10), ("studies", "NumberOfPatientRelatedStudies", 7)],
    "STUDY": [("patient name", "PatientName", 24), ("patient ID", "PatientID", 14), ("date", "StudyDate", 8),
              ("modalities", "ModalitiesInStudy", 10), ("description", "StudyDescription", 24),
              ("accession", "AccessionNumber", 12), ("images", "NumberOfStudyRelatedInstances", 6),
              ("study UID", "StudyInstanceUID", 0)],
    "SERIES": [("modality", "Modality", 8), ("number", "SeriesNumber", 6), ("description", "SeriesDescription", 28),
               ("images", "NumberOfSeriesRelatedInstances", 6), ("series UID", "SeriesInstanceUID", 0)],
    "IMAGE": [("number", "InstanceNumber", 6), ("SOP class", "SOPClassUID", 28),
              ("SOP instance UID", "SOPInstanceUID", 0)],
}


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    q = sub.add_parser("query", help="C-FIND (or QIDO-RS) on a node; results print as they arrive")
    q.add_argument("node", metavar="NODE")
    q.add_argument("--level", choices=("patient", "study", "series", "image"), default="study")
    q.add_argument("--patient-id")
    q.add_argument("--patient-name", help="wildcards * and ? work")
    q.add_argument("--accession")
    q.add_argument("--study-date", help="YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end may be left out)")
    q.add_argument("--modality")
    q.add_argument("--study", metavar="UID", help="Study Instance UID")
    q.add_argument("--series", metavar="UID", help="Series Instance UID")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=query)

    r = sub.add_parser("retrieve", help="bring a study (or some series) from a node into the cache")
    r.add_argument("node", metavar="NODE")
    r.add_argument("--study", metavar="UID", required=True)
    r.add_argument("--series", metavar="UID", action="append", default=[])
    r.add_argument("--method", choices=("move", "get", "dicomweb"), help="default: the node's retrieve method")
    r.add_argument("--patient-id", metavar="ID", default=None,
                   help="the study's Patient ID, for a patient-root node (default: asked of the archive)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=retrieve)

    s = sub.add_parser("send", help="C-STORE (or STOW-RS) cached studies, series or files to a node")
    s.add_argument("node", metavar="NODE")
    s.add_argument("files", nargs="*", metavar="FILE")
    s.add_argument("--study", metavar="UID", help="a cached study")
    s.add_argument("--series", metavar="UID", help="a cached series")
    s.add_argument("--commit", action="store_true",
                   help="request Storage Commitment and wait for the result (C-FIND check when unsupported)")
    s.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the commitment result")
    s.add_argument("--json", action="store_true")
    s.set_defaults(handler=send)

    listen = sub.add_parser("listen", help="run our storage SCP in the foreground until Ctrl+C")
    listen.add_argument("--port", type=int, help="default: the storage_port setting")
    listen.add_argument("--bind", metavar="ADDRESS", help="default: the storage_bind_address setting")
    listen.set_defaults(handler=run_listener)


def _node(ctx: Context, name: str) -> Node:
    try:
        return ctx.settings.node(name)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _interruptible(work: Callable[[], _T], cancel: threading.Event) -> _T:
    """Run ``work`` on a thread; Ctrl+C (or SIGTERM) sets ``cancel`` and waits for it to wind down."""
    box: dict[str, Any] = {}
    # Waiting on an Event, not Thread.join: a KeyboardInterrupt inside join() can leave the
    # thread looking finished while it still runs (then no result: "error: 'result'").
    finished = threading.Event()

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            box["error"] = exc
        finally:
            finished.set()

    thread = threading.Thread(target=target, name="lightbox-job", daemon=True)
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: cancel.set()) if on_main else None
    thread.start()
    try:
        while not finished.is_set():
            try:
                finished.wait(0.2)
            except KeyboardInterrupt:
                cancel.set()
                print("\ncancelling (completed files stay in the cache)…", file=sys.stderr)
        if "error" in box:
            raise box["error"]
        result: _T = box["result"]
        return result
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def query(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.net.association import NetworkError

    node = _node(ctx, args.node)
    keys = {k: v for k, v in {
        "PatientID": args.patient_id, "PatientName": args.patient_name, "AccessionNumber": args.accession,
        "StudyDate": args.study_date, "Modality": args.modality, "StudyInstanceUID": args.study,
        "SeriesInstanceUID": args.series}.items() if v}
    level = args.level.upper()
    columns = _COLUMNS[level]
    rows = []
    audit.queried(node, level, keys)
    results: FilteredAnswers | PatientRootStudies
    try:
        if node.retrieve == "dicomweb" and node.url:
            from workstation.net.dicomweb import qido

            from workstation.net.find import build_identifier
            from workstation.net.query_match import FilteredAnswers as Filtered

            results = Filtered(iter(qido(node, level, keys)), build_identifier(level, keys))
        elif level == "STUDY":
            from workstation.net.patient_root_find import find_studies

            # A Patient Root node is asked for the patients first, then each one's studies.
            results = find_studies(node, ctx.settings.ae_title, keys)
        else:
            from workstation.net.find import find

            results = find(node, ctx.settings.ae_title, level, keys)
        if not args.json:
            print("  ".join(h.ljust(w) if w else h for h, _kw, w in columns), flush=True)
        for ds in results:
            values = {kw: _text(ds.get(kw)) for _h, kw, _w in columns}
            rows.append(values)
            if not args.json:
                print("  ".join(values[kw][:w].ljust(w) if w else values[kw] for _h, kw, w in columns), flush=True)
    except KeyboardInterrupt:
        # Ctrl+C: the association is aborted on the way out; say how far the answers got.
        if args.json:
            print_json(rows)
        raise CliError(f"interrupted after {len(rows)} result{'s' if len(rows) != 1 else ''}", exit_code=130) from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    except NetworkError as exc:
        raise CliError(str(exc)) from None
    note = results.note()
    if args.json:
        print_json(rows)
    else:
        print(f"{len(rows)} {level.lower()}{'' if len(rows) == 1 else ' results'}", file=sys.stderr)
    if note:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _text(value: Any) -> str:  # a data element's value: str, number, MultiValue, PersonName…
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v) for v in value)
    return str(value)


def retrieve(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.net.association import NetworkError
    from workstation.net.retrieve import retrieve as run_retrieve

    node = _node(ctx, args.node)
    cancel = threading.Event()
    tty = sys.stderr.isatty() and not args.json

    def progress(p: RetrieveProgress) -> None:
        if tty:
            print(f"\r{p.completed} completed, {p.remaining} remaining, {p.failed} failed  {p.mb_per_s:.1f} MB/s   ",
                  end="", file=sys.stderr, flush=True)

    try:
        report = _interruptible(lambda: run_retrieve(node, ctx.settings, ctx.home, ctx.cache, args.study, args.series,
                                                     method=args.method, progress=progress, cancel=cancel,
                                                     patient_id=args.patient_id), cancel)
    except (NetworkError, ValueError) as exc:
        if cancel.is_set():
            # Interrupted before the transfer began (listing the study): nothing was retrieved.
            print(f"Retrieve cancelled before any instance arrived ({exc}); the cache is unchanged.")
            raise CliError("cancelled", exit_code=130) from None
        raise CliError(str(exc)) from None
    audit.transferred(node, ctx.cache, [report.study_uid], we_send=False, ok=not (report.failed or report.error))
    if tty:
        print(file=sys.stderr)
    if args.json:
        print_json({"node": report.node, "study": report.study_uid, "method": report.method,
                    "expected": report.expected, "already_cached": report.already_cached,
                    "retrieved": report.retrieved, "failed": report.failed, "missing": report.missing,
                    "cancelled": report.cancelled, "error": report.error, "notes": report.notes,
                    "bytes": report.bytes, "seconds": round(report.elapsed_s, 3)})
    else:
        for note in report.notes:
            print(f"note: {note}")
        print(report.summary())
    if report.failed:
        raise CliError(f"{report.failed} instance{'s' if report.failed != 1 else ''} failed"
                       + (f": {report.error}" if report.error else ""), exit_code=min(report.failed, 125))
    if report.error or report.cancelled:
        raise CliError(report.error or "cancelled")
    return 0


def _files_for(args: argparse.Namespace, ctx: Context) -> list[Path]:
    if sum(bool(x) for x in (args.files, args.study, args.series)) != 1:
        raise CliError("give one of --study UID, --series UID, or files")
    if args.files:
        return [Path(f) for f in args.files]
    cache = ctx.cache
    if args.study:
        series = [s.series_uid for s in cache.series(args.study)]
        if not series:
            raise CliError(f"no study {args.study} in the cache")
    else:
        series = [args.series]
    paths = [cache.path_of(row) for uid in series for row in cache.instances(uid)]
    if not paths:
        raise CliError(f"no series {args.series} in the cache")
    return paths


def send(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.net.association import NetworkError
    from workstation.net.delivery import deliver

    node = _node(ctx, args.node)
    paths = _files_for(args, ctx)
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise CliError(f"no such file: {missing[0]}")
    cancel = threading.Event()
    try:
        report = _interruptible(lambda: deliver(paths, node, home=ctx.home, settings=ctx.settings, cache=ctx.cache,
                                                commit=args.commit, timeout=args.timeout, cancel=cancel), cancel)
    except NetworkError as exc:
        raise CliError(str(exc)) from None
    audit.sent(node, ctx.cache, [o.sop_instance_uid for o in report.outcomes], ok=report.count("failed") == 0)
    if args.json:
        print_json({"node": report.node, "check": report.check, "notes": report.notes,
                    "objects": [{"file": str(o.path), "sop_instance_uid": o.sop_instance_uid, "state": o.state,
                                 "reason": o.reason} for o in report.outcomes]})
    else:
        for o in report.outcomes:
            print(f"{o.state:9}  {o.sop_instance_uid}" + (f"  {o.reason}" if o.reason and o.state != "stored" else ""))
        for note in report.notes:
            print(f"note: {note}")
        print(report.summary())
    bad = report.count("failed") + report.count("unknown")
    if bad:
        raise CliError(f"{bad} of {len(report.outcomes)} objects not confirmed", exit_code=1)
    return 0


def run_listener(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.net.association import NetworkError
    from workstation.net.listener import Listener

    def arrived(received: Received) -> None:
        # UIDs only: never patient names or IDs on the console either (it may be logged).
        state = received.outcome if received.status == 0 else f"FAILED 0x{received.status:04X} {received.message}"
        print(f"{time.strftime('%H:%M:%S')} {received.calling_ae:16} {state:9} {received.sop_instance_uid}", flush=True)

    listener = Listener(ctx.home, ctx.settings, ctx.cache, on_received=arrived, port=args.port, bind_address=args.bind)
    try:
        listener.start()
    except NetworkError as exc:
        raise CliError(str(exc)) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scp = listener.scp
    print(f"Listening as {scp.ae_title} on {scp.bind_address}:{scp.port}; Ctrl+C stops.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
    st = scp.stats
    print(f"stopped: {st.stored} stored, {st.duplicates} duplicates, {st.conflicts} conflicts, {st.failed} failed")
    return 0
