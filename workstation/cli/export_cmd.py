"""Subcommand: export (copies of studies as media, de-identified copies, images and movies)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from workstation.cli.common import CliError, Context, Subparsers


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    p = sub.add_parser(
        "export",
        help="copy studies to a folder, USB stick or ISO image (IHE PDI), de-identified if asked; or as PNG/JPEG/MP4",
        description=(
            "Writes the cached studies as patient media: DICOMDIR, README.TXT and IHE_PDI at the top "
            "(general-purpose profile transfer syntaxes), into an empty folder or an ISO image. "
            "--deidentify applies PS3.15 Annex E's basic profile; options: dates (retain longitudinal "
            "information with modified dates), patient (retain patient characteristics), device (retain device "
            "identity), descriptors (clean descriptors), pixels (clean pixel data: ultrasound outside its regions). "
            "--format png/jpeg writes one picture per image, mp4 one movie per multi-frame image at its frame rate."
        ),
    )
    # '*' and a check in the handler: 'export --deidentify UID' hands the UID to the option first.
    p.add_argument("studies", nargs="*", metavar="STUDY_UID", help="Study Instance UIDs in the cache (one or more)")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--to", metavar="DIR", help="an empty folder (or a USB stick's folder)")
    dest.add_argument("--iso", metavar="FILE", help="an ISO 9660 image to write (DICOM formats only)")
    p.add_argument("--deidentify", nargs="?", const="", default=None, metavar="OPTION,...",
                   help="de-identify (basic profile; add options separated by commas)")
    p.add_argument("--new-name", metavar="PN", help="the de-identified copy's Patient's Name (studies of one patient)")
    p.add_argument("--new-id", metavar="ID", help="the de-identified copy's Patient ID (with --new-name)")
    p.add_argument("--key-file", metavar="FILE",
                   help="secret for consistent new UIDs, IDs and date shifts across exports (made when missing)")
    p.add_argument("--format", choices=("dicom", "png", "jpeg", "mp4"), default="dicom")
    p.add_argument("--no-corner-text", action="store_true", help="images/movies without the corner text")
    p.add_argument("--key-images", action="store_true",
                   help="pictures of the key images only (those the studies' key object selections list)")
    p.add_argument("--no-annotations", action="store_true",
                   help="pictures without the presentation states (by default the newest one referencing an image "
                        "gives its window, rotation and shutter and its graphics and texts are drawn)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_export)


def _progress(quiet: bool) -> Callable[[int, int], None] | None:
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="obj", file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
    return update


def _key(args: argparse.Namespace) -> bytes | None:
    if not args.key_file:
        return None
    import os

    path = Path(args.key_file)
    if not path.exists():
        path.write_bytes(os.urandom(32))
        path.chmod(0o600)
    return path.read_bytes()


def _export(args: argparse.Namespace, ctx: Context) -> int:
    import re

    from workstation.export.job import ExportRequest, run_export, study_files
    from workstation.export.profile import OPTIONS

    if args.deidentify and re.fullmatch(r"[0-9.]+", args.deidentify):
        # 'export --deidentify UID ...': the word after the flag was a study, not an option list.
        args.studies = [args.deidentify, *args.studies]
        args.deidentify = ""
    if not args.studies:
        raise CliError("name at least one STUDY_UID (see 'lightbox studies')")

    try:
        files = study_files(ctx.cache, args.studies)
    except KeyError as exc:
        raise CliError(f"study {exc.args[0]} is not in the cache (see 'lightbox studies')") from None
    options = None
    if args.deidentify is not None:
        options = tuple(o.strip() for o in args.deidentify.split(",") if o.strip())
        unknown = set(options) - set(OPTIONS)
        if unknown:
            raise CliError(f"unknown de-identification option(s) {', '.join(sorted(unknown))}: "
                           f"choose from {', '.join(OPTIONS)}")
    request = ExportRequest(tuple(files), to_folder=Path(args.to) if args.to else None,
                            to_iso=Path(args.iso) if args.iso else None, deidentify=options, fmt=args.format,
                            corner_text=not args.no_corner_text, key=_key(args), key_images_only=args.key_images,
                            annotations=not args.no_annotations,
                            new_patient=(args.new_name or "", args.new_id or "") if (args.new_name or args.new_id)
                            else None)
    try:
        lines = run_export(request, progress=_progress(args.quiet), say=print)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    for line in lines:
        print(line)
    return 0 if not lines[0].startswith("0 ") else 1
