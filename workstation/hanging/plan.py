"""The layout plan a protocol makes for a study: plain records a viewer applies, and JSON.

A :class:`HangingPlan` holds the chosen protocol and why, the priors it
uses, and per stage a layout and its viewports; each :class:`ViewportPlan`
says which study and series to show (or why it stays empty), on which image,
with which window, orientation and synchronisation groups.  Nothing here
knows about Qt.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FILLED, EMPTY, PENDING = "filled", "empty", "pending"


@dataclass(frozen=True)
class WindowPlan:
    """A resolved VOI window in modality values."""

    center: float
    width: float
    name: str = ""


@dataclass(frozen=True)
class ViewportPlan:
    """One viewport as the protocol hangs it.

    Attributes
    ----------
    index : int
        Position in the stage, row by row for grids.
    rectangle : tuple of float
        x, y, width, height as fractions of the viewing area.
    study_role : str
        ``current``, ``prior1`` ...
    study_uid : str
        The study of that role ("" when the patient has no such prior).
    series_uid : str
        The selected display set ("" when empty or pending).
    status : str
        ``filled``; ``empty`` (nothing matched, or no such prior: see ``note``);
        ``pending`` (the prior is known but not yet in the cache).
    note : str
        Why the viewport is empty or pending, or a warning about how it is
        shown, in the reader's words.
    detail : str
        For an empty viewport, the selector's rules and how they failed (for
        protocol authors: ``--json``, tooltips).
    initial_image : int
        0-based index of the first image shown, in the series' image order.
    initial_sop_instance_uid : str
        The image a per-image selector matched, when there is one (the viewer
        prefers it to ``initial_image``, whose order it may sort differently).
    window : WindowPlan or None
        None: the image's own window.
    rotation : int
        Clockwise degrees, applied before ``flip_horizontal``.
    sync : dict
        Group names per kind: ``scroll``, ``zoomPan``, ``voi``.
    viewport_type : str
        ``stack``, ``mpr`` or ``3d``; ``volume`` then holds the MPR or 3D
        keys (:class:`workstation.volume3d.viewports.VolumeViewportSpec`).
    """

    index: int
    rectangle: tuple[float, float, float, float]
    study_role: str
    study_uid: str = ""
    series_uid: str = ""
    series_label: str = ""
    status: str = EMPTY
    note: str = ""
    detail: str = ""
    initial_image: int = 0
    initial_sop_instance_uid: str = ""
    number_of_images: int = 0
    window: WindowPlan | None = None
    invert: bool = False
    rotation: int = 0
    flip_horizontal: bool = False
    sync: dict[str, str] = field(default_factory=dict)
    viewport_type: str = "stack"
    cine: bool = False
    label: str = ""
    score: float = 0.0
    volume: dict[str, Any] = field(default_factory=dict)

    @property
    def filled(self) -> bool:
        return self.status == FILLED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["rectangle"] = [round(v, 6) for v in self.rectangle]
        return d


@dataclass(frozen=True)
class StagePlan:
    """A stage: its layout and viewports; disabled stages are skipped by next and previous."""

    id: str
    name: str
    layout: str  # "grid" or "custom"
    rows: int
    columns: int
    viewports: tuple[ViewportPlan, ...]
    enabled: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "layout": self.layout, "rows": self.rows,
                "columns": self.columns, "enabled": self.enabled,
                "viewports": [v.to_dict() for v in self.viewports]}


@dataclass(frozen=True)
class PriorPlan:
    """A prior study the plan uses (or could use), without patient identity."""

    role: str  # prior1 ... ("" for relevant priors beyond what the protocol shows)
    study_uid: str
    study_date: str
    description: str
    in_cache: bool
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CandidateScore:
    """One protocol's result for the study, for the chooser and ``--json``."""

    protocol_id: str
    name: str
    origin: str
    score: float
    accepted: bool
    default: bool
    failed_required: tuple[str, ...] = ()
    #: False when it fills none of its current-study viewports from the study.
    fits: bool = True

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["failed_required"] = list(self.failed_required)
        return d


