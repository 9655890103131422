"""Hang a cached study: facts from the cache, the protocol library, the engine.

This is what the CLI and the viewer call; the engine itself works on plain
facts and is tested without a cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from workstation.hanging.attributes import StudyFacts
from workstation.hanging.engine import choose, hang, rank_protocols
from workstation.hanging.facts import patient_studies, study_facts
from workstation.hanging.library import ProtocolLibrary
from workstation.hanging.plan import HangingPlan
from workstation.hanging.priors import candidates
from workstation.store.cache import StudyCache


class StudyNotCached(KeyError):
    """The study to hang is not in the cache."""


def plan_study(cache: StudyCache, library: ProtocolLibrary, study_uid: str, *, protocol_id: str | None = None,
               remote: Sequence[StudyFacts] = ()) -> HangingPlan:
    """The hanging plan of a cached study.

    Parameters
    ----------
    cache : StudyCache
    library : ProtocolLibrary
    study_uid : str
    protocol_id : str, optional
        Hang this protocol instead of the best-scoring one.
    remote : sequence of StudyFacts
        The patient's studies an archive reported (``in_cache`` False); a
        prior among them is planned as *pending* until it is retrieved.

    Raises
    ------
    StudyNotCached
    KeyError
        ``protocol_id`` names no protocol.
    """
    current = study_facts(cache, study_uid)
    if current is None:
        raise StudyNotCached(f"study {study_uid} is not in the cache")
    others = [*patient_studies(cache, current), *remote]
    found = candidates(current, others)
    ranking = rank_protocols(library.protocols, current, found)
    match, reason = choose(ranking, protocol_id)
    count = match.protocol.priors.count
    # Priors were judged on study-level facts; the ones the viewports use need their series too.
    used = tuple((study_facts(cache, s.study_uid) or s) if s.in_cache else s for s in match.relevant[:count])
    match = replace(match, relevant=used + match.relevant[count:])
    return hang(match, current, found, reason, tuple(m.summary() for m in ranking))
