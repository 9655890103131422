"""Window placement remembered per monitor, and layouts across monitors (no Qt here).

A reading station has several monitors (two diagnostic ones and a colour one
for the worklist, say).  Lightbox remembers where its window was on each
monitor it has been on, keyed by the monitor's name and size, and the monitor
it was last on.  When it starts, the window goes back to that monitor if it is
still connected, else to the primary monitor, always fully visible.

:func:`span_rect` gives the rectangle covering adjacent diagnostic monitors
(one layout across two), :func:`stage_screens` which monitor shows which
protocol stage (one stage per monitor).  ``ui/window_placement.py`` feeds Qt's
screens in and applies the result.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Sequence


@dataclass(frozen=True)
class Rect:
    """A rectangle in virtual-desktop pixels (the origin of the primary monitor is 0, 0)."""

    x: int
    y: int
    width: int
    height: int

    def clamped_into(self, area: Rect) -> Rect:
        """This rectangle moved (and shrunk when it must) so that it lies inside ``area``."""
        w, h = min(self.width, area.width), min(self.height, area.height)
        x = min(max(self.x, area.x), area.x + area.width - w)
        y = min(max(self.y, area.y), area.y + area.height - h)
        return Rect(x, y, w, h)

    def overlap(self, other: Rect) -> int:
        """The area both rectangles cover, in pixels."""
        w = min(self.x + self.width, other.x + other.width) - max(self.x, other.x)
        h = min(self.y + self.height, other.y + other.height) - max(self.y, other.y)
        return max(0, w) * max(0, h)


@dataclass(frozen=True)
class Screen:
    """One monitor: its name, whole geometry and the part windows may use (no task bar)."""

    name: str
    geometry: Rect
    available: Rect
    primary: bool = False

    @property
    def key(self) -> str:
        """Identifies the monitor across sessions: its name and resolution."""
        return f"{self.name}@{self.geometry.width}x{self.geometry.height}"


@dataclass(frozen=True)
class Placement:
    """Where the window was on one monitor: its normal geometry relative to the monitor, and its state."""

    x: int
    y: int
    width: int
    height: int
    maximized: bool = False
    full_screen: bool = False


def screen_of(window: Rect, screens: Sequence[Screen]) -> Screen:
    """The monitor showing most of ``window`` (the primary one when it is on none)."""
    best = max(screens, key=lambda s: (s.geometry.overlap(window), s.primary))
    return best if best.geometry.overlap(window) else primary(screens)


def primary(screens: Sequence[Screen]) -> Screen:
    """The primary monitor (the first one when none says it is)."""
    return next((s for s in screens if s.primary), screens[0])


MONITOR_LAYOUTS = ("normal", "span", "stages")


class PlacementMemory:
    """Placements per monitor key and the last monitor used, kept in a small JSON file.

    Parameters
    ----------
    path : pathlib.Path
        The file (``window_placement.json`` in the home's config folder).  A
        missing or unreadable file means nothing is remembered.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.last_screen = ""
        self.by_screen: dict[str, Placement] = {}
        # "normal", "span" (one layout across two diagnostic monitors) or "stages" (a stage on each)
        self.monitor_layout = "normal"
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.last_screen = str(raw.get("last_screen", ""))
            layout = raw.get("monitor_layout", "normal")
            self.monitor_layout = layout if layout in MONITOR_LAYOUTS else "normal"
            self.by_screen = {k: Placement(**v) for k, v in dict(raw.get("screens", {})).items()}
        except (OSError, ValueError, TypeError, AttributeError):
            pass

    def remember(self, window: Rect, screens: Sequence[Screen], *, maximized: bool = False,
                 full_screen: bool = False) -> Screen:
        """Record ``window`` (its normal geometry) on the monitor showing it; return that monitor."""
        screen = screen_of(window, screens)
        g = screen.geometry
        self.by_screen[screen.key] = Placement(window.x - g.x, window.y - g.y, window.width, window.height,
                                               maximized, full_screen)
        self.last_screen = screen.key
        return screen

    def restore(self, screens: Sequence[Screen], default_size: tuple[int, int]) -> tuple[Screen, Rect, Placement]:
        """Where to put the window now.

        Returns
        -------
        (Screen, Rect, Placement)
            The monitor (the last one used when still connected, else the
            primary), the window's normal geometry inside its available area,
            and the remembered placement (state flags) or a centred default.
        """
        by_key = {s.key: s for s in screens}
        screen = by_key.get(self.last_screen) or primary(screens)
        area = screen.available
        placement = self.by_screen.get(screen.key)
        if placement is None:
            w, h = min(default_size[0], area.width), min(default_size[1], area.height)
            placement = Placement(area.x - screen.geometry.x + (area.width - w) // 2,
                                  area.y - screen.geometry.y + (area.height - h) // 2, w, h)
        g = screen.geometry
        rect = Rect(g.x + placement.x, g.y + placement.y, placement.width, placement.height).clamped_into(area)
        return screen, rect, placement

    def save(self) -> None:
        """Write the file atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"last_screen": self.last_screen, "screens": {k: asdict(v) for k, v in self.by_screen.items()},
                "monitor_layout": self.monitor_layout}
        fd, tmp = tempfile.mkstemp(prefix=".placement-", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
        os.replace(tmp, self.path)


def diagnostic_screens(screens: Sequence[Screen], count: int = 2) -> list[Screen]:
    """The ``count`` monitors for images: the largest ones, left to right (top to bottom)."""
    chosen = sorted(screens, key=lambda s: -(s.geometry.width * s.geometry.height))[:count]
    return sorted(chosen, key=lambda s: (s.geometry.x, s.geometry.y))


def span_rect(screens: Sequence[Screen]) -> Rect:
    """The rectangle one layout takes across ``screens`` (their available areas' bounding box)."""
    x0 = min(s.available.x for s in screens)
    y0 = min(s.available.y for s in screens)
    x1 = max(s.available.x + s.available.width for s in screens)
    y1 = max(s.available.y + s.available.height for s in screens)
    return Rect(x0, y0, x1 - x0, y1 - y0)


def stage_screens(n_stages: int, screens: Sequence[Screen]) -> list[tuple[int, Screen]]:
    """One protocol stage per diagnostic monitor: ``(stage index, monitor)`` for as many as fit."""
    monitors = diagnostic_screens(screens, count=n_stages)
    return list(zip(range(n_stages), monitors, strict=False))  # fewer monitors than stages: as many as fit
