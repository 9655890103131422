"""Grayscale Softcopy Presentation State (GSPS): what a view is, saving it, and the model.

A :class:`PresentationView` is the part of a viewport that a GSPS can carry:
VOI, Presentation LUT Shape, spatial transformation (rotation, then
horizontal flip), displayed area, and graphic and text annotations (for
example measurements drawn as polylines with their value as text).
:func:`build_gsps` turns it into a GSPS object with highdicom, ready for the
cache and the archive; :mod:`workstation.imaging.presentation_state` reads any
GSPS back and applies it to a frame.

Coordinates of graphics and text are image coordinates in PIXEL units
(PS3.3 C.10.5.1.2), as everywhere in :mod:`workstation.imaging`.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from workstation import __version__
from workstation.dicom.charset import highdicom_ready
from workstation.imaging.luts import Window
from workstation.imaging.pipeline import FramePipeline
from workstation.imaging.patient_module import copy_patient_module
from workstation.store.merges import ShownPatient

if TYPE_CHECKING:
    from highdicom import ModalityLUTTransformation
    from highdicom.pr import GraphicAnnotation, GraphicLayer

__all__ = [
    "GraphicItem",
    "TextItem",
    "ImageAnnotation",
    "DisplayedArea",
    "PresentationView",
    "GRAPHIC_TYPES",
    "SIZE_MODES",
    "build_gsps",
    "measurement_annotation",
]

#: Graphic Type values of a Graphic Object (PS3.3 C.10.5.1.2).
GRAPHIC_TYPES = ("POINT", "POLYLINE", "INTERPOLATED", "CIRCLE", "ELLIPSE")
#: Presentation Size Mode values (PS3.3 C.10.4).
SIZE_MODES = ("SCALE TO FIT", "TRUE SIZE", "MAGNIFY")

MANUFACTURER = "Lightbox"
MODEL_NAME = "Lightbox Workstation"


@dataclass(frozen=True)
class GraphicItem:
    """One graphic object.

    Attributes
    ----------
    graphic_type : str
        One of :data:`GRAPHIC_TYPES`.  POINT: one point; POLYLINE and
        INTERPOLATED: two or more (closed when the last equals the first);
        CIRCLE: the centre and a point on the circle; ELLIPSE: the two ends
        of the major axis, then the two ends of the minor axis.
    points : tuple of (x, y)
        Image coordinates, PIXEL units.
    filled : bool
        Graphic Filled.
    """

    graphic_type: str
    points: tuple[tuple[float, float], ...]
    filled: bool = False

    def __post_init__(self) -> None:
        if self.graphic_type not in GRAPHIC_TYPES:
            raise ValueError(f"unknown graphic type {self.graphic_type!r}")
        needed = {"POINT": (1, 1), "CIRCLE": (2, 2), "ELLIPSE": (4, 4)}.get(self.graphic_type, (2, None))
        n = len(self.points)
        if n < needed[0] or (needed[1] is not None and n != needed[1]):
            raise ValueError(f"a {self.graphic_type} graphic needs {needed[0]} points, not {n}")
        object.__setattr__(self, "points", tuple((float(x), float(y)) for x, y in self.points))


@dataclass(frozen=True)
class TextItem:
    """One text object: anchored to a point, in a box, or both."""

    text: str
    anchor: tuple[float, float] | None = None
    bounding_box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1

    def __post_init__(self) -> None:
        if self.anchor is None and self.bounding_box is None:
            raise ValueError("a text needs an anchor point or a bounding box")


@dataclass(frozen=True)
class ImageAnnotation:
    """Graphics and texts drawn on one image (or frame) in one graphic layer.

    Attributes
    ----------
    sop_instance_uid : str
        The image annotated; "" for every image the presentation state references.
    frame : int or None
        Referenced Frame Number (from 1) of a multi-frame image; None for all frames.
    layer : str
        Graphic Layer name.
    """

    sop_instance_uid: str = ""
    frame: int | None = None
    layer: str = "MEASUREMENTS"
    graphics: tuple[GraphicItem, ...] = ()
    texts: tuple[TextItem, ...] = ()


@dataclass(frozen=True)
class DisplayedArea:
    """The Displayed Area Selection (PS3.3 C.10.4).

    Attributes
    ----------
    top_left, bottom_right : (int, int)
        (column, row) of the first and last displayed pixels, from 1; they
        may lie outside the image.
    size_mode : str
        One of :data:`SIZE_MODES`.
    magnification : float or None
        Presentation Pixel Magnification Ratio, for MAGNIFY.
    pixel_spacing : (float, float) or None
        Presentation Pixel Spacing (row, column) in mm, needed for TRUE SIZE;
        when None the pixel aspect ratio is written instead.
    pixel_aspect_ratio : (int, int)
        Presentation Pixel Aspect Ratio (row, column) when no spacing is given.
    """

    top_left: tuple[int, int]
    bottom_right: tuple[int, int]
    size_mode: str = "SCALE TO FIT"
    magnification: float | None = None
    pixel_spacing: tuple[float, float] | None = None
    pixel_aspect_ratio: tuple[int, int] = (1, 1)

    def __post_init__(self) -> None:
        if self.size_mode not in SIZE_MODES:
            raise ValueError(f"unknown presentation size mode {self.size_mode!r}")
        if self.size_mode == "TRUE SIZE" and self.pixel_spacing is None:
            raise ValueError("TRUE SIZE needs the presentation pixel spacing")
        if self.size_mode == "MAGNIFY" and not (self.magnification and self.magnification > 0):
            raise ValueError("MAGNIFY needs a positive magnification")

    @classmethod
    def whole_image(cls, rows: int, columns: int) -> DisplayedArea:
        """The whole image, scaled to fit."""
        return cls((1, 1), (int(columns), int(rows)))

    @classmethod
    def from_visible_rect(
        cls, x0: float, y0: float, x1: float, y1: float, zoom: float | None = None
    ) -> DisplayedArea:
        """The area of a viewport showing image rectangle ``(x0, y0)-(x1, y1)`` (PIXEL units).

        With ``zoom`` (view pixels per image pixel) the area is MAGNIFY at that
        ratio, which keeps the zoom exactly; without, SCALE TO FIT.
        """
        left, right = sorted((x0, x1))
        top, bottom = sorted((y0, y1))
        top_left = (int(math.floor(left)) + 1, int(math.floor(top)) + 1)
        bottom_right = (max(int(math.ceil(right)), top_left[0]), max(int(math.ceil(bottom)), top_left[1]))
        if zoom is not None and zoom > 0:
            return cls(top_left, bottom_right, "MAGNIFY", magnification=float(zoom))
        return cls(top_left, bottom_right)

    @property
    def center(self) -> tuple[float, float]:
        """Image coordinates (PIXEL units) of the area's centre: where the view is centred."""
        (left, top), (right, bottom) = self.top_left, self.bottom_right
        return (left - 1 + right) / 2.0, (top - 1 + bottom) / 2.0

    def zoom(
        self,
        viewport_size: tuple[int, int],
        rotation: int = 0,
        image_pixel_spacing: tuple[float, float] | None = None,
        display_pixel_pitch: float | None = None,
    ) -> float:
        """View pixels per image column that show this area as PS3.3 C.10.4 says.

        Parameters
        ----------
        viewport_size : (width, height)
            The viewport in view pixels.
        rotation : int
            Clockwise degrees of the spatial transformation (90 and 270 swap
            the area's width and height on screen).
        image_pixel_spacing : (row, column) or None
            Used for TRUE SIZE when the area has no presentation pixel spacing.
        display_pixel_pitch : float or None
            Millimetres per view pixel of the monitor, for TRUE SIZE; without
            it TRUE SIZE falls back to SCALE TO FIT.

        Returns
        -------
        float
            The zoom (for non-square pixels the vertical zoom is this times
            the row-to-column spacing ratio, as the viewport's own aspect handles).
        """
        if self.size_mode == "MAGNIFY" and self.magnification is not None:  # MAGNIFY always has one
            return float(self.magnification)
        if self.size_mode == "TRUE SIZE" and display_pixel_pitch:
            spacing = self.pixel_spacing or image_pixel_spacing
            if spacing:
                return float(spacing[1]) / float(display_pixel_pitch)
        (left, top), (right, bottom) = self.top_left, self.bottom_right
        width, height = float(right - left + 1), float(bottom - top + 1)
        if self.pixel_spacing:
            height *= self.pixel_spacing[0] / self.pixel_spacing[1]
        else:
            height *= self.pixel_aspect_ratio[0] / max(self.pixel_aspect_ratio[1], 1)
        if (int(rotation) // 90) % 2:
            width, height = height, width
        view_w, view_h = viewport_size
        return max(min(view_w / width, view_h / height), 1e-6)


@dataclass(frozen=True)
class PresentationView:
    """What a GSPS records of a view.

    Attributes
    ----------
    window : Window or None
        The VOI; None keeps the referenced image's first window (or its
        minimum to maximum) when saving.
    presentation_lut_shape : str or None
        "IDENTITY" or "INVERSE"; None means as the image shows by itself
        (INVERSE for MONOCHROME1), which is what a GSPS must then say.
    rotation : int
        Clockwise degrees: 0, 90, 180 or 270.
    flip_horizontal : bool
        Horizontal flip after the rotation.
    displayed_area : DisplayedArea or None
        None: the whole image, scaled to fit.
    annotations : tuple of ImageAnnotation
        Graphics and texts per image.
    """

    window: Window | None = None
    presentation_lut_shape: str | None = None
    rotation: int = 0
    flip_horizontal: bool = False
    displayed_area: DisplayedArea | None = None
    annotations: tuple[ImageAnnotation, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.rotation % 90 != 0:
            raise ValueError("the rotation must be a multiple of 90 degrees")
        object.__setattr__(self, "rotation", int(self.rotation) % 360)
        if self.presentation_lut_shape not in (None, "IDENTITY", "INVERSE"):
            raise ValueError(f"unknown Presentation LUT Shape {self.presentation_lut_shape!r}")


def measurement_annotation(
    graphic_type: str,
    points: Iterable[tuple[float, float]],
    text: str,
    *,
    sop_instance_uid: str = "",
    frame: int | None = None,
    layer: str = "MEASUREMENTS",
) -> ImageAnnotation:
    """A measurement as a GSPS annotation: its graphic, and its value as text next to it.

    The text is anchored at the graphic's last point (the end of a line, the
    edge of a region) with the anchor shown, as viewers expect.
    """
    graphic = GraphicItem(graphic_type, tuple(points))
    anchor = graphic.points[-1]
    return ImageAnnotation(
        sop_instance_uid=sop_instance_uid,
        frame=frame,
        layer=layer,
        graphics=(graphic,),
        texts=(TextItem(text, anchor=anchor),),
    )


# -- building --------------------------------------------------------------------------


def _window_of(view: PresentationView, image: Dataset) -> Window:
    if view.window is not None:
        return view.window
    pipeline = FramePipeline.from_dataset(image)
    if pipeline.windows and not pipeline.windows[0].is_lut:
        return pipeline.windows[0]
    low, high = pipeline.modality_range
    return Window((low + high + 1) / 2.0, max(high - low + 1.0, 1.0), "LINEAR", "full range")


def _modality_transformation(image: Dataset) -> ModalityLUTTransformation | None:
    """The images' Modality LUT as the GSPS must repeat it (PS3.4 N.2: absent means identity)."""
    from highdicom import ModalityLUTTransformation, RescaleTypeValues

    pipeline = FramePipeline.from_dataset(image)
    if pipeline.modality_lut is not None:
        return None  # a Modality LUT Sequence is copied onto the object after building
    if "RescaleSlope" not in image and "RescaleIntercept" not in image and pipeline.modality != "CT":
        return None
    rescale_type = RescaleTypeValues.HU if pipeline.units == "HU" else RescaleTypeValues.US
    return ModalityLUTTransformation(
        rescale_intercept=pipeline.rescale_intercept,
        rescale_slope=pipeline.rescale_slope,
        rescale_type=rescale_type,
    )


def _references(images: Sequence[Dataset], annotation: ImageAnnotation) -> list[Dataset]:
    if not annotation.sop_instance_uid:
        return list(images)
    matching = [im for im in images if str(im.SOPInstanceUID) == annotation.sop_instance_uid]
    if not matching:
        raise ValueError(f"annotation on image {annotation.sop_instance_uid}, which is not referenced")
    return matching


def _graphic_annotations(images: Sequence[Dataset],
                         view: PresentationView) -> tuple[list[GraphicAnnotation], list[GraphicLayer]]:
    from highdicom.pr import (
        AnnotationUnitsValues,
        GraphicAnnotation,
        GraphicLayer,
        GraphicObject,
        TextObject,
    )

    layers: dict[str, GraphicLayer] = {}
    annotations = []
    for item in view.annotations:
        if not item.graphics and not item.texts:
            continue
        layer = layers.get(item.layer)
        if layer is None:
            layer = layers[item.layer] = GraphicLayer(item.layer, order=len(layers) + 1)
        graphics = [
            GraphicObject(
                graphic_type=g.graphic_type,
                graphic_data=np.array(g.points, dtype=float),
                units=AnnotationUnitsValues.PIXEL,
                is_filled=g.filled,
            )
            for g in item.graphics
        ]
        texts = [
            TextObject(
                text_value=t.text[:1024],  # Unformatted Text Value is ST
                units=AnnotationUnitsValues.PIXEL,
                bounding_box=t.bounding_box,
                anchor_point=t.anchor,
            )
            for t in item.texts
        ]
        annotations.append(
            GraphicAnnotation(
                referenced_images=_references(images, item),
                graphic_layer=layer,
                referenced_frame_number=item.frame,
                graphic_objects=graphics or None,
                text_objects=texts or None,
            )
        )
    return annotations, list(layers.values())


def build_gsps(
    images: Sequence[Dataset],
    view: PresentationView,
    *,
    content_label: str = "LIGHTBOX",
    content_description: str = "",
    content_creator: str = "",
    series_instance_uid: str | None = None,
    series_number: int = 9001,
    instance_number: int = 1,
    sop_instance_uid: str | None = None,
    institution_name: str | None = None,
    shown: ShownPatient | None = None,
) -> Dataset:
    """Build a Grayscale Softcopy Presentation State for ``images``.

    Parameters
    ----------
    images : sequence of pydicom.dataset.Dataset
        The referenced images (headers are enough), all of one study and patient.
    view : PresentationView
        What to record.
    content_label : str
        Content Label (a Code String: upper case, digits, space, underscore;
        other characters are replaced).
    content_description, content_creator : str
        Content Description and Content Creator's Name.
    series_instance_uid, series_number, instance_number, sop_instance_uid
        Identification of the new object (new UIDs when None).
    institution_name : str or None
        Institution Name of the equipment.
    shown : ShownPatient, optional
        The study's surviving patient when the RIS merged it
        (:func:`workstation.store.merges.shown_patient`): written instead of
        the merged-away identity the images carry.

    Returns
    -------
    pydicom.dataset.Dataset
        The GSPS (a highdicom object), with file meta information.

    Raises
    ------
    ValueError
        Bad arguments (no images, images of several studies, an annotation
        on an image that is not referenced, a graphic with too few points).
    """
    from highdicom import PresentationLUTTransformation
    from highdicom.pr import GrayscaleSoftcopyPresentationState, SoftcopyVOILUTTransformation

    if not images:
        raise ValueError("a presentation state needs at least one image")
    images = [highdicom_ready(im) for im in images]  # ISO 2022 images (Japanese, Korean): highdicom takes them
    studies = {str(im.StudyInstanceUID) for im in images}
    if len(studies) != 1:
        raise ValueError("the images of a presentation state must belong to one study")
    first = images[0]
    window = _window_of(view, first)
    voi = SoftcopyVOILUTTransformation(
        window_center=[float(window.center)],
        window_width=[float(window.width)],
        # A list: highdicom would split a bare string into one explanation per character.
        window_explanation=[window.explanation[:64]] if window.explanation else None,
        voi_lut_function=window.function if window.function in ("LINEAR", "LINEAR_EXACT", "SIGMOID") else None,
    )
    shape = view.presentation_lut_shape
    if shape is None:
        shape = "INVERSE" if FramePipeline.from_dataset(first).inverted else "IDENTITY"
    annotations, layers = _graphic_annotations(images, view)
    gsps = GrayscaleSoftcopyPresentationState(
        referenced_images=list(images),
        series_instance_uid=series_instance_uid or generate_uid(),
        series_number=series_number,
        sop_instance_uid=sop_instance_uid or generate_uid(),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL_NAME,
        software_versions=__version__,
        device_serial_number="0",
        content_label=_code_string(content_label),
        content_description=content_description[:64] or None,
        graphic_annotations=annotations or None,
        graphic_layers=layers or None,
        institution_name=institution_name,
        content_creator_name=content_creator or None,
        modality_lut_transformation=_modality_transformation(first),
        voi_lut_transformations=[voi],
        presentation_lut_transformation=PresentationLUTTransformation(presentation_lut_shape=shape),
    )
    copy_patient_module(gsps, first, shown)  # issuer qualifiers and other IDs too, as the images carry them
    _copy_modality_lut_sequence(first, gsps)
    _set_displayed_area(gsps, view.displayed_area or DisplayedArea.whole_image(first.Rows, first.Columns))
    _set_spatial_transformation(gsps, view)
    # General Series Laterality is 2C: repeat the images' (empty when they have none).
    gsps.Laterality = str(first.get("Laterality", "") or "")
    now = datetime.datetime.now()
    gsps.PresentationCreationDate = now.strftime("%Y%m%d")
    gsps.PresentationCreationTime = now.strftime("%H%M%S")
    return gsps


def _code_string(text: str) -> str:
    allowed = "".join(c if (c.isascii() and (c.isalnum() or c in " _")) else "_" for c in text.upper())
    return (allowed.strip() or "LIGHTBOX")[:16]


def _copy_modality_lut_sequence(image: Dataset, gsps: Dataset) -> None:
    if "ModalityLUTSequence" in image:
        gsps.ModalityLUTSequence = image.ModalityLUTSequence


def _set_displayed_area(gsps: Dataset, area: DisplayedArea) -> None:
    item = Dataset()
    item.DisplayedAreaTopLeftHandCorner = [int(area.top_left[0]), int(area.top_left[1])]
    item.DisplayedAreaBottomRightHandCorner = [int(area.bottom_right[0]), int(area.bottom_right[1])]
    item.PresentationSizeMode = area.size_mode
    if area.pixel_spacing is not None:
        item.PresentationPixelSpacing = [float(area.pixel_spacing[0]), float(area.pixel_spacing[1])]
    else:
        item.PresentationPixelAspectRatio = [int(area.pixel_aspect_ratio[0]), int(area.pixel_aspect_ratio[1])]
    if area.size_mode == "MAGNIFY" and area.magnification is not None:  # MAGNIFY always has one
        item.PresentationPixelMagnificationRatio = float(area.magnification)
    gsps.DisplayedAreaSelectionSequence = [item]


def _set_spatial_transformation(gsps: Dataset, view: PresentationView) -> None:
    gsps.ImageRotation = int(view.rotation)
    gsps.ImageHorizontalFlip = "Y" if view.flip_horizontal else "N"
