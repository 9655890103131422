"""The hanging engine: a study, the patient's other studies and the protocols -> a layout plan.

1. Every protocol's rules are scored on the current study; ``RelevantPriorCount``
   is what that protocol's prior rules find among the patient's earlier
   studies (:mod:`workstation.hanging.priors`).
2. The best accepted protocol wins: highest score, then a user's protocol
   before a built-in one, then more rules passed, then the id (so the choice
   never depends on file order).  A failed required rule excludes.  A protocol
   that fills none of its current-study viewports from the study (an MR brain
   protocol on an MR whose only series is named by its technique, "gre") does
   not win over one that fills some, nor over the default.  Default protocols
   take part only when nothing else is accepted and fits; the default grid then
   shows every series of the study (:func:`all_series_stages`).
3. The winner's stages become :class:`~workstation.hanging.plan.StagePlan`:
   each viewport gets its study (current, prior 1 ...), the series its
   selector picks (:mod:`workstation.hanging.selector`) or a note in the
   reader's words saying why it stays empty ("no axial FLAIR series in this
   study"; the rules that failed go in ``detail``), the initial image, window,
   orientation and sync groups.

Pure functions over plain records: no cache, no Qt.  :mod:`workstation.hanging.service`
reads the facts from the cache.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workstation.hanging.attributes import PLANES, SeriesFacts, StudyFacts
from workstation.hanging.constraints import Value
from workstation.hanging.orientation import display_transform
from workstation.hanging.plan import (
    FILLED,
    PENDING,
    CandidateScore,
    HangingPlan,
    PriorPlan,
    StagePlan,
    ViewportPlan,
    WindowPlan,
)
from workstation.hanging.priors import Candidates, candidates, relevant_priors
from workstation.hanging.protocol import (
    MAX_GRID,
    Layout,
    Protocol,
    Selector,
    Stage,
    ViewportSpec,
    WindowSpec,
)
from workstation.hanging.rules import Score, evaluate
from workstation.hanging.selector import select
from workstation.imaging.window_presets import presets_for

#: Used when no protocol at all is available (say the resources are missing): one viewport, first series.
FALLBACK = Protocol(
    id="fallback",
    name="First series",
    stages=(Stage("stage1", "First series", Layout(1, 1), (ViewportSpec(),)),),
    default=True,
)


@dataclass(frozen=True)
class ProtocolMatch:
    """One protocol scored on a study, with the relevant priors its prior rules found."""

    protocol: Protocol
    score: Score
    relevant: tuple[StudyFacts, ...]
    #: Current-study viewports (over all stages) its selectors fill from the study; -1 when not counted.
    fills: int = -1

    @property
    def accepted(self) -> bool:
        return self.score.accepted

    @property
    def fits(self) -> bool:
        """Fills at least one of its current-study viewports (or was not checked)."""
        return self.fills != 0

    def summary(self) -> CandidateScore:
        p = self.protocol
        return CandidateScore(p.id, p.name, p.origin, self.score.score, self.accepted, p.default,
                              tuple(r.describe() for r in self.score.failed_required()), self.fits)


def current_viewports_filled(protocol: Protocol, current: StudyFacts) -> int:
    """How many of ``protocol``'s current-study viewports its selectors fill from ``current``."""
    if not current.in_cache or not current.series:
        return -1  # nothing to judge by: a study without image series fits no protocol better than another
    filled = 0
    for stage in protocol.stages:
        for spec in stage.viewports:
            if spec.study == "current" and select(spec.selector, current, spec.match).series is not None:
                filled += 1
    return filled


def score_protocol(protocol: Protocol, current: StudyFacts, found: Candidates) -> ProtocolMatch:
    """Score one protocol's rules on ``current`` and count the viewports it fills from it."""
    relevant = tuple(relevant_priors(current, found.priors, protocol.prior_rules))

    def get(name: str) -> Value:
        return len(relevant) if name == "RelevantPriorCount" else current.get(name)

    score = evaluate(protocol.rules, get)
    fills = current_viewports_filled(protocol, current) if score.accepted else -1
    return ProtocolMatch(protocol, score, relevant, fills)


