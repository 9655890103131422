"""Print line coverage per package of ``workstation`` from the test run's coverage data.

Run by ``packaging/setup-debian.sh test`` after pytest; reads the combined ``.coverage`` file in the
current directory. Prints one row per package (``workstation/<package>/`` or a top-level module),
its statements, missed lines and percentage, then the total.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import coverage


def package_of(path: Path, root: Path) -> str:
    """Return the package row a measured file belongs to, e.g. ``store`` or ``(top level)``."""
    rel = path.resolve().relative_to(root)
    return rel.parts[1] if len(rel.parts) > 2 else "(top level)"


def main(argv: list[str]) -> int:
    data_file = argv[1] if len(argv) > 1 else ".coverage"
    root = Path.cwd().resolve()
    cov = coverage.Coverage(data_file=data_file)
    cov.load()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name in cov.get_data().measured_files():
        path = Path(name)
        try:
            row = package_of(path, root)
        except ValueError:
            continue  # a file outside the checkout (an installed library)
        if not path.exists():
            continue
        _, statements, _, missing, _ = cov.analysis2(name)
        totals[row][0] += len(statements)
        totals[row][1] += len(missing)
    if not totals:
        print("coverage: no data measured", file=sys.stderr)
        return 1
    print(f"{'package':<16} {'lines':>7} {'missed':>7} {'cover':>7}")
    all_lines = all_missed = 0
    for row in sorted(totals):
        lines, missed = totals[row]
        all_lines += lines
        all_missed += missed
        print(f"{row:<16} {lines:>7} {missed:>7} {100.0 * (lines - missed) / max(lines, 1):>6.1f}%")
    print(f"{'TOTAL':<16} {all_lines:>7} {all_missed:>7} {100.0 * (all_lines - all_missed) / max(all_lines, 1):>6.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
