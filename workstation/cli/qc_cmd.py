"""Subcommands: qc check/correct/reject/split/merge/done/rejected, tags (technologist QC).

Corrections, splits and merges print exactly what they will change before they
change anything; ``--dry-run`` stops there.  Produced objects go into the
cache first; ``--send NODE`` then sends the corrected copies followed by the
rejection notes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from workstation import audit
from workstation.cli.common import CliError, Context, Subparsers, print_json
from workstation.config import ConfigError, Node

if TYPE_CHECKING:  # loaded by the commands that need them (start-up is mostly imports)
    from pydicom import Dataset

    from workstation.qc.instances import Produced, QcOutcome
    from workstation.store.cache import StudyCache

_REASONS = ("quality", "worklist", "safety", "retention")
_SPLIT_MODES = ("orientation", "position", "acquisition", "instances")


class _Plan(Protocol):
    """What a correction, split or merge plan shows before it is applied."""

    def lines(self) -> list[str]: ...

    def as_dict(self) -> dict[str, Any]: ...


_P = TypeVar("_P", bound=_Plan)


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    qc = sub.add_parser("qc", help="technologist QC: check, correct, reject, split, merge (IHE IOCM)")
    qsub = qc.add_subparsers(dest="qc_command", metavar="QC_COMMAND", required=True)

    check = qsub.add_parser("check", help="the study's QC checklist; exit 2 when an item failed")
    check.add_argument("study", metavar="STUDY_UID")
    check.add_argument("--node", metavar="NAME", help="also compare with this archive (instance counts and lists)")
    check.add_argument("--thorough", action="store_true", help="list every series' instances on the archive")
    check.add_argument("--fetch", action="store_true", help="retrieve the missing instances (with --node)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=check_cmd)

    correct = qsub.add_parser("correct", help="correct patient and study attributes of a whole study")
    correct.add_argument("study", metavar="STUDY_UID")
    correct.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEYWORD=VALUE",
                         required=True, help="e.g. PatientName=Doe^Jane (repeat for more)")
    correct.add_argument("--new-study", action="store_true", help="give the corrected copies a new Study Instance UID")
    _common(correct, default_rejection="worklist", reason_required=True)
    correct.set_defaults(handler=correct_cmd)

    reject = qsub.add_parser("reject", help="reject instances with an IOCM rejection note")
    reject.add_argument("sop_uids", nargs="+", metavar="SOP_UID")
    reject.add_argument("--reason", required=True, choices=_REASONS,
                        help="quality (113001), worklist (113038), safety (113037), retention (113039)")
    reject.add_argument("--quality-reason", metavar="NAME",
                        help="with --reason quality: what was wrong (CID 7011), e.g. motion-blur, positioning")
    reject.add_argument("--comment", default="", help="free text written into the note")
    reject.add_argument("--operator", help="who (default: the login name)")
    reject.add_argument("--send", metavar="NODE", help="send the rejection note to this node")
    reject.add_argument("--json", action="store_true")
    reject.set_defaults(handler=reject_cmd)

    split = qsub.add_parser("split", help="split a series (the largest group stays; the others move to new series)")
    split.add_argument("series", metavar="SERIES_UID")
    split.add_argument("--by", nargs="+", required=True, metavar="MODE",
                       help="orientation | position | acquisition | instances UID,UID,...")
    _common(split, default_rejection="quality", reason_required=False)
    split.set_defaults(handler=split_cmd)

    merge = qsub.add_parser("merge", help="merge series of one study into one new series")
    merge.add_argument("series", nargs="+", metavar="SERIES_UID")
    _common(merge, default_rejection="quality", reason_required=False)
    merge.set_defaults(handler=merge_cmd)

    done = qsub.add_parser("done", help='mark a study "QC done" (stored locally)')
    done.add_argument("study", metavar="STUDY_UID")
    done.add_argument("--undo", action="store_true", help="remove the mark")
    done.add_argument("--operator", help="who (default: the login name)")
    done.set_defaults(handler=done_cmd)

    rejected = qsub.add_parser("rejected", help="the study's rejected instances (hidden when reading)")
    rejected.add_argument("study", metavar="STUDY_UID")
    rejected.add_argument("--json", action="store_true")
    rejected.set_defaults(handler=rejected_cmd)

    tags = sub.add_parser("tags", help="an instance's data set as a tree; search it, or diff it with another")
    tags.add_argument("target", metavar="FILE|SOP_UID")
    tags.add_argument("--search", metavar="TEXT", help="a tag (0010,0010), a keyword, a name or a value")
    tags.add_argument("--diff", metavar="FILE|SOP_UID", help="show what differs from this instance")
    tags.add_argument("--json", action="store_true")
    tags.set_defaults(handler=tags_cmd)


def _common(p: argparse.ArgumentParser, *, default_rejection: str, reason_required: bool) -> None:
    p.add_argument("--reason", required=reason_required, default="", metavar="TEXT",
                   help="why (written into the rejection note and the QC audit)")
    p.add_argument("--rejection", choices=_REASONS, default=default_rejection,
                   help=f"title of the originals' rejection note (default: {default_rejection})")
    p.add_argument("--operator", help="who (default: the login name)")
    p.add_argument("--dry-run", action="store_true", help="show what would change and stop")
    p.add_argument("--send", metavar="NODE", help="send the corrected copies, then the rejection note, to this node")
    p.add_argument("--json", action="store_true")


def _node(ctx: Context, name: str) -> Node:
    try:
        return ctx.settings.node(name)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def _qc_errors() -> tuple[type[Exception], ...]:
    from workstation.net.association import NetworkError
    from workstation.qc.instances import QcError

    return (QcError, NetworkError)


# check ------------------------------------------------------------------------------------------
def check_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc.checklist import build_checklist
    from workstation.qc.completeness import check_completeness, fetch_missing

    if args.fetch and not args.node:
        raise CliError("--fetch needs --node NAME (the archive to fetch from)")
    report = fetched = None
    try:
        if args.node:
            node = _node(ctx, args.node)
            report = check_completeness(ctx.cache, node, ctx.settings.ae_title, args.study, thorough=args.thorough)
            if args.fetch and report.missing:
                fetched = fetch_missing(ctx.cache, node, ctx.settings, ctx.home, report)
                report = check_completeness(ctx.cache, node, ctx.settings.ae_title, args.study, thorough=args.thorough)
        checklist = build_checklist(ctx.cache, args.study, report)
    except _qc_errors() as exc:
        raise CliError(str(exc)) from None
    if args.json:
        data = checklist.as_dict()
        if fetched is not None:
            data["fetched"] = {"retrieved": fetched.retrieved, "failed": fetched.failed, "summary": fetched.summary()}
        print_json(data)
    else:
        print(f"QC of study {args.study}: {checklist.overall.upper()} ({checklist.summary()})")
        if fetched is not None:
            print(f"fetched missing instances: {fetched.summary()}")
        for item in checklist.items:
            print(f"  [{item.status:>4}] {item.title}: {item.message}")
            if item.status in ("warn", "fail"):
                for line in item.details:
                    print(f"           {line}")
        mark = checklist.mark
        print(f"QC done: {mark.marked_at} by {mark.operator or '?'} ({mark.outcome})" if mark
              else "QC done: not marked")
    return 2 if checklist.overall == "fail" else 0


# correct, split, merge -------------------------------------------------------------------------
def _finish(args: argparse.Namespace, ctx: Context, plan: _P, apply: Callable[[StudyCache, _P], QcOutcome],
            target: Node | None) -> int:
    """Print the plan; unless --dry-run apply it, print the outcome, send to ``target`` if given."""
    if args.dry_run:
        if args.json:
            print_json({"plan": plan.as_dict(), "applied": False})
        else:
            print("\n".join(plan.lines()))
            print("dry run: nothing changed")
        return 0
    if not args.json:
        print("\n".join(plan.lines()))
    try:
        outcome = apply(ctx.cache, plan)
    except _qc_errors() as exc:
        raise CliError(str(exc)) from None
    audit.qc_applied(ctx.cache, outcome, args.qc_command)
    sent = _send(ctx, target, outcome.produced)
    if args.json:
        print_json({"plan": plan.as_dict(), "applied": True, "outcome": outcome.as_dict(), "sent": sent})
    else:
        series = sorted({p.series_uid for p in outcome.copies})
        print(f"{len(outcome.copies)} corrected copies in {len(series)} new series; "
              f"{len(outcome.rejected)} original(s) rejected by note {outcome.notes[0].sop_instance_uid}")
        for uid in series:
            print(f"  new series {uid}")
        if sent:
            print(sent["summary"])
    return 0


def _target(ctx: Context, args: argparse.Namespace) -> Node | None:
    """The --send node, looked up before anything is changed (a typo must not leave work unsent)."""
    return _node(ctx, args.send) if getattr(args, "send", None) else None


def _send(ctx: Context, node: Node | None, produced: list[Produced]) -> dict[str, Any] | None:
    if node is None or not produced:
        return None
    from workstation.net.association import NetworkError
    from workstation.qc.sending import send

    from workstation.store import outbox

    study = produced[0].study_uid
    # Through the outbox, so each object shows its delivery state (and one not sent is retried there).
    pks = {p.sop_instance_uid: outbox.enqueue(ctx.cache, p.sop_instance_uid, node.name) for p in produced}
    try:
        report = send(produced, node, ctx.settings.ae_title)
    except NetworkError as exc:
        raise CliError(f"stored in the cache, but not sent: {exc}; it waits in the outbox ('lightbox outbox'), "
                       f"or send later with 'lightbox send {node.name} --study {study}'") from None
    for o in report.outcomes:
        if o.ok and o.sop_instance_uid in pks:  # stored there; the outbox asks the archive to commit it
            outbox.update_item(ctx.cache, pks[o.sop_instance_uid], state=outbox.STORED, count_attempt=True)
    if not report.ok:
        raise CliError(f"stored in the cache, but sending was incomplete ({report.summary()}); send again with "
                       f"'lightbox send {node.name} --study {study}'")
    return {"node": node.name, "sent": report.sent, "summary": f"sent to {node.name}: {report.summary()}"}


def correct_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc.correction import apply_correction, parse_assignments, plan_correction

    target = _target(ctx, args)
    try:
        values = parse_assignments(args.assignments)
        plan = plan_correction(ctx.cache, args.study, values, reason=args.reason, operator=args.operator,
                               new_study=args.new_study, rejection=args.rejection)
    except _qc_errors() as exc:
        raise CliError(str(exc)) from None
    return _finish(args, ctx, plan, apply_correction, target)


def split_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc.restructure import apply_restructure, plan_split

    target = _target(ctx, args)
    mode, rest = args.by[0], args.by[1:]
    if mode not in _SPLIT_MODES:
        raise CliError(f"--by {mode}: one of {', '.join(_SPLIT_MODES)}")
    if rest and mode != "instances":
        raise CliError(f"--by {mode} takes no UIDs (only --by instances UID,UID,...)")
    uids = [u for part in rest for u in part.split(",") if u.strip()]
    try:
        plan = plan_split(ctx.cache, args.series, mode, uids, reason=args.reason, operator=args.operator,
                          rejection=args.rejection)
    except _qc_errors() as exc:
        raise CliError(str(exc)) from None
    return _finish(args, ctx, plan, apply_restructure, target)


def merge_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc.restructure import apply_restructure, plan_merge

    target = _target(ctx, args)
    try:
        plan = plan_merge(ctx.cache, args.series, reason=args.reason, operator=args.operator, rejection=args.rejection)
    except _qc_errors() as exc:
        raise CliError(str(exc)) from None
    return _finish(args, ctx, plan, apply_restructure, target)


# reject, done, rejected ------------------------------------------------------------------------
def reject_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc.rejection import reject_instances

    target = _target(ctx, args)
    try:
        result = reject_instances(ctx.cache, args.sop_uids, args.reason, description=args.comment,
                                  operator=args.operator, quality=args.quality_reason)
    except _qc_errors() as exc:
        raise CliError(str(exc)) from None
    sent = _send(ctx, target, result.notes)
    if args.json:
        print_json({**result.as_dict(), "sent": sent})
    else:
        for note in result.notes:
            print(f"rejection note {note.sop_instance_uid} in study {note.study_uid}")
        print(f"{len(result.rejected)} instance(s) rejected" +
              (f", {len(result.already_rejected)} already rejected" if result.already_rejected else ""))
        if sent:
            print(sent["summary"])
    return 0


def done_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc.checklist import build_checklist, mark_done, unmark_done

    try:
        if args.undo:
            removed = unmark_done(ctx.cache, args.study, args.operator)
            print("QC done mark removed" if removed else "the study was not marked QC done")
            return 0
        checklist = build_checklist(ctx.cache, args.study)
        mark = mark_done(ctx.cache, checklist, args.operator)
    except _qc_errors() as exc:
        raise CliError(str(exc)) from None
    print(f"study {args.study} marked QC done by {mark.operator or '?'} ({checklist.summary()})")
    return 0


def rejected_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc import state
    from workstation.qc.notes import rejected_sop_uids

    if ctx.cache.study(args.study) is None:
        raise CliError(f"no study {args.study} in the cache (see 'lightbox studies')")
    rejected_sop_uids(ctx.cache, args.study)  # reads notes not read yet
    rows = state.rejected_in_study(ctx.cache, args.study)
    if args.json:
        print_json([{"sop_instance_uid": uid, "note_uid": n, "title_code": c, "title": t}
                    for uid, (n, c, t) in sorted(rows.items())])
    else:
        for uid, (note, _code, title) in sorted(rows.items()):
            print(f"{uid}  {title}  (note {note})")
        print(f"{len(rows)} rejected instance(s)", file=sys.stderr)
    return 0


# tags -------------------------------------------------------------------------------------------
def _dataset(ctx: Context, target: str) -> Dataset:
    import pydicom
    from pydicom.errors import InvalidDicomError

    path = Path(target)
    if not path.is_file():
        row = ctx.cache.instance(target)
        if row is None:
            raise CliError(f"{target!r} is neither a file nor a cached SOP Instance UID")
        path = ctx.cache.path_of(row)
    try:
        return pydicom.dcmread(path, force=True)
    except (OSError, InvalidDicomError) as exc:
        raise CliError(f"cannot read {target}: {exc}") from None


def tags_cmd(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.qc.tag_diff import diff_datasets
    from workstation.qc.tags import search, tag_tree, walk

    ds = _dataset(ctx, args.target)
    if args.diff:
        diffs = diff_datasets(ds, _dataset(ctx, args.diff))
        if args.json:
            print_json([d.as_dict() for d in diffs])
        else:
            for d in diffs:
                print(f"{d.status:<8} {d.path} {d.name}: {d.left!r} -> {d.right!r}")
            print(f"{len(diffs)} difference(s)", file=sys.stderr)
        return 0
    nodes = tag_tree(ds)
    shown = search(nodes, args.search) if args.search else list(walk(nodes))
    if args.json:
        print_json([{"path": n.path, "tag": n.tag_text, "keyword": n.keyword, "name": n.name, "vr": n.vr,
                     "value": n.full_value, "private_creator": n.private_creator}
                    for n in shown if n.kind == "element"])
        return 0
    for n in shown:
        indent = "  " * (n.path.count("[") * 2 - (1 if n.kind == "item" else 0)) if not args.search else ""
        where = n.path if args.search else n.tag_text
        creator = f" [{n.private_creator}]" if n.private_creator else ""
        print(f"{indent}{n.path if args.search else n.name}" if n.kind == "item"
              else f"{indent}{where} {n.vr} {n.name}{creator}: {n.value}")
    if args.search:
        print(f"{len(shown)} match(es)", file=sys.stderr)
    return 0
