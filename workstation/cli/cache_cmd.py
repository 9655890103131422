"""``lightbox cache verify|prune|purge|pin|info``"""

from __future__ import annotations

import argparse
from typing import Any

from workstation import audit
from workstation.cli.common import CliError, Context, Subparsers, human_bytes, print_json
from workstation.store.maintenance import prune, remove_studies, verify
from workstation.store.queries import StudyRow


def register(sub: Subparsers) -> None:
    p = sub.add_parser("cache", help="check, repair and trim the local study cache")
    csub = p.add_subparsers(dest="cache_command", metavar="ACTION", required=True)

    v = csub.add_parser("verify", help="compare index and files (missing, orphaned, changed)")
    v.add_argument("--repair", action="store_true",
                   help="index orphans, drop rows of missing files, remove unfinished writes")
    v.add_argument("--quick", action="store_true", help="check sizes only, not content hashes")
    v.add_argument("--json", action="store_true")
    v.set_defaults(handler=run_verify)

    pr = csub.add_parser("prune", help="evict least-recently-opened studies (never pinned or open ones), "
                                       "or remove one patient's studies")
    which = pr.add_mutually_exclusive_group(required=True)
    which.add_argument("--max-gb", type=float, help="target cache size in GB")
    which.add_argument("--patient", metavar="ID", help="remove every study of this Patient ID (pinned ones too)")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(handler=run_prune)

    pu = csub.add_parser("purge", help="remove every study from the cache (an audit record names each patient)")
    pu.add_argument("--yes", action="store_true", help="do it (without, nothing is removed)")
    pu.add_argument("--json", action="store_true")
    pu.set_defaults(handler=run_purge)

    pin = csub.add_parser("pin", help="keep a study in the cache whatever its age")
    pin.add_argument("study_uid")
    pin.add_argument("--off", action="store_true", help="unpin")
    pin.set_defaults(handler=run_pin)

    info = csub.add_parser("info", help="where the cache is and how big")
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=run_info)


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    report = verify(ctx.cache, repair=args.repair, check_hashes=not args.quick)
    recovered = list(getattr(ctx.cache, "recovered", []))
    if args.json:
        print_json(report.as_dict())
    else:
        state = "consistent" if report.consistent else "INCONSISTENT"
        print(
            f"Cache {state}: {report.checked} indexed files checked; missing {len(report.missing)}, "
            f"changed {len(report.mismatched)}, orphaned {len(report.orphans)}, unfinished writes {len(report.partial)}"
        )
        if report.consistent and not report.tidy and not args.repair:
            print("  every indexed file is intact; leftovers of interrupted writes remain ('--repair' tidies them)")
        for uid in report.missing:
            print(f"  missing file for {uid}")
        for uid in report.mismatched:
            print(f"  file changed for {uid}")
        for rel in report.orphans:
            print(f"  orphaned {rel}")
        for rel in report.partial:
            print(f"  unfinished write {rel}")
        for line in report.repaired:
            print(f"  repaired: {line}")
        for line in recovered:
            print(f"  tidied at start: {line}")
    if args.repair:
        return 0 if verify(ctx.cache, check_hashes=False).tidy else 1
    # Leftovers (orphans, unfinished writes) are not harmless: say so in the exit status too.
    return 0 if report.tidy else 1


def _remove(ctx: Context, studies: list[StudyRow], what: str, as_json: bool) -> int:
    removed, held = remove_studies(ctx.cache, [s.study_uid for s in studies])
    gone = [s for s in studies if s.study_uid in removed]
    audit.deleted([(s.patient_id, s.patient_name) for s in gone], removed, what)
    if as_json:
        print_json({"removed_studies": removed, "kept_open": held})
    else:
        kept = f"; {len(held)} kept because they are open or queued" if held else ""
        print(f"Removed {len(removed)} studies{kept}")
    return 0 if not held else 1


def run_purge(args: argparse.Namespace, ctx: Context) -> int:
    if not args.yes:
        raise CliError("'cache purge' removes every study from this workstation: add --yes to do it", exit_code=2)
    return _remove(ctx, ctx.cache.studies(), "cache purge", args.json)


def run_prune(args: argparse.Namespace, ctx: Context) -> int:
    if args.patient is not None:
        studies = [s for s in ctx.cache.studies() if s.patient_id == args.patient]
        if not studies:
            raise CliError(f"no study of patient ID {args.patient!r} in the cache")
        return _remove(ctx, studies, "cache prune --patient", args.json)
    if args.max_gb < 0:
        raise CliError("--max-gb must be zero or more", exit_code=2)
    before = {s.study_uid: (s.patient_id, s.patient_name) for s in ctx.cache.studies()}
    report = prune(ctx.cache, int(args.max_gb * 1024**3))
    audit.deleted([before[u] for u in report.evicted if u in before], report.evicted, "cache prune (size)")
    if args.json:
        print_json(report.as_dict())
    else:
        print(
            f"Cache {human_bytes(report.before_bytes)} -> {human_bytes(report.after_bytes)}; "
            f"evicted {len(report.evicted)} studies, kept {report.kept_pinned} pinned or open"
        )
    return 0


def run_pin(args: argparse.Namespace, ctx: Context) -> int:
    if not ctx.cache.set_pinned(args.study_uid, not args.off):
        raise CliError(f"no study {args.study_uid} in the cache")
    print(("Unpinned " if args.off else "Pinned ") + args.study_uid)
    return 0


def run_info(args: argparse.Namespace, ctx: Context) -> int:
    studies = ctx.cache.studies()
    data: dict[str, Any] = {
        "home": str(ctx.home.data_dir),
        "cache": str(ctx.home.cache_dir),
        "index": str(ctx.home.index_file),
        "studies": len(studies),
        "instances": sum(s.num_instances for s in studies),
        "bytes": sum(s.size_bytes for s in studies),
    }
    if args.json:
        print_json(data)
    else:
        for k, v in data.items():
            print(f"{k}: {human_bytes(v) if k == 'bytes' else v}")
    return 0
