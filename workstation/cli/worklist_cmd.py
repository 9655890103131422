"""Subcommand: ``lightbox worklist`` — what to read next, STAT first, with the order's context."""

from __future__ import annotations

from workstation.cli.common import CliError, Context, format_date, print_json, print_table


def register(sub) -> None:
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
    p.add_argument("--force", action="store_true", help="with --open: open even if another reader has it")
    p.set_defaults(handler=run_worklist)


def _date(value: str, what: str) -> str:
    text = value.replace("-", "")
    if text and not (len(text) == 8 and text.isdigit()):
        raise CliError(f"invalid {what} {value!r}: YYYYMMDD", exit_code=2)
    return text


def run_worklist(args, ctx: Context) -> int:
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
    if args.json:
        print_json({"items": [i.as_dict() for i in result.items], "notes": result.notes})
        return 0
    for note in result.notes:
        print(f"note: {note}")
    print_table(["priority", "status", "patient", "ID", "accession", "date", "mod", "procedure", "reason", "where",
                 "study UID"],
                [[i.priority, i.reading_status + (f" ({i.claimed_by})" if i.claimed_by else ""), i.patient_name,
                  i.patient_id, i.accession, format_date(i.study_date), i.modalities, i.requested_procedure,
                  i.reason, i.location, i.study_uid] for i in result.items])
    return 0


def _open(args, ctx: Context, items) -> int:
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
            "protocol": getattr(plan, "protocol_id", "") if plan is not None else "",
            "plan": plan.to_dict() if plan is not None else None}
    if args.json:
        print_json(data)
    else:
        print(f"opened {item.accession or item.study_uid}: {result.retrieved} instances retrieved, "
              f"hung with {data['protocol'] or 'the default layout'}, in progress")
    return 0
