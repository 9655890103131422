"""The ``lightbox`` command.

``lightbox`` alone opens the GUI.  Subcommands script the layers below; each
area has its own module that registers its subcommands.  Errors exit non-zero
with one clear line (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from types import ModuleType

from workstation import __version__, audit
from workstation.cli.common import CliError, Context

# One module per area; each registers its own subcommands.
_AREAS = (
    "import_cmd", "browse", "cache_cmd", "demo_cmd", "nodes_cmd", "net_cmd", "render_cmd", "volume_cmd", "report_cmd",
    "hanging_cmd", "qc_cmd", "worklist_cmd", "display_cmd", "export_cmd", "audit_cmd",
)

# Which area registers each top-level command: a command imports only its own area's module, so
# `lightbox studies` does not load Qt, VTK, SimpleITK, highdicom or pynetdicom (start-up is mostly
# imports).  tests/cli/test_cli_startup.py checks this table against what the areas register.
COMMAND_AREAS = {
    "import": "import_cmd",
    "studies": "browse", "series": "browse",
    "cache": "cache_cmd",
    "demo": "demo_cmd",
    "config": "nodes_cmd", "nodes": "nodes_cmd",
    "query": "net_cmd", "retrieve": "net_cmd", "send": "net_cmd", "listen": "net_cmd",
    "render": "render_cmd",
    "mpr": "volume_cmd", "render3d": "volume_cmd", "volume": "volume_cmd",
    "report": "report_cmd", "outbox": "report_cmd", "cert": "report_cmd",
    "protocols": "hanging_cmd", "snapshot": "hanging_cmd", "prefetch": "hanging_cmd", "hang": "hanging_cmd",
    "qc": "qc_cmd", "tags": "qc_cmd",
    "worklist": "worklist_cmd", "hl7": "worklist_cmd",
    "patterns": "display_cmd", "display": "display_cmd",
    "export": "export_cmd",
    "audit": "audit_cmd",
}


def _area(name: str) -> ModuleType:
    return importlib.import_module(f"workstation.cli.{name}")


def build_parser(areas: tuple[str, ...] | None = None) -> argparse.ArgumentParser:
    """The ``lightbox`` parser with the subcommands of ``areas`` (default: all of them)."""
    parser = argparse.ArgumentParser(
        prog="lightbox",
        description="Lightbox diagnostic reading workstation. Without a command, opens the viewer.",
    )
    parser.add_argument("--home", metavar="DIR",
                        help="folder for config, cache and logs "
                             "(default: $LIGHTBOX_HOME, else the platform's user folders)")
    parser.add_argument("--debug", action="store_true", help="verbose logging and full tracebacks")
    parser.add_argument("--version", action="version", version=f"Lightbox {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in areas if areas is not None else _AREAS:
        _area(name).register(sub)
    return parser


def command_of(argv: list[str]) -> str | None:
    """The command word of a command line (the first argument that is not a global option), or None."""
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--home":
            i += 2
            continue
        if word.startswith("-"):
            if word == "--":
                return argv[i + 1] if i + 1 < len(argv) else None
            i += 1
            continue
        return word
    return None


def _configure_limits(ctx: Context) -> None:
    """Memory and size ceilings from the site's settings (max_frame_mib, max_object_mib, max_received_object_mib)."""
    from workstation.dicom import limits

    try:
        limits.configure(ctx.settings.extra)
    except Exception:  # noqa: BLE001 - unreadable settings are reported by the command that needs them
        limits.configure()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    area = COMMAND_AREAS.get(command_of(argv) or "")
    # Help, the GUI and unknown words get every area (the full help, argparse's own suggestions).
    parser = build_parser((area,) if area is not None else None)
    args = parser.parse_args(argv)
    ctx = Context.from_args(args)
    try:
        ctx.configure_logging(console=args.command is not None)
        _configure_limits(ctx)
        audit.configure(ctx.home)  # every command's audit events go to this home's trail
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
