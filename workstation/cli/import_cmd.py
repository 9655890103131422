"""``lightbox import PATH...``"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from workstation.cli.common import Context, Subparsers, human_bytes, print_json
from workstation.jobs.core import CancelToken
from workstation.store.importer import import_paths


def register(sub: Subparsers) -> None:
    p = sub.add_parser("import", help="import files, folders, DICOMDIR file sets and zip archives into the cache")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    bar = None
    progress = None
    if sys.stderr.isatty() and not args.json:
        from tqdm import tqdm

        bar = tqdm(total=0, unit="file", desc="Importing", file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

    # Ctrl+C stops between chunks: what was imported stays, and the summary says so.
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def interrupted(*_args: object) -> None:
        if cancel.cancelled:  # a second Ctrl+C: stop now
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        cancel.cancel()
        print("\ncancelling (files imported so far stay in the cache)…", file=sys.stderr)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, interrupted)
    try:
        summary = import_paths(ctx.cache, args.paths, progress=progress, workers=args.workers, cancel=cancel)
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.close()
    if args.json:
        print_json(summary.as_dict())
    else:
        print(
            f"Imported {summary.imported} ({human_bytes(summary.bytes_imported)}), "
            f"duplicates {summary.duplicates}, conflicts {summary.conflicts}, "
            f"failed {summary.failed}, skipped {len(summary.skipped)}; "
            f"{len(summary.study_uids)} studies" + ("; cancelled" if summary.cancelled else "")
        )
        for s in summary.skipped:
            print(f"  skipped {s.label}: {s.reason}")
        for s in summary.failures:
            print(f"  FAILED {s.label}: {s.reason}")
        for uid in summary.conflict_uids:
            print(f"  conflict {uid}: a different object with this UID is already cached; kept aside")
    # Failed writes mean data did not land: say so in the exit status.
    if summary.cancelled:
        return 130
    return 1 if summary.failed else 0