def _rank_key(m: ProtocolMatch) -> tuple[float, bool, int, str]:
    return (-m.score.score, m.protocol.origin != "user", -m.score.passed, m.protocol.id)


def rank_protocols(protocols: Sequence[Protocol], current: StudyFacts,
                   found: Candidates) -> list[ProtocolMatch]:
    """Every protocol scored, accepted non-default ones that fit first, in the order they win."""
    matches = [score_protocol(p, current, found) for p in protocols]
    return sorted(matches, key=lambda m: (not m.accepted, m.protocol.default, not m.fits, _rank_key(m)))


def choose(ranking: Sequence[ProtocolMatch], protocol_id: str | None = None) -> tuple[ProtocolMatch, str]:
    """The winning match and why it won.

    Raises
    ------
    KeyError
        ``protocol_id`` names no protocol.
    """
    if protocol_id:
        for m in ranking:
            if m.protocol.id == protocol_id:
                return m, "chosen by the user"
        raise KeyError(f"no hanging protocol {protocol_id!r}")
    unfit = [m.protocol.name for m in ranking if m.accepted and not m.protocol.default and not m.fits]
    why = f" ({', '.join(unfit)}: no viewport filled from this study)" if unfit else ""
    for m in ranking:
        if m.accepted and not m.protocol.default and m.fits:
            return m, "best score" + why
    for m in ranking:
        if m.protocol.default:
            return m, ("default: no other protocol fits this study" + why if unfit
                       else "default: no other protocol matches")
    return ProtocolMatch(FALLBACK, Score(0.0, ()), ()), "no protocol available: every series in a grid"


def build_plan(current: StudyFacts, others: Sequence[StudyFacts], protocols: Sequence[Protocol],
               protocol_id: str | None = None) -> HangingPlan:
    """Choose a protocol for ``current`` and hang it.

    Parameters
    ----------
    current : StudyFacts
        The study being read (in the cache).
    others : sequence of StudyFacts
        Other studies that may be the patient's: from the cache, and from
        archives (``in_cache`` False) when they were queried.
    protocols : sequence of Protocol
    protocol_id : str, optional
        Hang this protocol whatever the scores.
    """
    found = candidates(current, others)
    ranking = rank_protocols(protocols, current, found)
    match, reason = choose(ranking, protocol_id)
    return hang(match, current, found, reason, tuple(m.summary() for m in ranking))


def _prior_plan(role: str, s: StudyFacts) -> PriorPlan:
    return PriorPlan(role, s.study_uid, s.study_date, str(s.get("StudyDescription") or ""), s.in_cache, s.source)


def hang(match: ProtocolMatch, current: StudyFacts, found: Candidates, reason: str = "",
         ranking: tuple[CandidateScore, ...] = ()) -> HangingPlan:
    """Turn a scored protocol into a plan for ``current`` and its priors."""
    protocol = match.protocol
    count = protocol.priors.count
    used = match.relevant[:count]
    studies = {"current": current} | {f"prior{i + 1}": s for i, s in enumerate(used)}
    stages = []
    specs = protocol.stages
    if protocol.default:
        specs = all_series_stages(protocol, current) + specs
    for stage in specs:
        vps = tuple(_viewport(i, stage.layout.rectangle(i), spec, studies) for i, spec in enumerate(stage.viewports))
        showing = sum(v.status in (FILLED, PENDING) for v in vps)
        stages.append(StagePlan(stage.id, stage.name, stage.layout.kind, stage.layout.rows, stage.layout.columns,
                                vps, showing >= max(stage.required_viewports, 1)))
    initial = next((i for i, s in enumerate(stages) if s.enabled), 0)
    return HangingPlan(
        study_uid=current.study_uid,
        protocol_id=protocol.id,
        protocol_name=protocol.name,
        origin=protocol.origin,
        score=match.score.score,
        reason=reason,
        rules=tuple(r.to_dict() for r in match.score.results),
        priors=tuple(_prior_plan(f"prior{i + 1}", s) for i, s in enumerate(used)),
        more_priors=tuple(_prior_plan("", s) for s in match.relevant[count:]),
        possible_matches=tuple(_prior_plan("", s) for s in found.possible_matches),
        stages=tuple(stages),
        initial_stage=initial,
        candidates=ranking,
    )


