"""The viewer's presentation states and key images: save them, find them, apply them (no Qt).

Saving: the view of a viewport (VOI, inversion, rotation and flip, displayed
area, the measurements of its series as graphics with their values as text)
becomes a Grayscale Softcopy Presentation State with
:func:`workstation.imaging.presentation.build_gsps`; the marked key images
of a study become a Key Object Selection "Of Interest" with
:func:`workstation.imaging.key_images.build_key_object_selection`.  Both are
stored in the cache like any received object and queued in the outbox for
the study's archive (the configured node whose AE title sent the images).

Reading back: :func:`saved_objects` lists a study's presentation states and
key object selections with the series they refer to; :func:`view_from_state`
turns a presentation state into what a viewport needs.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation.config import Node
from workstation.dicom.header import parse_header
from workstation.dicom.patient_identity import compare_identities
from workstation.imaging.annotation_layer import Annotation, AnnotationLayer, Kind
from workstation.imaging.patient_module import apply_shown_patient
from workstation.imaging.key_images import build_key_object_selection, read_key_object_selection
from workstation.imaging.presentation import (
    DisplayedArea,
    GraphicItem,
    ImageAnnotation,
    PresentationView,
    TextItem,
    build_gsps,
)
from workstation.imaging.presentation_state import GSPS_SOP_CLASS, PresentationState, read_gsps
from workstation.imaging.key_images import KEY_OBJECT_SELECTION_SOP_CLASS
from workstation.imaging.viewport import DisplaySet, ViewportModel
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.merges import shown_patient
from workstation.store.queries import StudyRow

log = logging.getLogger(__name__)

PR, KO = "PR", "KO"


class SaveError(RuntimeError):
    """A presentation state or key object selection could not be saved (say why)."""


@dataclass
class SavedObject:
    """A presentation state or key object selection of a study.

    Attributes
    ----------
    kind : str
        "PR" or "KO".
    series_uids : list of str
        The series whose images it refers to.
    """

    kind: str
    sop_instance_uid: str
    label: str
    series_uids: list[str] = field(default_factory=list)
    queued: bool = False


# Archive --------------------------------------------------------------------------------
def study_archive(cache: StudyCache, nodes: Iterable[Node], study_uid: str) -> str | None:
    """The configured node whose AE title sent the study's images (None when none is known)."""
    aes: set[str] = set()
    for series in cache.series(study_uid):
        aes |= {r.source_ae for r in cache.instances(series.series_uid) if r.source_ae}
    for node in nodes:
        if node.ae_title in aes:
            return node.name
    return None


def store_object(cache: StudyCache, ds: Dataset, destination: str | None = None) -> bool:
    """Store a new object in the cache and queue it for ``destination``; True when queued.

    Raises
    ------
    SaveError
        The cache refused it (it is then not queued either).
    """
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    data = buf.getvalue()
    _, record = parse_header(data, total_size=len(data))
    result = cache.store_bytes(data, record, source="viewer")
    if result.outcome.value not in ("stored",):
        raise SaveError(f"not stored: {result.outcome.value} {getattr(result, 'message', '')}".strip())
    if destination:
        outbox.enqueue(cache, record.sop_instance_uid, destination)
        return True
    return False


# Presentation states ------------------------------------------------------------------------
_GRAPHIC = {Kind.LENGTH: "POLYLINE", Kind.ANGLE: "POLYLINE", Kind.ARROW: "POLYLINE", Kind.FREEHAND: "POLYLINE",
            Kind.RECTANGLE: "POLYLINE", Kind.POINT: "POINT", Kind.ELLIPSE: "ELLIPSE"}


