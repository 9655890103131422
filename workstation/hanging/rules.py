"""Weighted rules, evaluated the same way for protocols, priors and display sets.

A candidate (a protocol for a study, a prior, a series for a viewport) is
*accepted* when every required rule passes and, if there are rules at all, its
*score* (the sum of the weights of the rules that pass) is above zero.  So a
rule nobody marked required can still lift one candidate above another; a
required rule of weight 0 is a pure filter; and a candidate that earns no
weight is never taken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workstation.hanging.constraints import Value, fold, values_of
from workstation.hanging.protocol import Rule


@dataclass(frozen=True)
class RuleResult:
    """How one rule fared, and the value it saw."""

    rule: Rule
    passed: bool
    value: Value

    def to_dict(self) -> dict[str, Any]:
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"rule": self.rule.describe(), "passed": self.passed, "weight": self.rule.weight,
                "required": self.rule.required, "value": value}


@dataclass(frozen=True)
class Score:
    """The outcome of a list of rules for one candidate."""

    score: float
    results: tuple[RuleResult, ...]

    @property
    def excluded(self) -> bool:
        """A required rule failed."""
        return any(r.rule.required and not r.passed for r in self.results)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def accepted(self) -> bool:
        return not self.excluded and (self.score > 0 or not self.results)

    def failed_required(self) -> list[Rule]:
        return [r.rule for r in self.results if r.rule.required and not r.passed]


def rule_passes(rule: Rule, value: Value, reference: Value = None) -> bool:
    """Whether one rule passes for ``value`` (``reference``: the current study's value, for sameAs)."""
    if rule.same_as:
        mine = {fold(v) for v in values_of(value)}
        theirs = {fold(v) for v in values_of(reference)}
        return bool(mine & theirs) if (mine or theirs) else True
    if rule.constraint is None:
        raise ValueError(f"rule on {rule.attribute} has neither a constraint nor sameAs")
    ok = rule.constraint.test(value)
    return not ok if rule.negate else ok


def evaluate(rules: Sequence[Rule], get: Callable[[str], Value],
             reference: Callable[[str], Value] | None = None, unknown: frozenset[str] = frozenset()) -> Score:
    """Evaluate ``rules`` on the attributes ``get(name)`` returns.

    Parameters
    ----------
    rules : sequence of Rule
    get : callable
        Attribute name to value (None when missing).
    reference : callable, optional
        The current study's attributes, for ``sameAs`` rules.
    unknown : frozenset of str
        Attributes nobody could tell (an archive's answers lack them): rules
        on them pass, so a study is not ruled out for what is not known.
    """
    results = []
    for rule in rules:
        value = get(rule.attribute)
        ref = reference(rule.attribute) if (rule.same_as and reference is not None) else None
        passed = rule.attribute in unknown or rule_passes(rule, value, ref)
        results.append(RuleResult(rule, passed, value))
    return Score(sum(r.rule.weight for r in results if r.passed), tuple(results))