def _viewport(index: int, rect: tuple[float, float, float, float], spec: ViewportSpec,
              studies: dict[str, StudyFacts]) -> ViewportPlan:
    common: dict[str, Any] = dict(index=index, rectangle=rect, study_role=spec.study, sync=dict(spec.sync),
                  viewport_type=spec.viewport_type, cine=spec.cine, label=spec.label, invert=spec.invert,
                  volume=({"type": spec.viewport_type, **spec.volume} if spec.viewport_type != "stack" else {}))
    study = studies.get(spec.study)
    if study is None:
        return ViewportPlan(**common, note=f"no {_role_text(spec.study)}: the patient has no relevant earlier study")
    if not study.in_cache:
        when = study.study_date or "date unknown"
        return ViewportPlan(**common, study_uid=study.study_uid, status=PENDING,
                            note=f"{_role_text(spec.study)} ({when}) is not in the cache yet; "
                                 "it fills this viewport when it arrives")
    chosen = select(spec.selector, study, spec.match)
    if chosen.series is None:
        return ViewportPlan(**common, study_uid=study.study_uid, note=empty_note(spec, chosen.accepted, study),
                            detail=f"{_role_text(spec.study)}: {chosen.note}")
    series = chosen.series
    notes = []
    n = series.number_of_images
    window, note = _window(spec.window, str(series.get("Modality") or ""))
    notes += [note] if note else []
    rotation, flip, note = _orientation(spec, _image_value(series, chosen.sop_instance_uid, "PatientOrientation"))
    notes += [note] if note else []
    return ViewportPlan(
        **common,
        study_uid=study.study_uid,
        series_uid=series.series_uid,
        series_label=series.label,
        status=FILLED,
        note="; ".join(notes),
        initial_image=spec.initial_image.index(n),
        initial_sop_instance_uid=chosen.sop_instance_uid,
        number_of_images=n,
        window=window,
        rotation=rotation,
        flip_horizontal=flip,
        score=chosen.score,
    )


def all_series_stages(protocol: Protocol, current: StudyFacts) -> tuple[Stage, ...]:
    """Grid stages that show every series of ``current``, for a default protocol whose stages cannot.

    Empty when one of the protocol's own stages fills as many viewports as
    the study has series (one series: its 1 x 1 stage).  Up to 4 x 4 series
    per stage; a study with more gets further stages of 16.
    """
    n = len(current.series)
    if n == 0 or not current.in_cache:
        return ()
    for stage in protocol.stages:
        wanted = sum(1 for v in stage.viewports if v.study == "current")
        filled = sum(1 for v in stage.viewports
                     if v.study == "current" and select(v.selector, current, v.match).series is not None)
        if filled >= n and wanted == filled:
            return ()
    per_stage = MAX_GRID * MAX_GRID
    out = []
    for first in range(0, n, per_stage):
        k = min(per_stage, n - first)
        columns = math.ceil(math.sqrt(k))
        rows = math.ceil(k / columns)
        viewports = tuple(ViewportSpec(match=first + i + 1) for i in range(rows * columns))
        name = f"All {n} series" if n <= per_stage else f"Series {first + 1} to {first + k} of {n}"
        out.append(Stage(f"all-series-{first // per_stage + 1}", name, Layout(rows, columns), viewports))
    return tuple(out)


