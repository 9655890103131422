"""The hanging protocol model: rules, priors, display-set selectors, stages, layouts, viewports.

Protocols are data files (JSON or YAML; see ``resources/hanging_protocols``).
:func:`parse_protocol` checks one against the schema described in
``resources/hanging_protocols/README.md`` and builds these frozen records; a
problem raises :class:`ProtocolError` naming the file and the field
(``stages[1].viewports[2].window``).  :meth:`Protocol.to_dict` writes a
protocol back in the same form.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from workstation.hanging.attributes import PRIOR_ATTRIBUTES, SERIES_ATTRIBUTES, STUDY_ATTRIBUTES
from workstation.hanging.constraints import Constraint, ConstraintError, parse_constraint
from workstation.imaging.window_presets import PRESETS
from workstation.volume3d.viewports import VolumeViewportSpec

SCHEMA_VERSION = 1
STUDY_ROLE = re.compile(r"^(current|prior([1-9][0-9]?))$")
PROTOCOL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
INITIAL_IMAGES = ("first", "middle", "last")
FLIPS = ("none", "horizontal", "vertical")
ROTATIONS = (0, 90, 180, 270)
VIEWPORT_TYPES = ("stack", "mpr", "3d")
#: Keys of MPR and 3D viewports, as :mod:`workstation.volume3d.viewports` reads them.
VOLUME_KEYS = ("plane", "slab_mm", "slab_mode", "preset", "azimuth", "elevation")
SYNC_KINDS = ("scroll", "zoomPan", "voi")
ORIENTATION_LETTERS = set("APLRHF")
MAX_GRID = 4


class ProtocolError(ValueError):
    """A protocol file breaks the schema.

    Attributes
    ----------
    source : str
        The file (or another name for where the protocol came from).
    field : str
        Where in it, e.g. ``stages[0].viewports[1].displaySet.rules[0].constraint.regex``.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source, self.field, self.message = source, field, message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Rule:
    """One matching rule: an attribute, a constraint, a weight, and whether it is required.

    ``same_as`` (prior rules only) replaces the constraint: the prior's value
    must share a value with the current study's value of that attribute.
    ``negate`` inverts the constraint's result (written ``"not": true``).
    """

    attribute: str
    constraint: Constraint | None = None
    weight: float = 1.0
    required: bool = False
    negate: bool = False
    same_as: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sameAs": self.attribute} if self.same_as else {"attribute": self.attribute}
        if self.constraint is not None:
            out["constraint"] = self.constraint.to_dict()
        if self.negate:
            out["not"] = True
        if self.weight != 1.0:
            out["weight"] = int(self.weight) if float(self.weight).is_integer() else self.weight
        if self.required:
            out["required"] = True
        return out

    def describe(self) -> str:
        if self.same_as:
            return f"{self.attribute} same as the current study's"
        constraint = self.constraint.describe() if self.constraint is not None else "(no constraint)"
        return f"{self.attribute} {'not ' if self.negate else ''}{constraint}"


@dataclass(frozen=True)
class PriorSpec:
    """Which other studies of the patient are relevant priors, and how many the protocol shows."""

    count: int = 0
    rules: tuple[Rule, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "rules": [r.to_dict() for r in self.rules]}


#: Relevance when a protocol wants priors and says nothing more: same modality and body part.
DEFAULT_PRIOR_RULES = (
    Rule("ModalitiesInStudy", None, required=True, same_as=True),
    Rule("BodyPartExamined", None, required=True, same_as=True),
)


@dataclass(frozen=True)
class Selector:
    """A display-set selector: rules on series attributes (``name`` when declared once and shared)."""

    rules: tuple[Rule, ...] = ()
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rules": [r.to_dict() for r in self.rules]}


