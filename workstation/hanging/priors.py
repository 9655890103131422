"""Which other studies are the patient's priors, and which of them are relevant to a protocol.

Identity is decided conservatively, because a wrong prior beside a study is a
patient-safety error:

* *the same patient*: the same Patient ID, Issuer of Patient ID and name
  (compared case- and space-insensitively; an issuer missing on one side, as
  from an archive that does not report it, is accepted unless the birth dates
  disagree).  Only these become priors.
* *a possible match*: not the same patient, but the same Patient ID (another
  issuer or name), or the same name and birth date under another ID (two
  archives with their own numbering).  These are listed for the reader to
  look at, never hung and never merged.

A prior is earlier than the current study.  Relevance is the protocol's prior
rules (by default: same modality and same body part); relevant priors are
ranked by rule score, then most recent first.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workstation.hanging.attributes import StudyFacts, days_between
from workstation.hanging.constraints import Value
from workstation.hanging.protocol import Rule
from workstation.hanging.rules import Score, evaluate


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").casefold().replace(" ", "").strip()


def _name(text: str) -> str:
    # Trailing empty PN components ("DOE^JOHN^^^") do not make another name.
    return _fold(text).rstrip("^")


def same_patient(a: StudyFacts, b: StudyFacts) -> bool:
    """True when ``b`` is certainly the patient of ``a`` (see the module notes)."""
    if not a.patient_id.strip() or _fold(a.patient_id) != _fold(b.patient_id):
        return False
    if _name(a.patient_name) != _name(b.patient_name):
        return False
    ia, ib = _fold(a.issuer), _fold(b.issuer)
    if ia and ib:
        return ia == ib
    if ia or ib:
        # An archive that does not report the issuer: the birth dates must not disagree.
        return not (a.birth_date and b.birth_date) or a.birth_date == b.birth_date
    return True


def possible_match(a: StudyFacts, b: StudyFacts) -> bool:
    """True when ``b`` may be the patient of ``a`` but is not certainly so."""
    if same_patient(a, b):
        return False
    if a.patient_id.strip() and _fold(a.patient_id) == _fold(b.patient_id):
        return True
    return bool(_name(a.patient_name)) and _name(a.patient_name) == _name(b.patient_name) and \
        bool(a.birth_date) and a.birth_date == b.birth_date


def is_earlier(prior: StudyFacts, current: StudyFacts) -> bool:
    """True when ``prior`` was done before ``current`` (same date and time: not a prior)."""
    return prior.study_uid != current.study_uid and prior.when < current.when


@dataclass(frozen=True)
class Candidates:
    """The patient's earlier studies (most recent first) and the possible matches."""

    priors: tuple[StudyFacts, ...]
    possible_matches: tuple[StudyFacts, ...]


def candidates(current: StudyFacts, others: Iterable[StudyFacts]) -> Candidates:
    """Split other studies into the patient's earlier studies and possible matches.

    The same study reported twice (the cache and an archive) counts once,
    the cached copy preferred.
    """
    seen: dict[str, StudyFacts] = {}
    for s in others:
        if s.study_uid == current.study_uid:
            continue
        if s.study_uid not in seen or (s.in_cache and not seen[s.study_uid].in_cache):
            seen[s.study_uid] = s
    priors = [s for s in seen.values() if same_patient(current, s) and is_earlier(s, current)]
    maybe = [s for s in seen.values() if possible_match(current, s)]
    priors.sort(key=lambda s: s.when, reverse=True)
    maybe.sort(key=lambda s: s.when, reverse=True)
    return Candidates(tuple(priors), tuple(maybe))


def prior_attribute(prior: StudyFacts, current: StudyFacts, name: str) -> Value:
    """An attribute of a prior as prior rules see it (``DaysBeforeCurrent`` computed)."""
    if name == "DaysBeforeCurrent":
        return days_between(prior.study_date, current.study_date)
    return prior.get(name)


def score_prior(prior: StudyFacts, current: StudyFacts, rules: Sequence[Rule]) -> Score:
    return evaluate(rules, lambda n: prior_attribute(prior, current, n), current.get, prior.unknown)


def relevant_priors(current: StudyFacts, priors: Sequence[StudyFacts], rules: Sequence[Rule]) -> list[StudyFacts]:
    """The priors the rules accept, best score first, then most recent first.

    Parameters
    ----------
    current : StudyFacts
    priors : sequence of StudyFacts
        The patient's earlier studies (:func:`candidates`).
    rules : sequence of Rule
        The protocol's prior rules.
    """
    scored = [(score_prior(p, current, rules), p) for p in priors]
    accepted = [(s.score, p) for s, p in scored if s.accepted]
    accepted.sort(key=lambda sp: (-sp[0], _negated_when(sp[1].when)))
    return [p for _, p in accepted]


def _negated_when(when: str) -> tuple[int, ...]:
    # Most recent first within one score: sort on the date digits' complement.
    return tuple(-ord(c) for c in when)
