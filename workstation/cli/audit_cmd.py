"""``lightbox audit [--patient ID] [--since DATE] [--json]``, ``lightbox audit verify`` and ``lightbox audit flush``."""

from __future__ import annotations

import argparse

from workstation import audit
from workstation.audit.store import parse_since
from workstation.cli.common import CliError, Context, Subparsers, print_json, print_table


def register(sub: Subparsers) -> None:
    p = sub.add_parser("audit", help="the audit trail: who saw and changed what (list, verify, flush)")
    p.add_argument("action", nargs="?", choices=("list", "verify", "flush", "password"), default="list",
                   help="list events (default), verify the store's hash chain, send queued events to the repository, "
                        "or set the password that unlocks the idle lock (read from the terminal, or one line of stdin)")
    p.add_argument("--patient", metavar="ID", help="only events about this Patient ID")
    p.add_argument("--since", metavar="DATE", help="only events at or after this date or date-time (ISO 8601, UTC)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_audit)


def _set_lock_password(ctx: Context) -> int:
    import getpass
    import sys

    from workstation.audit import login

    if sys.stdin.isatty():
        password = getpass.getpass("Lock password: ")
        if getpass.getpass("Again: ") != password:
            raise CliError("the two passwords differ; nothing changed")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 4:
        raise CliError("a lock password has at least 4 characters; nothing changed")
    login.set_lock_password(ctx.settings.extra, password)
    ctx.save_settings()
    print("Lock password set (only its scrypt hash is stored in the settings).")
    return 0


def run_audit(args: argparse.Namespace, ctx: Context) -> int:
    auditor = audit.configure(ctx.home)
    if args.action in ("list", "verify"):  # reading the trail is itself audited (after the check, not in it)
        def used() -> None:
            auditor.record(audit.events.audit_log_used, auditor.store.path.as_uri())

    if args.action == "verify":
        result = auditor.store.verify()
        used()
        if args.json:
            print_json({"ok": result.ok, "records": result.records, "bad_record": result.bad_line or None,
                        "reason": result.reason or None})
        elif result.ok:
            print(f"Audit trail intact: {result.records} records, each chained to the one before.")
        else:
            print(f"Audit trail BROKEN at record {result.bad_line}: {result.reason} "
                  f"({result.records} records before it are intact).")
        return 0 if result.ok else 1
    if args.action == "password":
        return _set_lock_password(ctx)
    if args.action == "flush":
        if auditor.repository is None:
            raise CliError("no audit repository set (settings: audit.repository = host:port)")
        sent, pending = auditor.flush()
        print(f"Sent {sent} audit records to {auditor.repository.describe()}; {pending} still queued.")
        return 0 if pending == 0 else 1
    try:
        since = parse_since(args.since) if args.since else None
    except ValueError:
        raise CliError(f"--since: not a date or date-time: {args.since!r} "
                       "(use e.g. 2026-12-06 or 2026-12-06T14:00)") from None
    rows = []
    for rec in auditor.store.records():
        if args.patient and args.patient not in rec.get("patients", []):
            continue
        if since is not None:
            try:
                if parse_since(rec.get("time", "")) < since:
                    continue
            except ValueError:
                continue
        rows.append(rec)
    used()
    if args.json:
        print_json([{k: v for k, v in r.items() if k not in ("prev", "hash")} for r in rows])
        return 0
    print_table(["#", "Time", "Event", "Type", "Action", "Outcome", "User", "Patients", "Studies"],
                [[r.get("seq"), str(r.get("time", ""))[:19], r.get("event"), r.get("type"), r.get("action"),
                  r.get("outcome"), r.get("user"), " ".join(r.get("patients", [])), len(r.get("studies", []))]
                 for r in rows])
    return 0