@dataclass(frozen=True)
class InitialImage:
    """``first``, ``middle``, ``last``, an image number (1-based), or a fraction of the stack."""

    kind: str = "first"
    value: float = 0.0

    def index(self, n: int) -> int:
        """The 0-based index in a stack of ``n`` images."""
        if n <= 0:
            return 0
        if self.kind == "middle":
            return (n - 1) // 2
        if self.kind == "last":
            return n - 1
        if self.kind == "imageNumber":
            return min(max(int(self.value) - 1, 0), n - 1)
        if self.kind == "fraction":
            return min(max(int(round(self.value * (n - 1))), 0), n - 1)
        return 0

    def to_dict(self) -> Any:
        if self.kind in INITIAL_IMAGES:
            return self.kind
        return {self.kind: int(self.value) if self.kind == "imageNumber" else self.value}


@dataclass(frozen=True)
class WindowSpec:
    """A VOI window: a preset name (resolved per modality) or an explicit centre and width."""

    name: str = ""
    center: float | None = None
    width: float | None = None

    def to_dict(self) -> Any:
        if self.center is None:
            return self.name
        out: dict[str, Any] = {"center": self.center, "width": self.width}
        if self.name:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class ViewportSpec:
    """One viewport of a stage: which study, which display set, how it is shown and synchronised."""

    study: str = "current"
    selector: Selector = field(default_factory=Selector)
    match: int = 1
    initial_image: InitialImage = field(default_factory=InitialImage)
    window: WindowSpec | None = None
    invert: bool = False
    rotation: int = 0
    flip: str = "none"
    patient_orientation: tuple[str, str] | None = None
    sync: Mapping[str, str] = field(default_factory=dict)
    viewport_type: str = "stack"
    cine: bool = False
    label: str = ""
    volume: Mapping[str, Any] = field(default_factory=dict)

    @property
    def prior_index(self) -> int:
        """0 for the current study, n for prior n."""
        m = STUDY_ROLE.match(self.study)
        return int(m.group(2)) if m and m.group(2) else 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"study": self.study}
        out["displaySet"] = self.selector.name or self.selector.to_dict()
        if self.match != 1:
            out["match"] = self.match
        if self.initial_image != InitialImage():
            out["initialImage"] = self.initial_image.to_dict()
        if self.window is not None:
            out["window"] = self.window.to_dict()
        for key, value, default in (("invert", self.invert, False), ("rotation", self.rotation, 0),
                                    ("flip", self.flip, "none"), ("type", self.viewport_type, "stack"),
                                    ("cine", self.cine, False), ("label", self.label, "")):
            if value != default:
                out[key] = value
        if self.patient_orientation is not None:
            out["patientOrientation"] = list(self.patient_orientation)
        if self.sync:
            out["sync"] = dict(self.sync)
        out.update(self.volume)
        return out


@dataclass(frozen=True)
class Layout:
    """A grid of rows x columns, or custom rectangles (fractions of the screen: x, y, width, height)."""

    rows: int = 1
    columns: int = 1
    rectangles: tuple[tuple[float, float, float, float], ...] = ()

    @property
    def kind(self) -> str:
        return "custom" if self.rectangles else "grid"

    @property
    def size(self) -> int:
        return len(self.rectangles) if self.rectangles else self.rows * self.columns

    def rectangle(self, index: int) -> tuple[float, float, float, float]:
        """Viewport ``index``'s rectangle; grid cells go row by row."""
        if self.rectangles:
            return self.rectangles[index]
        r, c = divmod(index, self.columns)
        return (c / self.columns, r / self.rows, 1 / self.columns, 1 / self.rows)

    def to_dict(self) -> dict[str, Any]:
        if self.rectangles:
            return {"rectangles": [dict(zip(("x", "y", "width", "height"), r, strict=True)) for r in self.rectangles]}
        return {"rows": self.rows, "columns": self.columns}


@dataclass(frozen=True)
class Stage:
    """One screenful: a layout and its viewports; ``required_viewports`` filled ones enable it."""

    id: str
    name: str
    layout: Layout
    viewports: tuple[ViewportSpec, ...]
    required_viewports: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "name": self.name, "layout": self.layout.to_dict(),
                               "viewports": [v.to_dict() for v in self.viewports]}
        if self.required_viewports:
            out["requiredViewports"] = self.required_viewports
        return out


