"""The ``lightbox`` command.

``lightbox`` alone opens the GUI.  Subcommands script the layers below; each
area has its own module that registers its subcommands.  Errors exit non-zero
with one clear line (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from workstation import __version__
from workstation.cli import (
    browse,
    cache_cmd,
    demo_cmd,
    hanging_cmd,
    import_cmd,
    net_cmd,
    nodes_cmd,
    qc_cmd,
    render_cmd,
    report_cmd,
    volume_cmd,
)
from workstation.cli.common import CliError, Context

# One module per area; each registers its own subcommands.
_AREAS = (
    import_cmd, browse, cache_cmd, demo_cmd, nodes_cmd, net_cmd, render_cmd, volume_cmd, report_cmd, hanging_cmd, qc_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lightbox",
        description="Lightbox diagnostic reading workstation. Without a command, opens the viewer.",
    )
    parser.add_argument("--home", metavar="DIR", help="folder for config, cache and logs (default: $LIGHTBOX_HOME, else the platform's user folders)")
    parser.add_argument("--debug", action="store_true", help="verbose logging and full tracebacks")
    parser.add_argument("--version", action="version", version=f"Lightbox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in _AREAS:
        area.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context.from_args(args)
    try:
        ctx.configure_logging(console=args.command is not None)
        if args.command is None:
            from workstation.ui.app import run_gui  # the GUI is the only place Qt is loaded

            return run_gui(ctx.home)
        return int(args.handler(args, ctx) or 0)
    except KeyboardInterrupt:
        print("lightbox: interrupted", file=sys.stderr)
        return 130
    except CliError as exc:
        print(f"lightbox: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # one clear line; the traceback only when asked for
        if args.debug:
            raise
        logging.getLogger("workstation").exception("command failed")
        print(f"lightbox: error: {exc}", file=sys.stderr)
        return 1
    finally:
        ctx.close()
