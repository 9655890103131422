"""One viewport on screen: paints its model's frame and overlays, forwards input to the interaction.

Nothing here decides anything: the frame comes from
:meth:`ViewportModel.render`, the overlays from
:mod:`workstation.imaging.overlay_model`, and every mouse or key event goes to
:class:`~workstation.imaging.interaction.Interaction`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (QColor, QContextMenuEvent, QImage, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen,
                           QPixmap, QTransform, QWheelEvent)
from PySide6.QtWidgets import QInputDialog, QMenu, QWidget

from workstation.imaging import overlay_model
from workstation.imaging.interaction import Interaction
from workstation.session.reading import ReadingSession
from workstation.ui.viewer import overlay
from workstation.ui.viewer.series_strip import SERIES_MIME
from workstation.ui.viewer.stack_scrollbar import SCROLLBAR_WIDTH, StackScrollBar

_BUTTONS = {Qt.MouseButton.LeftButton: "left", Qt.MouseButton.RightButton: "right",
            Qt.MouseButton.MiddleButton: "middle"}

_KEYS = {
    Qt.Key.Key_Up: "Up", Qt.Key.Key_Down: "Down", Qt.Key.Key_Left: "Left", Qt.Key.Key_Right: "Right",
    Qt.Key.Key_PageUp: "PageUp", Qt.Key.Key_PageDown: "PageDown", Qt.Key.Key_Home: "Home",
    Qt.Key.Key_End: "End", Qt.Key.Key_Delete: "Delete", Qt.Key.Key_Backspace: "Backspace",
    Qt.Key.Key_Escape: "Escape", Qt.Key.Key_Space: "Space",
}

SCROLLBAR_FOLLOW_MS = 100  # while the stack scrolls, the scroll bar follows this often (and at the end)
# While the stack moves (scroll, linked scroll, cine) a minified image is sampled at the screen's size and
# painted unscaled; this long after the last move it is painted once more at full quality (smooth scaling).
SETTLE_MS = 150
_BLACK = QColor(0, 0, 0)
_ACTIVE_PEN = QPen(overlay.ACTIVE_BORDER, 2.0)
_INACTIVE_PEN = QPen(overlay.INACTIVE_BORDER, 1.0)
LENS_SIZE = 180  # view pixels
LENS_ZOOM = 2.0


def modifiers_of(event) -> frozenset[str]:
    mods = event.modifiers()
    out = set()
    if mods & Qt.KeyboardModifier.ShiftModifier:
        out.add("shift")
    if mods & Qt.KeyboardModifier.ControlModifier:
        out.add("ctrl")
    if mods & Qt.KeyboardModifier.AltModifier:
        out.add("alt")
    return frozenset(out)


def qtransform(m: np.ndarray) -> QTransform:
    """A 3 x 3 affine matrix (column vectors) as a QTransform (row vectors)."""
    return QTransform(m[0, 0], m[1, 0], m[0, 1], m[1, 1], m[0, 2], m[1, 2])


class ViewportWidget(QWidget):
    """A viewport of the grid.

    Signals
    -------
    activated(int)
        The reader clicked into viewport ``index``.
    key_pressed(str, object)
        A key the viewport did not use (name, modifiers): the viewer's keys (K, Space, ...).
    series_dropped(int, str)
        A series (Series Instance UID) was dropped on viewport ``index``.
    mouse_released()
        A mouse button was let go over the viewport, after the viewport handled it (a drag ended).
    cine_changed()
        Cine started, stopped or changed its rate.
    """

    activated = Signal(int)
    cine_changed = Signal()
    key_pressed = Signal(str, object)
    series_dropped = Signal(int, str)
    mouse_released = Signal()

    def __init__(self, session: ReadingSession, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.index = index
        self.model = session.viewports[index]
        self.interaction = Interaction(self.model, session.annotations, on_cursor=session.place_cursor,
                                       ask_text=self._ask_text)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setMinimumSize(64, 64)
        self.setAcceptDrops(True)
        self.smooth = True
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None  # keeps the QImage's buffer alive
        self.paint_count = 0
        # After an image (not a message) was painted: called with the viewport's index.
        self.on_image_painted: Callable[[int], None] | None = None
        # Segmentations drawn over the image (DICOM SEG): SOP Instance UID -> RGBA array or None.
        self.segmentation_layer: Callable[[str], np.ndarray | None] | None = None
        self._seg_image: tuple[object, QImage] | None = None
        self._moving = False  # the frame changed less than SETTLE_MS ago: the fast path paints it
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(SETTLE_MS)
        self._settle_timer.timeout.connect(self._settle)
        self._samples: tuple[tuple, np.ndarray, np.ndarray, QPointF] | None = None
        self._text_layer = overlay.TextLayer()
        self._corner_text = overlay.CornerText()
        # Millimetres per view pixel and the scale bar's place, kept for the view and frame geometry they were for.
        self._mm_memo: tuple[tuple[bytes, tuple[float, float] | None], float | None] | None = None
        self._scale_bar_memo: tuple[tuple[object, ...], tuple[QPointF, QPixmap] | None] | None = None
        self._marker_memo: tuple[tuple[bytes, int, bool], dict[str, str]] | None = None
        self.cine_timer = QTimer(self)
        self.cine_timer.timeout.connect(self._cine_step)
        self.scrollbar = StackScrollBar(self)
        self.scrollbar.valueChanged.connect(self._on_scrollbar)
        self._bar_stale = False
        self._bar_timer = QTimer(self)
        self._bar_timer.setSingleShot(True)
        self._bar_timer.setInterval(SCROLLBAR_FOLLOW_MS)
        self._bar_timer.timeout.connect(self._on_bar_timer)
        self.scrollbar.hide()
        self.model.subscribe(self._on_model_changed)
        self.menu_actions: list = []  # the window's actions offered by the viewport's menu
        self.context_menu: QMenu | None = None

    # Model ------------------------------------------------------------------------------
    def _on_model_changed(self, _model, what: str) -> None:
        if what == "set" and self.cine_timer.isActive():
            self.cine_timer.stop()
        if what == "set":
            self._sync_scrollbar()
        elif what == "index":
            self._follow_with_scrollbar()
            self._moving = True
            self._settle_timer.start()
        if what == "set":
            cine = self.model.cine
            if not cine.user_set and not cine.playing and self.model.display_set is not None:
                # The rate shown beside Cine ▶ is the one the new series would play at.
                # A header not readable yet: the rate is set again on play.
                with contextlib.suppress(Exception):
                    cine.frames_per_second = self.model.frame_rate()
            self.cine_changed.emit()
        self.update()

    def _settle(self) -> None:
        self._moving = False
        self.update()

    def _follow_with_scrollbar(self) -> None:
        """Move the scroll bar at once, then at most every SCROLLBAR_FOLLOW_MS while scrolling goes on.

        A styled scroll bar costs about a millisecond to repaint: sixteen linked viewports
        scrolling at 60 frames a second spent a third of each frame on them.
        """
        if self._bar_timer.isActive():
            self._bar_stale = True
            return
        self._sync_scrollbar()
        self._bar_timer.start()

    def _on_bar_timer(self) -> None:
        if self._bar_stale:
            self._bar_stale = False
            self._sync_scrollbar()
            self._bar_timer.start()

    def _sync_scrollbar(self) -> None:
        n = len(self.model)
        bar = self.scrollbar
        bar.blockSignals(True)
        bar.setRange(0, max(0, n - 1))
        bar.setPageStep(max(1, n // 10))
        bar.setValue(self.model.index)
        bar.blockSignals(False)
        bar.setVisible(n > 1)

    def _on_scrollbar(self, value: int) -> None:
        if self.model.set_index(value):
            self.activated.emit(self.index)

    def _ask_text(self, initial: str) -> str | None:
        text, ok = QInputDialog.getText(self, "Annotation", "Text:", text=initial)
        return text if ok else None

    def toggle_cine(self) -> None:
        """Play or pause the stack as a cine loop at its frame rate."""
        cine = self.model.cine
        if cine.playing:
            cine.playing = False
            self.cine_timer.stop()
        elif len(self.model) > 1:
            from workstation.imaging.viewport import default_frame_rate

            if not cine.user_set:
                cine.frames_per_second = default_frame_rate(self.model.header())
            cine.playing = True
            self.cine_timer.start(max(1, int(round(1000.0 / cine.frames_per_second))))
        self.update()
        self.cine_changed.emit()

    def set_cine_rate(self, fps: float) -> None:
        cine = self.model.cine
        cine.frames_per_second, cine.user_set = max(0.5, min(120.0, fps)), True
        if cine.playing:
            self.cine_timer.start(max(1, int(round(1000.0 / cine.frames_per_second))))
        self.update()
        self.cine_changed.emit()

    def _cine_step(self) -> None:
        n = len(self.model)
        if n < 2:
            self.toggle_cine()
            return
        # Wait on a frame still loading instead of skipping it.
        nxt = (self.model.index + 1) % n
        if self.model.pixels is not None and self.model.pixels.is_loaded(nxt):
            self.model.set_index(nxt)

    # Painting ---------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:
        self.model.view.resize(self.width(), self.height())
        self.scrollbar.setGeometry(self.width() - SCROLLBAR_WIDTH - 1, 1, SCROLLBAR_WIDTH, self.height() - 2)
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.model.view.resize(self.width(), self.height())
        p = QPainter(self)
        rect = QRectF(self.rect())
        vp = self.model
        if vp.display_set is not None:
            # Another patient's images sit below their warning banner, not under it.
            banner = overlay_model.banner_text(vp)
            vp.view.top_inset = overlay.banner_height(p) if banner else 0.0
            matrix = vp.view.matrix()  # once a paint: the image, the sampled path and the scale bar use it
            self._paint_image(p, rect, matrix)  # with the black around the image
            self._paint_overlays(p, rect, banner, matrix)
        else:
            p.fillRect(rect, _BLACK)
            p.setPen(QColor("#6a6a6a"))
            p.setFont(overlay.overlay_font(10.0))
            p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), "Drop a series here")
        active = self.session.active == self.index and len(self.session.visible) > 1
        p.setPen(_ACTIVE_PEN if active else _INACTIVE_PEN)
        p.drawRect(rect.adjusted(0.5, 0.5, -1, -1))
        p.end()
        self.paint_count += 1

    @staticmethod
    def _fill_around(p: QPainter, rect: QRectF, image: QRectF | None) -> None:
        """Black over ``rect`` except where an opaque image will be drawn over ``image`` (view pixels).

        Filling the whole viewport first and the image over it wrote most pixels twice (sixteen
        viewports a frame).  A pixel's width inside the image's edge is filled too: whatever the
        rounding of a scaled image's edge, no pixel is left unpainted.
        """
        inner = image.adjusted(1, 1, -1, -1).intersected(rect) if image is not None else QRectF()
        if inner.isEmpty():
            p.fillRect(rect, _BLACK)
            return
        top, bottom = inner.top(), inner.bottom()
        for band in (QRectF(rect.left(), rect.top(), rect.width(), top - rect.top()),
                     QRectF(rect.left(), bottom, rect.width(), rect.bottom() - bottom),
                     QRectF(rect.left(), top, inner.left() - rect.left(), bottom - top),
                     QRectF(inner.right(), top, rect.right() - inner.right(), bottom - top)):
            if band.width() > 0 and band.height() > 0:
                p.fillRect(band, _BLACK)

    def _paint_image(self, p: QPainter, rect: QRectF, matrix: np.ndarray) -> None:
        vp = self.model
        if self._moving and self.interaction.lens is None and self._paint_sampled(p, rect, matrix):
            return
        frame = vp.render()
        if frame is None:
            p.fillRect(rect, _BLACK)
            message = vp.error() or "Loading…"
            p.setPen(QColor("#ff7b72") if vp.error() else QColor("#9a9a9a"))
            p.setFont(overlay.overlay_font(11.0))
            p.drawText(rect.adjusted(20, 20, -20, -20),
                       int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), message)
            return
        pixels = frame.pixels
        if pixels is not self._pixels:
            h, w = pixels.shape
            # The frame display packed the pixels for the monitor's surface: 10 bits per channel or 8.
            deep = self.session.display.output.bits == 10
            self._image = QImage(pixels.data, w, h, 4 * w,
                                 QImage.Format.Format_RGB30 if deep else QImage.Format.Format_RGB32)
            self._pixels = pixels
        transform = qtransform(matrix)
        self._fill_around(p, rect, transform.mapRect(QRectF(0, 0, *pixels.shape[::-1]))
                          if self._image is not None else None)
        p.save()
        p.setTransform(transform)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        if self._image is not None:
            p.drawImage(QPointF(0, 0), self._image)
        self._paint_segmentation(p, pixels.shape)
        p.restore()
        if self.on_image_painted is not None:
            self.on_image_painted(self.index)
        lens = self.interaction.lens
        if lens is not None:
            self._paint_lens(p, lens)

    def _paint_sampled(self, p: QPainter, rect: QRectF, matrix: np.ndarray) -> bool:
        """The fast path while the stack moves: the image sampled at the screen's size, painted unscaled.

        Only for a minified, unrotated view of a grey frame the 32-bit tables
        cover (see :meth:`ViewportModel.render_at`); False when it does not
        apply and :meth:`_paint_image` paints the full-quality image instead.
        """
        samples = self._sample_grid(matrix)
        if samples is None:
            return False
        rows, cols, at = samples[1], samples[2], samples[3]
        frame = self.model.render_at(rows, cols)
        if frame is None:
            return False
        pixels = frame.pixels
        h, w = pixels.shape
        deep = self.session.display.output.bits == 10
        # The painter copies nothing: the array lives until the end of this paint, where the image is drawn.
        image = QImage(pixels.data, w, h, 4 * w, QImage.Format.Format_RGB30 if deep else QImage.Format.Format_RGB32)
        self._fill_around(p, rect, QRectF(at.x(), at.y(), w, h))
        p.drawImage(at, image)
        shape = self.model.stored()
        if shape is not None and self.segmentation_layer is not None:
            p.save()
            p.setTransform(qtransform(matrix))
            self._paint_segmentation(p, shape.shape)
            p.restore()
        if self.on_image_painted is not None:
            self.on_image_painted(self.index)
        return True

    def _sample_grid(self, matrix: np.ndarray) -> tuple[tuple, np.ndarray, np.ndarray, QPointF] | None:
        """Stored rows and columns under the view's pixels, and where they go; None unless minified, unrotated.

        Remembered per matrix, image and widget size: while scrolling only the frame changes.
        """
        stored = self.model.stored()
        if stored is None or stored.ndim != 2:
            return None
        key = (matrix.tobytes(), stored.shape, self.width(), self.height())
        if self._samples is not None and self._samples[0] == key:
            return self._samples
        a, b, c = matrix[0]
        d, e, f = matrix[1, 0], matrix[1, 1], matrix[1, 2]
        if b != 0 or d != 0 or not (0 < abs(a) < 1 and 0 < abs(e) < 1):
            return None  # rotated by a quarter turn, or magnified: Qt's smooth scaling paints it
        n_rows, n_cols = stored.shape

        def axis(scale: float, offset: float, n: int, size: int) -> tuple[int, np.ndarray] | None:
            lo, hi = sorted((offset, offset + scale * n))
            first, last = max(0, math.ceil(lo)), min(size, math.floor(hi))
            if last <= first:
                return None
            centres = np.arange(first, last, dtype=float) + 0.5
            return first, np.clip(((centres - offset) / scale).astype(np.intp), 0, n - 1)

        across, down = axis(a, c, n_cols, self.width()), axis(e, f, n_rows, self.height())
        if across is None or down is None:
            return None
        self._samples = (key, down[1], across[1], QPointF(across[0], down[0]))
        return self._samples

    def _paint_segmentation(self, p: QPainter, shape: tuple[int, ...]) -> None:
        """The segments lying on this image, in image pixels (the painter holds the view transform)."""
        f = self.model.frame
        if self.segmentation_layer is None or f is None:
            return
        layer = self.segmentation_layer(f.key[0])
        if layer is None or layer.shape[:2] != tuple(shape[:2]):
            return
        if self._seg_image is None or self._seg_image[0] is not layer:
            h, w = layer.shape[:2]
            self._seg_image = (layer, QImage(layer.data, w, h, 4 * w, QImage.Format.Format_RGBA8888))
        p.drawImage(QPointF(0, 0), self._seg_image[1])

    def _paint_lens(self, p: QPainter, centre: tuple[float, float]) -> None:
        """The magnifier: the image around the cursor at twice the zoom, in a square lens."""
        u, v = centre
        half = LENS_SIZE / 2
        box = QRectF(u - half, v - half, LENS_SIZE, LENS_SIZE)
        p.save()
        p.setClipRect(box)
        p.fillRect(box, QColor(0, 0, 0))
        zoom = QTransform().translate(u, v).scale(LENS_ZOOM, LENS_ZOOM).translate(-u, -v)
        p.setTransform(qtransform(self.model.view.matrix()) * zoom)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        if self._image is not None:
            p.drawImage(QPointF(0, 0), self._image)
        p.restore()
        p.setPen(QPen(overlay.ACTIVE_BORDER, 2.0))
        p.drawRect(box)

    def _markers(self) -> dict[str, str]:
        """The orientation letters, worked out again only when the plane or the view's turn or flip changes."""
        vp = self.model
        f = vp.frame
        if f is None or f.orientation is None:
            return overlay_model.markers(vp)
        key = (f.orientation.tobytes(), vp.view.rotation, vp.view.flip_horizontal)
        if self._marker_memo is None or self._marker_memo[0] != key:
            self._marker_memo = (key, overlay_model.markers(vp))
        return self._marker_memo[1]

    def _mm_per_view_pixel(self, matrix: np.ndarray) -> float | None:
        """:func:`overlay_model.mm_per_view_pixel`, worked out again only when the view or the spacing changes."""
        f = self.model.frame
        key = (matrix.tobytes(), f.pixel_spacing if f is not None else None)
        if self._mm_memo is None or self._mm_memo[0] != key:
            self._mm_memo = (key, overlay_model.mm_per_view_pixel(self.model))
        return self._mm_memo[1]

    def _paint_scale_bar(self, p: QPainter, rect: QRectF, mm: float, bottom_lines: int) -> None:
        key = (rect.width(), rect.height(), mm, bottom_lines)
        if self._scale_bar_memo is None or self._scale_bar_memo[0] != key:
            self._scale_bar_memo = (key, overlay.scale_bar_place(rect, mm, bottom_lines=bottom_lines))
        place = self._scale_bar_memo[1]
        if place is not None:
            p.drawPixmap(*place)

    def _paint_overlays(self, p: QPainter, rect: QRectF, banner: str, matrix: np.ndarray) -> None:
        vp = self.model
        session = self.session
        f = vp.frame
        # The active viewport's line last: on top where lines of several viewports coincide.
        for a, b, active in sorted(session.reference_lines(self.index), key=lambda line: line[2]):
            overlay.paint_reference_line(p, QPointF(*vp.view.to_view(*a)), QPointF(*vp.view.to_view(*b)), active)
        items = session.annotations.on_frame(f.key) if f is not None else []
        if items:
            overlay.paint_annotations(p, vp, items, session.annotations.selected)
        cursor = overlay_model.cursor_view_point(vp)
        if cursor is not None:
            overlay.paint_cursor(p, QPointF(*cursor))
        top = 0.0
        if banner:
            top = overlay.paint_banner(p, rect, banner)
        corners = overlay_model.corner_lines(vp, session.corner_text_overrides)
        if f is not None and session.is_key_image(f.key):
            corners.setdefault("top_right", []).insert(0, "★ KEY IMAGE")
        layer = self._text_layer
        self._corner_text.add_to(layer, rect, corners, self._markers(), top)
        layer.paint(p, rect)
        mm = self._mm_per_view_pixel(matrix)
        if mm is not None:
            self._paint_scale_bar(p, rect, mm, len(corners.get("bottom_right", [])))
        loaded = overlay_model.loaded_flags(vp)
        if loaded is not None and not loaded.all():
            overlay.paint_loading_strip(p, rect, loaded, vp.index)
        reading = self.interaction.probe_reading
        if reading is not None and self.interaction.drag is not None:
            p.setFont(overlay.overlay_font(10.0))
            overlay.shadowed_text(p, rect.left() + 6, rect.center().y(), reading.describe(), overlay.MARKER_COLOR)

    # Input ------------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(SERIES_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        data = event.mimeData().data(SERIES_MIME)
        if data:
            self.series_dropped.emit(self.index, bytes(data).decode())
            event.acceptProposedAction()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.activated.emit(self.index)
        button = _BUTTONS.get(event.button())
        if button is not None:
            pos = event.position()
            self.interaction.press(pos.x(), pos.y(), button, modifiers_of(event))
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        self.interaction.move(pos.x(), pos.y(), modifiers_of(event))
        if self.interaction.drag is not None or self.interaction.pending is not None:
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        button = _BUTTONS.get(event.button())
        drag = self.interaction.drag
        # A right click that did not drag the window opens the viewport's menu.
        menu_click = button == "right" and drag is not None and drag.button == "right" and not drag.moved
        if button is not None:
            pos = event.position()
            self.interaction.release(pos.x(), pos.y(), button, modifiers_of(event))
        self.update()
        if menu_click:
            self.show_menu(event.globalPosition().toPoint())
        self.mouse_released.emit()

    def contextMenuEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # The mouse's right button is window/level (its menu comes on release, above); this is the menu key.
        if event.reason() != QContextMenuEvent.Reason.Mouse:
            self.show_menu(event.globalPos())
        event.accept()

    def show_menu(self, at: QPoint) -> QMenu | None:
        """The viewport's menu (MPR of this series, key image, …) at ``at`` (global coordinates)."""
        if not self.menu_actions:
            return None
        self.activated.emit(self.index)
        menu = QMenu(self)
        menu.setObjectName("viewportMenu")
        for action in self.menu_actions:
            menu.addAction(action)
        menu.popup(at)
        self.context_menu = menu
        return menu

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = round(event.angleDelta().y() / 120)
        if steps:
            pos = event.position()
            self.interaction.wheel(steps, modifiers_of(event), (pos.x(), pos.y()))
            self.update()
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        name = _KEYS.get(Qt.Key(event.key())) or event.text().upper()
        mods = modifiers_of(event)
        if name and "ctrl" not in mods and self.interaction.key(name, mods):
            self.update()
            return
        if name:
            self.key_pressed.emit(name, mods)
        super().keyPressEvent(event)