@dataclass(frozen=True)
class HangingPlan:
    """What a protocol does with a study and its priors."""

    study_uid: str
    protocol_id: str
    protocol_name: str
    origin: str
    score: float
    reason: str
    rules: tuple[dict[str, Any], ...]
    priors: tuple[PriorPlan, ...]
    more_priors: tuple[PriorPlan, ...]
    possible_matches: tuple[PriorPlan, ...]
    stages: tuple[StagePlan, ...]
    initial_stage: int = 0
    candidates: tuple[CandidateScore, ...] = ()

    def stage_index(self, key: str | int) -> int:
        """A stage's index from its index or id."""
        if isinstance(key, int):
            if not 0 <= key < len(self.stages):
                raise IndexError(f"no stage {key + 1}: the protocol has {len(self.stages)}")
            return key
        for i, s in enumerate(self.stages):
            if s.id == key:
                return i
        raise KeyError(f"no stage {key!r}")

    def next_stage(self, current: int, step: int = 1) -> int:
        """The next (``step`` 1) or previous (``step`` -1) enabled stage; ``current`` at the ends."""
        i = current + step
        while 0 <= i < len(self.stages):
            if self.stages[i].enabled:
                return i
            i += step
        return current

    def viewport(self, stage: int, index: int) -> ViewportPlan:
        return self.stages[stage].viewports[index]

    def to_dict(self) -> dict[str, Any]:
        return {
            "study_uid": self.study_uid,
            "protocol": {"id": self.protocol_id, "name": self.protocol_name, "origin": self.origin,
                         "score": self.score, "reason": self.reason, "rules": list(self.rules)},
            "candidates": [c.to_dict() for c in self.candidates],
            "priors": [p.to_dict() for p in self.priors],
            "more_priors": [p.to_dict() for p in self.more_priors],
            "possible_matches": [p.to_dict() for p in self.possible_matches],
            "initial_stage": self.initial_stage,
            "stages": [s.to_dict() for s in self.stages],
        }


def stage_fills(stage: StagePlan) -> bool:
    """Whether ``stage`` shows images now: enabled, and no viewport waiting for a prior to arrive."""
    return stage.enabled and any(v.filled for v in stage.viewports) and \
        not any(v.status == PENDING for v in stage.viewports)


def stage_after_update(old: HangingPlan, new: HangingPlan, shown: int, moved_by_reader: bool) -> int:
    """The stage to show once ``new`` replaces ``old`` (a prior landed, an archive answered).

    The layout moves to the first stage that now fills with images when that
    comes before the stage shown, as long as the reader has not changed stages
    since the study was hung and the protocol is the same; otherwise the
    stage shown stays.  So a study hung on its current-only stage (the
    prior not yet in the cache) moves to the comparison stage when the prior
    lands, and a reader who went elsewhere is left there.

    Parameters
    ----------
    old, new : HangingPlan
        The plan shown and the plan made again.
    shown : int
        Index of the stage shown (of ``old``).
    moved_by_reader : bool
        The reader changed stages since the study was hung.
    """
    shown = min(max(shown, 0), len(new.stages) - 1)
    if moved_by_reader or old.protocol_id != new.protocol_id or len(old.stages) != len(new.stages):
        return shown
    first = next((i for i, s in enumerate(new.stages) if stage_fills(s)), None)
    # Only towards the protocol's preferred stages: a stage still waiting for its prior stays shown.
    return first if first is not None and first < shown else shown


def changed_viewports(old: HangingPlan, new: HangingPlan) -> list[tuple[int, int]]:
    """(stage, viewport) pairs whose content differs between two plans of one protocol.

    A viewer re-hangs only these when a late prior arrives, so the reader's
    work in the other viewports (scroll position, window) is left alone.
    """
    if old.protocol_id != new.protocol_id or len(old.stages) != len(new.stages):
        return [(s, v) for s, st in enumerate(new.stages) for v in range(len(st.viewports))]
    out = []
    for s, (a, b) in enumerate(zip(old.stages, new.stages, strict=True)):  # equal counts: checked above
        for v, (va, vb) in enumerate(zip(a.viewports, b.viewports, strict=False)):
            if (va.study_uid, va.series_uid, va.status) != (vb.study_uid, vb.series_uid, vb.status):
                out.append((s, v))
    return out


def grid_cells(stage: StagePlan) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """A stage's layout as a grid with spans: (rows, columns, [(row, column, row span, column span)]).

    A grid stage maps one cell per viewport.  Custom rectangles are placed on
    the grid their edges make (three columns and two rows for a 2 x 2 block
    beside a tall viewport), so a viewer built on a grid of cells shows them.
    """
    if stage.layout == "grid":
        return stage.rows, stage.columns, [(i // stage.columns, i % stage.columns, 1, 1)
                                           for i in range(len(stage.viewports))]

    def edges(values: list[float]) -> list[float]:
        out: list[float] = []
        for v in sorted(values):
            if not out or v - out[-1] > 1e-3:
                out.append(v)
        return out

    rects = [v.rectangle for v in stage.viewports]
    xs = edges([r[0] for r in rects] + [r[0] + r[2] for r in rects])
    ys = edges([r[1] for r in rects] + [r[1] + r[3] for r in rects])

    def at(value: float, grid: list[float]) -> int:
        return min(range(len(grid)), key=lambda i: abs(grid[i] - value))

    cells = []
    for x, y, w, h in rects:
        c0, c1 = at(x, xs), at(x + w, xs)
        r0, r1 = at(y, ys), at(y + h, ys)
        cells.append((r0, c0, max(r1 - r0, 1), max(c1 - c0, 1)))
    return len(ys) - 1, len(xs) - 1, cells
