"""Logging set-up.

Logs never carry patient names or IDs: modules log UIDs, counts and paths
inside the cache only.  A file log rotates in the home's log directory.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(log_dir: Path | None, *, debug: bool = False, console: bool = False) -> None:
    root = logging.getLogger()
    level = logging.DEBUG if debug else logging.INFO
    root.setLevel(level)
    for h in list(root.handlers):
        if getattr(h, "_lightbox", False):
            root.removeHandler(h)
            h.close()
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(
                log_dir / "lightbox.log", maxBytes=5_000_000, backupCount=5, encoding="utf-8"
            )
        except OSError:
            fh = None
        if fh is not None:
            fh.setFormatter(logging.Formatter(_FORMAT))
            fh._lightbox = True  # type: ignore[attr-defined]
            root.addHandler(fh)
    if console:
        ch = logging.StreamHandler()
        ch.setLevel(logging.DEBUG if debug else logging.WARNING)
        ch.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        ch._lightbox = True  # type: ignore[attr-defined]
        root.addHandler(ch)
    # pynetdicom is chatty at INFO and logs identifiers (which hold patient data)
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if debug else logging.WARNING)
