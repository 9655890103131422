"""Logging set-up.

Logs never carry patient names or IDs: modules log UIDs, counts and paths
inside the cache only, and every handler masks data values that libraries
(pydicom, pynetdicom) or exception texts would otherwise write
(:class:`~workstation.log_privacy.PrivacyFilter`).  Python warnings go through
the same handlers.  A file log rotates in the home's log directory.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from workstation.log_privacy import PrivacyFilter

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
            fh.addFilter(PrivacyFilter())
            fh._lightbox = True  # type: ignore[attr-defined]
            root.addHandler(fh)
    if console:
        ch = logging.StreamHandler()
        ch.setLevel(logging.DEBUG if debug else logging.WARNING)
        ch.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        ch.addFilter(PrivacyFilter())
        ch._lightbox = True  # type: ignore[attr-defined]
        root.addHandler(ch)
    # pydicom warns about invalid values with the values themselves: through the masking handlers.
    logging.captureWarnings(True)
    # A log that cannot be written (disk full) must not print "--- Logging error ---" tracebacks.
    logging.raiseExceptions = False
    # pynetdicom is chatty at INFO and logs identifiers (which hold patient data)
    logging.getLogger("pynetdicom").setLevel(logging.DEBUG if debug else logging.WARNING)