def _graphics(a: Annotation) -> list[GraphicItem]:
    p = a.points
    if a.kind is Kind.COBB:
        return [GraphicItem("POLYLINE", tuple(p[i:i + 2])) for i in (0, 2) if len(p) >= i + 2]
    if a.kind is Kind.TEXT:
        return []
    if a.kind is Kind.RECTANGLE:
        return [GraphicItem("POLYLINE", tuple(a.outline()))]
    if a.kind is Kind.FREEHAND:
        return [GraphicItem("POLYLINE", tuple(p) + (p[0],))]
    if a.kind is Kind.ELLIPSE:
        (x0, y0), (x1, y1) = p
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
        if rx >= ry:
            axes = ((cx - rx, cy), (cx + rx, cy), (cx, cy - ry), (cx, cy + ry))
        else:
            axes = ((cx, cy - ry), (cx, cy + ry), (cx - rx, cy), (cx + rx, cy))
        return [GraphicItem("ELLIPSE", axes)]
    return [GraphicItem(_GRAPHIC[a.kind], tuple(p))]


def annotation_items(a: Annotation, frame_number: int | None) -> ImageAnnotation:
    """A measurement or annotation as GSPS graphics with its text (value lines) at its last point."""
    graphics = tuple(_graphics(a))
    text = ("; ".join(a.lines) or a.text)[:64]
    # Anchored at the last point of the graphic, where a reader (and annotations_from_state) looks for it.
    anchor = graphics[-1].points[-1] if graphics else a.points[0]
    texts = (TextItem(text, anchor=anchor),) if text else ()
    return ImageAnnotation(a.frame_key[0], frame_number, "MEASUREMENTS", graphics, texts)


def displayed_area(vp: ViewportModel) -> DisplayedArea:
    """The part of the image the viewport shows, as a Displayed Area Selection (scale to fit)."""
    f = vp.frame
    view = vp.view
    if f is None:
        raise ValueError("the viewport shows no image")
    spacing = f.pixel_spacing
    if view.fit:
        return DisplayedArea((1, 1), (f.columns, f.rows), pixel_spacing=spacing)
    w, area_h, top = view.image_area()  # under a warning banner nothing of the image shows
    h = top + area_h
    corners = np.array([view.to_image(u, v) for u, v in ((0, top), (w, top), (0, h), (w, h))])
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    return DisplayedArea((int(x0) + 1, int(y0) + 1), (int(x1), int(y1)), pixel_spacing=spacing)


def presentation_view(vp: ViewportModel, layer: AnnotationLayer) -> PresentationView:
    """What a presentation state of ``vp``'s series records: its view and its series' annotations."""
    if vp.stack is None:
        raise ValueError("the viewport shows no image")
    p = vp.pipeline()
    window = vp.current_window()
    inverted = (p.inverted if p is not None else False) != vp.view.invert
    frames = {f.key: f for f in vp.stack.frames}
    items = []
    for a in layer:
        f = frames.get(a.frame_key)
        if f is not None:
            items.append(annotation_items(a, f.frame + 1 if f.number_of_frames > 1 else None))
    return PresentationView(
        window=window if window is not None and not window.is_lut else None,
        presentation_lut_shape="INVERSE" if inverted else "IDENTITY",
        rotation=vp.view.rotation * 90,
        flip_horizontal=vp.view.flip_horizontal,
        displayed_area=displayed_area(vp),
        annotations=tuple(items),
    )


def _headers(display_set: DisplaySet) -> list[Dataset]:
    """One header per instance of the display set (read now for frames not read yet)."""
    pixels = display_set.pixels
    seen, out = set(), []
    for i, f in enumerate(display_set.stack.frames):
        if f.sop_instance_uid in seen:
            continue
        header = pixels.header(i)
        if header is None:
            pixels.load(i)
            header = pixels.header(i)
        if header is not None:
            seen.add(f.sop_instance_uid)
            out.append(header)
    return out