@dataclass(frozen=True)
class Protocol:
    """A hanging protocol.

    Attributes
    ----------
    id, name, description : str
    rules : tuple of Rule
        On the current study's attributes (and ``RelevantPriorCount``).
    priors : PriorSpec
    display_sets : mapping of str to Selector
        Selectors declared once and named by viewports.
    stages : tuple of Stage
    default : bool
        Applies when no other protocol matches.
    origin : str
        ``"builtin"`` or ``"user"`` (set by the library, not written to files).
    source : str
        The file it was read from.
    """

    id: str
    name: str
    stages: tuple[Stage, ...]
    description: str = ""
    rules: tuple[Rule, ...] = ()
    priors: PriorSpec = field(default_factory=PriorSpec)
    display_sets: Mapping[str, Selector] = field(default_factory=dict)
    default: bool = False
    origin: str = "builtin"
    source: str = ""

    @property
    def prior_rules(self) -> tuple[Rule, ...]:
        return self.priors.rules or DEFAULT_PRIOR_RULES

    def with_origin(self, origin: str, source: str) -> Protocol:
        return replace(self, origin=origin, source=source)

    def to_dict(self) -> dict[str, Any]:
        """The protocol in file form (what :func:`parse_protocol` reads back)."""
        out: dict[str, Any] = {"schemaVersion": SCHEMA_VERSION, "id": self.id, "name": self.name}
        if self.description:
            out["description"] = self.description
        if self.default:
            out["default"] = True
        out["rules"] = [r.to_dict() for r in self.rules]
        if self.priors.count or self.priors.rules:
            out["priors"] = self.priors.to_dict()
        if self.display_sets:
            out["displaySets"] = {name: s.to_dict() for name, s in self.display_sets.items()}
        out["stages"] = [s.to_dict() for s in self.stages]
        return out


# Parsing ---------------------------------------------------------------------------------


