"""The text in a viewport's four corners, configurable per modality.

A layout names, for each corner, the fields shown there, one per line;
:data:`DEFAULT_LAYOUT` is what radiologists expect, :data:`MODALITY_LAYOUTS`
adjusts it per modality, and a site can override both with
:func:`layout_for`'s ``overrides`` (same shape, e.g. from the settings file).
Patient's Name and Patient ID are always in the top left corner, whatever a
layout says: every viewport must show whose images these are.  They are read
from the image's own header once it is read (the index keeps one name per
Patient ID, the file says what it holds), else from the index; a name the RIS
has corrected since (ADT^A08) is shown as corrected, and a patient the RIS has
merged away (ADT^A40) as the surviving one.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from collections.abc import Callable, Mapping

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from workstation.dicom.patient_identity import PatientIdentity, compare_identities
from workstation.dicom.person_name import format_person_name
from workstation.store.queries import SeriesRow, StudyRow

CORNERS = ("top_left", "top_right", "bottom_left", "bottom_right")

DEFAULT_LAYOUT: dict[str, list[str]] = {
    "top_left": ["patient_name", "patient_id", "birth_age_sex", "institution"],
    "top_right": ["study_date_time", "study_description", "accession", "series"],
    "bottom_left": ["image", "slice", "technique"],
    "bottom_right": ["window", "zoom"],
}

MODALITY_LAYOUTS: dict[str, dict[str, list[str]]] = {
    # Projection radiography: no slices, but the view and the exposure matter.
    "DX": {"bottom_left": ["image", "view", "technique"]},
    "CR": {"bottom_left": ["image", "view", "technique"]},
    "MG": {"bottom_left": ["image", "view", "technique"]},
    "US": {"bottom_left": ["image", "frame_rate"]},
    "MR": {"bottom_left": ["image", "slice", "mr_timing"]},
}


@dataclass
class CornerContext:
    """What the corner text describes: the viewport's study, series, frame and view."""

    study: StudyRow
    series: SeriesRow | None = None
    header: Dataset | None = None
    index: int = 0
    count: int = 0
    slice_location: float | None = None
    slice_thickness: float | None = None
    window_text: str = ""
    zoom: float = 1.0
    frame_rate: float | None = None
    loading: bool = False
    #: Patient names the RIS replaced (ADT^A08): an image carrying one shows the study's corrected name.
    replaced_names: frozenset[str] = frozenset()
    #: Patient IDs the RIS merged away (ADT^A40): an image carrying one shows the study's surviving ID.
    replaced_ids: frozenset[str] = frozenset()


def person_name(value: str) -> str:
    """A PN value for corner text: "FAMILY, Given Middle", the ideographic group as the site chose.

    See :func:`workstation.dicom.person_name.format_person_name` (a name
    stored only in its ideographic group is shown, not left empty).
    """
    return format_person_name(value, upper_family=True)


def dicom_date(value: str) -> str:
    """YYYYMMDD as YYYY-MM-DD (unchanged when it is not a full date)."""
    v = (value or "").strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return v


def dicom_time(value: str) -> str:
    v = (value or "").strip().split(".")[0]
    if len(v) >= 4 and v[:4].isdigit():
        return f"{v[:2]}:{v[2:4]}" + (f":{v[4:6]}" if len(v) >= 6 else "")
    return v


@functools.lru_cache(maxsize=256)  # every viewport's corner text asks at every frame; strptime is slow
def age_at(birth_date: str, on: str) -> str:
    """Age as DICOM writes it (045Y, 011M, 020D) at date ``on``; "" when either date is unusable."""
    try:
        b = dt.datetime.strptime(birth_date.strip(), "%Y%m%d").date()
        d = dt.datetime.strptime(on.strip(), "%Y%m%d").date()
    except (ValueError, AttributeError):
        return ""
    if d < b:
        return ""
    years = d.year - b.year - ((d.month, d.day) < (b.month, b.day))
    if years >= 2:
        return f"{years:03d}Y"
    months = (d.year - b.year) * 12 + d.month - b.month - (d.day < b.day)
    if months >= 1:
        return f"{months:03d}M"
    return f"{(d - b).days:03d}D"


def _h(ctx: CornerContext, keyword: str) -> str:
    if ctx.header is None:
        return ""
    value = ctx.header.get(keyword)
    if value is None:
        return ""
    if isinstance(value, (list, tuple, MultiValue)):
        return "\\".join(str(v) for v in value)
    return str(value).strip()


def _number(text: str | float | None, unit: str = "", digits: int = 1) -> str:
    try:
        v = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    s = str(int(round(v))) if abs(v - round(v)) < 1e-6 else f"{v:.{digits}f}"
    return f"{s}{unit}"


def _birth_age_sex(ctx: CornerContext) -> str:
    s = ctx.study
    age = _h(ctx, "PatientAge") or age_at(s.birth_date, s.study_date)
    bits = [dicom_date(s.birth_date) and f"DOB {dicom_date(s.birth_date)}",
            age and f"({age})", s.sex]
    return " ".join(b for b in bits if b)


def _series(ctx: CornerContext) -> str:
    if ctx.series is None:
        return ""
    number = "" if ctx.series.series_number is None else f"Se {ctx.series.series_number}"
    return " ".join(p for p in (number, ctx.series.description) if p)


def _image(ctx: CornerContext) -> str:
    if not ctx.count:
        return ""
    text = f"Im {ctx.index + 1}/{ctx.count}"
    return text + (" (loading)" if ctx.loading else "")


