"""Subcommands: volume, mpr, render3d (MPR and 3D).

VTK is loaded only by ``mpr`` and ``render3d``, inside their handlers.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workstation.cli.common import CliError, Context, Subparsers, print_json

if TYPE_CHECKING:  # loaded by the commands that need it: start-up is mostly imports
    from workstation.model.volume import Volume


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    p = sub.add_parser(
        "volume",
        help="the stacks of a cached series: dimensions, geometry, gaps and duplicates",
        description="Splits a cached series into stacks (orientation, size, localizers, temporal positions) "
        "and prints each stack's dimensions, origin, spacing and direction (row, column, normal), "
        "with missing slices, duplicate positions and gantry tilt.",
    )
    p.add_argument("series_uid", metavar="SERIES_UID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_volume)

    p = sub.add_parser(
        "mpr",
        help="render one MPR plane (thin or a slab) of a cached series to PNG",
        description="Renders an axial, coronal or sagittal plane, optionally turned (oblique, double oblique), "
        "through a point, thin or as a MIP/MinIP/average slab, with orientation letters and a scale bar.",
    )
    _series_args(p)
    p.add_argument("--plane", choices=("axial", "coronal", "sagittal"), default="axial")
    p.add_argument("--rotate", action="append", default=[], metavar="AXIS:DEGREES",
                   help="turn the planes about x, y, z (patient L-R, A-P, S-I) or a plane's normal; repeatable")
    p.add_argument("--position", metavar="X,Y,Z",
                   help="patient point the plane passes through, mm (default: the volume's centre)")
    p.add_argument("--slab", type=float, default=0.0, metavar="MM", help="slab thickness (default 0: a thin slice)")
    p.add_argument("--mode", choices=("mip", "minip", "avg"), default="mip", help="slab projection (default mip)")
    p.add_argument("--window", nargs=2, type=float, metavar=("C", "W"),
                   help="window centre and width (modality values)")
    p.add_argument("--size", default="512x512", metavar="WxH")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_mpr)

    p = sub.add_parser(
        "render3d",
        help="volume rendering (or an isosurface) of a cached series to PNG",
        description="Renders the volume from the front (the patient's face), turned by azimuth and elevation, "
        "with a preset's transfer functions; --iso shows a smoothed isosurface instead.",
    )
    _series_args(p)
    p.add_argument("--preset", default=None, metavar="NAME",
                   help="a preset of resources/vr_presets (default by modality)")
    p.add_argument("--azimuth", type=float, default=0.0, metavar="D")
    p.add_argument("--elevation", type=float, default=0.0, metavar="D")
    p.add_argument("--size", default="512x512", metavar="WxH")
    p.add_argument("--iso", type=float, default=None, metavar="VALUE", help="isosurface at this modality value")
    p.add_argument("--smooth", type=int, default=15, metavar="N", help="isosurface smoothing iterations (default 15)")
    p.add_argument("--clip-box", metavar="X0,X1,Y0,Y1,Z0,Z1",
                   help="keep this box, fractions 0-1 of the volume's extent")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=run_render3d)


def _series_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("series_uid", metavar="SERIES_UID")
    p.add_argument("--stack", type=int, default=None, metavar="N",
                   help="stack number from 'lightbox volume' (default: the main one)")
    p.add_argument("--phase", type=int, default=1, metavar="N", help="temporal position of a 4D stack, from 1")


def _segmentation(ctx: Context, series_uid: str) -> dict[str, Any] | None:
    """A SEG series as its segments (a SEG is never a volume of temporal positions), else None."""
    from workstation.clinical.seg import SEGMENTATION_STORAGE, SegmentationError, SegmentationObject

    rows = [r for r in ctx.cache.instances(series_uid) if r.sop_class_uid == SEGMENTATION_STORAGE]
    if not rows:
        return None
    try:
        found = [SegmentationObject(ctx.cache.path_of(r)).describe() for r in rows]
    except (SegmentationError, OSError) as exc:
        raise CliError(f"series {series_uid}: {exc}") from None
    return {"series_uid": series_uid, "modality": "SEG", "segmentation": found[0], "instances": found}


def _print_segmentation(d: dict[str, Any]) -> None:
    seg = d["segmentation"]
    kind = seg["segmentation_type"].lower() + (f" ({seg['fractional_type'].lower()})" if seg["fractional_type"] else "")
    print(f"series {d['series_uid']} (SEG): {kind} segmentation, {len(seg['segments'])} segment(s), "
          f"{seg['frames']} frame(s)")  # fmt: skip
    for s in seg["segments"]:
        what = f" [{s['category']} / {s['type']}]" if s["type"] else ""
        r, g, b = s["colour"]
        print(f"segment {s['number']}: {s['label']}{what} colour #{r:02x}{g:02x}{b:02x}, "
              f"{s['frames']} frame(s) over {s['referenced_images']} referenced image(s)")  # fmt: skip
    for uid in seg["referenced_series"]:
        print(f"  references series {uid}")


def run_volume(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.model.series_volume import describe_series, series_stacks
    from workstation.model.volume import VolumeError

    seg = _segmentation(ctx, args.series_uid)
    if seg is not None:
        if args.json:
            print_json(seg)
        else:
            _print_segmentation(seg)
        return 0
    try:
        d = describe_series(series_stacks(ctx.cache, args.series_uid))
    except VolumeError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        print_json(d)
        return 0
    print(f"series {d['series_uid']} ({d['modality'] or 'no modality'}): {len(d['stacks'])} stack(s)")
    for s in d["stacks"]:
        x, y, z = s["dimensions"]
        kind = " localizer" if s["localizer"] else ""
        main = "  (main)" if s["stack"] == d["primary_stack"] else ""
        phases = f" x {s['temporal_positions']} temporal positions" if s["temporal_positions"] > 1 else ""
        print(f"stack {s['stack']}: {s['orientation']}{kind} {x} x {y} x {z}{phases}{main}")
        print(f"  origin     {_fmt(s['origin'])} mm")
        print(f"  spacing    {_fmt(s['spacing'])} mm")
        d9 = s["direction"]
        print(f"  direction  row {_fmt(d9[0:3])}  column {_fmt(d9[3:6])}  normal {_fmt(d9[6:9])}")
        for m in s["messages"]:
            print(f"  ! {m}")
    for m in d["skipped"]:
        print(f"skipped: {m}")
    return 0


def _fmt(values: Iterable[float]) -> str:
    return "(" + ", ".join(f"{v:.4f}" for v in values) + ")"


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CliError(f"invalid size {text!r}: use WIDTHxHEIGHT, e.g. 512x512", exit_code=2) from None
    if not (16 <= w <= 8192 and 16 <= h <= 8192):
        raise CliError("the size must be 16 to 8192 pixels each way", exit_code=2)
    return w, h


def _floats(text: str, n: int, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != n:
        raise CliError(f"invalid {what} {text!r}: {n} numbers separated by commas", exit_code=2)
    return values


def _load(args: argparse.Namespace, ctx: Context) -> Volume:
    from workstation.model.series_volume import load_series_volume
    from workstation.model.volume import VolumeError

    stack = None if args.stack is None else args.stack - 1
    try:
        return load_series_volume(ctx.cache, args.series_uid, stack=stack, phase=args.phase - 1)
    except VolumeError as exc:
        raise CliError(str(exc)) from None


def run_mpr(args: argparse.Namespace, ctx: Context) -> int:
    size = _size(args.size)
    rotations = []
    for spec in args.rotate:
        axis, _, degrees = spec.partition(":")
        try:
            from workstation.volume3d.planes import parse_axis

            rotations.append((parse_axis(axis), float(degrees)))
        except ValueError as exc:
            why = exc if degrees else "use AXIS:DEGREES"
            raise CliError(f"invalid --rotate {spec!r}: {why}", exit_code=2) from None
    position = _floats(args.position, 3, "position") if args.position else None
    if args.slab < 0:
        raise CliError("the slab thickness cannot be negative", exit_code=2)
    if args.window is not None and args.window[1] <= 0:
        raise CliError("the window width must be positive", exit_code=2)
    volume = _load(args, ctx)
    from workstation.volume3d.offscreen import render_mpr

    try:
        r = render_mpr(volume, Path(args.out), plane=args.plane, rotations=rotations, position=position,
                       slab_mm=args.slab, slab_mode=args.mode, window=tuple(args.window) if args.window else None,
                       size=size)
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc}") from None
    if args.json:
        print_json({"out": str(r.path), "plane": r.plane, "center": r.center, "normal": r.normal, "right": r.right,
                    "up": r.up, "window": list(r.window), "mm_per_pixel": r.mm_per_pixel, "slab_mm": args.slab,
                    "mode": args.mode})
    else:
        print(f"wrote {r.path} ({args.plane}, normal {_fmt(r.normal)}, W {r.window[1]:g} L {r.window[0]:g})")
    return 0


def run_render3d(args: argparse.Namespace, ctx: Context) -> int:
    size = _size(args.size)
    clip = _floats(args.clip_box, 6, "clip box") if args.clip_box else None
    if clip is not None and not all(0 <= v <= 1 for v in clip):
        raise CliError("clip box fractions must lie between 0 and 1", exit_code=2)
    from workstation.volume3d.presets import PresetError, default_preset, load_preset

    volume = _load(args, ctx)
    name = args.preset or default_preset(volume.modality)
    try:
        load_preset(name)
    except PresetError as exc:
        raise CliError(str(exc), exit_code=2) from None
    from workstation.volume3d.offscreen import render_3d

    try:
        r = render_3d(volume, Path(args.out), preset=name, azimuth=args.azimuth, elevation=args.elevation, size=size,
                      settings_extra=ctx.settings.extra, isosurface=args.iso, smoothing=args.smooth,
                      clip_box=None if clip is None else tuple(clip))
    except OSError as exc:
        raise CliError(f"cannot write {args.out}: {exc}") from None
    if args.json:
        print_json({"out": str(r.path), "preset": r.preset, "mapper": r.mapper, "opengl_renderer": r.renderer,
                    "isosurface_triangles": r.triangles})
    else:
        print(f"wrote {r.path} (preset {r.preset}, {r.mapper.upper()} ray casting on {r.renderer or 'unknown OpenGL'})")
    return 0