def save_presentation_state(cache: StudyCache, vp: ViewportModel, layer: AnnotationLayer, *,
                            description: str = "", destination: str | None = None) -> SavedObject:
    """Save the view of ``vp``'s series as a GSPS in the cache (and queue it); see the module notes."""
    if vp.display_set is None or vp.frame is None:
        raise SaveError("the viewport shows no images")
    images = _headers(vp.display_set)
    if not images:
        raise SaveError("the images' headers cannot be read")
    try:
        ds = build_gsps(images, presentation_view(vp, layer), content_label="LIGHTBOX",
                        content_description=description,
                        shown=shown_patient(cache, str(images[0].StudyInstanceUID)))
    except ValueError as exc:
        raise SaveError(str(exc)) from None
    queued = store_object(cache, ds, destination)
    log.info("presentation state saved (%d images, queued: %s)", len(images), queued)
    return SavedObject(PR, str(ds.SOPInstanceUID), _pr_label(ds), [vp.display_set.series_uid], queued)


def save_key_images(cache: StudyCache, display_sets: list[DisplaySet], keys: set[tuple[str, int]], *,
                    description: str = "", destination_of: Callable[[str], str | None] = lambda study_uid: None
                    ) -> list[SavedObject]:
    """Save the marked frames as one Key Object Selection per study; returns what was saved."""
    by_study: dict[str, list[Dataset]] = {}
    frames: dict[str, list[int]] = {}
    for ds in display_sets:
        for i, f in enumerate(ds.stack.frames):
            if f.key not in keys:
                continue
            header = ds.pixels.header(i)
            if header is None:
                ds.pixels.load(i)
                header = ds.pixels.header(i)
            if header is None:
                continue
            images = by_study.setdefault(ds.study.study_uid, [])
            if all(str(h.SOPInstanceUID) != f.sop_instance_uid for h in images):
                images.append(header)
            frames.setdefault(f.sop_instance_uid, []).append(f.frame + 1)
    if not by_study:
        raise SaveError("no key images are marked")
    saved = []
    for study_uid, images in by_study.items():
        try:
            kos = build_key_object_selection(images, description=description, frames=frames,
                                             shown=shown_patient(cache, study_uid))
        except ValueError as exc:
            raise SaveError(str(exc)) from None
        queued = store_object(cache, kos, destination_of(study_uid))
        series = sorted({str(h.SeriesInstanceUID) for h in images})
        saved.append(SavedObject(KO, str(kos.SOPInstanceUID), _ko_label(kos), series, queued))
    log.info("key images saved: %d documents", len(saved))
    return saved


# Reading back ----------------------------------------------------------------------------
def _date(ds: Dataset, keyword: str) -> str:
    v = str(ds.get(keyword, "") or "")
    return f"{v[:4]}-{v[4:6]}-{v[6:8]}" if len(v) >= 8 else v


def _pr_label(ds: Dataset) -> str:
    text = str(ds.get("ContentDescription", "") or ds.get("ContentLabel", "") or "presentation state")
    return f"PR {text} {_date(ds, 'PresentationCreationDate')}".strip()


def _ko_label(ds: Dataset) -> str:
    try:
        content = read_key_object_selection(ds)
    except ValueError:
        return "Key images"
    text = content.title + (f": {content.description}" if content.description else "")
    return f"KO {text} ({len(content.references)} im)"


def saved_objects(cache: StudyCache, study_uid: str) -> list[SavedObject]:
    """The presentation states and key object selections of a study in the cache."""
    out = []
    for series in cache.series(study_uid):
        for row in cache.instances(series.series_uid):
            if row.sop_class_uid not in (GSPS_SOP_CLASS, KEY_OBJECT_SELECTION_SOP_CLASS):
                continue
            try:
                ds = dcmread(cache.path_of(row), stop_before_pixels=True)
            except Exception:  # a damaged object is left out of the list, not fatal to the study
                log.warning("cannot read a presentation object")
                continue
            if row.sop_class_uid == GSPS_SOP_CLASS:
                refs = [str(s.get("SeriesInstanceUID", "")) for s in ds.get("ReferencedSeriesSequence") or []]
                out.append(SavedObject(PR, row.sop_instance_uid, _pr_label(ds), refs))
            else:
                try:
                    refs = sorted({r.series_instance_uid for r in read_key_object_selection(ds).references})
                except ValueError:
                    refs = []
                out.append(SavedObject(KO, row.sop_instance_uid, _ko_label(ds), refs))
    return out