def _slice(ctx: CornerContext) -> str:
    loc = _number(ctx.slice_location, " mm")
    th = _number(ctx.slice_thickness, " mm", 2)
    return "  ".join(p for p in (loc and f"Loc {loc}", th and f"Th {th}") if p)


def _technique(ctx: CornerContext) -> str:
    kvp = _number(_h(ctx, "KVP"), " kVp")
    mas = _number(_h(ctx, "Exposure"), " mAs") or _number(_h(ctx, "ExposureInmAs"), " mAs")
    return "  ".join(p for p in (kvp, mas) if p)


def _mr_timing(ctx: CornerContext) -> str:
    tr = _number(_h(ctx, "RepetitionTime"))
    te = _number(_h(ctx, "EchoTime"))
    return "  ".join(p for p in (tr and f"TR {tr}", te and f"TE {te}") if p)


def _view(ctx: CornerContext) -> str:
    lat = _h(ctx, "ImageLaterality") or _h(ctx, "Laterality")
    return " ".join(p for p in (lat, _h(ctx, "ViewPosition")) if p)


def _own_name(ctx: CornerContext) -> str:
    """The image's own Patient's Name, unless the RIS has corrected it since (then "": the index's is shown)."""
    name = _h(ctx, "PatientName")
    return "" if name in ctx.replaced_names else name


def _own_id(ctx: CornerContext) -> str:
    """The image's own Patient ID, unless the RIS has merged it away since (then "": the index's is shown).

    Only for an image of the merged patient (its name is the study's, or one the RIS
    replaced): an image naming someone else shows its own ID, as its banner does.
    """
    pid = _h(ctx, "PatientID")
    if pid not in ctx.replaced_ids:
        return pid
    name = _h(ctx, "PatientName")
    same = compare_identities(PatientIdentity("", "", name), PatientIdentity("", "", ctx.study.patient_name)).same
    return "" if name in ctx.replaced_names or same else pid


FIELDS: dict[str, Callable[[CornerContext], str]] = {
    "patient_name": lambda c: person_name(_own_name(c) or c.study.patient_name) or "(no name)",
    "patient_id": lambda c: f"ID {_own_id(c) or c.study.patient_id or '(none)'}",
    "birth_age_sex": _birth_age_sex,
    "institution": lambda c: c.study.institution or _h(c, "InstitutionName"),
    "study_date_time": lambda c: " ".join(
        p for p in (dicom_date(c.study.study_date), dicom_time(c.study.study_time)) if p),
    "study_description": lambda c: c.study.description,
    "accession": lambda c: f"Acc {c.study.accession}" if c.study.accession else "",
    "series": _series,
    "image": _image,
    "slice": _slice,
    "technique": _technique,
    "mr_timing": _mr_timing,
    "view": _view,
    "window": lambda c: c.window_text,
    "zoom": lambda c: f"Zoom {c.zoom * 100:.0f}%",
    "frame_rate": lambda c: f"{c.frame_rate:.0f} fps" if c.frame_rate else "",
}


def layout_for(modality: str, overrides: Mapping[str, Mapping[str, list[str]]] | None = None) -> dict[str, list[str]]:
    """The corner layout of a modality: the default, then the modality's, then ``overrides``.

    ``overrides`` maps "default" or a modality to corners to field lists.
    """
    layout = {k: list(v) for k, v in DEFAULT_LAYOUT.items()}
    for source in (MODALITY_LAYOUTS.get(modality.upper(), {}),
                   (overrides or {}).get("default", {}),
                   (overrides or {}).get(modality.upper(), {})):
        for corner, fields in source.items():
            if corner in CORNERS:
                layout[corner] = [f for f in fields if f in FIELDS]
    # Whose images these are is never configurable away.
    top_left = [f for f in layout["top_left"] if f not in ("patient_name", "patient_id")]
    layout["top_left"] = ["patient_name", "patient_id", *top_left]
    return layout


#: The fields that change with the view (window/level, zoom, cine) rather than with the frame shown.
VIEW_FIELDS = frozenset({"window", "zoom", "frame_rate"})


def _field(ctx: CornerContext, name: str) -> str:
    try:
        return FIELDS[name](ctx)
    except Exception:  # one odd attribute must not blank the corner
        return ""


def frame_fields(ctx: CornerContext, layout: Mapping[str, list[str]]) -> dict[str, str]:
    """The text of the layout's fields that depend on the frame, not the view (see :data:`VIEW_FIELDS`).

    Parameters
    ----------
    ctx : CornerContext
        The frame's context (its view values are not read).
    layout : mapping of str to list of str
        The corner layout (:func:`layout_for`).

    Returns
    -------
    dict of str to str
        Field name to its text, to pass to :func:`corner_text` as ``known`` while
        the frame stays: reading header values for every viewport at every paint
        cost about a tenth of a linked grid's frame.
    """
    return {name: _field(ctx, name) for fields in layout.values() for name in fields if name not in VIEW_FIELDS}


def corner_text(ctx: CornerContext, layout: Mapping[str, list[str]] | None = None,
                known: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The lines of each corner (empty fields left out).

    ``known`` gives texts already worked out for this context (:func:`frame_fields`).
    """
    modality = ctx.series.modality if ctx.series is not None else ""
    layout = layout or layout_for(modality)
    known = known or {}
    out: dict[str, list[str]] = {}
    for corner in CORNERS:
        lines = []
        for name in layout.get(corner, []):
            text = known[name] if name in known else _field(ctx, name)
            if text:
                lines.append(text)
        out[corner] = lines
    return out
