"""Entry point of the bundled (frozen) Lightbox.

``multiprocessing.freeze_support()`` comes first: the importer's 'spawn'
process pool starts this same executable for its workers.  The demo archive
is started as ``<python> -W ... -m workstation.net.archive CONFIG``; in the
bundle ``sys.executable`` is this program, so the ``-W``/``-m`` form of the
Python command line is understood here and runs that module.
"""

from __future__ import annotations

import multiprocessing
import runpy
import sys
import warnings


def _python_style_module(argv: list[str]) -> tuple[str, list[str]] | None:
    """``(module, args)`` when ``argv`` reads ``[-W FILTER ...] -m MODULE ARGS...``, else None."""
    i = 0
    filters = []
    while i + 1 < len(argv) and argv[i] == "-W":
        filters.append(argv[i + 1])
        i += 2
    if i + 1 < len(argv) and argv[i] == "-m" and argv[i + 1].startswith("workstation."):
        for spec in filters:
            action, _, category = spec.partition("::")
            if action == "ignore" and category == "DeprecationWarning":
                warnings.simplefilter("ignore", DeprecationWarning)
        return argv[i + 1], argv[i + 2:]
    return None


def main() -> int:
    multiprocessing.freeze_support()
    module = _python_style_module(sys.argv[1:])
    if module is not None:
        name, args = module
        sys.argv = [name, *args]
        runpy.run_module(name, run_name="__main__", alter_sys=True)
        return 0
    from workstation.cli import main as lightbox_main

    return int(lightbox_main() or 0)


if __name__ == "__main__":
    sys.exit(main())
