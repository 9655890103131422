"""``--source DIR``: run a bench against another checkout of the package (before/after in one run).

Call :func:`use_source_from_argv` before anything imports ``workstation``.  The
editable install's import hook outranks ``sys.path``, so it is taken out first.
"""

from __future__ import annotations

import os
import sys


def load_note() -> str:
    """", load average 1.2" (the last minute's): figures of a busy machine say so beside them."""
    try:
        return f", load average {os.getloadavg()[0]:.1f}"
    except (AttributeError, OSError):
        return ""


def use_source_from_argv() -> str | None:
    """Put the folder after ``--source`` first on the import path; returns it (None without the option)."""
    argv = sys.argv
    if "--source" not in argv:
        return None
    i = argv.index("--source")
    source = argv[i + 1]
    del argv[i:i + 2]
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
    sys.path.insert(0, source)
    return source
