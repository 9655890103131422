"""Linked viewports: scrolling by patient position, and optionally zoom/pan and window.

When scroll linking is switched on, each viewport's offset from the active
one is taken from what they show at that moment: viewports in the active
one's Frame of Reference follow by absolute position (offset 0), others (a
prior study) keep the offset between their current frames.  To correct that
offset by hand the reader switches linking off, aligns the anatomy, and
switches it on again (or calls :meth:`ViewportLinks.set_offset`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from workstation.imaging.cross_reference import link_offset, linkable, matching_index
from workstation.imaging.registrations import FrameRegistrations
from workstation.imaging.viewport import ViewportModel


class ViewportLinks:
    """Keeps the visible viewports in step with the one the reader moves.

    Parameters
    ----------
    visible : callable
        Returns the viewports currently shown.
    """

    def __init__(self, visible: Callable[[], list[ViewportModel]]) -> None:
        self._visible = visible
        self.scroll = False
        self.zoom_pan = False
        self.window = False
        self.offsets: dict[int, float] = {}  # id(viewport) -> mm along its normal
        # Registered frames of reference (a prior registered to the current study) follow by anatomy.
        self.registrations = FrameRegistrations()
        self._busy = False

    def set_scroll(self, on: bool, reference: ViewportModel | None = None) -> None:
        """Switch scroll linking; on, the offsets are taken from what ``reference`` and the others show."""
        self.scroll = on
        self.offsets.clear()
        if not on or reference is None or reference.stack is None:
            return
        for vp in self._visible():
            if vp is reference or vp.stack is None or not linkable(reference.stack, vp.stack):
                continue
            same_frame = vp.stack.frame_of_reference_uid and (
                vp.stack.frame_of_reference_uid == reference.stack.frame_of_reference_uid)
            if self._registered(reference, vp) is not None:
                continue  # mapped through the registration, no offset
            self.offsets[id(vp)] = 0.0 if same_frame else link_offset(
                reference.stack, reference.index, vp.stack, vp.index)

    def set_offset(self, vp: ViewportModel, mm: float) -> None:
        self.offsets[id(vp)] = float(mm)

    def offset_between(self, source: ViewportModel, target: ViewportModel) -> float:
        """Offset to apply from ``source`` to ``target`` (offsets are relative to the linking reference)."""
        return self.offsets.get(id(target), 0.0) - self.offsets.get(id(source), 0.0)

    def on_change(self, source: ViewportModel, what: str) -> None:
        """Propagate a change of ``source`` to the linked viewports."""
        if self._busy or source.stack is None:
            return
        self._busy = True
        try:
            if what == "index" and self.scroll:
                self._follow_index(source)
            elif what == "view":
                self._follow_view(source)
        finally:
            self._busy = False

    def _follow_index(self, source: ViewportModel) -> None:
        source_stack = source.stack
        if source_stack is None:
            return
        for vp in self._visible():
            if vp is source or vp.stack is None:
                continue
            registered = self._registered(source, vp)
            if registered is not None:
                target = self._registered_index(source, vp, registered)
                if target is not None:
                    vp.set_index(target)
                continue
            if id(vp) not in self.offsets and id(source) not in self.offsets and not self._same_frame(source, vp):
                continue
            target = matching_index(source_stack, source.index, vp.stack, self.offset_between(source, vp))
            if target is not None:
                vp.set_index(target)

    def _registered(self, a: ViewportModel, b: ViewportModel) -> np.ndarray | None:
        if a.stack is None or b.stack is None:
            return None
        return self.registrations.matrix(a.stack.frame_of_reference_uid, b.stack.frame_of_reference_uid)

    @staticmethod
    def _registered_index(source: ViewportModel, target: ViewportModel, matrix: np.ndarray) -> int | None:
        """The target frame nearest the source frame's centre, mapped into the target's frame of reference."""
        f = source.frame
        if f is None or f.position is None or f.orientation is None or target.stack is None:
            return None
        rs, cs = f.pixel_spacing or (1.0, 1.0)
        o = np.asarray(f.orientation, float)
        centre = np.asarray(f.position, float) + o[:3] * cs * (f.columns - 1) / 2 + o[3:] * rs * (f.rows - 1) / 2
        return target.stack.nearest_index((matrix @ np.append(centre, 1.0))[:3])

    @staticmethod
    def _same_frame(a: ViewportModel, b: ViewportModel) -> bool:
        if a.stack is None or b.stack is None:
            return False
        uid = a.stack.frame_of_reference_uid
        return bool(uid) and uid == b.stack.frame_of_reference_uid and linkable(a.stack, b.stack)

    def _follow_view(self, source: ViewportModel) -> None:
        sv = source.view
        source_stack = source.stack
        if source_stack is None:
            return
        for vp in self._visible():
            if vp is source or vp.stack is None:
                continue
            changed = False
            if self.zoom_pan:
                vp.view.copy_zoom_pan(sv)
                changed = True
            if self.window and vp.stack.series.modality == source_stack.series.modality:
                vp.view.voi, vp.view.invert = sv.voi, sv.invert
                changed = True
            if changed:
                vp.changed("view")
