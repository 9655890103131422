"""Save a layout as a protocol: the reader's arrangement becomes rules that find it again.

The reader arranges viewports, then names the layout and ticks which study
attributes make a study "similar" (modality, body part, description ...).
:func:`capture_protocol` turns that into a protocol:

* matching rules: each ticked attribute must equal this study's value
  (required), with a weight (:data:`CAPTURED_WEIGHT`) above what the built-ins
  score, so the saved protocol wins the next time a similar study opens;
* per viewport, a display-set selector derived from the placed series: the
  modality, plane, view position and image laterality it has (required), its
  Series Description (preferred) and whether it had contrast;
* the windows, inversion, rotation and mirror, and the sync groups as shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from workstation.hanging.attributes import SeriesFacts, StudyFacts
from workstation.hanging.constraints import Value, values_of
from workstation.hanging.protocol import Protocol, parse_protocol
from workstation.hanging.selector import select

#: Weight of each captured matching rule: more than a built-in protocol scores in all.
CAPTURED_WEIGHT = 10
#: What the save dialog offers to match on, ticked by default when the study has a value.
DEFAULT_MATCH = ("ModalitiesInStudy", "BodyPartExamined", "StudyDescription")
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class PlacedViewport:
    """One viewport as the reader left it.

    Attributes
    ----------
    study_role : str
        ``current`` or ``prior1`` ... (which study its series belongs to).
    series : SeriesFacts or None
        The series shown (None: an empty viewport, kept empty).
    window : (center, width, name) or None
        An explicit window; None keeps the image's own.
    rotation : int
        Clockwise degrees before ``flip_horizontal``.
    sync : dict
        Group names per kind (``scroll``, ``zoomPan``, ``voi``).
    """

    study_role: str = "current"
    series: SeriesFacts | None = None
    window: tuple[float, float, str] | None = None
    invert: bool = False
    rotation: int = 0
    flip_horizontal: bool = False
    sync: dict[str, str] = field(default_factory=dict)


def protocol_id_for(name: str, taken: set[str]) -> str:
    """An id from a name (``"My CT chest"`` -> ``my-ct-chest``), not one of ``taken``."""
    base = _SLUG.sub("-", name.casefold()).strip("-")[:56] or "my-layout"
    pid, n = base, 2
    while pid in taken:
        pid, n = f"{base}-{n}", n + 1
    return pid


def _equals(attribute: str, value: Value, weight: float, required: bool = False) -> dict[str, Any] | None:
    items = [str(v) for v in values_of(value)]
    if not items:
        return None
    rule: dict[str, Any] = {"attribute": attribute, "constraint": {"equals": items[0] if len(items) == 1 else items},
                            "weight": weight}
    if required:
        rule["required"] = True
    return rule


def selector_rules(series: SeriesFacts) -> list[dict[str, Any]]:
    """Rules that find ``series`` again in a similar study (not only this very series)."""
    rules = []
    for attribute in ("Modality", "Plane", "ViewPosition", "ImageLaterality"):
        value = series.get(attribute)
        if attribute == "ImageLaterality" and str(value or "").upper() == "U":
            continue
        # One value only: a series whose images differ is found by any of them
        if value is not None and not isinstance(value, tuple):
            rules.append(_equals(attribute, value, 1, required=True))
    description = series.get("SeriesDescription")
    if description:
        rules.append(_equals("SeriesDescription", description, 4))
    contrast = "present" if series.get("ContrastBolusAgent") else "absent"
    rules.append({"attribute": "ContrastBolusAgent", "constraint": {contrast: True}, "weight": 1})
    return [r for r in rules if r is not None]


def _match_index(rules: list[dict[str, Any]], study: StudyFacts | None, series_uid: str) -> int:
    """Which match of the selector is the placed series in its own study (1 when unknown)."""
    if study is None:
        return 1
    selector = parse_protocol({"id": "x", "name": "x", "stages": [{"layout": {"rows": 1, "columns": 1},
                               "viewports": [{"displaySet": {"rules": rules}}]}]}).stages[0].viewports[0].selector
    for n in range(1, len(study.series) + 1):
        chosen = select(selector, study, n).series
        if chosen is None:
            break
        if chosen.series_uid == series_uid:
            return n
    return 1


def capture_protocol(name: str, current: StudyFacts, viewports: Sequence[PlacedViewport], *, rows: int,
                     columns: int, match: Sequence[str] = DEFAULT_MATCH, taken: AbstractSet[str] = frozenset(),
                     protocol_id: str | None = None, priors: Sequence[StudyFacts] = (),
                     rectangles: Sequence[tuple[float, float, float, float]] = ()) -> Protocol:
    """The protocol that hangs studies like ``current`` the way ``viewports`` show it now.

    Parameters
    ----------
    name : str
        The reader's name for it.
    current : StudyFacts
        The study shown (its attributes become the matching rules).
    viewports : sequence of PlacedViewport
        Row by row, ``rows * columns`` of them.
    rows, columns : int
        The grid.
    match : sequence of str
        Study attributes that make a study similar.
    taken : set of str
        Ids in use (the new id avoids them unless ``protocol_id`` is given).
    priors : sequence of StudyFacts
        The priors shown, as ``prior1``, ``prior2`` ...: a viewport showing
        the second of two alike series keeps showing the second.
    rectangles : sequence of (x, y, width, height), optional
        A custom layout instead of the grid (one rectangle per viewport).

    Raises
    ------
    ProtocolError
        When the result would not validate (an empty name, say).
    """
    rules = []
    for attribute in match:
        rule = _equals(attribute, current.get(attribute), CAPTURED_WEIGHT, required=True)
        if rule is not None:
            rules.append(rule)
    studies = {"current": current} | {f"prior{i + 1}": p for i, p in enumerate(priors)}
    specs = []
    for vp in viewports:
        spec: dict[str, Any] = {"study": vp.study_role}
        if vp.series is None:
            # Kept empty: rules no series passes, so the viewport stays empty with its note.
            spec["displaySet"] = {"rules": [{"attribute": "Modality", "constraint": {"absent": True},
                                             "required": True}, {"attribute": "Modality",
                                                                 "constraint": {"present": True}}]}
            spec["label"] = "Empty in the saved layout"
        else:
            found_by = selector_rules(vp.series)
            spec["displaySet"] = {"rules": found_by}
            n = _match_index(found_by, studies.get(vp.study_role), vp.series.series_uid)
            if n > 1:
                spec["match"] = n
        if vp.window is not None:
            center, width, wname = vp.window
            spec["window"] = {"center": float(center), "width": float(width), **({"name": wname} if wname else {})}
        if vp.invert:
            spec["invert"] = True
        if vp.rotation:
            spec["rotation"] = vp.rotation % 360
        if vp.flip_horizontal:
            spec["flip"] = "horizontal"
        if vp.sync:
            spec["sync"] = dict(vp.sync)
        specs.append(spec)
    raw = {
        "id": protocol_id or protocol_id_for(name, set(taken)),
        "name": name.strip(),
        "description": f"Saved from a layout of {current.describe() or 'a study'}.",
        "rules": rules,
        "stages": [{"id": "saved", "name": name.strip() or "Saved layout", "viewports": specs,
                    "layout": ({"rectangles": [dict(zip(("x", "y", "width", "height"), r, strict=True))
                                               for r in rectangles]}
                               if rectangles else {"rows": rows, "columns": columns})}],
    }
    return parse_protocol(raw, "saved layout").with_origin("user", "")