def read_object(cache: StudyCache, sop_instance_uid: str) -> Dataset:
    row = cache.instance(sop_instance_uid)
    if row is None:
        raise SaveError("the object is no longer in the cache")
    return dcmread(cache.path_of(row))


def annotations_from_state(state: PresentationState, sop_instance_uid: str, frame: int,
                           frame_key: tuple[str, int]) -> list[Annotation]:
    """The state's graphics and texts on one frame as annotations (re-measured by the caller).

    A text anchored at the last point of a graphic of the same annotation is that
    measurement's value: it is measured again rather than shown twice.
    """
    out = []
    for item in state.annotations_for(sop_instance_uid, frame + 1):
        value_anchors = set()
        lines = [g for g in item.graphics if g.graphic_type == "POLYLINE" and len(g.points) == 2]
        if len(lines) == 2 == len(item.graphics) and any(t.text.startswith("Cobb") for t in item.texts):
            # Two lines saved with a Cobb angle's value are that Cobb angle.
            out.append(Annotation(Kind.COBB, [*lines[0].points, *lines[1].points], frame_key))
            value_anchors.add(_rounded(lines[1].points[-1]))
            graphics: tuple[GraphicItem, ...] = ()
        else:
            graphics = item.graphics
        for g in graphics:
            a = _annotation_of_graphic(g, frame_key)
            if a is not None:
                out.append(a)
                value_anchors.add(_rounded(g.points[-1]))
        for t in item.texts:
            if t.anchor is not None and _rounded(t.anchor) in value_anchors:
                continue
            if t.anchor is not None:
                point = t.anchor
            elif t.bounding_box is not None:
                x0, y0, x1, y1 = t.bounding_box
                point = ((x0 + x1) / 2, (y0 + y1) / 2)
            else:  # TextItem refuses a text with neither
                continue
            out.append(Annotation(Kind.TEXT, [(point[0], point[1])], frame_key, text=t.text))
    return out


def _rounded(point: tuple[float, float]) -> tuple[float, ...]:
    # Anchors compared to 1/1000 pixel: a value's text sits exactly on its graphic's last point.
    return tuple(float(v) for v in np.round(np.asarray(point, dtype=float), 3))


def _xy(v: np.ndarray) -> tuple[float, float]:
    return float(v[0]), float(v[1])


def _annotation_of_graphic(g: GraphicItem, frame_key: tuple[str, int]) -> Annotation | None:
    p = [(x, y) for x, y in g.points]
    if g.graphic_type == "POINT":
        return Annotation(Kind.POINT, p[:1], frame_key)
    if g.graphic_type in ("ELLIPSE", "CIRCLE"):
        if g.graphic_type == "CIRCLE":
            (cx, cy), (ex, ey) = p
            r = math.hypot(ex - cx, ey - cy)
            return Annotation(Kind.ELLIPSE, [(cx - r, cy - r), (cx + r, cy + r)], frame_key)
        pts = np.array(p)
        centre = pts.mean(axis=0)
        a, b = np.linalg.norm(pts[1] - pts[0]) / 2, np.linalg.norm(pts[3] - pts[2]) / 2
        major = pts[1] - pts[0]
        if abs(major[1]) < 1e-6 * max(abs(major[0]), 1e-9):  # axis-aligned: exact
            return Annotation(Kind.ELLIPSE, [_xy(centre - (a, b)), _xy(centre + (a, b))], frame_key)
        if abs(major[0]) < 1e-6 * max(abs(major[1]), 1e-9):
            return Annotation(Kind.ELLIPSE, [_xy(centre - (b, a)), _xy(centre + (b, a))], frame_key)
        angle = math.atan2(major[1], major[0])
        poly = [(centre[0] + a * math.cos(t) * math.cos(angle) - b * math.sin(t) * math.sin(angle),
                 centre[1] + a * math.cos(t) * math.sin(angle) + b * math.sin(t) * math.cos(angle))
                for t in np.linspace(0, 2 * math.pi, 36, endpoint=False)]
        return Annotation(Kind.FREEHAND, poly, frame_key)
    closed = len(p) > 3 and np.allclose(p[0], p[-1])
    if closed:
        body = p[:-1]
        xs, ys = {round(x, 6) for x, _ in body}, {round(y, 6) for _, y in body}
        if len(body) == 4 and len(xs) == 2 and len(ys) == 2:
            return Annotation(Kind.RECTANGLE, [(min(xs), min(ys)), (max(xs), max(ys))], frame_key)
        return Annotation(Kind.FREEHAND, body, frame_key)
    if len(p) == 2:
        return Annotation(Kind.LENGTH, p, frame_key)
    if len(p) == 3:
        return Annotation(Kind.ANGLE, p, frame_key)
    return Annotation(Kind.FREEHAND, p, frame_key)


