"""Subcommand: ``lightbox worklist`` — what to read next, STAT first, with the order's context."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from workstation.cli.common import CliError, Context, Subparsers, format_date, print_json, print_table

if TYPE_CHECKING:  # loaded by the command that needs it (start-up is mostly imports)
    from workstation.worklist.build import WorklistItem


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    p = sub.add_parser("worklist", help="the reading worklist: orders (Modality Worklist, RIS) and studies to read, "
                                        "STAT first, then by time waiting")
    p.add_argument("--json", action="store_true")
    p.add_argument("--from", dest="date_from", default="", metavar="YYYYMMDD", help="study (or scheduled) date from")
    p.add_argument("--to", dest="date_to", default="", metavar="YYYYMMDD", help="study (or scheduled) date to")
    p.add_argument("--modality", default="")
    p.add_argument("--body-part", default="")
    p.add_argument("--status", default="", help="unread, in progress, draft, preliminary, final, amended")
    p.add_argument("--priority", default="", help="STAT, HIGH, ROUTINE, LOW")
    p.add_argument("--mine", action="store_true", help="only studies in progress or reported by this reader")
    p.add_argument("--local", action="store_true", help="do not ask the worklist providers and archives")
    p.add_argument("--open", metavar="KEY", default="",
                   help="open an item (accession or Study Instance UID): retrieve it if needed, mark it in "
                        "progress for this reader and hang it")
    p.add_argument("--force", action="store_true",
                   help="with --open: open even if another reader is reading or has reported it")
    p.add_argument("--release", metavar="KEY", default="",
                   help="leave an item this reader opened (accession or Study Instance UID): without a report it "
                        "is no longer in progress, and the RIS is told")
    p.set_defaults(handler=run_worklist)
    register_hl7(sub)


def _date(value: str, what: str) -> str:
    text = value.replace("-", "")
    if text and not (len(text) == 8 and text.isdigit()):
        raise CliError(f"invalid {what} {value!r}: YYYYMMDD", exit_code=2)
    return text


def run_worklist(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.worklist.build import WORKLIST_STATUSES, WorklistFilter
    from workstation.worklist.gather import load_worklist
    from workstation.worklist.orders import PRIORITIES

    if args.status and args.status.lower() not in WORKLIST_STATUSES:
        raise CliError(f"unknown reading status {args.status!r}: one of {', '.join(WORKLIST_STATUSES)}", exit_code=2)
    if args.priority and args.priority.upper() not in PRIORITIES:
        raise CliError(f"unknown priority {args.priority!r}: one of {', '.join(PRIORITIES)}", exit_code=2)
    flt = WorklistFilter(date_from=_date(args.date_from, "date"), date_to=_date(args.date_to, "date"),
                         modality=args.modality, body_part=args.body_part, reading_status=args.status.lower(),
                         priority=args.priority.upper(), mine=args.mine)
    result = load_worklist(ctx.cache, ctx.settings, flt, network=not args.local)
    if args.open:
        return _open(args, ctx, result.items)
    if args.release:
        return _release(args, ctx, result.items)
    if args.json:
        print_json({"items": [i.as_dict() for i in result.items], "notes": result.notes})
        return 0
    for note in result.notes:
        print(f"note: {note}")
    print_table(["priority", "status", "patient", "ID", "accession", "date", "mod", "procedure", "reason", "where",
                 "study UID"],
                [[i.priority, i.status_words, i.patient_name,
                  i.patient_id, i.accession, format_date(i.study_date), i.modalities, i.requested_procedure,
                  i.reason, i.location, i.study_uid] for i in result.items])
    return 0


def _open(args: argparse.Namespace, ctx: Context, items: list[WorklistItem]) -> int:
    from workstation.worklist.opening import OpenRefused, find_item, open_item

    item = find_item(items, args.open)
    if item is None:
        raise CliError(f"no worklist item {args.open!r} (see 'lightbox worklist')")
    try:
        result = open_item(item, ctx.settings, ctx.home, ctx.cache, force=args.force)
    except OpenRefused as exc:
        raise CliError(str(exc)) from None
    plan = result.plan
    data = {"study_uid": result.study_uid, "retrieved": result.retrieved, "status": "in progress",
            "protocol": plan.protocol_id if plan is not None else "",
            "plan": plan.to_dict() if plan is not None else None}
    if args.json:
        print_json(data)
    else:
        print(f"opened {item.accession or item.study_uid}: {result.retrieved} instances retrieved, "
              f"hung with {data['protocol'] or 'the default layout'}, in progress")
    return 0


def _release(args: argparse.Namespace, ctx: Context, items: list[WorklistItem]) -> int:
    from workstation.worklist.opening import find_item
    from workstation.worklist.reading import DRAFT_KEPT, NOT_CLAIMED, REPORTED, stop_reading

    item = find_item(items, args.release)
    if item is None or not item.study_uid:
        raise CliError(f"no worklist study {args.release!r} (see 'lightbox worklist')")
    outcome = stop_reading(ctx.cache, ctx.settings, item.study_uid)
    words = {NOT_CLAIMED: "not in progress for this reader: nothing to release",
             DRAFT_KEPT: "kept in progress: a report draft is being written",
             REPORTED: "released (its report has told the RIS)"}.get(outcome, "released; the RIS is told")
    if args.json:
        print_json({"study_uid": item.study_uid, "outcome": outcome})
    else:
        print(f"{item.accession or item.study_uid}: {words}")
    return 0


# lightbox hl7 ----------------------------------------------------------------------------------

_HL7_OPTIONS = (
    ("--listen-port", "listen_port", "inbound MLLP port for orders and ADT from the RIS (0: no listener)"),
    ("--listen-address", "listen_address", "address the inbound listener binds to"),
    ("--ris-host", "ris_host", "where reports (ORU^R01) are sent"),
    ("--ris-port", "ris_port", "the RIS's MLLP port"),
    ("--version", "version", "HL7 version: 2.5.1 or 2.3.1"),
    ("--charset", "charset", "MSH-18, e.g. 'UNICODE UTF-8' or 8859/1"),
    ("--sending-application", "sending_application", "MSH-3"),
    ("--sending-facility", "sending_facility", "MSH-4"),
    ("--receiving-application", "receiving_application", "MSH-5"),
    ("--receiving-facility", "receiving_facility", "MSH-6"),
)


def register_hl7(sub: Subparsers) -> None:
    p = sub.add_parser("hl7", help="HL7 with the RIS: settings, the inbound listener, patient changes received")
    hsub = p.add_subparsers(dest="hl7_command", metavar="ACTION", required=True)
    cfg = hsub.add_parser("config", help="show or set the HL7 settings")
    for opt, _key, help_ in _HL7_OPTIONS:
        cfg.add_argument(opt, help=help_)
    cfg.add_argument("--json", action="store_true")
    cfg.set_defaults(handler=run_hl7_config)
    lis = hsub.add_parser("listen", help="receive orders and ADT from the RIS (MLLP) until interrupted")
    lis.add_argument("--port", type=int, default=None, help="override the configured listen port")
    lis.add_argument("--seconds", type=float, default=0.0, help="stop after this long (default: until Ctrl+C)")
    lis.set_defaults(handler=run_hl7_listen)
    ch = hsub.add_parser("changes", help="patient updates and merges received, with the values they replaced")
    ch.add_argument("--patient", default="", metavar="ID")
    ch.add_argument("--json", action="store_true")
    ch.set_defaults(handler=run_hl7_changes)


def run_hl7_config(args: argparse.Namespace, ctx: Context) -> int:
    from dataclasses import asdict

    from workstation.config import ConfigError
    from workstation.hl7.settings import HL7Settings

    hs = HL7Settings.of(ctx.settings)
    changed = False
    for _opt, key, _help in _HL7_OPTIONS:
        given = getattr(args, key)
        if given is not None:
            setattr(hs, key, int(given) if key.endswith("port") and given.strip().isdigit() else given)
            changed = True
    if changed:
        try:
            hs.store(ctx.settings)
        except ConfigError as exc:
            raise CliError(str(exc)) from None
        ctx.save_settings()
    data = asdict(hs)
    if args.json:
        print_json(data)
    else:
        for key in sorted(data):
            print(f"{key}: {data[key]}")
    return 0


def run_hl7_listen(args: argparse.Namespace, ctx: Context) -> int:
    import time

    from workstation.hl7.inbound import start_listener
    from workstation.hl7.settings import HL7Settings

    hs = HL7Settings.of(ctx.settings)
    port = hs.listen_port if args.port is None else args.port
    if not port and args.port is None:
        raise CliError("no HL7 listen port: give --port or set it with 'lightbox hl7 config --listen-port'")
    try:
        listener = start_listener(ctx.cache, hs, port=port,
                                  on_applied=lambda a: print(f"{a.message_type}: {a.summary} ({a.ack_code})",
                                                             flush=True))
    except OSError as exc:
        raise CliError(f"cannot listen on {hs.listen_address}:{port}: {exc.strerror or exc}") from None
    print(f"listening for HL7 on {hs.listen_address}:{listener.port}", flush=True)
    try:
        end = time.monotonic() + args.seconds if args.seconds else None
        while end is None or time.monotonic() < end:
            time.sleep(0.2)
    finally:
        listener.stop()
    return 0


def run_hl7_changes(args: argparse.Namespace, ctx: Context) -> int:
    from dataclasses import asdict

    from workstation.worklist.patients import patient_changes

    changes = patient_changes(ctx.cache, args.patient or None)
    if args.json:
        print_json([asdict(c) for c in changes])
        return 0
    print_table(["when", "action", "patient ID", "field", "was", "now", "source", "study UID"],
                [[c.created, c.action, c.patient_id, c.field, c.old_value, c.new_value, c.source, c.study_uid]
                 for c in changes])
    return 0
