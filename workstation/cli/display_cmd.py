"""Subcommands: patterns (TG18 test patterns as DICOM) and display show/set/table/check/log (calibration, QA)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.cli.common import CliError, Context, Subparsers, print_json, print_table

if TYPE_CHECKING:  # loaded by the handlers that need it (start-up is mostly imports)
    from workstation.display.settings import DisplaySettings


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    pat = sub.add_parser("patterns", help="write the AAPM TG18 display test patterns (synthetic) as DICOM files")
    pat.add_argument("--out", required=True, metavar="DIR", help="folder for the files (made when missing)")
    pat.add_argument("--size", type=int, choices=(1024, 2048), default=1024, help="1k or 2k patterns (default 1024)")
    pat.set_defaults(handler=patterns_write)

    disp = sub.add_parser("display", help="calibrated grayscale display (DICOM GSDF) per monitor, and display QA")
    dsub = disp.add_subparsers(dest="display_command", metavar="ACTION", required=True)
    show = dsub.add_parser("show", help="the display settings: surface, dither, each monitor's calibration")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=display_show)
    setp = dsub.add_parser("set", help="set a monitor's calibration (keys as 'display show' lists them, "
                                       "name@WIDTHxHEIGHT) and/or the surface depth and dither")
    setp.add_argument("monitor", nargs="?", metavar="MONITOR")
    setp.add_argument("--mode", choices=("gsdf", "calibrated", "none"),
                      help="gsdf: Lightbox applies the GSDF; calibrated: the monitor does (identity); none")
    setp.add_argument("--lut", metavar="FILE", help="DCMTK monitor characteristic file")
    setp.add_argument("--lmin", type=float, help="measured luminance at the darkest level (cd/m², no ambient)")
    setp.add_argument("--lmax", type=float, help="measured luminance at the brightest level")
    setp.add_argument("--gamma", type=float, help="the monitor's gamma, with --lmin/--lmax (default 2.2)")
    setp.add_argument("--ambient", type=float, help="ambient luminance reflected by the screen (cd/m²)")
    setp.add_argument("--target-min", type=float, help="darkest luminance wanted (cd/m², ambient included)")
    setp.add_argument("--target-max", type=float, help="brightest luminance wanted")
    setp.add_argument("--surface", choices=("auto", "8", "10"), help="bits per channel of the screen surface")
    setp.add_argument("--dither", choices=("on", "off"), help="ordered dither on 8-bit surfaces")
    setp.set_defaults(handler=display_set)
    table = dsub.add_parser("table", help="print a monitor's P-value to DDL table (as dcmdspfn writes it)")
    table.add_argument("monitor", metavar="MONITOR")
    table.add_argument("--bits", type=int, choices=(8, 10), default=8, help="output DDLs (default 8 bits)")
    table.set_defaults(handler=display_table)
    check = dsub.add_parser("check", help="GSDF conformance from the 18 TG18-LN luminances; kept in the QA log")
    given = check.add_mutually_exclusive_group(required=True)
    given.add_argument("--luminance", metavar="L1,L2,...", help="the 18 luminances (cd/m²), LN-01 first")
    given.add_argument("--csv", metavar="FILE", help="a CSV with the 18 luminances (the last number of each row)")
    check.add_argument("--ambient", type=float, default=0.0,
                       help="ambient luminance to add when the readings exclude it (default 0)")
    check.add_argument("--class", dest="display_class", choices=("primary", "secondary"), default="primary",
                       help="primary: ±10 %% (default); secondary: ±20 %%")
    check.add_argument("--monitor", default="", help="which monitor was measured (for the log)")
    check.add_argument("--note", default="", help="a remark for the log (meter, who measured)")
    check.add_argument("--no-log", action="store_true", help="do not add the result to the QA log")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=display_check)
    log = dsub.add_parser("log", help="the station's display QA log")
    log.add_argument("--json", action="store_true")
    log.set_defaults(handler=display_log)


def qa_log_path(ctx: Context) -> Path:
    """The station's display QA log under the home."""
    from workstation.display.conformance import QA_LOG_NAME

    return ctx.home.data_dir / QA_LOG_NAME