def load_state(cache: StudyCache, sop_instance_uid: str) -> PresentationState:
    """Read a presentation state from the cache."""
    ds = read_object(cache, sop_instance_uid)
    try:
        return read_gsps(ds)
    except Exception as exc:  # the reader shows why the state cannot be applied
        raise SaveError(f"cannot read the presentation state: {exc}") from None


def check_state_patient(cache: StudyCache, sop_instance_uid: str, images_of: StudyRow) -> None:
    """Refuse a presentation state of another patient than the images it is to be applied to.

    Raises
    ------
    SaveError
        Naming both patients (:func:`workstation.dicom.patient_identity.compare_identities`).
    """
    state = read_object(cache, sop_instance_uid)
    shown = shown_patient(cache, images_of.study_uid)
    if shown is not None:  # saved before the RIS merged the study's patient: of the survivor now
        apply_shown_patient(state, shown)
    check = compare_identities(state, images_of)
    if not check.same:
        raise SaveError("not applied: " + check.message("the presentation state's patient", "the images' patient"))


def apply_state(vp: ViewportModel, state: PresentationState, layer: AnnotationLayer,
                measure_frame: Callable[[int, Annotation], None]) -> None:
    """Show ``vp``'s series as ``state`` says: its grey scale, rotation, flip, displayed area, annotations.

    The state's annotations replace those on the series' frames it refers to;
    ``measure_frame(index, annotation)`` computes the values of one on frame ``index``.
    """
    from workstation.imaging.viewstate import VoiChoice

    vp.state = state
    view = vp.view
    view.rotation, view.flip_horizontal, view.invert = (state.rotation // 90) % 4, state.flip_horizontal, False
    f, stack = vp.frame, vp.stack
    if f is None or stack is None:
        raise SaveError("the viewport shows no image")
    number = vp.frame_number()
    window = state.window_for(f.sop_instance_uid, number)
    if window is not None:
        view.voi = VoiChoice(voi_index=0)
    else:  # identity VOI: the whole modality range (PS3.4 N.2)
        p = vp.pipeline()
        low, high = p.modality_range if p is not None else (0.0, 1.0)
        view.voi = VoiChoice(center=(low + high + 1) / 2, width=max(high - low + 1, 1.0), name="identity")
    area = state.displayed_area_for(f.sop_instance_uid, number)
    if area is None or (tuple(area.top_left) == (1, 1) and tuple(area.bottom_right) == (f.columns, f.rows)):
        view.fit_to_viewport()
    else:
        (c0, r0), (c1, r1) = area.top_left, area.bottom_right
        view.show_area(c0 - 1, r0 - 1, c1, r1)
    keys = {fr.key for fr in stack.frames}
    layer.clear(keys)
    for i, fr in enumerate(stack.frames):
        for a in annotations_from_state(state, fr.sop_instance_uid, fr.frame, fr.key):
            layer.add(a)
            measure_frame(i, a)
    layer.selected = None
    layer.changed()
    vp.changed("view")
