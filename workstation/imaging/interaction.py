"""What the reader's mouse and keys do to a viewport, without widgets.

The viewport widget turns Qt events into calls of :class:`Interaction` with
view coordinates, a button name ("left", "right", "middle") and a set of
modifiers ("shift", "ctrl", "alt"); tests drive the same calls.

Fixed bindings, whatever the tool: right drag = window/level, middle drag =
pan, wheel = next/previous frame, Ctrl + wheel = zoom about the cursor,
Shift + left click = 3D cursor.  The left button does what the chosen
:class:`Tool` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from collections.abc import Callable

import numpy as np

from workstation.imaging.annotation_layer import Annotation, AnnotationLayer, Kind
from workstation.imaging.annotation_values import calibration_for, measure
from workstation.imaging.viewport import ViewportModel
from workstation.imaging.window_presets import preset_for_key

# The keys a viewport handles itself, for the Help › Keyboard shortcuts sheet (a test checks that
# Interaction.key uses every one of them).
VIEWPORT_KEYS: dict[str, str] = {
    "Up / Left": "previous image",
    "Down / Right": "next image",
    "Page Up / Page Down": "back or forward a tenth of the stack",
    "Home / End": "first or last image",
    "1 … 9": "window presets of the modality (else the image's own windows)",
    "0": "the image's own window",
    "I": "invert the grey scale",
    "R / Shift+R": "rotate 90° clockwise / counter-clockwise",
    "H": "flip left-right",
    "V": "flip top-bottom",
    "F": "fit the image to the viewport",
    "N": "one image pixel per screen pixel",
    "Delete / Backspace": "delete the selected measurement",
    "Escape": "drop the drawing in progress",
}
MOUSE_BINDINGS: dict[str, str] = {
    "Left drag": "the tool chosen in the toolbar",
    "Right drag": "window width and level",
    "Middle drag": "pan",
    "Wheel": "previous or next image",
    "Ctrl + wheel": "zoom about the cursor",
    "Shift + left click": "3D cursor: the other viewports go to that point",
    "Right click (without dragging)": "the viewport's menu",
}

HANDLE_TOLERANCE_PX = 7.0  # view pixels: a comfortable target for a mouse
MIN_DRAG_PX = 3.0


class Tool(str, Enum):
    """The left button's tool; the value is its label."""

    SELECT = "Select"
    SCROLL = "Scroll"
    WINDOW = "Window"
    ZOOM = "Zoom"
    PAN = "Pan"
    PROBE = "Probe"
    MAGNIFY = "Magnify"
    LENGTH = "Length"
    ANGLE = "Angle"
    COBB = "Cobb angle"
    RECTANGLE = "Rectangle"
    ELLIPSE = "Ellipse"
    FREEHAND = "Freehand"
    POINT = "Point"
    ARROW = "Arrow"
    TEXT = "Text"

    @property
    def kind(self) -> Kind | None:
        """The annotation this tool draws, if any."""
        return {
            Tool.LENGTH: Kind.LENGTH, Tool.ANGLE: Kind.ANGLE, Tool.COBB: Kind.COBB,
            Tool.RECTANGLE: Kind.RECTANGLE, Tool.ELLIPSE: Kind.ELLIPSE, Tool.FREEHAND: Kind.FREEHAND,
            Tool.POINT: Kind.POINT, Tool.ARROW: Kind.ARROW, Tool.TEXT: Kind.TEXT,
        }.get(self)


@dataclass
class ProbeReading:
    """The pixel under the probe: stored value, modality value with units, patient position."""

    column: int
    row: int
    stored: str
    value: str
    patient: tuple[float, float, float] | None

    def describe(self) -> str:
        text = f"({self.column}, {self.row})  stored {self.stored}"
        if self.value:
            text += f"  value {self.value}"
        if self.patient is not None:
            text += "  at ({:.1f}, {:.1f}, {:.1f}) mm".format(*self.patient)
        return text


