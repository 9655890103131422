"""One viewport's state, without widgets: which stack, which frame, how it is shown.

The widget paints what :meth:`ViewportModel.render` returns and forwards the
reader's input to :mod:`workstation.imaging.interaction`; everything a test
checks (index, zoom, window, measurements) lives here.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging.frame_display import DisplayFrame, FrameDisplay
from workstation.imaging.pipeline import FramePipeline, Window
from workstation.imaging.viewstate import ViewState
from workstation.model.stack import FrameRef, ImageStack
from workstation.model.stack_pixels import StackLoader, StackPixels
from workstation.store.queries import StudyRow

if TYPE_CHECKING:
    from workstation.clinical.filters import FilterSpec
    from workstation.imaging.presentation_state import PresentationState


@dataclass
class DisplaySet:
    """A series as the viewer offers it: its stack and pixels once opened.

    Attributes
    ----------
    study : StudyRow
        The series' study (patient identity for every viewport showing it).
    stack : ImageStack
        Its frames in display order.
    pixels : StackPixels
        Their stored values as they are read.
    loader : StackLoader or None
        The background reader, started when the set is first shown.
    """

    study: StudyRow
    stack: ImageStack
    pixels: StackPixels
    loader: StackLoader | None = None
    title: str = ""  # shown instead of the series' name (key-image display sets)
    key: str = ""  # what names the display set when not its series (a key object selection's UID)
    # The corner text fields of the frames shown lately (workstation.imaging.overlay_model.corner_lines),
    # kept with the display set: every viewport showing it shows the same fields for the same frame.
    corner_memo: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=OrderedDict, repr=False,
                                                                      compare=False)

    @property
    def series_uid(self) -> str:
        return self.key or self.stack.series.series_uid

    @property
    def label(self) -> str:
        if self.title:
            return self.title
        s = self.stack.series
        number = "" if s.series_number is None else f"{s.series_number}: "
        return f"{number}{s.description or s.modality or 'series'}"


@dataclass
class CineState:
    """Cine play: on or off, and its rate in frames per second."""

    playing: bool = False
    frames_per_second: float = 10.0
    user_set: bool = False


def default_frame_rate(header: Dataset | None, fallback: float = 10.0) -> float:
    """Frames per second to play a multi-frame image at (:func:`workstation.imaging.frames.frame_rate`:
    Recommended Display Frame Rate, Frame Time or Frame Time Vector, Cine Rate, else ``fallback``)."""
    from workstation.imaging.frames import frame_rate

    return frame_rate(header, fallback)


class ViewportModel:
    """A viewport: its display set, current frame, view state and cine.

    Parameters
    ----------
    display : FrameDisplay
        The session's shared renderer (pipelines and tables are shared).
    """

    def __init__(self, display: FrameDisplay) -> None:
        self.display = display
        self.display_set: DisplaySet | None = None
        self.view = ViewState()
        self.index = 0
        self.cine = CineState()
        self.other_patient = False  # another patient than the session's: the widget shows a banner
        self.expected_patient: tuple[str, str] | None = None  # the session's (name, ID), checked per image
        # Names the RIS corrected (ADT^A08) for this patient: an image still carrying one shows the index's name.
        self.replaced_names: frozenset[str] = frozenset()
        # Patient IDs a merge (ADT^A40) moved this study away from: an image carrying one is of the index's patient.
        self.replaced_ids: frozenset[str] = frozenset()
        self.cursor_point: np.ndarray | None = None  # 3D cursor (patient mm) shown in this viewport
        self.state: PresentationState | None = None  # an applied presentation state
        # A spatial filter of the displayed image (workstation.clinical.filters.FilterSpec, or None); kept
        # when the series changes: the reader chose it for this viewport.
        self.spatial_filter: FilterSpec | None = None
        self._filtered: tuple[np.ndarray, FilterSpec, np.ndarray] | None = None  # (stored, filter, filtered)
        self._listeners: list[Callable[[ViewportModel, str], None]] = []
        self._memo: tuple[tuple[object, ...], DisplayFrame] | None = None  # (what it shows, the frame)
        # The overlay model's patient banner, kept with the names it was worked out for.
        self.banner_memo: dict[tuple[Any, ...], str] = {}

    # Observers -----------------------------------------------------------------------
    def subscribe(self, callback: Callable[[ViewportModel, str], None]) -> None:
        """Call ``callback(model, what)`` on changes: "index", "view", "set"."""
        self._listeners.append(callback)

    def changed(self, what: str) -> None:
        for cb in list(self._listeners):
            cb(self, what)

    # Content -------------------------------------------------------------------------
    @property
    def stack(self) -> ImageStack | None:
        return self.display_set.stack if self.display_set else None

    @property
    def pixels(self) -> StackPixels | None:
        return self.display_set.pixels if self.display_set else None

    def __len__(self) -> int:
        return len(self.display_set.stack) if self.display_set else 0

    def set_display_set(self, display_set: DisplaySet | None, index: int | None = None) -> None:
        """Show ``display_set`` from frame ``index`` (default: the first), with a fresh view."""
        self.display_set = display_set
        self.view.reset()
        self.cine = CineState()
        self.cursor_point = None
        self.state = None
        self._memo = None
        self.banner_memo.clear()
        self.index = 0
        if display_set is not None and len(display_set.stack):
            self.index = min(max(index or 0, 0), len(display_set.stack) - 1)
            f = display_set.stack.frames[self.index]
            self._fit_image_to(f)
        self.changed("set")

    def _fit_image_to(self, f: FrameRef) -> None:
        aspect = 1.0
        if f.pixel_spacing is not None and f.pixel_spacing[1] > 0:
            aspect = f.pixel_spacing[0] / f.pixel_spacing[1]
        self.view.set_image(f.columns, f.rows, aspect)

    @property
    def frame(self) -> FrameRef | None:
        stack = self.stack
        return stack.frames[self.index] if stack is not None and len(stack) else None

    def set_index(self, index: int) -> bool:
        """Go to frame ``index`` (clamped); True when it changed."""
        n = len(self)
        display_set = self.display_set
        if not n or display_set is None:
            return False
        index = min(max(int(index), 0), n - 1)
        if index == self.index:
            return False
        self.index = index
        f = display_set.stack.frames[index]
        if (f.columns, f.rows) != self.view.image_size:
            self._fit_image_to(f)
        loader = display_set.loader
        if loader is not None and not display_set.pixels.is_loaded(index):
            loader.set_focus(index)
        self.changed("index")
        return True

    def scroll(self, delta: int) -> bool:
        """Move ``delta`` frames (positive: towards the end)."""
        return self.set_index(self.index + delta)

    def frame_rate(self) -> float:
        """The cine rate in effect (frames per second): the reader's, else the image's own timing."""
        if self.cine.user_set:
            return self.cine.frames_per_second
        return default_frame_rate(self.header(), self.cine.frames_per_second)

    # Frame data ----------------------------------------------------------------------
    def header(self) -> Dataset | None:
        return self.pixels.header(self.index) if self.pixels is not None and len(self) else None

    def stored(self) -> np.ndarray | None:
        return self.pixels.image(self.index) if self.pixels is not None and len(self) else None

    def is_loaded(self) -> bool:
        return self.pixels is not None and len(self) > 0 and self.pixels.is_loaded(self.index)

    def error(self) -> str | None:
        """Why the current frame cannot be shown, or None."""
        if self.pixels is None or not len(self):
            return None
        err = self.pixels.error(self.index)
        if err is None and self.is_loaded() and self.pipeline() is None:
            return "the image header cannot be read"
        return err

    def frame_number(self) -> int | None:
        """Referenced Frame Number (from 1) of the current frame, None for a single-frame image."""
        f = self.frame
        return f.frame + 1 if f is not None and f.number_of_frames > 1 else None

    def pipeline(self) -> FramePipeline | None:
        """The current frame's pipeline, with an applied presentation state's transforms when it refers to it."""
        header, f = self.header(), self.frame
        if header is None or f is None:
            return None
        try:
            base = self.display.pipeline(f.key, header, f.frame)
            state = self.state
            if state is None or not state.references_image(f.sop_instance_uid, self.frame_number()):
                return base
            key = (*f.key, state.sop_instance_uid)
            return self.display.pipeline(key, header, f.frame,
                                         derive=lambda p: state.pipeline_for(p, f.sop_instance_uid,
                                                                            self.frame_number()),
                                         base_key=f.key)
        except Exception:  # a header the pipeline cannot use: the viewport says so
            return None

    def current_window(self) -> Window | None:
        """The VOI the current frame is (or would be) shown with."""
        p = self.pipeline()
        if p is None:
            return None
        return self.display.window_for(p, self.view.voi, self.stored(), stack_key=self._stack_key())

    def _stack_key(self) -> str | None:
        return self.display_set.series_uid if self.display_set else None

    def render(self) -> DisplayFrame | None:
        """Display pixels of the current frame, or None while it is loading or when it failed."""
        stored, p = self.stored(), self.pipeline()
        display_set, pixels = self.display_set, self.pixels
        if stored is None or p is None or display_set is None or pixels is None:
            return None
        window = self.display.window_for(p, self.view.voi, stored, stack_key=self._stack_key())
        stored = self._filter(stored)
        key = (display_set.series_uid, self.index, window, self.view.invert, id(stored), id(p),
               self.display.output_serial, self.spatial_filter)
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        try:
            frame = self.display.render(p, stored, window, invert=self.view.invert,
                                        photometric_interpretation=pixels.photometric[self.index] or None)
        except Exception as exc:  # the viewport shows the message instead of the image
            pixels.errors[self.index] = f"cannot display image: {exc}"
            return None
        self._memo = (key, frame)
        return frame

    def render_at(self, rows: np.ndarray, columns: np.ndarray) -> DisplayFrame | None:
        """Display pixels of the current frame's stored pixels ``rows`` x ``columns`` (nearest samples).

        The widget's fast path for a minified view (see
        :meth:`~workstation.imaging.frame_display.FrameDisplay.render_sampled`);
        None when the frame is not ready or needs :meth:`render`.
        """
        stored, p = self.stored(), self.pipeline()
        if stored is None or p is None:
            return None
        try:
            window = self.display.window_for(p, self.view.voi, stored, stack_key=self._stack_key())
            return self.display.render_sampled(p, self._filter(stored), window, rows, columns,
                                               invert=self.view.invert)
        except Exception:  # render() reports the reason in the viewport
            return None

    def set_spatial_filter(self, spec: FilterSpec | None) -> None:
        """Show the image through ``spec`` (a FilterSpec; None or kind "none" for the image as stored)."""
        self.spatial_filter = None if spec is None or spec.kind == "none" else spec
        self.changed("view")

    def _filter(self, stored: np.ndarray) -> np.ndarray:
        """The stored values as the viewport's filter shows them (the stored array is never changed)."""
        spec = self.spatial_filter
        if spec is None or stored.ndim != 2:
            return stored
        if self._filtered is not None and self._filtered[0] is stored and self._filtered[1] == spec:
            return self._filtered[2]
        from workstation.clinical.filters import apply_filter

        f = self.frame
        spacing = f.pixel_spacing if f is not None and f.pixel_spacing else (1.0, 1.0)
        out = apply_filter(stored, spacing, spec)
        if np.issubdtype(stored.dtype, np.integer):
            info = np.iinfo(stored.dtype)
            out = np.clip(np.rint(out), info.min, info.max).astype(stored.dtype)
        self._filtered = (stored, spec, out)
        return out

    # Geometry helpers ----------------------------------------------------------------
    def patient_point(self, x: float, y: float) -> np.ndarray | None:
        """Patient coordinates (mm) of image point ``(x, y)`` on the current frame."""
        f = self.frame
        return f.patient_point(x, y) if f is not None else None

    def image_point_of(self, point: np.ndarray) -> tuple[float, float, float] | None:
        """Image coordinates of a patient point projected on the current frame, and its distance (mm)."""
        f = self.frame
        if f is None or f.position is None or f.orientation is None or f.pixel_spacing is None:
            return None
        d = np.asarray(point, dtype=float) - f.position
        row_spacing, col_spacing = f.pixel_spacing
        x = float(d @ f.orientation[:3]) / col_spacing + 0.5
        y = float(d @ f.orientation[3:]) / row_spacing + 0.5
        n = f.normal
        dist = abs(float(d @ n)) if n is not None else 0.0
        return x, y, dist

    def patient_identity(self) -> tuple[str, str]:
        """(Patient's Name, Patient ID) of what the viewport shows."""
        if self.display_set is None:
            return "", ""
        return self.display_set.study.patient_name, self.display_set.study.patient_id
