"""What a viewport shows over its image, computed without widgets.

The widget paints these results; tests check them directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from dataclasses import replace

import numpy as np
from pydicom.dataset import Dataset

from workstation.imaging.corner_text import CornerContext, corner_text, frame_fields, layout_for, person_name
from workstation.imaging.geometry import edge_labels, edge_labels_from_patient_orientation
from workstation.imaging.patient_module import same_identity
from workstation.imaging.viewport import ViewportModel
from workstation.store.queries import StudyRow


CORNER_FRAMES_KEPT = 1024  # frames whose corner fields a display set keeps (a few strings each)


def corner_lines(vp: ViewportModel,
                 overrides: Mapping[str, Mapping[str, list[str]]] | None = None) -> dict[str, list[str]]:
    """The four-corner text of a viewport (see :mod:`workstation.imaging.corner_text`).

    ``overrides`` are a site's corner layouts per modality (``layout_for``'s).
    """
    ds = vp.display_set
    if ds is None:
        return {}
    f = vp.frame
    header = vp.header()
    loading = not vp.is_loaded()
    # What does not change with window/level, zoom or cine is worked out once per frame shown and kept
    # for the frames shown lately, by any viewport of the display set (the header values: a grid of sixteen
    # linked viewports read about ten of them per viewport per frame).  The objects are compared by
    # identity (a header's == compares every element).
    objects = (ds, ds.study, ds.stack.series, header, f)
    key = (*map(id, objects), ds.title, vp.index, len(vp), loading, vp.replaced_names, vp.replaced_ids,
           repr(overrides) if overrides else "")
    memo = ds.corner_memo
    found = memo.get(key)
    if found is not None and _same(found[0], objects):
        memo.move_to_end(key)
        layout, location, known = found[1], found[2], found[3]
    else:
        location = _slice_location(vp, header)
        layout = layout_for(ds.stack.series.modality or "", overrides)
        known = None
    window = vp.current_window()
    window_text = window.describe() if window is not None else ""
    if vp.view.voi.name and window is not None and not window.is_lut:
        window_text = f"{window_text} ({vp.view.voi.name})"
    if vp.view.invert:
        window_text += " inv"
    series = ds.stack.series
    if ds.title:  # a key-image display set: its frames come from several series
        series = replace(series, series_number=None, description=ds.title)
    ctx = CornerContext(
        study=ds.study,
        series=series,
        header=header,
        index=vp.index,
        count=len(vp),
        slice_location=location,
        slice_thickness=f.slice_thickness if f is not None else None,
        window_text=window_text,
        zoom=vp.view.zoom,
        frame_rate=vp.cine.frames_per_second if vp.cine.playing else None,
        loading=loading,
        replaced_names=vp.replaced_names,
        replaced_ids=vp.replaced_ids,
    )
    if known is None:
        known = frame_fields(ctx, layout)
        memo[key] = (objects, layout, location, known)
        if len(memo) > CORNER_FRAMES_KEPT:
            memo.popitem(last=False)
    return corner_text(ctx, layout, known)


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _slice_location(vp: ViewportModel, header: Dataset | None) -> float | None:
    """Slice Location of the frame's header, else its position along the stack's normal (sorted stacks)."""
    location = None
    if header is not None and header.get("SliceLocation") not in (None, ""):
        try:
            location = float(header.SliceLocation)
        except (TypeError, ValueError):
            location = None
    f = vp.frame
    ds = vp.display_set
    if location is None and f is not None and f.position is not None and ds is not None \
            and ds.stack.spatially_sorted:
        location = float(f.position @ f.normal) if f.normal is not None else None
    return location


def markers(vp: ViewportModel) -> dict[str, str]:
    """Orientation letters of the four edges, from Image Orientation (Patient) or Patient Orientation."""
    f = vp.frame
    if f is None:
        return {}
    view = vp.view
    if f.orientation is not None:
        return edge_labels(f.orientation[:3], f.orientation[3:], view.rotation, view.flip_horizontal)
    header = vp.header()
    value = header.get("PatientOrientation") if header is not None else None
    return edge_labels_from_patient_orientation(value, view.rotation, view.flip_horizontal)


def mm_per_view_pixel(vp: ViewportModel) -> float | None:
    """Millimetres per view pixel down the screen (None without Pixel Spacing)."""
    f = vp.frame
    if f is None or f.pixel_spacing is None:
        return None
    dx, dy = vp.view.image_direction(0.0, 1.0)
    row_spacing, col_spacing = f.pixel_spacing
    return math.hypot(dx * col_spacing, dy * row_spacing)


def cursor_view_point(vp: ViewportModel, tolerance_mm: float | None = None) -> tuple[float, float] | None:
    """Where the 3D cursor is on this viewport's frame (view coordinates), if near enough.

    ``tolerance_mm`` defaults to the slice spacing (half of the gap either side is not enough
    for thick slices, so the thickness counts too).
    """
    if vp.cursor_point is None:
        return None
    projected = vp.image_point_of(vp.cursor_point)
    if projected is None:
        return None
    x, y, dist = projected
    f = vp.frame
    thickness = f.slice_thickness if f is not None else None
    limit = tolerance_mm if tolerance_mm is not None else max(thickness or 0.0, 1.0)
    if dist > limit:
        return None
    return vp.view.to_view(x, y)


def banner_text(vp: ViewportModel) -> str:
    """The warning shown over another patient's images ("" when none is due).

    Another patient's study added on purpose is flagged by the session; an
    image whose own header names another patient than the session's (the
    index keys patients by ID, so a wrong name under a known ID can only be
    seen here) is flagged as a mismatch.
    """
    if vp.display_set is None:
        return ""
    if vp.other_patient:
        s = vp.display_set.study
        return f"OTHER PATIENT: {person_name(s.patient_name) or '(no name)'}  ID {s.patient_id or '(none)'}"
    header = vp.header()
    if header is None or vp.expected_patient is None:
        return ""
    # The names are compared as stored (converting a Person Name costs about 70 microseconds, and each paint
    # of each viewport asks): the warning is worked out again only for names, IDs or character sets not
    # seen lately, whatever the frame.
    study = vp.display_set.study
    key = (_stored(header, _PATIENT_NAME), _stored(header, _PATIENT_ID), _stored(header, _CHARACTER_SET),
           vp.expected_patient, vp.replaced_names, vp.replaced_ids, study.patient_name, study.patient_id)
    memo = vp.banner_memo
    text = memo.get(key)
    if text is None:
        text = _mismatch_text(vp, header, study, vp.expected_patient)
        if len(memo) > 64:
            memo.clear()
        memo[key] = text
    return text


_PATIENT_NAME, _PATIENT_ID, _CHARACTER_SET = 0x00100010, 0x00100020, 0x00080005


def _stored(header: Dataset, tag: int) -> object:
    """An element's value as stored (bytes not yet decoded), or its value once pydicom decoded it."""
    try:
        # Any: pydicom's typing of an int key leaves out the None it returns for a missing element.
        element: Any = header.get_item(tag)
    except Exception:  # an element pydicom cannot read: compared as such
        return ("unreadable",)
    if element is None:
        return None
    value = element.value
    return ("raw", bytes(value)) if isinstance(value, (bytes, bytearray)) else ("value", str(value))


def _mismatch_text(vp: ViewportModel, header: Dataset, study: StudyRow, expected: tuple[str, str]) -> str:
    """The mismatch warning of an image whose header names another patient than the session's ("" when none)."""
    own_name, own_pid = str(header.get("PatientName", "") or ""), str(header.get("PatientID", "") or "")
    name, pid = own_name, own_pid
    if name in vp.replaced_names:  # the RIS corrected this name: the image is of the corrected patient
        name = study.patient_name
    if pid in vp.replaced_ids:  # the RIS merged this patient away: the image is of the surviving patient
        pid = study.patient_id
    if same_identity(name, pid, *expected):
        return ""
    # What the image itself says: the reader compares it with the patient being read.
    return f"PATIENT MISMATCH: this image is of {person_name(own_name) or '(no name)'}  ID {own_pid or '(none)'}"


def loaded_flags(vp: ViewportModel) -> np.ndarray | None:
    return vp.pixels.loaded if vp.pixels is not None else None
