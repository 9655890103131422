"""Subcommands: ``protocols list/show/validate/export/import/match/priors``, ``hang`` and ``snapshot``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from workstation.cli.common import CliError, Context, Subparsers, format_date, print_json, print_table
from workstation.hanging.editing import export_protocol, import_protocol, read_dicom
from workstation.hanging.library import ProtocolLibrary, load_file
from workstation.hanging.plan import FILLED, PENDING, HangingPlan, ViewportPlan
from workstation.hanging.prefetch import HangingSettings, prefetch_list, query_patient_studies
from workstation.hanging.protocol import ProtocolError
from workstation.hanging.service import StudyNotCached, plan_study


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    p = sub.add_parser("protocols", help="hanging protocols: list, show, validate, match a study")
    psub = p.add_subparsers(dest="protocols_command", metavar="ACTION", required=True)

    q = psub.add_parser("list", help="the built-in and user protocols (invalid files are reported and skipped)")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=run_list)

    q = psub.add_parser("show", help="a protocol as its file describes it (JSON)")
    q.add_argument("protocol_id", metavar="ID")
    q.set_defaults(handler=run_show)

    q = psub.add_parser("validate", help="check protocol files against the schema")
    q.add_argument("files", nargs="+", metavar="FILE")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=run_validate)

    q = psub.add_parser("export", help="write a protocol as JSON, YAML, or a DICOM Hanging Protocol object (.dcm)")
    q.add_argument("protocol_id", metavar="ID")
    q.add_argument("--out", required=True, metavar="FILE")
    q.set_defaults(handler=run_export)

    q = psub.add_parser("import", help="add a protocol file (JSON, YAML or DICOM Hanging Protocol) to yours")
    q.add_argument("file", metavar="FILE")
    q.set_defaults(handler=run_import)

    for name, target in (("match", psub), ("hang", sub)):
        help_text = "the protocol chosen for a cached study, its score, its priors and each viewport's series"
        q = target.add_parser(name, help=help_text)
        q.add_argument("study_uid", metavar="STUDY_UID")
        q.add_argument("--protocol", metavar="ID", help="hang this protocol instead of the best-scoring one")
        q.add_argument("--json", action="store_true")
        q.set_defaults(handler=run_match)

    q = sub.add_parser("snapshot", help="render a study's hung layout to a PNG, headless, as the viewer shows it")
    q.add_argument("study_uid", metavar="STUDY_UID")
    q.add_argument("--out", required=True, metavar="FILE.png")
    q.add_argument("--size", default="1920x1080", metavar="WxH")
    q.add_argument("--stage", type=int, default=None, metavar="N", help="stage number (default: the first shown)")
    q.add_argument("--protocol", metavar="ID", help="hang this protocol instead of the best-scoring one")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=run_snapshot)

    q = sub.add_parser("prefetch", help="retrieve a day's studies and their priors from a node before reading")
    q.add_argument("--node", required=True, metavar="NAME")
    q.add_argument("--study-date", default="today", metavar="YYYYMMDD|today")
    q.add_argument("--modality", default="", metavar="M")
    q.add_argument("--extra", type=int, default=None, metavar="N",
                   help="relevant priors beyond those the protocol shows (default: the hanging settings')")
    q.add_argument("--method", choices=("move", "get", "dicomweb"), default=None)
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=run_prefetch)

    q = psub.add_parser("priors", help="the priors a study wants: cached ones, and archives' with --node")
    q.add_argument("study_uid", metavar="STUDY_UID")
    q.add_argument("--node", action="append", default=[], metavar="NAME",
                   help="also ask this node for the patient's studies (repeatable; C-FIND only, nothing is retrieved)")
    q.add_argument("--extra", type=int, default=None, metavar="N",
                   help="relevant priors beyond those the protocol shows (default: the hanging settings')")
    q.add_argument("--json", action="store_true")
    q.set_defaults(handler=run_priors)


def _library(ctx: Context, report: bool = True) -> ProtocolLibrary:
    lib = ProtocolLibrary.load(ctx.home)
    if report:
        for err in lib.errors:
            print(f"lightbox: skipped invalid protocol: {err}", file=sys.stderr)
    return lib


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    lib = _library(ctx)
    if args.json:
        print_json({
            "protocols": [{"id": p.id, "name": p.name, "origin": p.origin, "default": p.default,
                           "stages": [s.name for s in p.stages], "priors": p.priors.count, "file": p.source}
                          for p in lib.protocols],
            "errors": [{"file": e.source, "field": e.field, "message": e.message} for e in lib.errors],
        })
        return 0
    print_table(("ID", "Name", "Origin", "Stages", "Priors", "File"),
                ((p.id, p.name + (" (default)" if p.default else ""), p.origin, len(p.stages), p.priors.count,
                  p.source) for p in lib.protocols))
    return 0


def run_show(args: argparse.Namespace, ctx: Context) -> int:
    protocol = _library(ctx).get(args.protocol_id)
    if protocol is None:
        raise CliError(f"no hanging protocol {args.protocol_id!r} (see 'lightbox protocols list')")
    print_json(protocol.to_dict())
    return 0


def run_export(args: argparse.Namespace, ctx: Context) -> int:
    protocol = _library(ctx).get(args.protocol_id)
    if protocol is None:
        raise CliError(f"no hanging protocol {args.protocol_id!r} (see 'lightbox protocols list')")
    try:
        path = export_protocol(protocol, args.out)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc}") from None
    print(f"{path}: {protocol.id}")
    return 0


def run_import(args: argparse.Namespace, ctx: Context) -> int:
    try:
        protocol = import_protocol(ctx.home, args.file)
    except ProtocolError as exc:
        raise CliError(str(exc)) from None
    print(f"imported {protocol.id} ({protocol.name}) into {protocol.source}")
    return 0


def run_validate(args: argparse.Namespace, ctx: Context) -> int:
    results = []
    for path in args.files:
        try:
            p = read_dicom(path) if path.lower().endswith(".dcm") else load_file(path)
            results.append({"file": path, "valid": True, "id": p.id, "field": "", "message": ""})
        except ProtocolError as exc:
            results.append({"file": path, "valid": False, "id": "", "field": exc.field, "message": exc.message})
    if args.json:
        print_json(results)
    else:
        for r in results:
            if r["valid"]:
                print(f"{r['file']}: valid ({r['id']})")
            else:
                where = f"{r['field']}: " if r["field"] else ""
                print(f"{r['file']}: {where}{r['message']}", file=sys.stderr)
    return 0 if all(r["valid"] for r in results) else 1


def run_match(args: argparse.Namespace, ctx: Context) -> int:
    try:
        plan = plan_study(ctx.cache, _library(ctx), args.study_uid, protocol_id=args.protocol)
    except StudyNotCached:
        raise CliError(f"no study {args.study_uid} in the cache (see 'lightbox studies')") from None
    except KeyError as exc:
        raise CliError(f"{exc.args[0]} (see 'lightbox protocols list')") from None
    if args.json:
        print_json(plan.to_dict())
    else:
        print_plan(plan)
    return 0


def run_snapshot(args: argparse.Namespace, ctx: Context) -> int:
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
        if not (64 <= width <= 8192 and 64 <= height <= 8192):
            raise ValueError
    except ValueError:
        raise CliError(f"invalid size {args.size!r}: WIDTHxHEIGHT, 64 to 8192 each", exit_code=2) from None
    from workstation.ui.hanging_snapshot import snapshot  # Qt is loaded only for this command

    ctx.close()  # the snapshot opens the cache itself, on the GUI thread
    try:
        result = snapshot(ctx.home, args.study_uid, args.out, size=(width, height), stage=args.stage,
                          protocol_id=args.protocol)
    except StudyNotCached:
        raise CliError(f"no study {args.study_uid} in the cache (see 'lightbox studies')") from None
    except (KeyError, IndexError) as exc:
        raise CliError(str(exc.args[0]) if exc.args else str(exc)) from None
    if args.json:
        print_json(result)
    else:
        print(f"{result['file']}: {result['protocol']}, stage {result['stage']} ({result['stage_name']})")
    return 0


def run_prefetch(args: argparse.Namespace, ctx: Context) -> int:
    import datetime as dt

    from workstation.hanging.prefetch import prefetch_day

    date = dt.date.today().strftime("%Y%m%d") if args.study_date == "today" else args.study_date
    if not (len(date) == 8 and date.isdigit()):
        raise CliError(f"invalid date {args.study_date!r}: YYYYMMDD or today", exit_code=2)
    try:
        node = ctx.settings.node(args.node)
    except Exception as exc:  # noqa: BLE001 - an unknown node name is the user's to fix
        raise CliError(str(exc)) from None
    extra = HangingSettings.of(ctx.settings).extra_priors if args.extra is None else max(args.extra, 0)

    def say(entry: dict[str, Any]) -> None:
        if not args.json:
            fetched = sum(p["fetched"] for p in entry["priors"])
            print(f"{entry['study_uid']}  {entry['description']}: {entry['retrieve']}; "
                  f"{len(entry['priors'])} prior(s), {fetched} fetched")

    results = prefetch_day(node, ctx.settings, ctx.home, ctx.cache, _library(ctx), date, modality=args.modality,
                           extra=extra, method=args.method, on_study=say)
    if args.json:
        print_json(results)
    elif not results:
        with_modality = f" with {args.modality}" if args.modality else ""
        print(f"{node.name} has no studies on {format_date(date)}{with_modality}")
    ok = all(r["ok"] and all(p["ok"] for p in r["priors"]) for r in results)
    return 0 if ok else 1


def run_priors(args: argparse.Namespace, ctx: Context) -> int:
    hs = HangingSettings.of(ctx.settings)
    extra = hs.extra_priors if args.extra is None else max(args.extra, 0)
    lib = _library(ctx)
    from workstation.hanging.facts import study_facts

    current = study_facts(ctx.cache, args.study_uid, with_series=False)
    if current is None:
        raise CliError(f"no study {args.study_uid} in the cache (see 'lightbox studies')")
    remote = []
    for name in args.node:
        try:
            node = ctx.settings.node(name)
        except Exception as exc:  # noqa: BLE001 - an unknown node name is the user's to fix
            raise CliError(str(exc)) from None
        remote += query_patient_studies(node, ctx.settings.ae_title, current)
    items = prefetch_list(ctx.cache, lib, args.study_uid, remote=remote, extra=extra)
    if args.json:
        print_json([i.to_dict() for i in items])
        return 0
    print_table(("Role", "Date", "Description", "Cached", "Source", "Study UID"),
                ((i.role, format_date(i.study_date), i.description, "yes" if i.in_cache else "no", i.source,
                  i.study_uid) for i in items))
    return 0


# Text output ---------------------------------------------------------------------------


def _viewport_line(v: ViewportPlan) -> str:
    where = f"{v.index + 1:>2} {v.study_role:<8}"
    if v.status == PENDING:
        return f"{where} (waiting) {v.note}"
    if v.status != FILLED:
        return f"{where} (empty)   {v.note}"
    parts = [f"{v.series_label}", f"image {v.initial_image + 1}/{v.number_of_images}"]
    if v.window is not None:
        parts.append(f"window {v.window.name or 'custom'} (W {v.window.width:g} L {v.window.center:g})")
    if v.rotation or v.flip_horizontal:
        parts.append(f"rotate {v.rotation}" + (" + mirror" if v.flip_horizontal else ""))
    if v.invert:
        parts.append("inverted")
    if v.cine:
        parts.append("cine")
    if v.sync:
        parts.append("sync " + " ".join(f"{k}={g}" for k, g in v.sync.items()))
    if v.note:
        parts.append(f"note: {v.note}")
    return f"{where} " + "  ".join(parts)


def print_plan(plan: HangingPlan) -> None:
    """The plan as people read it (``--json`` gives everything)."""
    print(f"Protocol: {plan.protocol_name} ({plan.protocol_id}, {plan.origin}), score {plan.score:g}: {plan.reason}")
    for r in plan.rules:
        mark = "+" if r["passed"] else "-"
        flags = f"weight {r['weight']:g}" + (", required" if r["required"] else "")
        print(f"  {mark} {r['rule']} ({flags})")
    others = [c for c in plan.candidates if c.protocol_id != plan.protocol_id]
    if others:
        print("Other protocols:")
        for c in others:
            state = ("accepted" if c.fits else "accepted, but fills no viewport from this study") if c.accepted \
                else ("excluded: " + "; ".join(c.failed_required) if c.failed_required else "no rule matched")
            if c.default:
                state = "default"
            print(f"  {c.protocol_id:<20} score {c.score:<4g} {state}")
    for title, priors in (("Priors", plan.priors), ("More relevant priors", plan.more_priors),
                          ("Possible matches (other Patient ID or name; not used)", plan.possible_matches)):
        if priors:
            print(f"{title}:")
            for p in priors:
                where = "cached" if p.in_cache else f"on {p.source}, not cached"
                print(f"  {p.role or '-':<7} {format_date(p.study_date)} {p.description} ({where}) {p.study_uid}")
    for i, stage in enumerate(plan.stages):
        shape = f"{stage.rows} x {stage.columns}" if stage.layout == "grid" else "custom"
        flags = (" [first shown]" if i == plan.initial_stage else "") + ("" if stage.enabled else " [skipped]")
        print(f"Stage {i + 1} of {len(plan.stages)}: {stage.name} ({shape}){flags}")
        for v in stage.viewports:
            print("  " + _viewport_line(v))
