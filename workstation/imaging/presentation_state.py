"""Reading any Grayscale Softcopy Presentation State and applying it to a frame.

PS3.4 N.2: the transformations of a presentation state *replace* those of
the image; one that is absent is the identity, and the image's own is not
applied.  So a GSPS without a Modality LUT shows stored values, one without
a VOI shows the whole modality range, and its Presentation LUT Shape (not
the image's MONOCHROME1) decides whether the output is inverted.

Annotations in DISPLAY units (fractions of the displayed area as shown,
after rotation and flip) are converted to image PIXEL units when read, so a
caller deals with one kind of coordinates.

Display shutters (PS3.3 C.7.6.11: rectangular, circular, polygonal, or
several combined) are read and applied by :meth:`PresentationState.render`:
pixels outside every shape show the Shutter Presentation Value.  A bitmap
shutter (an overlay plane, C.7.6.15) is not applied.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging.luts import LookupTable, Window, lookup_table_from_item, windows_from_dataset
from workstation.imaging.pipeline import FramePipeline
from workstation.imaging.presentation import (
    GRAPHIC_TYPES,
    SIZE_MODES,
    DisplayedArea,
    GraphicItem,
    ImageAnnotation,
    PresentationView,
    TextItem,
)

__all__ = [
    "GSPS_SOP_CLASS",
    "DisplayShutter",
    "ReferencedImage",
    "PresentationState",
    "is_gsps",
    "read_gsps",
    "spatially_transformed",
]

GSPS_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.11.1"

_Refs = frozenset[tuple[str, int | None]]  # of (SOP Instance UID, frame number from 1 or None)
_T = TypeVar("_T")
#: Converts a point in the given annotation units to PIXEL units.
_Convert = Callable[[Sequence[float], str], tuple[float, float]]


@dataclass(frozen=True)
class ReferencedImage:
    """An image a presentation state applies to."""

    series_instance_uid: str
    sop_class_uid: str
    sop_instance_uid: str
    frames: tuple[int, ...] = ()  # from 1; () = all frames


@dataclass(frozen=True)
class _Scoped(Generic[_T]):
    """A value that applies to some images (refs) or to all (refs None)."""

    value: _T
    refs: _Refs | None = None

    def applies(self, sop_instance_uid: str, frame: int | None) -> bool:
        if self.refs is None:
            return True
        return (sop_instance_uid, None) in self.refs or (
            frame is not None and (sop_instance_uid, frame) in self.refs
        )


@dataclass(frozen=True)
class DisplayShutter:
    """A Display Shutter (PS3.3 C.7.6.11), in image pixel coordinates (rows and columns from 1).

    Attributes
    ----------
    shapes : tuple of str
        Of RECTANGULAR, CIRCULAR, POLYGONAL: a pixel is shown when it lies
        inside every shape given.
    rectangle : (left, right, upper, lower) or None
        Column and row edges, inclusive.
    circle : (row, column, radius) or None
    polygon : tuple of (row, column) or None
    presentation_value : int
        Shutter Presentation Value, a P-value from 0 to 65535 (black when absent).
    """

    shapes: tuple[str, ...]
    rectangle: tuple[int, int, int, int] | None = None
    circle: tuple[float, float, float] | None = None
    polygon: tuple[tuple[float, float], ...] | None = None
    presentation_value: int = 0

    def visible(self, rows: int, columns: int) -> np.ndarray:
        """A ``(rows, columns)`` mask: True where the image shows through the shutter."""
        r = np.arange(1, rows + 1, dtype=np.float64)[:, None]
        c = np.arange(1, columns + 1, dtype=np.float64)[None, :]
        mask = np.ones((rows, columns), dtype=bool)
        if "RECTANGULAR" in self.shapes and self.rectangle is not None:
            left, right, upper, lower = self.rectangle
            mask &= (c >= left) & (c <= right) & (r >= upper) & (r <= lower)
        if "CIRCULAR" in self.shapes and self.circle is not None:
            row, col, radius = self.circle
            mask &= (r - row) ** 2 + (c - col) ** 2 <= radius ** 2
        if "POLYGONAL" in self.shapes and self.polygon and len(self.polygon) >= 3:
            mask &= _inside_polygon(self.polygon, r, c)
        return mask

    def output_value(self) -> int:
        """The 8-bit display value of shuttered pixels (the P-value's high byte, rounded)."""
        return int(round(self.presentation_value * 255 / 65535))


def _inside_polygon(vertices: Iterable[tuple[float, float]], r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Even-odd rule over pixel centres; vertices are (row, column)."""
    rows, cols = np.broadcast_arrays(r, c)
    inside = np.zeros(rows.shape, dtype=bool)
    pts = list(vertices)
    if pts[0] != pts[-1]:
        pts.append(pts[0])
    for (r0, c0), (r1, c1) in zip(pts[:-1], pts[1:], strict=True):
        if r0 == r1:
            continue
        crosses = (rows >= min(r0, r1)) & (rows < max(r0, r1))
        at = c0 + (rows - r0) * (c1 - c0) / (r1 - r0)
        inside ^= crosses & (cols < at)
    # Pixels on the outline count as inside (the standard includes the edges).
    shown: np.ndarray = inside | _on_outline(pts, rows, cols)
    return shown


def _on_outline(pts: list[tuple[float, float]], rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.zeros(rows.shape, dtype=bool)
    for (r0, c0), (r1, c1) in zip(pts[:-1], pts[1:], strict=True):
        dr, dc = r1 - r0, c1 - c0
        length2 = dr * dr + dc * dc
        if length2 == 0:
            continue
        t = np.clip(((rows - r0) * dr + (cols - c0) * dc) / length2, 0, 1)
        out |= (rows - (r0 + t * dr)) ** 2 + (cols - (c0 + t * dc)) ** 2 <= 0.25
    return out


@dataclass(frozen=True)
class PresentationState:
    """What a GSPS says, ready to apply to its images.

    Attributes
    ----------
    rescale : (slope, intercept) or None
        The presentation state's Modality LUT as a rescale.
    modality_lut : LookupTable or None
        Its Modality LUT Sequence item.  Both None: identity.
    units : str
        Rescale Type / Modality LUT Type ("HU", "" for unspecified).
    presentation_lut_shape : str
        "IDENTITY" or "INVERSE".
    rotation : int
        Image Rotation, clockwise degrees.
    flip_horizontal : bool
        Image Horizontal Flip (applied after the rotation).
    """

    sop_instance_uid: str
    series_instance_uid: str
    content_label: str
    content_description: str
    content_creator: str
    creation_date: str
    creation_time: str
    referenced: tuple[ReferencedImage, ...]
    rescale: tuple[float, float] | None
    modality_lut: LookupTable | None
    units: str
    presentation_lut_shape: str
    rotation: int
    flip_horizontal: bool
    _voi: tuple[_Scoped[Window], ...] = field(default=(), repr=False)
    _areas: tuple[_Scoped[DisplayedArea], ...] = field(default=(), repr=False)
    _annotations: tuple[_Scoped[ImageAnnotation], ...] = field(default=(), repr=False)
    shutter: DisplayShutter | None = None

    def references_image(self, sop_instance_uid: str, frame: int | None = None) -> bool:
        """True when the presentation state applies to that image (frame from 1)."""
        for ref in self.referenced:
            if ref.sop_instance_uid == sop_instance_uid:
                return not ref.frames or frame is None or frame in ref.frames
        return False

    def window_for(self, sop_instance_uid: str, frame: int | None = None) -> Window | None:
        """The VOI for an image; None means the identity VOI (whole modality range)."""
        for scoped in self._voi:
            if scoped.applies(sop_instance_uid, frame):
                return scoped.value
        return None

    def displayed_area_for(self, sop_instance_uid: str, frame: int | None = None) -> DisplayedArea | None:
        """The Displayed Area Selection that applies to an image."""
        for scoped in self._areas:
            if scoped.applies(sop_instance_uid, frame):
                return scoped.value
        return None

    def annotations_for(self, sop_instance_uid: str, frame: int | None = None) -> list[ImageAnnotation]:
        """The graphic and text annotations drawn on an image (PIXEL units)."""
        out = []
        for scoped in self._annotations:
            if scoped.applies(sop_instance_uid, frame):
                annotation: ImageAnnotation = scoped.value
                out.append(
                    ImageAnnotation(sop_instance_uid, frame, annotation.layer, annotation.graphics, annotation.texts)
                )
        return out

    def view_for(self, sop_instance_uid: str, frame: int | None = None) -> PresentationView:
        """Everything this presentation state says about one image, as a view."""
        return PresentationView(
            window=self.window_for(sop_instance_uid, frame),
            presentation_lut_shape=self.presentation_lut_shape,
            rotation=self.rotation,
            flip_horizontal=self.flip_horizontal,
            displayed_area=self.displayed_area_for(sop_instance_uid, frame),
            annotations=tuple(self.annotations_for(sop_instance_uid, frame)),
        )

    def pipeline_for(self, pipeline: FramePipeline, sop_instance_uid: str, frame: int | None = None) -> FramePipeline:
        """The image's pipeline with this state's grayscale transforms in place of the image's.

        The returned pipeline's :attr:`~FramePipeline.windows` holds only this
        state's VOI (empty for the identity VOI), so ``to_display(stored,
        voi_index=0)`` or ``display_lut(voi_index=0)`` show the image as the
        state says; with no VOI, pass ``window=None`` and no index to get the
        whole modality range.
        """
        window = self.window_for(sop_instance_uid, frame)
        updated = pipeline.with_transforms(
            rescale=self.rescale,
            modality_lut=self.modality_lut,
            units=self.units,
            windows=[window] if window is not None else [],
            inverted=self.presentation_lut_shape == "INVERSE",
        )
        return updated

    def render(self, pipeline: FramePipeline, stored: np.ndarray, sop_instance_uid: str,
               frame: int | None = None) -> np.ndarray:
        """Display values of one frame as this state shows it: grayscale, display shutter, then rotation
        and flip (the whole image: the displayed area is left to the viewer's zoom, as DCMTK's
        ``dcmp2pgm`` does)."""
        applied = self.pipeline_for(pipeline, sop_instance_uid, frame)
        window = applied.windows[0] if applied.windows else _identity_window(applied)
        out = applied.to_display(stored, window, overlays=True)
        if self.shutter is not None and out.ndim == 2:
            out = np.where(self.shutter.visible(*out.shape), out, np.uint8(self.shutter.output_value()))
        return spatially_transformed(out, self.rotation, self.flip_horizontal)


def _identity_window(pipeline: FramePipeline) -> Window:
    low, high = pipeline.modality_range
    return Window((low + high + 1.0) / 2.0, max(high - low + 1.0, 1.0), "LINEAR", "identity")


def spatially_transformed(pixels: np.ndarray, rotation: int = 0, flip_horizontal: bool = False) -> np.ndarray:
    """Rotate clockwise by ``rotation`` degrees, then flip horizontally (PS3.3 C.10.6)."""
    quarter = (int(rotation) // 90) % 4
    out = np.rot90(pixels, k=-quarter, axes=(0, 1)) if quarter else pixels
    return np.ascontiguousarray(out[:, ::-1] if flip_horizontal else out)


def is_gsps(ds: Dataset) -> bool:
    """True for a Grayscale Softcopy Presentation State."""
    return str(ds.get("SOPClassUID", "")) == GSPS_SOP_CLASS


# -- reading -----------------------------------------------------------------------------


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _refs(item: Dataset) -> _Refs | None:
    seq = item.get("ReferencedImageSequence")
    if not seq:
        return None
    refs: set[tuple[str, int | None]] = set()
    for ref in seq:
        uid = str(ref.get("ReferencedSOPInstanceUID", ""))
        frames = _frame_numbers(ref)
        if frames:
            refs.update((uid, f) for f in frames)
        else:
            refs.add((uid, None))
    return frozenset(refs)


def _frame_numbers(ref: Dataset) -> tuple[int, ...]:
    value = ref.get("ReferencedFrameNumber")
    if value in (None, ""):
        return ()
    values = [value] if isinstance(value, (int, str)) else list(value)
    out = []
    for v in values:
        with contextlib.suppress(TypeError, ValueError):
            out.append(int(v))
    return tuple(out)


def _referenced(ds: Dataset) -> tuple[ReferencedImage, ...]:
    out = []
    for series in ds.get("ReferencedSeriesSequence") or []:
        series_uid = str(series.get("SeriesInstanceUID", ""))
        for ref in series.get("ReferencedImageSequence") or []:
            out.append(
                ReferencedImage(
                    series_uid,
                    str(ref.get("ReferencedSOPClassUID", "")),
                    str(ref.get("ReferencedSOPInstanceUID", "")),
                    _frame_numbers(ref),
                )
            )
    return tuple(out)


def _int_pair(value: Iterable[Any]) -> tuple[int, int] | None:
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return None
    return (out[0], out[1]) if len(out) == 2 else None


def _displayed_area(item: Dataset) -> DisplayedArea | None:
    top_left = _int_pair(item.get("DisplayedAreaTopLeftHandCorner") or [])
    bottom_right = _int_pair(item.get("DisplayedAreaBottomRightHandCorner") or [])
    if top_left is None or bottom_right is None:
        return None
    mode = _text(item, "PresentationSizeMode").upper() or "SCALE TO FIT"
    spacing = item.get("PresentationPixelSpacing")
    aspect = _int_pair(item.get("PresentationPixelAspectRatio") or []) or (1, 1)
    magnification = item.get("PresentationPixelMagnificationRatio")
    try:
        pixel_spacing = (float(spacing[0]), float(spacing[1])) if spacing else None
        magnification = float(magnification) if magnification not in (None, "") else None
    except (TypeError, ValueError, IndexError):
        pixel_spacing, magnification = None, None
    if mode not in SIZE_MODES or (mode == "TRUE SIZE" and pixel_spacing is None):
        mode = "SCALE TO FIT"
    if mode == "MAGNIFY" and not (magnification and magnification > 0):
        mode, magnification = "SCALE TO FIT", None
    return DisplayedArea(top_left, bottom_right, mode, magnification, pixel_spacing, aspect)


def _to_pixel(point: Sequence[float], units: str, area: DisplayedArea | None, rotation: int, flip: bool,
              image_size: tuple[int, int]) -> tuple[float, float]:
    """A point in PIXEL units; DISPLAY units are fractions of the displayed area as shown."""
    x, y = float(point[0]), float(point[1])
    if units != "DISPLAY":
        return x, y
    if area is None:
        columns, rows = image_size
        area = DisplayedArea.whole_image(rows, columns)
    u, v = (1.0 - x, y) if flip else (x, y)
    for _ in range((rotation // 90) % 4):  # undo one clockwise quarter turn
        u, v = v, 1.0 - u
    (left, top), (right, bottom) = area.top_left, area.bottom_right
    return (left - 1) + u * (right - left + 1), (top - 1) + v * (bottom - top + 1)


def _annotation(item: Dataset, convert: _Convert) -> ImageAnnotation:
    graphics = []
    for obj in item.get("GraphicObjectSequence") or []:
        graphic_type = _text(obj, "GraphicType").upper()
        data = [float(v) for v in (obj.get("GraphicData") or [])]
        # An odd count of values (malformed) leaves the last one out.
        points = [convert(p, _text(obj, "GraphicAnnotationUnits").upper())
                  for p in zip(data[0::2], data[1::2], strict=False)]
        try:
            if graphic_type in GRAPHIC_TYPES:
                graphics.append(GraphicItem(graphic_type, tuple(points), _text(obj, "GraphicFilled").upper() == "Y"))
        except ValueError:
            continue  # a malformed graphic is left out, the rest is shown
    texts = []
    for obj in item.get("TextObjectSequence") or []:
        anchor = obj.get("AnchorPoint")
        box_tl = obj.get("BoundingBoxTopLeftHandCorner")
        box_br = obj.get("BoundingBoxBottomRightHandCorner")
        anchor_xy = convert(anchor, _text(obj, "AnchorPointAnnotationUnits").upper()) if anchor else None
        box = None
        if box_tl and box_br:
            units = _text(obj, "BoundingBoxAnnotationUnits").upper()
            (x0, y0), (x1, y1) = convert(box_tl, units), convert(box_br, units)
            box = (x0, y0, x1, y1)
        if anchor_xy is None and box is None:
            continue
        texts.append(TextItem(_text(obj, "UnformattedTextValue"), anchor_xy, box))
    return ImageAnnotation("", None, _text(item, "GraphicLayer") or "LAYER", tuple(graphics), tuple(texts))


def read_gsps(ds: Dataset, image_size: tuple[int, int] | None = None) -> PresentationState:
    """Read a Grayscale Softcopy Presentation State.

    Parameters
    ----------
    ds : pydicom.dataset.Dataset
        The GSPS.
    image_size : (columns, rows) or None
        Size of the referenced images, needed only to convert DISPLAY-unit
        annotations when the GSPS has no Displayed Area Selection.

    Returns
    -------
    PresentationState

    Raises
    ------
    ValueError
        When ``ds`` is not a GSPS.
    """
    if not is_gsps(ds):
        raise ValueError("not a Grayscale Softcopy Presentation State")
    rescale, modality_lut, units = None, None, ""
    if "ModalityLUTSequence" in ds and ds.ModalityLUTSequence:
        modality_lut = lookup_table_from_item(ds.ModalityLUTSequence[0])
        units = _text(ds.ModalityLUTSequence[0], "ModalityLUTType")
    elif "RescaleSlope" in ds or "RescaleIntercept" in ds:
        try:
            rescale = (float(ds.get("RescaleSlope", 1) or 1), float(ds.get("RescaleIntercept", 0) or 0))
        except (TypeError, ValueError):
            rescale = None
        units = _text(ds, "RescaleType")
    if units.upper() == "US":
        units = ""
    voi = []
    for item in ds.get("SoftcopyVOILUTSequence") or []:
        windows = windows_from_dataset(item)
        if windows:
            voi.append(_Scoped(windows[0], _refs(item)))
    areas = []
    for item in ds.get("DisplayedAreaSelectionSequence") or []:
        area = _displayed_area(item)
        if area is not None:
            areas.append(_Scoped(area, _refs(item)))
    rotation = int(ds.get("ImageRotation", 0) or 0) % 360
    if rotation % 90:
        rotation = 0
    flip = _text(ds, "ImageHorizontalFlip").upper() == "Y"
    shape = _text(ds, "PresentationLUTShape").upper()
    annotations = []
    for item in ds.get("GraphicAnnotationSequence") or []:
        refs = _refs(item)
        # DISPLAY units depend on the displayed area of the image annotated.
        area_refs = next(iter(refs)) if refs else ("", None)
        area = next((a.value for a in areas if a.applies(*area_refs)), None) if areas else None
        size = image_size or (1, 1)

        def convert(point: Sequence[float], units: str, _area: DisplayedArea | None = area,
                    _size: tuple[int, int] = size) -> tuple[float, float]:
            return _to_pixel(point, units, _area, rotation, flip, _size)

        annotations.append(_Scoped(_annotation(item, convert), refs))
    creator = ds.get("ContentCreatorName")
    return PresentationState(
        shutter=_display_shutter(ds),
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        content_label=_text(ds, "ContentLabel"),
        content_description=_text(ds, "ContentDescription"),
        content_creator="" if creator is None else str(creator),
        creation_date=_text(ds, "PresentationCreationDate"),
        creation_time=_text(ds, "PresentationCreationTime"),
        referenced=_referenced(ds),
        rescale=rescale,
        modality_lut=modality_lut,
        units=units,
        presentation_lut_shape="INVERSE" if shape == "INVERSE" else "IDENTITY",
        rotation=rotation,
        flip_horizontal=flip,
        _voi=tuple(voi),
        _areas=tuple(areas),
        _annotations=tuple(annotations),
    )


def _display_shutter(ds: Dataset) -> DisplayShutter | None:
    """The Display Shutter module of a GSPS, or None when it has none (or an unreadable one)."""
    shape = ds.get("ShutterShape")
    if not shape:
        return None
    shapes = tuple(str(v).strip().upper() for v in (shape if not isinstance(shape, str) else [shape]))
    rectangle = circle = polygon = None
    try:
        if "RECTANGULAR" in shapes:
            rectangle = (int(ds.ShutterLeftVerticalEdge), int(ds.ShutterRightVerticalEdge),
                         int(ds.ShutterUpperHorizontalEdge), int(ds.ShutterLowerHorizontalEdge))
        if "CIRCULAR" in shapes:
            row, col = (float(v) for v in ds.CenterOfCircularShutter)
            circle = (row, col, float(ds.RadiusOfCircularShutter))
        if "POLYGONAL" in shapes:
            values = [float(v) for v in ds.VerticesOfThePolygonalShutter]
            polygon = tuple(zip(values[0::2], values[1::2], strict=False))  # an odd last value is left out
        value = int(ds.get("ShutterPresentationValue", 0) or 0)
    except (AttributeError, TypeError, ValueError):
        return None  # a shutter that cannot be read hides nothing rather than the wrong part
    return DisplayShutter(shapes, rectangle, circle, polygon, min(max(value, 0), 0xFFFF))
