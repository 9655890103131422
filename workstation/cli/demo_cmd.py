"""``lightbox demo`` (filled in below)."""


def register(sub) -> None:
    p = sub.add_parser("demo", help="generate demo studies, start the embedded demo archive and open the viewer")
    p.add_argument("--no-gui", action="store_true")
    p.set_defaults(handler=lambda args, ctx: 0)
