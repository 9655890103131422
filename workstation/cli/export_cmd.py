"""Subcommand: export (copies of studies as media, de-identified copies, images and movies)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workstation.cli.common import CliError, Context


def register(sub) -> None:
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
    p.add_argument("studies", nargs="+", metavar="STUDY_UID", help="Study Instance UIDs in the cache")
    dest = p.add_mutually_exclusive_group(required=True)
    dest.add_argument("--to", metavar="DIR", help="an empty folder (or a USB stick's folder)")
    dest.add_argument("--iso", metavar="FILE", help="an ISO 9660 image to write (DICOM formats only)")
    p.add_argument("--deidentify", nargs="?", const="", default=None, metavar="OPTION,...",
                   help="de-identify (basic profile; add options separated by commas)")
    p.add_argument("--key-file", metavar="FILE",
                   help="secret for consistent new UIDs, IDs and date shifts across exports (made when missing)")
    p.add_argument("--format", choices=("dicom", "png", "jpeg", "mp4"), default="dicom")
    p.add_argument("--no-corner-text", action="store_true", help="images/movies without the corner text")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=_export)


def _progress(quiet: bool):
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="obj", file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
    return update


def _deidentifier(args):
    if args.deidentify is None:
        return None
    import os

    from workstation.export.deidentify import Deidentifier

    options = [o.strip() for o in args.deidentify.split(",") if o.strip()]
    key = None
    if args.key_file:
        path = Path(args.key_file)
        if not path.exists():
            path.write_bytes(os.urandom(32))
            path.chmod(0o600)
        key = path.read_bytes()
    try:
        return Deidentifier(options, key=key)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def study_files(ctx: Context, study_uids: list[str]) -> list[Path]:
    """Every cached file of the studies (images, reports, presentation states, key images)."""
    cache = ctx.cache
    files: list[Path] = []
    for uid in study_uids:
        if cache.study(uid) is None:
            raise CliError(f"study {uid} is not in the cache (see 'lightbox studies')")
        for series in cache.series(uid):
            files += [cache.path_of(row) for row in cache.instances(series.series_uid)]
    return files


def _export(args: argparse.Namespace, ctx: Context) -> int:
    files = study_files(ctx, args.studies)
    deid = _deidentifier(args)
    if args.format == "dicom":
        from workstation.export.media import export_files, export_iso

        try:
            if args.iso:
                report = export_iso(files, Path(args.iso), deidentifier=deid, progress=_progress(args.quiet))
            else:
                report = export_files(files, Path(args.to), deidentifier=deid, progress=_progress(args.quiet),
                                      kind="folder")
        except ValueError as exc:
            raise CliError(str(exc)) from None
        for line in report.summary_lines():
            print(line)
        return 0 if report.written else 1
    if args.iso:
        raise CliError("--iso writes DICOM media; use --to DIR for png, jpeg or mp4")
    return _pictures(args, files, deid is not None)


def _pictures(args, files: list[Path], deidentify: bool) -> int:
    import pydicom

    from workstation.export.images import export_image, export_movie
    from workstation.imaging.frames import number_of_frames

    out = Path(args.to)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for n, path in enumerate(files, 1):
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - not an image file: nothing to draw
            continue
        if "Rows" not in ds:
            continue
        name = f"{n:04d}"  # never a patient value in a file name
        if args.format == "mp4":
            if number_of_frames(ds) < 2:
                continue
            fps = export_movie(path, out / f"{name}.mp4", corner_text=not args.no_corner_text, deidentify=deidentify)
            print(f"{name}.mp4 at {fps:g} frames/s")
        else:
            export_image(path, out / f"{name}.{'jpg' if args.format == 'jpeg' else 'png'}",
                         corner_text=not args.no_corner_text, deidentify=deidentify, fmt=args.format)
        written += 1
    print(f"{written} {args.format} file(s) written to {out}")
    return 0 if written else 1
