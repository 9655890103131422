"""From the reader's action to the MPR planes painted, for a cached 500-slice CT; the longest event-loop stall.

    .venv/bin/python -m bench.mpr_open [--source DIR]
    QT_QPA_PLATFORM=xcb xvfb-run -a -s '-screen 0 1920x1080x24' .venv/bin/python -m bench.mpr_open

See :mod:`bench._volume_open` for the set-up.  Targets: action -> MPR planes
painted at most 1.0 s; longest stall at most 100 ms.  ``--source DIR`` runs
the same against another checkout (``git archive`` of an older commit).
"""

from __future__ import annotations

from bench._source import load_note, use_source_from_argv

SOURCE = use_source_from_argv()

TARGET_MPR_S = 1.0
TARGET_STALL_S = 0.100


def main() -> None:
    from bench._volume_open import ms, run

    marks = run(want_full_3d=False)
    mpr, stall = marks.get("mpr painted"), marks["longest stall"]
    print(f"MPR of a cached {marks.get('volume shape')} CT from the viewer's action (Qt {marks.get('platform')})"
          + (f", package from {SOURCE}" if SOURCE else "") + load_note() + ":")
    print(f"  action -> MPR planes painted {ms(marks, 'mpr painted')}   target {TARGET_MPR_S * 1e3:.0f} ms -> "
          f"{'met' if mpr is not None and mpr <= TARGET_MPR_S else 'NOT met'}"
          + (f" (ratio to target {mpr / TARGET_MPR_S:.2f})" if mpr is not None else ""))
    print(f"  action -> first 3D frame    {ms(marks, '3d preview')}")
    print(f"  longest event-loop stall    {ms(marks, 'longest stall')}   target {TARGET_STALL_S * 1e3:.0f} ms -> "
          f"{'met' if stall <= TARGET_STALL_S else 'NOT met'} (ratio to target {stall / TARGET_STALL_S:.2f}); "
          f"{marks.get('stalls over 50 ms')} stalls over 50 ms")


if __name__ == "__main__":
    main()
