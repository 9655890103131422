"""From the reader's action to the first 3D frame and to the full-quality frame, cached 500-slice CT; longest stall.

    .venv/bin/python -m bench.vr_open [--source DIR]
    QT_QPA_PLATFORM=xcb xvfb-run -a -s '-screen 0 1920x1080x24' .venv/bin/python -m bench.vr_open

See :mod:`bench._volume_open` for the set-up (the MPR views open with the 3D
view, as in the MPR and 3D window).  Targets: first 3D frame at most 1.0 s,
full quality at most 3 s, longest event-loop stall at most 100 ms.
"""

from __future__ import annotations

from bench._source import load_note, use_source_from_argv

SOURCE = use_source_from_argv()

TARGETS = {"3d preview": 1.0, "3d full": 3.0}
TARGET_STALL_S = 0.100


def main() -> None:
    from bench._volume_open import ms, run

    marks = run(want_full_3d=True)
    print(f"3D of a cached {marks.get('volume shape')} CT from the viewer's action (Qt {marks.get('platform')}, "
          "CPU ray casting)"
          + (f", package from {SOURCE}" if SOURCE else "") + load_note() + ":")
    print(f"  action -> MPR planes painted {ms(marks, 'mpr painted')}")
    for key, label in (("3d preview", "first 3D frame"), ("3d full", "full-quality frame")):
        v = marks.get(key)
        print(f"  action -> {label:19s} {ms(marks, key)}   target {TARGETS[key] * 1e3:.0f} ms -> "
              f"{'met' if v is not None and v <= TARGETS[key] else 'NOT met'}"
              + (f" (ratio to target {v / TARGETS[key]:.2f})" if v is not None else ""))
    stall = marks["longest stall"]
    print(f"  longest event-loop stall     {ms(marks, 'longest stall')}   target {TARGET_STALL_S * 1e3:.0f} ms -> "
          f"{'met' if stall <= TARGET_STALL_S else 'NOT met'} (ratio to target {stall / TARGET_STALL_S:.2f}); "
          f"{marks.get('stalls over 50 ms')} stalls over 50 ms")


if __name__ == "__main__":
    main()
