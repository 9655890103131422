"""Display-set selection: which series of a study goes into a viewport.

Every image series of the study is scored against the viewport's selector
(:mod:`workstation.hanging.rules`); accepted series are ranked by score, then
Series Number, and the viewport takes match ``n`` of that ranking.  When no
series is accepted (or fewer than ``n``), the viewport stays empty and the
selection says why: a viewport is never filled with a series its rules did
not accept.

A series whose images differ in an image-level attribute (one series holding
all four mammography views, say) is scored image by image: it is accepted
when one of its images is, and the selection names that image so the viewer
opens on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from workstation.hanging.attributes import IMAGE_LEVEL, ImageFacts, SeriesFacts, StudyFacts
from workstation.hanging.constraints import Value
from workstation.hanging.protocol import Selector
from workstation.hanging.rules import Score, evaluate


@dataclass(frozen=True)
class Selection:
    """The outcome of one selector on one study.

    Attributes
    ----------
    series : SeriesFacts or None
        None when the viewport stays empty.
    score : float
    sop_instance_uid : str
        The image that matched, when the series' images differ; else "".
    accepted : int
        How many series the selector accepted.
    note : str
        Why the viewport is empty, or "".
    """

    series: SeriesFacts | None
    score: float = 0.0
    sop_instance_uid: str = ""
    accepted: int = 0
    note: str = ""


def score_series(selector: Selector, series: SeriesFacts) -> tuple[Score, str]:
    """The selector's score for a series, and the matching image's SOP Instance UID if per image."""
    if not series.images or not any(r.attribute in IMAGE_LEVEL for r in selector.rules):
        return evaluate(selector.rules, series.get), ""
    best: tuple[Score, str] | None = None
    for image in series.images:
        def get(name: str, image: ImageFacts = image) -> Value:
            return image.attributes.get(name) if name in IMAGE_LEVEL else series.get(name)

        s = evaluate(selector.rules, get)
        if s.accepted and (best is None or s.score > best[0].score):
            best = (s, image.sop_instance_uid)
    return best if best is not None else (evaluate(selector.rules, series.get), "")


def describe(selector: Selector) -> str:
    """The selector's rules as one line (required ones first)."""
    rules = sorted(selector.rules, key=lambda r: not r.required)
    return "; ".join(("required: " if r.required else "") + r.describe() for r in rules) or "any series"


def select(selector: Selector, study: StudyFacts, match: int = 1) -> Selection:
    """Pick match ``match`` (1-based) of the series ``selector`` accepts in ``study``.

    Parameters
    ----------
    selector : Selector
    study : StudyFacts
        Must be in the cache (its series known).
    match : int
        1 for the best series, 2 for the next ...
    """
    ranked: list[tuple[float, float, str, SeriesFacts, float, str]] = []
    for series in study.series:
        score, image = score_series(selector, series)
        if score.accepted:
            number = series.get("SeriesNumber")
            order = number if isinstance(number, (int, float)) else float("inf")
            ranked.append((-score.score, order, series.series_uid, series, score.score, image))
    ranked.sort(key=lambda t: t[:3])
    if len(ranked) < match:
        if not ranked:
            note = f"no series matches ({describe(selector)})"
        else:
            note = f"only {len(ranked)} series match{'es' if len(ranked) == 1 else ''}; " \
                   f"this viewport shows match {match} ({describe(selector)})"
        return Selection(None, accepted=len(ranked), note=note)
    _, _, _, chosen, points, image = ranked[match - 1]
    return Selection(chosen, points, image, len(ranked))