def probe(vp: ViewportModel, x: float, y: float) -> ProbeReading | None:
    """Read the pixel at image point ``(x, y)`` of the current frame (None outside or unloaded)."""
    stored = vp.stored()
    if stored is None:
        return None
    col, row = int(math.floor(x)), int(math.floor(y))
    if not (0 <= row < stored.shape[0] and 0 <= col < stored.shape[1]):
        return None
    raw = stored[row, col]
    p = vp.pipeline()
    point = vp.patient_point(col + 0.5, row + 0.5)
    patient = (float(point[0]), float(point[1]), float(point[2])) if point is not None else None
    if np.ndim(raw):
        return ProbeReading(col, row, " ".join(str(int(v)) for v in raw), "", patient)
    value = ""
    if p is not None and not p.is_color:
        m = float(np.asarray(p.modality_values(np.array([raw])))[0])
        value = f"{m:g}" + (f" {p.units}" if p.units else "")
    return ProbeReading(col, row, f"{raw}", value, patient)


def remeasure(vp: ViewportModel, a: Annotation, index: int | None = None) -> None:
    """Compute an annotation's values on frame ``index`` of the viewport's stack (default: the current).

    The annotation must have been drawn on that frame; the frame is read now if it is not yet.
    """
    stack, pixels = vp.stack, vp.pixels
    i = vp.index if index is None else index
    if stack is None or pixels is None or not 0 <= i < len(stack) or stack.frames[i].key != a.frame_key:
        return
    f = stack.frames[i]
    pixels.load(i)
    header, stored = pixels.header(i), pixels.image(i)
    p = vp.pipeline() if i == vp.index else None
    if p is None and header is not None:
        try:
            p = vp.display.pipeline(f.key, header, f.frame)
        except Exception:  # measured without modality values rather than not at all
            p = None
    cal = calibration_for(header, f.frame, a.points)
    values, units = None, ""
    if p is not None and stored is not None and not p.is_color and stored.ndim == 2:
        values, units = p.modality_values(stored), p.units
    measure(a, cal, values, units, stored)


@dataclass
class _Drag:
    button: str
    mode: str
    start: tuple[float, float]
    last: tuple[float, float]
    annotation: Annotation | None = None
    handle: int | None = None
    moved: bool = False
    accumulated: float = 0.0
    window: tuple[float, float] | None = None  # (center, width) when a window drag began


