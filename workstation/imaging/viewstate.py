"""How one viewport shows its image: zoom, pan, rotation, flip, inversion and window.

Coordinates
-----------
*Image* coordinates are those of Graphic Annotation PIXEL units (PS3.3
C.10.5): ``(x, y) = (0, 0)`` is the top left corner of the top left pixel, and
``(columns, rows)`` the bottom right corner of the bottom right pixel, so the
centre of pixel ``(column c, row r)`` is ``(c + 0.5, r + 0.5)``.  *View*
coordinates are the viewport widget's pixels, origin at its top left.

The image is shown as: centred, scaled by ``zoom`` (view pixels per image
column) and by ``zoom * pixel_aspect`` vertically (non-square pixels),
rotated clockwise by quarter turns, mirrored, then moved by ``pan``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

MIN_ZOOM = 0.05
MAX_ZOOM = 64.0


@dataclass
class VoiChoice:
    """Which VOI applies: an explicit window, else the image's own VOI number ``voi_index``.

    ``center``/``width`` None and ``voi_index`` None mean the image's first VOI
    (or a full-range window when it has none).
    """

    center: float | None = None
    width: float | None = None
    voi_index: int | None = None
    function: str = "LINEAR"
    name: str = ""

    @property
    def explicit(self) -> bool:
        return self.center is not None and self.width is not None


@dataclass
class ViewState:
    """The view transform and grey-scale choices of one viewport.

    Attributes
    ----------
    image_size : tuple of int
        (columns, rows) of the shown image.
    viewport_size : tuple of int
        (width, height) of the viewport in view pixels.
    pixel_aspect : float
        Row spacing over column spacing (1 for square pixels).
    fit : bool
        When True the zoom follows the viewport size (the whole image shown).
    rotation : int
        Clockwise quarter turns, 0 to 3.
    flip_horizontal : bool
        Mirror left-right after rotating.
    top_inset : float
        View pixels kept clear at the top (a warning banner's height): the image
        is fitted and centred in the area below it.
    """

    image_size: tuple[int, int] = (1, 1)
    viewport_size: tuple[int, int] = (1, 1)
    pixel_aspect: float = 1.0
    fit: bool = True
    _zoom: float = 1.0
    pan: tuple[float, float] = (0.0, 0.0)
    rotation: int = 0
    flip_horizontal: bool = False
    invert: bool = False
    voi: VoiChoice = field(default_factory=VoiChoice)
    top_inset: float = 0.0
    # (the values matrix() was made from, the matrix): each viewport asks several times a paint
    _matrix_memo: tuple[tuple[object, ...], np.ndarray] | None = field(default=None, init=False, repr=False,
                                                                         compare=False)

    # Geometry ------------------------------------------------------------------------
    def image_area(self) -> tuple[float, float, float]:
        """Width, height and top of the part of the viewport the image is fitted and centred in."""
        vw, vh = self.viewport_size
        inset = min(max(0.0, self.top_inset), vh / 2)
        return vw, vh - inset, inset

    @property
    def zoom(self) -> float:
        """View pixels per image column (the fitting zoom while :attr:`fit` is set)."""
        return self.fit_zoom() if self.fit else self._zoom

    def fit_zoom(self) -> float:
        """The zoom that shows the whole image in the viewport."""
        cols, rows = self.image_size
        w, h = float(cols), rows * self.pixel_aspect
        if self.rotation % 2:
            w, h = h, w
        vw, vh, _top = self.image_area()
        return max(MIN_ZOOM, min(vw / max(w, 1e-6), vh / max(h, 1e-6)))

    def matrix(self) -> np.ndarray:
        """3 x 3 affine matrix taking image coordinates to view coordinates (read-only, kept until the view changes)."""
        key = (self.image_size, self.viewport_size, self.pixel_aspect, self.fit, self._zoom, self.pan, self.rotation,
               self.flip_horizontal, self.top_inset)
        memo = self._matrix_memo
        if memo is not None and memo[0] == key:
            return memo[1]
        m = self._make_matrix()
        m.setflags(write=False)
        self._matrix_memo = (key, m)
        return m

    def _make_matrix(self) -> np.ndarray:
        cols, rows = self.image_size
        z = self.zoom
        centre = np.array([[1, 0, -cols / 2], [0, 1, -rows / 2], [0, 0, 1]], dtype=float)
        scale = np.diag([z, z * self.pixel_aspect, 1.0])
        c, s = [(1, 0), (0, 1), (-1, 0), (0, -1)][self.rotation % 4]
        # Clockwise on screen (y points down): x' = c x - s y, y' = s x + c y.
        rotate = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], dtype=float)
        flip = np.diag([-1.0 if self.flip_horizontal else 1.0, 1.0, 1.0])
        vw, vh, top = self.image_area()
        move = np.array([[1, 0, vw / 2 + self.pan[0]], [0, 1, top + vh / 2 + self.pan[1]], [0, 0, 1]], dtype=float)
        m: np.ndarray = move @ flip @ rotate @ scale @ centre
        return m

    def to_view(self, x: float, y: float) -> tuple[float, float]:
        """View coordinates of image point ``(x, y)``."""
        u, v, _ = self.matrix() @ np.array([x, y, 1.0])
        return float(u), float(v)

    def to_image(self, u: float, v: float) -> tuple[float, float]:
        """Image coordinates of view point ``(u, v)``."""
        x, y, _ = np.linalg.inv(self.matrix()) @ np.array([u, v, 1.0])
        return float(x), float(y)

    def image_direction(self, du: float, dv: float) -> tuple[float, float]:
        """The image-space direction (x, y) that points along view direction ``(du, dv)``."""
        m = np.linalg.inv(self.matrix()[:2, :2])
        x, y = m @ np.array([du, dv], dtype=float)
        return float(x), float(y)

    def contains_image_point(self, x: float, y: float) -> bool:
        cols, rows = self.image_size
        return 0 <= x < cols and 0 <= y < rows

    # Changes -------------------------------------------------------------------------
    def set_image(self, columns: int, rows: int, pixel_aspect: float = 1.0) -> None:
        """A new image size (keeps zoom, pan and orientation)."""
        self.image_size = (max(1, int(columns)), max(1, int(rows)))
        self.pixel_aspect = float(pixel_aspect) if pixel_aspect and math.isfinite(pixel_aspect) else 1.0

    def resize(self, width: int, height: int) -> None:
        self.viewport_size = (max(1, int(width)), max(1, int(height)))

    def set_zoom(self, zoom: float, anchor: tuple[float, float] | None = None) -> None:
        """Zoom to ``zoom`` keeping the image point under view point ``anchor`` in place."""
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, float(zoom)))
        if anchor is None:
            vw, vh, top = self.image_area()
            anchor = (vw / 2, top + vh / 2)
        fixed = self.to_image(*anchor)
        self._zoom, self.fit = zoom, False
        u, v = self.to_view(*fixed)
        self.pan = (self.pan[0] + anchor[0] - u, self.pan[1] + anchor[1] - v)

    def zoom_by(self, factor: float, anchor: tuple[float, float] | None = None) -> None:
        self.set_zoom(self.zoom * factor, anchor)

    def fit_to_viewport(self) -> None:
        """Show the whole image, centred."""
        self.fit, self.pan = True, (0.0, 0.0)

    def show_area(self, x0: float, y0: float, x1: float, y1: float) -> None:
        """Zoom and pan so the image rectangle (x0, y0)-(x1, y1) just fits the viewport, centred."""
        w, h = abs(x1 - x0), abs(y1 - y0) * self.pixel_aspect
        if self.rotation % 2:
            w, h = h, w
        vw, vh, top = self.image_area()
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, min(vw / max(w, 1e-6), vh / max(h, 1e-6))))
        self.fit, self.pan = False, (0.0, 0.0)
        u, v = self.to_view((x0 + x1) / 2, (y0 + y1) / 2)
        self.pan = (vw / 2 - u, top + vh / 2 - v)

    def one_to_one(self) -> None:
        """One image pixel per view pixel (horizontally), centred."""
        self._zoom, self.fit, self.pan = 1.0, False, (0.0, 0.0)

    def pan_by(self, du: float, dv: float) -> None:
        self.pan = (self.pan[0] + du, self.pan[1] + dv)

    def copy_zoom_pan(self, other: ViewState) -> None:
        """Take another viewport's zoom and pan (linked zoom/pan)."""
        self.fit, self._zoom, self.pan = other.fit, other._zoom, other.pan

    def rotate(self, quarter_turns: int = 1) -> None:
        """Rotate clockwise by ``quarter_turns`` (negative: counter-clockwise) on screen."""
        # Mirrored, a clockwise turn of the image is a counter-clockwise turn on screen.
        step = -quarter_turns if self.flip_horizontal else quarter_turns
        self.rotation = (self.rotation + step) % 4

    def flip_left_right(self) -> None:
        self.flip_horizontal = not self.flip_horizontal

    def flip_top_bottom(self) -> None:
        """Mirror top-bottom on screen: a left-right mirror and a half turn."""
        self.flip_horizontal = not self.flip_horizontal
        self.rotation = (self.rotation + 2) % 4

    def reset(self) -> None:
        """Back to the initial view: fitted, unrotated, the image's own VOI."""
        self.fit_to_viewport()
        self.rotation, self.flip_horizontal, self.invert = 0, False, False
        self.voi = VoiChoice()

    # Grey scale ----------------------------------------------------------------------
    def set_window(self, center: float, width: float, name: str = "", function: str = "LINEAR") -> None:
        self.voi = VoiChoice(center=float(center), width=max(1.0, float(width)), name=name, function=function)

    def use_image_voi(self, index: int | None) -> None:
        """Show with the image's own VOI number ``index`` (None: its first)."""
        self.voi = VoiChoice(voi_index=index)

    def drag_window(self, du: float, dv: float, start: tuple[float, float]) -> None:
        """Set the window for a mouse drag of ``(du, dv)`` view pixels: right widens, down raises the centre.

        ``start`` is the (center, width) shown when the drag began, so a drag
        starting on the image's own window continues from it.  The step is
        proportional to that width, so narrow brain windows and wide lung
        windows both move at a usable rate.
        """
        center, width = start
        step = max(width, 20.0) / 200.0
        self.set_window(center + dv * step, max(1.0, width + du * step), name="")

    def toggle_invert(self) -> None:
        self.invert = not self.invert