def patterns_write(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.display.pattern_files import write_patterns

    try:
        files = write_patterns(args.out, args.size)
    except OSError as exc:
        raise CliError(f"cannot write the patterns into {args.out}: {exc.strerror or exc}") from None
    print(f"wrote {len(files)} TG18 patterns ({args.size}x{args.size}, synthetic) to {args.out}")
    return 0


def _display_settings(ctx: Context) -> DisplaySettings:
    from workstation.display.settings import DisplaySettings

    try:
        return DisplaySettings.from_extra(ctx.settings.extra)
    except ValueError as exc:
        raise CliError(f"the display settings cannot be used: {exc}") from None


def display_show(args: argparse.Namespace, ctx: Context) -> int:
    settings = _display_settings(ctx)
    if args.json:
        print_json(settings.to_extra({})["display"])
        return 0
    print(f"surface: {settings.surface_bits}   dither: {'on' if settings.dither else 'off'}")
    if not settings.monitors:
        print("no monitor has a calibration: P-values drive every screen as they are")
        return 0
    rows = []
    for key, c in settings.monitors:
        source = c.characteristic_file or (f"{c.l_min:g}-{c.l_max:g} cd/m², gamma {c.gamma or 2.2:g}"
                                           if c.l_max is not None else "")
        rows.append((key, c.mode, source, "" if c.ambient is None else f"{c.ambient:g}",
                     "" if c.target_min is None and c.target_max is None
                     else f"{c.target_min or '-'}..{c.target_max or '-'}"))
    print_table(("Monitor", "Mode", "Characteristic", "Ambient", "Target"), rows)
    return 0


def display_set(args: argparse.Namespace, ctx: Context) -> int:
    from dataclasses import replace

    from workstation.display.settings import MonitorCalibration

    settings = _display_settings(ctx)
    changes = {k: v for k, v in (("mode", args.mode), ("characteristic_file", args.lut), ("l_min", args.lmin),
                                 ("l_max", args.lmax), ("gamma", args.gamma), ("ambient", args.ambient),
                                 ("target_min", args.target_min), ("target_max", args.target_max))
               if v is not None}
    if changes and not args.monitor:
        raise CliError("name the monitor to calibrate (see 'lightbox display show' or the Settings › Display page)")
    if args.monitor:
        if not changes:
            raise CliError("nothing to set for the monitor: give --mode, --lut, --lmin/--lmax ...")
        if args.lut:
            changes["characteristic_file"] = str(Path(args.lut).expanduser().resolve())
        try:
            calibration = MonitorCalibration.from_dict({**settings.for_monitor(args.monitor).to_dict(), **changes})
            if calibration.mode == "gsdf":
                calibration.table()  # refuse what cannot be computed, with the reason
        except ValueError as exc:
            raise CliError(str(exc)) from None
        settings = settings.with_monitor(args.monitor, calibration)
    if args.surface is not None or args.dither is not None:
        settings = replace(settings, surface_bits=args.surface or settings.surface_bits,
                           dither=settings.dither if args.dither is None else args.dither == "on")
    if not args.monitor and args.surface is None and args.dither is None:
        raise CliError("nothing to set")
    ctx.settings.extra = settings.to_extra(ctx.settings.extra)
    ctx.save_settings()
    if args.monitor:
        print(f"{args.monitor}: {json.dumps(settings.for_monitor(args.monitor).to_dict(), ensure_ascii=False)}")
    print(f"surface: {settings.surface_bits}   dither: {'on' if settings.dither else 'off'}")
    return 0


def display_table(args: argparse.Namespace, ctx: Context) -> int:
    calibration = _display_settings(ctx).for_monitor(args.monitor)
    if calibration.mode != "gsdf":
        raise CliError(f"{args.monitor} has no GSDF to compute (mode {calibration.mode})")
    try:
        table = calibration.table(256, 1 << args.bits)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    j0, j1 = table.jnd_range
    print(f"# GSDF for {args.monitor}: {table.l_min:.4g} to {table.l_max:.4g} cd/m² (ambient {table.ambient:g}), "
          f"JND {j0:.2f} to {j1:.2f}, {table.levels} DDLs")
    print("P\tDDL\tGSDF\tachieved")
    for p, (ddl, target, got) in enumerate(zip(table.ddl, table.target, table.achieved, strict=True)):
        print(f"{p}\t{int(ddl)}\t{target:.6f}\t{got:.6f}")
    return 0


def display_check(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.display.conformance import append_qa_log, check_conformance, read_luminances

    try:
        text = Path(args.csv).read_text(encoding="utf-8-sig") if args.csv else args.luminance
        result = check_conformance(read_luminances(text), ambient=args.ambient, display_class=args.display_class)
    except OSError as exc:
        raise CliError(f"cannot read {args.csv}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None
    entry = None
    if not args.no_log:
        try:
            entry = append_qa_log(qa_log_path(ctx), result, monitor=args.monitor, note=args.note)
        except OSError as exc:
            raise CliError(f"checked, but the QA log cannot be written: {exc.strerror or exc}") from None
    if args.json:
        print_json(entry or {"passed": result.passed, "max_deviation": result.max_deviation,
                             "deviations": result.deviations})
    else:
        print(result.summary())
        print_table(("Step", "Measured dL/L per JND", "GSDF dL/L per JND", "Deviation"),
                    [(f"{s}-{s + 1}", f"{m:.5f}", f"{e:.5f}", f"{d:+.1%}") for s, m, e, d in result.table()])
        if entry is not None:
            print(f"kept in the QA log ({qa_log_path(ctx)})")
    return 0 if result.passed else 1


def display_log(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.display.conformance import read_qa_log

    entries = read_qa_log(qa_log_path(ctx))
    if args.json:
        print_json(entries)
        return 0
    if not entries:
        print("the display QA log is empty")
        return 0
    print_table(("Date", "Monitor", "Class", "Result", "Largest deviation", "Lmax/Lmin"),
                [(e.get("date", ""), e.get("monitor", ""), e.get("display_class", ""),
                  "PASS" if e.get("passed") else "FAIL", f"{e.get('max_deviation', 0):.1%}",
                  f"{e.get('luminance_ratio', 0):.0f}") for e in entries])
    return 0
