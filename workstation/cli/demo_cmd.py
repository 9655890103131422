"""``lightbox demo``: demo studies in the cache and in an embedded archive, then the viewer."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from workstation.cli.common import CliError, Context, Subparsers


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "demo",
        help="generate demo studies, start the embedded demo archive (node DEMO) and open the viewer",
        description="Generates the demo studies once (kept in the home), imports them into the local cache, "
        "starts pynetdicom's Query/Retrieve SCP on 127.0.0.1 as node DEMO holding them, and opens the viewer. "
        "The archive stops when Lightbox exits.",
    )
    p.add_argument("--no-gui", action="store_true", help="keep the archive running until interrupted (Ctrl+C)")
    p.add_argument("--size", choices=("full", "small"), default="full", help="'small' makes tiny studies (for tests)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.demo.launcher import start_demo
    from workstation.net.archive import ArchiveError
    from workstation.net.association import NetworkError

    def say(text: str) -> None:
        print(text, flush=True)

    try:
        session = start_demo(ctx.home, ctx.settings, size=args.size, say=say)
    except (ArchiveError, NetworkError, RuntimeError) as exc:
        raise CliError(f"the demo could not start: {exc}") from None
    try:
        say(f"{session.status}; {len(session.study_uids)} demo studies in the local cache")
        if args.no_gui:
            say("Ready. Press Ctrl+C to stop the demo archive.")
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            try:
                while not stop.wait(0.5):
                    if not session.archive.running:
                        raise CliError("the demo archive stopped unexpectedly (see its log in the home's demo folder)")
            except KeyboardInterrupt:
                pass
            return 0
        ctx.close()
        from workstation.ui.app import run_gui

        return run_gui(ctx.home, status_message=session.status, on_quit=session.stop)
    finally:
        session.stop()
        sys.stdout.flush()