class _Reader:
    """Reads one protocol mapping; every error carries the file and the field path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> ProtocolError:
        return ProtocolError(self.source, path, message)

    def mapping(self, raw: Any, path: str, allowed: Collection[str],
                required: Collection[str] = frozenset()) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail(path, "expected a mapping")
        for key in raw:
            if key not in allowed:
                raise self.fail(_join(path, str(key)), f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key in sorted(required):
            if key not in raw:
                raise self.fail(_join(path, key), "missing")
        return raw

    def text(self, raw: Any, path: str, *, empty: bool = True) -> str:
        if not isinstance(raw, str) or (not empty and not raw.strip()):
            raise self.fail(path, "expected text" if empty else "expected non-empty text")
        return raw

    def boolean(self, raw: Any, path: str) -> bool:
        if not isinstance(raw, bool):
            raise self.fail(path, "expected true or false")
        return raw

    def integer(self, raw: Any, path: str, lo: int, hi: int | None = None) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < lo or (hi is not None and raw > hi):
            bound = f"from {lo} to {hi}" if hi is not None else f"of at least {lo}"
            raise self.fail(path, f"expected a whole number {bound}")
        return raw

    def number(self, raw: Any, path: str) -> float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise self.fail(path, "expected a number")
        return float(raw)

    def items(self, raw: Any, path: str, *, nonempty: bool = False) -> list[Any]:
        if not isinstance(raw, list) or (nonempty and not raw):
            raise self.fail(path, "expected a non-empty list" if nonempty else "expected a list")
        return raw

    # Rules ---------------------------------------------------------------------------
    def rule(self, raw: Any, path: str, attributes: Mapping[str, str], *, allow_same_as: bool = False) -> Rule:
        keys = {"attribute", "constraint", "weight", "required", "not"} | ({"sameAs"} if allow_same_as else set())
        raw = self.mapping(raw, path, keys)
        weight = self.number(raw.get("weight", 1), _join(path, "weight"))
        if weight < 0:
            raise self.fail(_join(path, "weight"), "expected a number of at least 0")
        required = self.boolean(raw.get("required", False), _join(path, "required"))
        negate = self.boolean(raw.get("not", False), _join(path, "not"))
        if "sameAs" in raw:
            if "attribute" in raw or "constraint" in raw or negate:
                raise self.fail(_join(path, "sameAs"), "sameAs stands alone: no attribute, constraint or not")
            name = self.attribute(raw["sameAs"], _join(path, "sameAs"), STUDY_ATTRIBUTES)
            return Rule(name, None, weight, required, False, True)
        if "attribute" not in raw:
            raise self.fail(_join(path, "attribute"), "missing")
        name = self.attribute(raw["attribute"], _join(path, "attribute"), attributes)
        if "constraint" not in raw:
            raise self.fail(_join(path, "constraint"), "missing")
        try:
            constraint = parse_constraint(raw["constraint"])
        except ConstraintError as exc:
            raise self.fail(_join(_join(path, "constraint"), exc.field), str(exc)) from None
        return Rule(name, constraint, weight, required, negate)

    def attribute(self, raw: Any, path: str, attributes: Mapping[str, str]) -> str:
        name = self.text(raw, path, empty=False)
        if name not in attributes:
            raise self.fail(path, f"unknown attribute {name!r} (known: {', '.join(attributes)})")
        return name

    def rules(self, raw: Any, path: str, attributes: Mapping[str, str], *,
              allow_same_as: bool = False) -> tuple[Rule, ...]:
        rules = tuple(self.rule(r, f"{path}[{i}]", attributes, allow_same_as=allow_same_as)
                      for i, r in enumerate(self.items(raw, path)))
        if rules and not any(r.weight > 0 for r in rules):
            # A candidate needs a positive score: these rules could never accept anything.
            raise self.fail(path, "every rule has weight 0, so nothing can ever match; give one a weight")
        return rules

    def selector(self, raw: Any, path: str, name: str = "") -> Selector:
        raw = self.mapping(raw, path, {"rules"}, {"rules"})
        return Selector(self.rules(raw["rules"], _join(path, "rules"), SERIES_ATTRIBUTES), name)

    # Stages --------------------------------------------------------------------------
    def layout(self, raw: Any, path: str) -> Layout:
        raw = self.mapping(raw, path, {"rows", "columns", "rectangles"})
        if "rectangles" in raw:
            if "rows" in raw or "columns" in raw:
                raise self.fail(path, "either rows and columns, or rectangles")
            rects = []
            for i, r in enumerate(self.items(raw["rectangles"], _join(path, "rectangles"), nonempty=True)):
                rp = f"{path}.rectangles[{i}]"
                r = self.mapping(r, rp, {"x", "y", "width", "height"}, {"x", "y", "width", "height"})
                x, y, w, h = (self.number(r[k], _join(rp, k)) for k in ("x", "y", "width", "height"))
                if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 and 0 < h <= 1 and x + w <= 1 + 1e-6
                        and y + h <= 1 + 1e-6):
                    raise self.fail(rp, "x, y, width and height are fractions of the screen inside 0..1")
                rects.append((x, y, w, h))
            return Layout(rectangles=tuple(rects))
        for key in ("rows", "columns"):
            if key not in raw:
                raise self.fail(_join(path, key), "missing")
        rows = self.integer(raw["rows"], _join(path, "rows"), 1, MAX_GRID)
        cols = self.integer(raw["columns"], _join(path, "columns"), 1, MAX_GRID)
        return Layout(rows, cols)

    def viewport(self, raw: Any, path: str, named: Mapping[str, Selector]) -> ViewportSpec:
        allowed = {"study", "displaySet", "match", "initialImage", "window", "invert", "rotation", "flip",
                   "patientOrientation", "sync", "type", "cine", "label", *VOLUME_KEYS}
        raw = self.mapping(raw, path, allowed, {"displaySet"})
        study = self.text(raw.get("study", "current"), _join(path, "study"))
        if not STUDY_ROLE.match(study):
            raise self.fail(_join(path, "study"), "expected current, prior1, prior2 ...")
        ds = raw["displaySet"]
        if isinstance(ds, str):
            if ds not in named:
                raise self.fail(_join(path, "displaySet"), f"no display set named {ds!r} in displaySets")
            selector = named[ds]
        else:
            selector = self.selector(ds, _join(path, "displaySet"))
        spec = ViewportSpec(
            study=study,
            selector=selector,
            match=self.integer(raw.get("match", 1), _join(path, "match"), 1),
            initial_image=self.initial_image(raw.get("initialImage", "first"), _join(path, "initialImage")),
            window=self.window(raw["window"], _join(path, "window")) if "window" in raw else None,
            invert=self.boolean(raw.get("invert", False), _join(path, "invert")),
            rotation=self.choice(raw.get("rotation", 0), _join(path, "rotation"), ROTATIONS),
            flip=self.choice(raw.get("flip", "none"), _join(path, "flip"), FLIPS),
            patient_orientation=(self.orientation(raw["patientOrientation"], _join(path, "patientOrientation"))
                                 if "patientOrientation" in raw else None),
            sync=self.sync(raw.get("sync", {}), _join(path, "sync")),
            viewport_type=self.choice(raw.get("type", "stack"), _join(path, "type"), VIEWPORT_TYPES),
            cine=self.boolean(raw.get("cine", False), _join(path, "cine")),
            label=self.text(raw.get("label", ""), _join(path, "label")),
            volume=self.volume(raw, path),
        )
        return spec

    def volume(self, raw: dict[str, Any], path: str) -> dict[str, Any]:
        """The MPR or 3D keys of a viewport, checked as the volume viewports read them."""
        keys = {k: raw[k] for k in VOLUME_KEYS if k in raw}
        kind = raw.get("type", "stack")
        if kind == "stack":
            if keys:
                raise self.fail(_join(path, sorted(keys)[0]), "only MPR and 3D viewports (type mpr or 3d) take this")
            return {}
        try:
            VolumeViewportSpec.from_dict({"type": kind, **keys})
        except ValueError as exc:
            raise self.fail(_join(path, "type"), str(exc)) from None
        return keys

    def choice(self, raw: Any, path: str, options: tuple[Any, ...]) -> Any:
        if raw not in options or isinstance(raw, bool):
            raise self.fail(path, f"expected one of {', '.join(map(str, options))}")
        return raw

    def initial_image(self, raw: Any, path: str) -> InitialImage:
        if isinstance(raw, str):
            return InitialImage(self.choice(raw, path, INITIAL_IMAGES))
        raw = self.mapping(raw, path, {"imageNumber", "fraction"})
        if len(raw) != 1:
            raise self.fail(path, "expected first, middle, last, {imageNumber: N} or {fraction: F}")
        if "imageNumber" in raw:
            return InitialImage("imageNumber", self.integer(raw["imageNumber"], _join(path, "imageNumber"), 1))
        f = self.number(raw["fraction"], _join(path, "fraction"))
        if not 0 <= f <= 1:
            raise self.fail(_join(path, "fraction"), "expected a number from 0 to 1")
        return InitialImage("fraction", f)

    def window(self, raw: Any, path: str) -> WindowSpec:
        if isinstance(raw, str):
            known = sorted({p.name for presets in PRESETS.values() for p in presets})
            if raw.casefold() not in {k.casefold() for k in known}:
                raise self.fail(path, f"unknown window preset {raw!r} (known: {', '.join(known)}), "
                                      "or give {center, width}")
            return WindowSpec(raw)
        raw = self.mapping(raw, path, {"center", "width", "name"}, {"center", "width"})
        width = self.number(raw["width"], _join(path, "width"))
        if width < 1:
            raise self.fail(_join(path, "width"), "expected a number of at least 1")
        return WindowSpec(self.text(raw.get("name", ""), _join(path, "name")),
                          self.number(raw["center"], _join(path, "center")), width)

    def orientation(self, raw: Any, path: str) -> tuple[str, str]:
        values = self.items(raw, path)
        if len(values) != 2:
            raise self.fail(path, "expected two values: the row direction and the column direction")
        out = []
        for i, v in enumerate(values):
            v = self.text(v, f"{path}[{i}]").upper()
            if set(v) - ORIENTATION_LETTERS or len(v) > 3:
                raise self.fail(f"{path}[{i}]", "expected patient directions A, P, L, R, H, F (or empty)")
            out.append(v)
        return (out[0], out[1])

    def sync(self, raw: Any, path: str) -> dict[str, str]:
        raw = self.mapping(raw, path, set(SYNC_KINDS))
        return {k: self.text(v, _join(path, k), empty=False) for k, v in raw.items()}


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path and key else (path or key)


def parse_protocol(raw: Any, source: str = "<protocol>") -> Protocol:
    """Check a protocol mapping against the schema and build a :class:`Protocol`.

    Parameters
    ----------
    raw : mapping
        The file's content (from JSON or YAML).
    source : str
        The file name, for error messages.

    Raises
    ------
    ProtocolError
        Naming ``source`` and the offending field.
    """
    r = _Reader(source)
    top = {"schemaVersion", "id", "name", "description", "default", "rules", "priors", "displaySets", "stages"}
    raw = r.mapping(raw, "", top, {"id", "name", "stages"})
    version = raw.get("schemaVersion", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise r.fail("schemaVersion", f"this Lightbox reads schema version {SCHEMA_VERSION}, not {version!r}")
    pid = r.text(raw["id"], "id", empty=False)
    if not PROTOCOL_ID.match(pid):
        raise r.fail("id", "letters, digits, '.', '_' and '-' only, starting with a letter or digit, up to 64")
    rules = r.rules(raw.get("rules", []), "rules", STUDY_ATTRIBUTES)
    priors = PriorSpec()
    if "priors" in raw:
        p = r.mapping(raw["priors"], "priors", {"count", "rules"})
        priors = PriorSpec(r.integer(p.get("count", 0), "priors.count", 0, 9),
                           r.rules(p.get("rules", []), "priors.rules", PRIOR_ATTRIBUTES, allow_same_as=True))
    named: dict[str, Selector] = {}
    declared = raw.get("displaySets", {})
    for name, sel in r.mapping(declared, "displaySets", set(declared or ())).items():
        named[str(name)] = r.selector(sel, f"displaySets.{name}", str(name))
    stages: list[Stage] = []
    for i, st in enumerate(r.items(raw["stages"], "stages", nonempty=True)):
        path = f"stages[{i}]"
        st = r.mapping(st, path, {"id", "name", "layout", "viewports", "requiredViewports"}, {"layout", "viewports"})
        layout = r.layout(st["layout"], f"{path}.layout")
        vps = tuple(r.viewport(v, f"{path}.viewports[{j}]", named)
                    for j, v in enumerate(r.items(st["viewports"], f"{path}.viewports", nonempty=True)))
        if len(vps) != layout.size:
            raise r.fail(f"{path}.viewports", f"the layout has {layout.size} viewports but {len(vps)} are described")
        required = r.integer(st.get("requiredViewports", 0), f"{path}.requiredViewports", 0, len(vps))
        stage_id = r.text(st.get("id", f"stage{i + 1}"), f"{path}.id", empty=False)
        if any(s.id == stage_id for s in stages):
            raise r.fail(f"{path}.id", f"two stages are named {stage_id!r}")
        stages.append(Stage(stage_id, r.text(st.get("name", stage_id), f"{path}.name"), layout, vps, required))
        for j, vp in enumerate(vps):
            if vp.prior_index > priors.count and "priors" in raw and "count" in raw["priors"]:
                raise r.fail(f"{path}.viewports[{j}].study",
                             f"{vp.study} but priors.count is {priors.count}")
    used = max((vp.prior_index for s in stages for vp in s.viewports), default=0)
    if used > priors.count:
        priors = PriorSpec(used, priors.rules)
    return Protocol(
        id=pid,
        name=r.text(raw["name"], "name", empty=False),
        description=r.text(raw.get("description", ""), "description"),
        default=r.boolean(raw.get("default", False), "default"),
        rules=rules,
        priors=priors,
        display_sets=named,
        stages=tuple(stages),
    )
