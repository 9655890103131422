"""Subcommands: render (image display pipeline)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from workstation import audit
from workstation.cli.common import CliError, Context, Subparsers, print_json

if TYPE_CHECKING:  # pydicom is loaded by the handlers that need it (start-up is mostly imports)
    from pydicom import Dataset

    from workstation.imaging.render import Rendered


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    p = sub.add_parser(
        "render",
        help="write one frame as an 8-bit PNG through the display pipeline",
        description=(
            "Renders one frame of a DICOM file at native resolution (no zoom, no text) "
            "through the display pipeline: Modality LUT, VOI (the image's first window or "
            "VOI LUT, else the frame's minimum to maximum leaving out pixel padding), Presentation LUT Shape or "
            "MONOCHROME1 inversion, padding as background, overlays; colour images as RGB."
        ),
    )
    p.add_argument("file", metavar="FILE", help="a DICOM image")
    p.add_argument("--frame", type=int, default=1, metavar="N", help="frame number, from 1 (default 1)")
    voi = p.add_mutually_exclusive_group()
    voi.add_argument("--window", nargs=2, type=float, metavar=("CENTER", "WIDTH"),
                     help="window centre and width in modality values")
    voi.add_argument(
        "--voi-index",
        type=int,
        metavar="K",
        help="the image's K-th VOI choice, from 1: its windows, then its VOI LUTs",
    )
    p.add_argument(
        "--function",
        choices=("LINEAR", "LINEAR_EXACT", "SIGMOID"),
        default="LINEAR",
        help="VOI LUT function for --window (default LINEAR)",
    )
    p.add_argument(
        "--pstate",
        metavar="GSPS",
        help="apply a Grayscale Softcopy Presentation State: a file, or the SOP Instance UID of one in the "
        "cache (the viewer's saved views); its Modality LUT, VOI, Presentation LUT, display shutter, rotation "
        "and flip replace the image's (the whole image is written, as DCMTK's dcmp2pgm does)",
    )
    p.add_argument("--invert", action="store_true", help="invert the grayscale output")
    p.add_argument("--no-overlays", action="store_true", help="leave overlay planes out")
    p.add_argument("--out", metavar="FILE.png", help="output file (default: FILE's name with .png, here)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    p.set_defaults(handler=_render)


def _render(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.imaging.pipeline import Window
    from workstation.imaging.render import RenderError, render_file

    source = Path(args.file)
    if not source.is_file():
        raise CliError(f"no such file: {source}")
    audit.files_read([source], "rendered to a picture")
    if args.frame < 1:
        raise CliError("--frame counts from 1")
    if args.voi_index is not None and args.voi_index < 1:
        raise CliError("--voi-index counts from 1")
    if args.pstate is not None:
        if args.window is not None or args.voi_index is not None or args.invert:
            raise CliError("--pstate decides the VOI and the inversion: leave out --window, --voi-index and --invert")
        return _render_with_pstate(args, ctx, source)
    window = None
    if args.window is not None:
        center, width = args.window
        if width <= 0:
            raise CliError("the window width must be positive")
        window = Window(center, width, args.function, "command line")
    try:
        rendered = render_file(
            source,
            args.frame - 1,
            window=window,
            voi_index=None if args.voi_index is None else args.voi_index - 1,
            invert=args.invert,
            overlays=not args.no_overlays,
        )
    except RenderError as exc:
        raise CliError(f"cannot render {source.name}: {exc}") from None
    _write_and_report(args, source, rendered)
    return 0


def _write_and_report(
    args: argparse.Namespace,
    source: Path,
    rendered: Rendered,
    *,
    pstate: dict[str, object] | None = None,
    describe: str | None = None,
) -> None:
    """Write the rendered frame as a PNG and say what was written (a line, or JSON with ``--json``).

    Parameters
    ----------
    args : argparse.Namespace
        The render command's arguments (``out``, ``json``).
    source : pathlib.Path
        The image; the PNG is named after it when ``--out`` is not given.
    rendered : Rendered
        What the display pipeline made of the frame.
    pstate : dict, optional
        The applied presentation state's JSON entry.
    describe : str, optional
        What the line says after the size, in place of the applied window.
    """
    from workstation.imaging.render import write_png

    out = Path(args.out) if args.out else Path.cwd() / (source.stem + ".png")
    try:
        write_png(rendered.pixels, out)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    rows, columns = rendered.pixels.shape[:2]
    applied = rendered.window
    if args.json:
        report: dict[str, object] = {
            "out": str(out),
            "rows": rows,
            "columns": columns,
            "color": rendered.pipeline.is_color,
        }
        if pstate is not None:
            report["pstate"] = pstate
        report["window"] = (
            None
            if applied is None
            else {
                "center": applied.center,
                "width": applied.width,
                "function": applied.function,
                "explanation": applied.explanation,
            }
        )
        print_json(report)
    elif describe is not None:
        print(f"wrote {out} ({columns}x{rows}, {describe})")
    else:
        voi = "" if applied is None else f", {applied.describe()}"
        print(f"wrote {out} ({columns}x{rows}{voi})")


def _presentation_state(ctx: Context, reference: str) -> Dataset:
    """The GSPS data set named by a file path or by the SOP Instance UID of one in the cache."""
    from pydicom import dcmread

    path = Path(reference)
    if not path.is_file():
        row = None
        if reference.replace(".", "").isdigit():
            row = ctx.cache.instance(reference)
        if row is None:
            raise CliError(f"no such presentation state: {reference} (neither a file nor one in the cache)")
        path = ctx.cache.path_of(row)
    try:
        return dcmread(path, force=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is one line for the user
        raise CliError(f"cannot read the presentation state {path.name}: {exc}") from None


def _render_with_pstate(args: argparse.Namespace, ctx: Context, source: Path) -> int:
    from workstation.imaging.render import RenderError, render_with_presentation_state

    state = _presentation_state(ctx, args.pstate)
    try:
        rendered = render_with_presentation_state(source, state, args.frame - 1)
    except RenderError as exc:
        raise CliError(f"cannot render {source.name} with the presentation state: {exc}") from None
    label = str(state.get("ContentLabel", "") or "")
    applied = rendered.window
    voi = "identity VOI" if applied is None else applied.describe()
    _write_and_report(
        args,
        source,
        rendered,
        pstate={
            "sop_instance_uid": str(state.get("SOPInstanceUID", "")),
            "content_label": label,
            "rotation": int(state.get("ImageRotation", 0) or 0),
            "flip_horizontal": str(state.get("ImageHorizontalFlip", "N")).upper() == "Y",
            "presentation_lut_shape": str(state.get("PresentationLUTShape", "") or ""),
            "shutter": "ShutterShape" in state,
        },
        describe=f"presentation state {label or '(no label)'}: {voi}",
    )
    return 0
