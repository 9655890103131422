"""Hanging protocols as DICOM Hanging Protocol objects (PS3.3 A.38), and back.

:func:`to_dataset` writes a protocol in the standard's terms, so another
system can use it:

* the Hanging Protocol Definition: one item per modality and per anatomic
  region of the required study rules;
* image sets: the study's modality and body part plus each viewport's
  required "equals" series rules (View Position, Image Laterality, Series
  Description ...) as Image Set Selectors (MATCH, or NO_MATCH for "not"), one
  image set number per such selection and study, the study given as Abstract
  Prior Value (0 the current study, 1 the most recent prior ...);
* per viewport a display set: its image box at the viewport's rectangle
  (Display Environment Spatial Position), CINE or STACK; filter operations for
  the plane (Filter-by Category IMAGE_PLANE), ranges and presence; VOI Type,
  Show Grayscale Inverted, Display Set Patient Orientation and Reformatting
  Operation Type; stages are Display Set Presentation Groups, scroll groups
  Synchronized Scrolling.

What the standard cannot say (weighted preferences, regular expressions,
"contains", explicit window values, rotation) is kept in a private element
holding the Lightbox protocol itself, so a Lightbox import gives back exactly
the exported protocol.  :func:`from_dataset` uses it when present and reads
the standard attributes otherwise (objects from other systems).

Filter operations on an attribute's value are avoided on purpose: the
dicom3tools validator of Debian 12 (2022) reverses the condition of Filter-by
Operator and flags every such filter as an error, so series are selected by
image set selectors, which it checks correctly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from workstation.hanging.constraints import values_of
from workstation.hanging.protocol import Protocol, ProtocolError, Rule, parse_protocol

HANGING_PROTOCOL_STORAGE = UID("1.2.840.10008.5.1.4.38.1")
PRIVATE_CREATOR = "LIGHTBOX HANGING PROTOCOL"
PRIVATE_GROUP = 0x0073
PRIVATE_ELEMENT = 0x01  # (0073,xx01) UT: the Lightbox protocol as JSON

#: Body Part Examined -> Anatomic Region (SNOMED CT, PS3.16 CID 4031).
ANATOMIC_REGIONS = {
    "CHEST": ("51185008", "Chest"), "THORAX": ("51185008", "Chest"), "ABDOMEN": ("818981001", "Abdomen"),
    "PELVIS": ("816092008", "Pelvis"), "ABDOMENPELVIS": ("818982008", "Abdomen and Pelvis"),
    "HEAD": ("69536005", "Head"), "BRAIN": ("12738006", "Brain"), "BREAST": ("76752008", "Breast"),
    "NECK": ("45048000", "Neck"),
}
_REGION_OF_CODE = {code: part for part, (code, _) in ANATOMIC_REGIONS.items() if part != "THORAX"}

#: Window preset names <-> VOI Type (0072,0702) defined terms.
VOI_TYPES = {"lung": "LUNG", "mediastinum": "MEDIASTINUM", "abdomen": "ABDO_PELVIS", "liver": "LIVER",
             "bone": "BONE", "brain": "BRAIN"}
_WINDOW_OF_VOI = {"LUNG": "Lung", "MEDIASTINUM": "Mediastinum", "ABDO_PELVIS": "Abdomen", "LIVER": "Liver",
                  "BONE": "Bone", "BRAIN": "Brain", "SOFT_TISSUE": "Abdomen"}

#: Image Plane filter values (Filter-by Category IMAGE_PLANE) <-> our Plane.
_PLANE_TERMS = {"axial": "TRANSVERSE", "coronal": "CORONAL", "sagittal": "SAGITTAL", "oblique": "OBLIQUE"}
_PLANE_OF_TERM = {v: k for k, v in _PLANE_TERMS.items()}

#: Series attributes a filter operation can name: keyword -> (tag, VR).
_FILTER_ATTRIBUTES = {
    "Modality": (0x00080060, "CS"), "BodyPartExamined": (0x00180015, "CS"), "Laterality": (0x00200060, "CS"),
    "ViewPosition": (0x00185101, "CS"), "ImageLaterality": (0x00200062, "CS"), "ImageType": (0x00080008, "CS"),
    "SeriesDescription": (0x0008103E, "LO"), "ProtocolName": (0x00181030, "LO"),
    "ContrastBolusAgent": (0x00180010, "LO"), "SliceThickness": (0x00180050, "DS"),
    "SeriesNumber": (0x00200011, "IS"), "NumberOfFrames": (0x00280008, "IS"),
}
_ATTRIBUTE_OF_TAG = {tag: name for name, (tag, _) in _FILTER_ATTRIBUTES.items()}
_SELECTOR_VALUE = {"CS": "SelectorCSValue", "LO": "SelectorLOValue", "DS": "SelectorDSValue", "IS": "SelectorISValue"}
_SCREEN = (1920, 1080)


def _code(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "SCT", meaning
    return item


def _required_equals(rules: Sequence[Rule], attribute: str) -> list[str]:
    out: list[str] = []
    for r in rules:
        if r.attribute == attribute and r.required and not r.negate and r.constraint is not None \
                and r.constraint.kind == "equals":
            out += [str(v).upper() for v in r.constraint.operand]
    return list(dict.fromkeys(out))


def _selector_item(tag: int, vr: str, values: Sequence[str], match: bool = True) -> Dataset:
    item = Dataset()
    item.ImageSetSelectorUsageFlag = "MATCH" if match else "NO_MATCH"
    item.SelectorAttribute = tag
    item.SelectorAttributeVR = vr
    item.SelectorValueNumber = 0  # any of the attribute's values
    setattr(item, _SELECTOR_VALUE[vr], list(values))
    return item


def _image_set_selector(rule: Rule) -> tuple[int, str, tuple[str, ...], bool] | None:
    """A required "equals" series rule as an image set selector: (tag, VR, values, match)."""
    c = rule.constraint
    if c is None or not rule.required or c.kind != "equals" or rule.attribute not in _FILTER_ATTRIBUTES:
        return None
    tag, vr = _FILTER_ATTRIBUTES[rule.attribute]
    return tag, vr, tuple(str(v) for v in c.operand), not rule.negate


def _filter(rule: Rule) -> Dataset | None:
    """A filter operation for a required series rule that no image set selector says, or None."""
    c = rule.constraint
    if c is None or not rule.required:
        return None
    f = Dataset()
    if rule.attribute == "Plane":
        if c.kind != "equals" or rule.negate:
            return None
        f.FilterByCategory = "IMAGE_PLANE"
        f.SelectorAttributeVR = "CS"
        f.SelectorCSValue = [_PLANE_TERMS[str(v).lower()] for v in c.operand if str(v).lower() in _PLANE_TERMS]
        f.FilterByOperator = "MEMBER_OF"
        return f if f.SelectorCSValue else None
    if rule.attribute not in _FILTER_ATTRIBUTES:
        return None
    tag, vr = _FILTER_ATTRIBUTES[rule.attribute]
    f.SelectorAttribute = tag
    if c.kind in ("present", "absent"):
        present = (c.kind == "present") != rule.negate
        f.FilterByAttributePresence = "PRESENT" if present else "NOT_PRESENT"
        return f
    if c.kind == "range" and vr in ("DS", "IS") and not rule.negate:
        f.SelectorAttributeVR = vr
        f.SelectorValueNumber = 0
        lo, hi = c.operand
        number: Callable[[float], str] = (lambda v: str(int(v))) if vr == "IS" else (lambda v: f"{v:g}")
        if lo is not None and hi is not None:
            f.FilterByOperator, values = "RANGE_INCL", [number(lo), number(hi)]
        elif lo is not None:
            f.FilterByOperator, values = "GREATER_OR_EQUAL", [number(lo)]
        else:
            f.FilterByOperator, values = "LESS_OR_EQUAL", [number(hi)]
        setattr(f, _SELECTOR_VALUE[vr], values)
        return f
    return None


def _position(rect: tuple[float, float, float, float]) -> list[float]:
    # Display Environment Spatial Position: upper left then lower right corner, origin at the lower left.
    x, y, w, h = rect
    return [round(x, 6), round(1 - y, 6), round(x + w, 6), round(1 - y - h, 6)]


def to_dataset(protocol: Protocol, *, creator: str = "Lightbox", sop_instance_uid: str | None = None) -> Dataset:
    """The protocol as a Hanging Protocol Storage object (with its file meta)."""
    ds = Dataset()
    now = dt.datetime.now()
    texts = [protocol.name, protocol.description]
    if any(not t.isascii() for t in texts):
        ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = HANGING_PROTOCOL_STORAGE
    ds.SOPInstanceUID = sop_instance_uid or generate_uid()
    ds.InstanceCreationDate, ds.InstanceCreationTime = now.strftime("%Y%m%d"), now.strftime("%H%M%S")
    # Hanging Protocol Definition
    ds.HangingProtocolName = protocol.name[:16].strip()
    ds.HangingProtocolDescription = (protocol.description or protocol.name)[:64]
    ds.HangingProtocolLevel = "SINGLE_USER" if protocol.origin == "user" else "SITE"
    ds.HangingProtocolCreator = creator[:64]
    ds.HangingProtocolCreationDateTime = now.strftime("%Y%m%d%H%M%S")
    modalities = _required_equals(protocol.rules, "ModalitiesInStudy")
    if not modalities:  # a protocol for any study: name the modalities its viewports ask for, else OT
        modalities = sorted({m for s in protocol.stages for v in s.viewports
                             for m in _required_equals(v.selector.rules, "Modality")}) or ["OT"]
    parts = [p for p in _required_equals(protocol.rules, "BodyPartExamined") if p in ANATOMIC_REGIONS]
    definition = []
    # One item per modality and one per anatomic region: an item names one or the other.
    for m in modalities:
        item = Dataset()
        item.Modality = m
        item.ProcedureCodeSequence, item.ReasonForRequestedProcedureCodeSequence = [], []
        definition.append(item)
    for p in dict.fromkeys(ANATOMIC_REGIONS[p] for p in parts):
        item = Dataset()
        item.AnatomicRegionSequence = [_code(*p)]
        item.Laterality = ""
        item.ProcedureCodeSequence, item.ReasonForRequestedProcedureCodeSequence = [], []
        definition.append(item)
    ds.HangingProtocolDefinitionSequence = definition
    ds.NumberOfPriorsReferenced = protocol.priors.count
    # Image sets: the study's selectors plus each viewport's "equals" series rules, one
    # image set number per such selection and study (current, prior 1 ...).
    study_selectors = [(0x00080060, "CS", tuple(modalities), True)]
    body = _required_equals(protocol.rules, "BodyPartExamined")
    if body:
        study_selectors.append((0x00180015, "CS", tuple(body), True))
    selections: dict[tuple[Any, ...], dict[int, int]] = {}
    numbers: dict[tuple[int, int], int] = {}  # (stage, viewport) -> image set number
    count = 0
    for s_index, stage in enumerate(protocol.stages):
        for v_index, vp in enumerate(stage.viewports):
            own = [sel for sel in map(_image_set_selector, vp.selector.rules) if sel is not None]
            key = tuple(dict.fromkeys(study_selectors + own))
            by_prior = selections.setdefault(key, {})
            if vp.prior_index not in by_prior:
                count += 1
                by_prior[vp.prior_index] = count
            numbers[(s_index, v_index)] = by_prior[vp.prior_index]
    image_sets = []
    for key, by_prior in selections.items():
        image_set = Dataset()
        image_set.ImageSetSelectorSequence = [_selector_item(*sel) for sel in key]
        timed = []
        for prior, n in sorted(by_prior.items(), key=lambda kv: kv[1]):
            t = Dataset()
            t.ImageSetNumber = n
            t.ImageSetSelectorCategory = "ABSTRACT_PRIOR"
            t.AbstractPriorValue = [prior, prior]
            t.ImageSetLabel = "Current" if prior == 0 else f"Prior {prior}"
            timed.append(t)
        image_set.TimeBasedImageSetsSequence = timed
        image_sets.append(image_set)
    ds.ImageSetsSequence = image_sets
    ds.HangingProtocolUserIdentificationCodeSequence = []
    # Hanging Protocol Environment
    ds.NumberOfScreens = 1
    screen = Dataset()
    screen.NumberOfVerticalPixels, screen.NumberOfHorizontalPixels = _SCREEN[1], _SCREEN[0]
    screen.DisplayEnvironmentSpatialPosition = [0.0, 1.0, 1.0, 0.0]
    screen.ScreenMinimumGrayscaleBitDepth = 8
    ds.NominalScreenDefinitionSequence = [screen]
    # Hanging Protocol Display
    display_sets, scrolling = [], []
    number = 0
    for group, stage in enumerate(protocol.stages, start=1):
        groups: dict[str, list[int]] = {}
        for i, vp in enumerate(stage.viewports):
            number += 1
            d = Dataset()
            d.DisplaySetNumber = number
            d.DisplaySetLabel = (vp.label or f"{stage.name} {i + 1}")[:64]
            d.DisplaySetPresentationGroup = group
            d.DisplaySetPresentationGroupDescription = stage.name[:64]
            d.ImageSetNumber = numbers[(group - 1, i)]
            box = Dataset()
            box.ImageBoxNumber = 1
            box.DisplayEnvironmentSpatialPosition = _position(stage.layout.rectangle(i))
            box.ImageBoxLayoutType = "CINE" if vp.cine else "STACK"
            if vp.cine:
                box.PreferredPlaybackSequencing = 0  # looping
                box.CineRelativeToRealTime = 1.0  # as acquired
            d.ImageBoxesSequence = [box]
            d.FilterOperationsSequence = [f for f in map(_filter, vp.selector.rules) if f is not None]
            d.SortingOperationsSequence = []
            d.ReformattingOperationType = {"mpr": "MPR", "3d": "3D_RENDERING"}.get(vp.viewport_type, "")
            if vp.viewport_type == "3d":
                # Type 1C with 3D_RENDERING: how it renders and from where (a volume viewport opens from the front).
                preset = str(vp.volume.get("preset", ""))
                d.ThreeDRenderingType = ["MIP" if preset == "mip" or preset.endswith("-mip") else "VOLUME"]
                d.ReformattingOperationInitialViewDirection = "CORONAL"
            d.DisplaySetPatientOrientation = list(vp.patient_orientation) if vp.patient_orientation else ""
            d.VOIType = VOI_TYPES.get((vp.window.name if vp.window else "").casefold(), "")
            d.PseudoColorType = ""
            d.ShowGrayscaleInverted = "YES" if vp.invert else "NO"
            d.ShowImageTrueSizeFlag = "NO"
            d.ShowGraphicAnnotationFlag = "YES"
            d.ShowPatientDemographicsFlag = "YES"
            d.ShowAcquisitionTechniquesFlag = "YES"
            display_sets.append(d)
            if "scroll" in vp.sync:
                groups.setdefault(vp.sync["scroll"], []).append(number)
        for members in groups.values():
            if len(members) >= 2:
                item = Dataset()
                item.DisplaySetScrollingGroup = members
                scrolling.append(item)
    ds.DisplaySetsSequence = display_sets
    ds.PartialDataDisplayHandling = "MAINTAIN_LAYOUT"
    if scrolling:
        ds.SynchronizedScrollingSequence = scrolling
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(PRIVATE_ELEMENT, "UT", json.dumps(protocol.to_dict(), ensure_ascii=False, separators=(",", ":")))
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = HANGING_PROTOCOL_STORAGE
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    return ds


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:48] or "imported"


def from_dataset(ds: Dataset, source: str = "<DICOM>") -> Protocol:
    """A protocol from a Hanging Protocol object: Lightbox's own exactly, another system's as the standard says.

    Raises
    ------
    ProtocolError
        Not a Hanging Protocol object, or one whose content makes no valid protocol.
    """
    if str(ds.get("SOPClassUID", "")) != HANGING_PROTOCOL_STORAGE:
        raise ProtocolError(source, "SOPClassUID", "not a Hanging Protocol Storage object")
    try:
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
        raw = json.loads(block[PRIVATE_ELEMENT].value)
    except (KeyError, ValueError):
        raw = None
    if raw is not None:
        return parse_protocol(raw, source)
    return parse_protocol(_standard_to_raw(ds, source), source)


def _standard_to_raw(ds: Dataset, source: str) -> dict[str, Any]:
    """A protocol mapping from the standard attributes alone (what other systems write)."""
    name = str(ds.get("HangingProtocolName", "") or "Imported").strip()
    modalities = [str(i.get("Modality", "")).upper() for i in ds.get("HangingProtocolDefinitionSequence", [])]
    modalities = [m for m in dict.fromkeys(modalities) if m and m != "OT"]
    rules: list[dict[str, Any]] = []
    if modalities:
        rules.append({"attribute": "ModalitiesInStudy", "constraint": {"equals": modalities}, "required": True,
                      "weight": 2})
    for item in ds.get("HangingProtocolDefinitionSequence", []):
        for region in item.get("AnatomicRegionSequence", []):
            part = _REGION_OF_CODE.get(str(region.get("CodeValue", "")))
            if part and not any(r["attribute"] == "BodyPartExamined" for r in rules):
                rules.append({"attribute": "BodyPartExamined", "constraint": {"equals": part}, "weight": 3})
    roles: dict[int, str] = {}
    chosen_by: dict[int, list[dict[str, Any]]] = {}
    for image_set in ds.get("ImageSetsSequence", []):
        selected = [r for r in map(_rule_from_selector, image_set.get("ImageSetSelectorSequence", [])) if r]
        for t in image_set.get("TimeBasedImageSetsSequence", []):
            chosen_by[int(t.ImageSetNumber)] = selected
            n = int(t.ImageSetNumber)
            prior = 0
            if t.get("ImageSetSelectorCategory") == "ABSTRACT_PRIOR" and "AbstractPriorValue" in t:
                prior = max(int(t.AbstractPriorValue[0]), 0)
            elif t.get("ImageSetSelectorCategory") == "RELATIVE_TIME" and "RelativeTime" in t:
                prior = 0 if int(t.RelativeTime[0]) == 0 else n - 1
            roles[n] = "current" if prior == 0 else f"prior{prior}"
    scroll_of: dict[int, str] = {}
    for k, item in enumerate(ds.get("SynchronizedScrollingSequence", []), start=1):
        for n in item.get("DisplaySetScrollingGroup", []):
            scroll_of[int(n)] = f"group{k}"
    stages: dict[int, dict[str, Any]] = {}
    for d in ds.get("DisplaySetsSequence", []):
        group = int(d.get("DisplaySetPresentationGroup", 1))
        stage = stages.setdefault(group, {"id": f"stage{group}",
                                          "name": str(d.get("DisplaySetPresentationGroupDescription", "") or
                                                      f"Stage {group}"), "boxes": [], "viewports": []})
        box = (d.get("ImageBoxesSequence") or [Dataset()])[0]
        x1, y1, x2, y2 = [float(v) for v in box.get("DisplayEnvironmentSpatialPosition", [0, 1, 1, 0])]
        stage["boxes"].append({"x": x1, "y": 1 - y1, "width": x2 - x1, "height": y1 - y2})
        stage["viewports"].append(_viewport_from(d, roles, scroll_of, chosen_by))
    out_stages = []
    for group in sorted(stages):
        st = stages[group]
        _number_matches(st["viewports"])
        out_stages.append({"id": st["id"], "name": st["name"], "layout": _layout_of(st["boxes"]),
                           "viewports": st["viewports"]})
    return {"id": _slug(name), "name": name, "description": str(ds.get("HangingProtocolDescription", "") or ""),
            "rules": rules, "priors": {"count": int(ds.get("NumberOfPriorsReferenced", 0) or 0)},
            "stages": out_stages}


def _rule_from_selector(item: Dataset) -> dict[str, Any] | None:
    """A series rule from an image set selector (Body Part Examined stays a study rule)."""
    attribute = _ATTRIBUTE_OF_TAG.get(int(item.get("SelectorAttribute", 0) or 0))
    if attribute is None or attribute == "BodyPartExamined":
        return None
    values = _values(item, _FILTER_ATTRIBUTES[attribute][1])
    if not values:
        return None
    rule: dict[str, Any] = {"attribute": attribute, "constraint": {"equals": values}, "required": True}
    if item.get("ImageSetSelectorUsageFlag") == "NO_MATCH":
        rule["not"], rule["weight"] = True, 0
    return rule


def _values(item: Dataset, vr: str) -> list[str]:
    raw = item.get(_SELECTOR_VALUE[vr], [])
    if isinstance(raw, (str, bytes)) or not hasattr(raw, "__iter__"):
        raw = [raw]
    return [str(v) for v in raw if str(v).strip()]


def _viewport_from(d: Dataset, roles: dict[int, str], scroll_of: dict[int, str],
                   chosen_by: dict[int, list[dict[str, Any]]]) -> dict[str, Any]:
    rules = list(chosen_by.get(int(d.get("ImageSetNumber", 1)), []))
    for f in d.get("FilterOperationsSequence", []):
        rule = _rule_from_filter(f)
        if rule is not None:
            rules.append(rule)
    vp: dict[str, Any] = {"study": roles.get(int(d.get("ImageSetNumber", 1)), "current"),
                          "displaySet": {"rules": rules}}
    label = str(d.get("DisplaySetLabel", "") or "")
    if label:
        vp["label"] = label
    window = _WINDOW_OF_VOI.get(str(d.get("VOIType", "") or ""))
    if window:
        vp["window"] = window
    if d.get("ShowGrayscaleInverted") == "YES":
        vp["invert"] = True
    orientation = d.get("DisplaySetPatientOrientation")
    if orientation and len(orientation) == 2:
        vp["patientOrientation"] = [str(v) for v in orientation]
    kind = {"MPR": "mpr", "3D_RENDERING": "3d"}.get(str(d.get("ReformattingOperationType", "") or ""))
    if kind:
        vp["type"] = kind
    boxes = d.get("ImageBoxesSequence") or []
    if boxes and boxes[0].get("ImageBoxLayoutType") == "CINE":
        vp["cine"] = True
    number = int(d.get("DisplaySetNumber", 0))
    if number in scroll_of:
        vp["sync"] = {"scroll": scroll_of[number]}
    return vp


def _rule_from_filter(f: Dataset) -> dict[str, Any] | None:
    if f.get("FilterByCategory") == "IMAGE_PLANE":
        planes = [_PLANE_OF_TERM[v] for v in values_of(tuple(f.get("SelectorCSValue", []))) if v in _PLANE_OF_TERM]
        return {"attribute": "Plane", "constraint": {"equals": planes}, "required": True} if planes else None
    attribute = _ATTRIBUTE_OF_TAG.get(int(f.get("SelectorAttribute", 0) or 0))
    if attribute is None:
        return None
    presence = f.get("FilterByAttributePresence")
    if presence in ("PRESENT", "NOT_PRESENT"):
        kind = "present" if presence == "PRESENT" else "absent"
        return {"attribute": attribute, "constraint": {kind: True}, "required": True}
    values = _values(f, _FILTER_ATTRIBUTES[attribute][1])
    operator = f.get("FilterByOperator", "")
    if operator in ("MEMBER_OF", "NOT_MEMBER_OF", "EQUAL", "NOT_EQUAL") and values:
        rule: dict[str, Any] = {"attribute": attribute, "constraint": {"equals": values}, "required": True}
        if operator.startswith("NOT_"):
            rule["not"], rule["weight"] = True, 0
        return rule
    numbers = [float(v) for v in values if re.fullmatch(r"[-+]?\d+(\.\d*)?", v.strip())]
    if operator == "RANGE_INCL" and len(numbers) == 2:
        return {"attribute": attribute, "constraint": {"range": {"min": numbers[0], "max": numbers[1]}},
                "required": True}
    if operator in ("GREATER_OR_EQUAL", "LESS_OR_EQUAL") and numbers:
        key = "min" if operator == "GREATER_OR_EQUAL" else "max"
        return {"attribute": attribute, "constraint": {"range": {key: numbers[0]}}, "required": True}
    return None


def _number_matches(viewports: list[dict[str, Any]]) -> None:
    """Display sets alike in every way within a stage show the next series each ("match" 1, 2 ...).

    The standard has no "second matching series"; systems write the same
    selection several times for it.  Alike selections shown differently
    (another window, say) keep showing the same series.
    """
    seen: dict[str, int] = {}
    for vp in viewports:
        key = json.dumps({k: v for k, v in vp.items() if k not in ("label", "sync")}, sort_keys=True)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            vp["match"] = seen[key]


def _layout_of(boxes: list[dict[str, float]]) -> dict[str, Any]:
    """A grid when the boxes tile one row by row, else custom rectangles."""
    xs = sorted({round(b["x"], 4) for b in boxes})
    ys = sorted({round(b["y"], 4) for b in boxes})
    rows, cols = len(ys), len(xs)
    if rows * cols == len(boxes) and rows <= 4 and cols <= 4:
        expected = [(round(c / cols, 4), round(r / rows, 4)) for r in range(rows) for c in range(cols)]
        if [(round(b["x"], 4), round(b["y"], 4)) for b in boxes] == expected:
            return {"rows": rows, "columns": cols}
    return {"rectangles": [{k: min(max(round(v, 6), 0.0), 1.0) for k, v in b.items()} for b in boxes]}
