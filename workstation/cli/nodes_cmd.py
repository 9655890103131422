"""Subcommands: config show/set and nodes add/list/remove/echo/test (connectivity)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from workstation.cli.common import CliError, Context, Subparsers, print_json, print_table
from workstation.config import ConfigError, Node, Settings


def register(sub: Subparsers) -> None:
    """Add this area's subcommands to the lightbox parser."""
    cfg = sub.add_parser("config", help="show or change settings (our AE title, storage port ...)")
    cfg_sub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = cfg_sub.add_parser("show", help="print the settings")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=config_show)
    setp = cfg_sub.add_parser("set", help=f"change one setting: {', '.join(Settings.SETTABLE)}")
    setp.add_argument("key", metavar="KEY")
    setp.add_argument("value", metavar="VALUE")
    setp.set_defaults(handler=config_set)

    nodes = sub.add_parser("nodes", help="remote DICOM nodes (archives): add, list, remove, echo, test")
    nsub = nodes.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    add = nsub.add_parser("add", help="add or replace a node")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--ae", required=True, help="the node's AE title")
    add.add_argument("--host", required=True)
    add.add_argument("--port", required=True, type=int)
    add.add_argument("--retrieve", choices=("move", "get", "dicomweb"), default="move")
    add.add_argument("--query-model", choices=("study", "patient"), default="study")
    add.add_argument("--url", default="", help="DICOMweb base URL (for --retrieve dicomweb, and DICOMweb send)")
    add.add_argument("--tls-ca", default="", metavar="FILE",
                     help="CA certificate(s) the node's certificate must chain to")
    add.add_argument("--tls-cert", default="", metavar="FILE", help="our client certificate")
    add.add_argument("--tls-key", default="", metavar="FILE", help="our client key")
    add.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    add.add_argument("--max-associations", type=int, default=2, help="parallel associations (default 2)")
    add.add_argument("--charset", default="ISO_IR 192", help="Specific Character Set of queries (default ISO_IR 192)")
    add.add_argument("--no-get-fallback", action="store_true",
                     help="do not fall back to C-GET when C-MOVE is refused with 0xA801")
    add.add_argument("--worklist", action="store_true",
                     help="a Modality Worklist provider: queried for orders (MWL C-FIND) by 'lightbox worklist'")
    add.set_defaults(handler=nodes_add)
    lst = nsub.add_parser("list", help="list the nodes")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=nodes_list)
    rm = nsub.add_parser("remove", help="remove a node")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(handler=nodes_remove)
    ech = nsub.add_parser("echo", help="C-ECHO a node")
    ech.add_argument("name", metavar="NAME")
    ech.set_defaults(handler=nodes_echo)
    tst = nsub.add_parser("test", help="C-ECHO, a study-level C-FIND and a C-MOVE of one instance to us, explained "
                                       "(a worklist node: C-ECHO and a Modality Worklist C-FIND)")
    tst.add_argument("name", metavar="NAME")
    tst.add_argument("--json", action="store_true")
    tst.set_defaults(handler=nodes_test)


def _node(ctx: Context, name: str) -> Node:
    try:
        return ctx.settings.node(name)
    except ConfigError as exc:
        raise CliError(str(exc)) from None


def config_show(args: argparse.Namespace, ctx: Context) -> int:
    s = ctx.settings
    data = {k: v for k, v in s.to_dict().items() if k != "nodes"}
    data["nodes"] = len(s.nodes)
    data["config_file"] = str(ctx.home.config_file)
    if args.json:
        print_json(data)
    else:
        for key in sorted(data):
            print(f"{key}: {data[key]}")
    return 0


def config_set(args: argparse.Namespace, ctx: Context) -> int:
    try:
        ctx.settings.set(args.key, args.value)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    ctx.save_settings()
    print(f"{args.key} = {getattr(ctx.settings, args.key)}")
    return 0


def nodes_add(args: argparse.Namespace, ctx: Context) -> int:
    try:
        node = Node(name=args.name, ae_title=args.ae, host=args.host, port=args.port, query_model=args.query_model,
                    retrieve=args.retrieve, url=args.url, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                    tls_key=args.tls_key, timeout=args.timeout, max_associations=args.max_associations,
                    charset=args.charset, get_fallback=not args.no_get_fallback,
                    worklist=args.worklist)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    replaced = any(n.name.lower() == node.name.lower() for n in ctx.settings.nodes)
    ctx.settings.upsert_node(node)
    ctx.save_settings()
    print(f"{'replaced' if replaced else 'added'} node {node.name}: {node.ae_title}@{node.host}:{node.port}")
    return 0


def nodes_list(args: argparse.Namespace, ctx: Context) -> int:
    nodes = ctx.settings.nodes
    if args.json:
        print_json([asdict(n) for n in nodes])
        return 0
    print_table(["name", "AE title", "host", "port", "retrieve", "TLS", "url"],
                [[n.name, n.ae_title, n.host, n.port, "worklist" if n.worklist else n.retrieve,
                  "yes" if (n.tls_ca or n.tls_cert) else "", n.url]
                 for n in nodes])
    return 0


def nodes_remove(args: argparse.Namespace, ctx: Context) -> int:
    try:
        node = ctx.settings.remove_node(args.name)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    ctx.save_settings()
    print(f"removed node {node.name}")
    return 0


def nodes_echo(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.net.echo import echo

    result = echo(_node(ctx, args.name), ctx.settings.ae_title)
    if not result.ok:
        raise CliError(result.message)
    print(result.message)
    return 0


def nodes_test(args: argparse.Namespace, ctx: Context) -> int:
    from workstation.net.diagnostics import summary, test_node

    node = _node(ctx, args.name)
    checks = []
    if node.worklist:
        from workstation.net.mwl import test_worklist_node

        running = test_worklist_node(node, ctx.settings.ae_title)
    else:
        running = test_node(node, ctx.settings, ctx.home, ctx.cache)
    for check in running:
        checks.append(check)
        if not args.json:
            print(f"{check.name:7} {check.state.upper():7} {check.message}", flush=True)
    if args.json:
        print_json([{"check": c.name, "state": c.state, "message": c.message, "seconds": round(c.elapsed_s, 3)}
                    for c in checks])
    else:
        print(summary(checks))
    return 0 if all(c.state != "failed" for c in checks) else 1