class Interaction:
    """The reader's input on one viewport.

    Parameters
    ----------
    vp : ViewportModel
    layer : AnnotationLayer
        The session's annotations.
    on_cursor : callable, optional
        ``on_cursor(vp, patient_point)`` for the 3D cursor (Shift + click).
    ask_text : callable, optional
        ``ask_text(initial) -> str | None`` for text and arrow labels (None: cancelled).
    """

    def __init__(self, vp: ViewportModel, layer: AnnotationLayer,
                 on_cursor: Callable[[ViewportModel, np.ndarray], None] | None = None,
                 ask_text: Callable[[str], str | None] | None = None) -> None:
        self.vp = vp
        self.layer = layer
        self.tool = Tool.SCROLL
        self.on_cursor = on_cursor
        self.ask_text = ask_text
        self.drag: _Drag | None = None
        self.pending: Annotation | None = None  # an angle or Cobb angle waiting for its next points
        self.probe_reading: ProbeReading | None = None
        self.lens: tuple[float, float] | None = None

    # Helpers ---------------------------------------------------------------------------
    def _image(self, u: float, v: float) -> tuple[float, float]:
        return self.vp.view.to_image(u, v)

    def _tolerance(self) -> float:
        return HANDLE_TOLERANCE_PX / max(self.vp.view.zoom, 1e-6)

    def set_tool(self, tool: Tool | str) -> None:
        """Give the left button ``tool`` (a :class:`Tool` or its value, as a menu's data carries it)."""
        self.cancel()
        self.tool = Tool(tool)

    def cancel(self) -> None:
        """Drop a drawing in progress."""
        if self.pending is not None:
            self.layer.remove(self.pending)
        self.pending, self.drag, self.lens = None, None, None

    # Mouse -----------------------------------------------------------------------------
    def press(self, u: float, v: float, button: str, modifiers: frozenset[str] = frozenset()) -> None:
        f = self.vp.frame
        if f is None:
            return
        if button == "right":
            self.drag = _Drag("right", "window", (u, v), (u, v))
            return
        if button == "middle":
            self.drag = _Drag("middle", "pan", (u, v), (u, v))
            return
        if button != "left":
            return
        x, y = self._image(u, v)
        if "shift" in modifiers:
            point = self.vp.patient_point(x, y)
            if point is not None and self.on_cursor is not None:
                self.on_cursor(self.vp, point)
            return
        if self.pending is not None:
            self._continue_pending(x, y)
            return
        kind = self.tool.kind
        if kind is not None or self.tool is Tool.SELECT:
            hit = self.layer.hit(f.key, (x, y), self._tolerance())
            if hit is not None:
                self.layer.selected = hit.annotation
                mode = "handle" if hit.handle is not None else "move"
                self.drag = _Drag("left", mode, (u, v), (u, v), hit.annotation, hit.handle)
                self.layer.changed()
                return
        if kind is not None:
            self._start_annotation(kind, x, y, u, v)
            return
        mode = {Tool.SCROLL: "scroll", Tool.WINDOW: "window", Tool.ZOOM: "zoom", Tool.PAN: "pan",
                Tool.PROBE: "probe", Tool.MAGNIFY: "magnify", Tool.SELECT: "none"}[self.tool]
        self.drag = _Drag("left", mode, (u, v), (u, v))
        if mode == "probe":
            self.probe_reading = probe(self.vp, x, y)
        elif mode == "magnify":
            self.lens = (u, v)
        if self.layer.selected is not None and mode == "none":
            self.layer.selected = None
            self.layer.changed()

    def move(self, u: float, v: float, modifiers: frozenset[str] = frozenset()) -> None:
        d = self.drag
        if d is None:
            if self.pending is not None:
                self._preview_pending(*self._image(u, v))
            return
        du, dv = u - d.last[0], v - d.last[1]
        if math.hypot(u - d.start[0], v - d.start[1]) >= MIN_DRAG_PX:
            d.moved = True
        d.last = (u, v)
        view = self.vp.view
        if d.mode == "window":
            if d.window is None:
                w = self.vp.current_window()
                d.window = (w.center, w.width) if w is not None else None
            if d.window is not None:
                view.drag_window(u - d.start[0], v - d.start[1], d.window)
                self.vp.changed("view")
        elif d.mode == "pan":
            view.pan_by(du, dv)
            self.vp.changed("view")
        elif d.mode == "zoom":
            view.zoom_by(math.exp(-dv * 0.01), d.start)
            self.vp.changed("view")
        elif d.mode == "scroll":
            step = min(12.0, max(2.0, view.viewport_size[1] / max(len(self.vp), 1)))
            d.accumulated += dv
            frames = int(d.accumulated / step)
            if frames:
                d.accumulated -= frames * step
                self.vp.scroll(frames)
        elif d.mode == "probe":
            self.probe_reading = probe(self.vp, *self._image(u, v))
        elif d.mode == "magnify":
            self.lens = (u, v)
        elif d.mode in ("handle", "move", "draw") and d.annotation is not None:
            x, y = self._image(u, v)
            a = d.annotation
            if d.mode == "move":
                px, py = self._image(u - du, v - dv)
                a.translate(x - px, y - py)
            elif d.mode == "handle" and d.handle is not None:
                a.points[d.handle] = (x, y)
            elif a.kind is Kind.FREEHAND:
                a.points.append((x, y))
            else:
                a.points[-1] = (x, y)
            remeasure(self.vp, a)
            self.layer.changed()

    def release(self, u: float, v: float, button: str, modifiers: frozenset[str] = frozenset()) -> None:
        d, self.drag = self.drag, None
        if d is None or d.button != button:
            return
        if d.mode == "magnify":
            self.lens = None
            self.vp.changed("view")
        if d.mode != "draw" or d.annotation is None:
            return
        a = d.annotation
        if a.kind in (Kind.ANGLE, Kind.COBB):
            if not d.moved:
                self.layer.remove(a)
                return
            # The first leg is drawn; the next points come with clicks (an angle) or a drag (Cobb).
            if a.kind is Kind.ANGLE:
                a.points.append(a.points[-1])
            self.pending = a
            return
        if a.kind.points_needed not in (1, None) and not d.moved:
            self.layer.remove(a)  # a click is not a measurement
            return
        if a.kind is Kind.FREEHAND and len(a.points) < 3:
            self.layer.remove(a)
            return
        if a.kind is Kind.ARROW and self.ask_text is not None:
            a.text = self.ask_text("") or ""
        remeasure(self.vp, a)
        self.layer.changed()

    def _start_annotation(self, kind: Kind, x: float, y: float, u: float, v: float) -> None:
        f = self.vp.frame
        if f is None:  # press() only starts one on a frame
            return
        points = [(x, y)] if kind in (Kind.POINT, Kind.TEXT, Kind.FREEHAND) else [(x, y), (x, y)]
        a = Annotation(kind, points, f.key)
        if kind is Kind.TEXT:
            text = self.ask_text("") if self.ask_text is not None else None
            if not text:
                return
            a.text = text
        self.layer.add(a)
        remeasure(self.vp, a)
        if kind in (Kind.POINT, Kind.TEXT):
            self.layer.changed()
            return
        self.drag = _Drag("left", "draw", (u, v), (u, v), a)

    def _continue_pending(self, x: float, y: float) -> None:
        a = self.pending
        if a is None:
            return
        if a.kind is Kind.ANGLE:
            a.points[-1] = (x, y)
            self.pending = None
        else:  # Cobb: the second line is dragged like the first
            a.points.extend([(x, y), (x, y)])
            self.pending = None
            self.drag = _Drag("left", "draw", self.vp.view.to_view(x, y), self.vp.view.to_view(x, y), a)
        remeasure(self.vp, a)
        self.layer.changed()

    def _preview_pending(self, x: float, y: float) -> None:
        a = self.pending
        if a is None:
            return
        if a.kind is Kind.ANGLE and len(a.points) == 3:
            a.points[-1] = (x, y)
            remeasure(self.vp, a)
            self.layer.changed()

    def wheel(self, steps: int, modifiers: frozenset[str] = frozenset(),
              at: tuple[float, float] | None = None) -> None:
        """``steps`` wheel notches (positive: away from the reader = previous frame)."""
        if "ctrl" in modifiers:
            self.vp.view.zoom_by(1.15 ** steps, at)
            self.vp.changed("view")
        else:
            self.vp.scroll(-steps)

    # Keys ------------------------------------------------------------------------------
    def key(self, name: str, modifiers: frozenset[str] = frozenset()) -> bool:
        """Handle a key by name ("Up", "PageDown", "Home", "3", "I", ...); True when used."""
        vp, view = self.vp, self.vp.view
        n = len(vp)
        page = max(1, n // 10)
        moves = {"Up": -1, "Left": -1, "Down": 1, "Right": 1, "PageUp": -page, "PageDown": page}
        if name in moves:
            vp.scroll(moves[name])
        elif name == "Home":
            vp.set_index(0)
        elif name == "End":
            vp.set_index(n - 1)
        elif name.isdigit() and len(name) == 1:
            return self._preset(int(name))
        elif name == "I":
            view.toggle_invert()
        elif name == "R":
            view.rotate(-1 if "shift" in modifiers else 1)
        elif name == "H":
            view.flip_left_right()
        elif name == "V":
            view.flip_top_bottom()
        elif name == "F":
            view.fit_to_viewport()
        elif name == "N":
            view.one_to_one()
        elif name in ("Delete", "Backspace") and self.layer.selected is not None:
            self.layer.remove(self.layer.selected)
            return True
        elif name == "Escape":
            self.cancel()
            self.layer.changed()
            return True
        else:
            return False
        vp.changed("view")
        return True

    def _preset(self, number: int) -> bool:
        vp = self.vp
        if number == 0:
            vp.view.use_image_voi(None)
            vp.changed("view")
            return True
        modality = vp.stack.series.modality if vp.stack is not None else ""
        preset = preset_for_key(modality, number)
        if preset is None:
            # Without presets the number keys pick the image's own windows.
            p = vp.pipeline()
            if p is None or number > len(p.windows):
                return False
            vp.view.use_image_voi(number - 1)
        else:
            vp.view.set_window(preset.center, preset.width, preset.name)
        vp.changed("view")
        return True
