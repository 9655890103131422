"""``lightbox studies`` and ``lightbox series``: what the cache holds."""

from __future__ import annotations

import argparse
from dataclasses import asdict, fields

from workstation.cli.common import CliError, Context, Subparsers, format_date, print_json, print_table
from workstation.store.queries import StudyFilter


def register(sub: Subparsers) -> None:
    p = sub.add_parser("studies", help="list the studies in the cache")
    p.add_argument("--patient-name", default="", help="name filter (substring, or * and ? wildcards)")
    p.add_argument("--patient-id", default="")
    p.add_argument("--accession", default="")
    p.add_argument("--modality", default="")
    p.add_argument("--date", default="", help="YYYYMMDD, or a range YYYYMMDD-YYYYMMDD (either end may be open)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_studies)

    p = sub.add_parser("series", help="list the series of a cached study")
    p.add_argument("study_uid", metavar="STUDY_UID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_series)


def parse_date_range(text: str) -> tuple[str, str]:
    text = text.replace("-", "-").strip()
    if not text:
        return "", ""
    if "-" in text:
        lo, hi = text.split("-", 1)
    else:
        lo = hi = text
    for part in (lo, hi):
        if part and not (len(part) == 8 and part.isdigit()):
            raise CliError(f"invalid date {part!r}: use YYYYMMDD or YYYYMMDD-YYYYMMDD", exit_code=2)
    return lo, hi


def run_studies(args: argparse.Namespace, ctx: Context) -> int:
    lo, hi = parse_date_range(args.date)
    flt = StudyFilter(
        patient_name=args.patient_name, patient_id=args.patient_id, accession=args.accession,
        modality=args.modality, date_from=lo, date_to=hi,
    )
    rows = ctx.cache.studies(flt)
    if args.json:
        names = [f.name for f in fields(rows[0])] if rows else []
        # Flat rows: asdict's deep copy is not needed.
        print_json([{name: getattr(r, name) for name in names} for r in rows])
        return 0
    print_table(
        ("Patient", "ID", "Birth date", "Study date", "Modalities", "Description", "Accession", "Images", "Study UID"),
        (
            (r.patient_name, r.patient_id, format_date(r.birth_date), format_date(r.study_date),
             r.modalities.replace("\\", "/"), r.description, r.accession, r.num_instances, r.study_uid)
            for r in rows
        ),
    )
    return 0


def run_series(args: argparse.Namespace, ctx: Context) -> int:
    if ctx.cache.study(args.study_uid) is None:
        raise CliError(f"no study {args.study_uid} in the cache (see 'lightbox studies')")
    rows = ctx.cache.series(args.study_uid)
    if args.json:
        print_json([asdict(r) for r in rows])
        return 0
    print_table(
        ("Number", "Modality", "Description", "Body part", "Images", "Series UID"),
        ((r.series_number, r.modality, r.description, r.body_part, r.num_instances, r.series_uid) for r in rows),
    )
    return 0