#: Words of display-set names written in capitals when shown to the reader.
_ACRONYMS = frozenset({"adc", "cc", "ct", "dce", "dwi", "flair", "gre", "mip", "mlo", "mpr", "mr", "pd", "pet",
                       "stir", "swi", "tof", "us", "xr", "3d"})


def series_words(spec: ViewportSpec) -> str:
    """What a viewport shows, in the reader's words: "axial FLAIR", "lung", "" when it takes any series.

    From the display set's name ("flair-axial"), else the viewport's label,
    else a required Plane rule.  Regular expressions never reach the reader.
    """
    name = spec.selector.name
    if name:
        words = [w for w in name.replace("_", "-").split("-") if w]
        planes = [w.lower() for w in words if w.lower() in PLANES]
        rest = [w.upper() if (w.lower() in _ACRONYMS or any(c.isdigit() for c in w)) else w.lower()
                for w in words if w.lower() not in PLANES]
        return " ".join(planes + rest)
    if spec.label and spec.label.casefold() not in ("current", "prior", "previous", "comparison"):
        return spec.label
    return _plane_of_selector(spec.selector)


def _plane_of_selector(selector: Selector) -> str:
    for r in selector.rules:
        if r.attribute == "Plane" and r.required and not r.negate and r.constraint is not None:
            equals = r.constraint.to_dict().get("equals")
            if isinstance(equals, str):
                return equals.lower()
    return ""


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth"}.get(n, f"{n}th")


def empty_note(spec: ViewportSpec, accepted: int, study: StudyFacts) -> str:
    """Why a viewport stays empty, in the reader's words ("no axial FLAIR series in this study").

    Parameters
    ----------
    spec : ViewportSpec
    accepted : int
        How many series its selector accepted (fewer than ``spec.match``).
    study : StudyFacts
        The study the viewport is for.
    """
    what = series_words(spec)
    kind = f"{what} series" if what else "series"
    where = "this study" if spec.study == "current" else \
        f"{_role_text(spec.study)} ({study.study_date or 'date unknown'})"
    if not (spec.selector.rules or what):
        total = len(study.series)
        return f"{where[0].upper()}{where[1:]} has {total} series: none left for this viewport"
    if accepted == 0:
        return f"no {kind} in {where}"
    return f"only {accepted} {kind} in {where}; this viewport is for the {_ordinal(spec.match)}"


def _role_text(role: str) -> str:
    return "current study" if role == "current" else f"prior {role[5:]}"


def _window(spec: WindowSpec | None, modality: str) -> tuple[WindowPlan | None, str]:
    if spec is None:
        return None, ""
    if spec.center is not None and spec.width is not None:
        return WindowPlan(spec.center, spec.width, spec.name), ""
    for preset in presets_for(modality):
        if preset.name.casefold() == spec.name.casefold():
            return WindowPlan(float(preset.center), float(preset.width), preset.name), ""
    return None, f"window preset {spec.name!r} is not defined for {modality or 'this modality'}: image's own window"


def _image_value(series: SeriesFacts, sop_instance_uid: str, name: str) -> Value:
    """An attribute of the image a per-image selector matched, else of the series."""
    for image in series.images:
        if image.sop_instance_uid == sop_instance_uid:
            return image.attributes.get(name)
    return series.get(name)


def _orientation(spec: ViewportSpec, stored: Value) -> tuple[int, bool, str]:
    rotation, flip = spec.rotation, spec.flip == "horizontal"
    if spec.flip == "vertical":
        # Mirroring top-bottom is a half turn and a left-right mirror.
        rotation, flip = (rotation + 180) % 360, True
    if spec.patient_orientation is None:
        return rotation, flip, ""
    pair = stored if isinstance(stored, tuple) and len(stored) == 2 else None
    found = display_transform(pair, spec.patient_orientation)
    if found is None:
        return rotation, flip, "the image's Patient Orientation is missing or does not fit: shown as stored"
    return found[0], found[1], ""
