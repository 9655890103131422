"""Protocol matching on synthetic studies: scores, ties, required rules, missing attributes, priors."""

from __future__ import annotations

from tests.hanging.conftest import series, study
from workstation.hanging.engine import build_plan, choose, rank_protocols
from workstation.hanging.priors import candidates
from workstation.hanging.protocol import parse_protocol


def proto(pid: str, rules: list, *, default: bool = False, origin: str = "builtin", priors: dict | None = None,
          viewports: list | None = None):
    raw = {"id": pid, "name": pid.upper(), "rules": rules, "default": default,
           "stages": [{"layout": {"rows": 1, "columns": len(viewports or [1])},
                       "viewports": viewports or [{"displaySet": {"rules": []}}]}]}
    if priors is not None:
        raw["priors"] = priors
    return parse_protocol(raw).with_origin(origin, f"{pid}.json")


def rule(attribute, constraint, weight=1, required=False, **kw):
    return {"attribute": attribute, "constraint": constraint, "weight": weight, "required": required, **kw}


CT = rule("ModalitiesInStudy", {"equals": "CT"}, 2, True)
CHEST = rule("BodyPartExamined", {"equals": "CHEST"}, 3)
DESC = rule("StudyDescription", {"contains": "CHEST"}, 2)


def winner(protocols, current, others=(), protocol_id=None):
    match, reason = choose(rank_protocols(protocols, current, candidates(current, others)), protocol_id)
    return match.protocol.id, match.score.score, reason


def test_best_score_wins_and_required_excludes():
    current = study(ModalitiesInStudy="CT", BodyPartExamined="CHEST", StudyDescription="CT CHEST")
    protocols = [proto("generic-ct", [CT]), proto("chest", [CT, CHEST, DESC]),
                 proto("mr", [rule("ModalitiesInStudy", {"equals": "MR"}, 9, True), CHEST, DESC])]
    assert winner(protocols, current) == ("chest", 7.0, "best score")
    ranking = rank_protocols(protocols, current, candidates(current, ()))
    excluded = [m for m in ranking if m.protocol.id == "mr"][0]
    assert not excluded.accepted and excluded.score.score == 5.0
    assert [r.describe() for r in excluded.score.failed_required()] == ["ModalitiesInStudy equals MR"]


def test_ties_prefer_user_protocols_then_more_rules_then_id():
    current = study(ModalitiesInStudy="CT", BodyPartExamined="CHEST")
    b = proto("b", [rule("BodyPartExamined", {"equals": "CHEST"}, 2)])
    a = proto("a", [rule("ModalitiesInStudy", {"equals": "CT"}, 2)])
    assert winner([b, a], current)[0] == "a"  # same score, same origin, same count: the id decides
    assert winner([a, b], current)[0] == "a"  # ... whatever the order of the files
    two = proto("two", [rule("ModalitiesInStudy", {"equals": "CT"}, 1),
                        rule("BodyPartExamined", {"equals": "CHEST"}, 1)])
    assert winner([a, b, two], current)[0] == "two"
    mine = proto("z-mine", [rule("ModalitiesInStudy", {"equals": "CT"}, 2)], origin="user")
    assert winner([a, b, two, mine], current)[0] == "z-mine"


def test_missing_attributes_fail_their_rules_without_error():
    current = study(ModalitiesInStudy="CT")  # no body part, no description
    protocols = [proto("chest", [CT, CHEST, DESC]),
                 proto("needs-body", [rule("BodyPartExamined", {"present": True}, 1, True)]),
                 proto("no-body", [rule("BodyPartExamined", {"absent": True}, 1), CT])]
    ranking = {m.protocol.id: m for m in rank_protocols(protocols, current, candidates(current, ()))}
    assert ranking["chest"].accepted and ranking["chest"].score.score == 2.0
    assert not ranking["needs-body"].accepted
    assert winner(protocols, current)[0] == "no-body"


def test_default_only_when_nothing_else_matches():
    protocols = [proto("default", [], default=True), proto("chest", [CT, CHEST])]
    assert winner(protocols, study(ModalitiesInStudy="CT", BodyPartExamined="CHEST"))[0] == "chest"
    pid, _, reason = winner(protocols, study(ModalitiesInStudy="MR"))
    assert pid == "default" and reason.startswith("default")
    # no default at all: the built-in fallback (first series) rather than nothing
    assert winner([proto("chest", [CT, CHEST])], study(ModalitiesInStudy="XA"))[0] == "fallback"


def test_a_protocol_with_only_unmatched_optional_rules_is_not_accepted():
    assert winner([proto("mg", [rule("ModalitiesInStudy", {"equals": "MG"})]), proto("d", [], default=True)],
                  study(ModalitiesInStudy="CT"))[0] == "d"


def test_user_choice_overrides_scores():
    protocols = [proto("chest", [CT, CHEST]), proto("mr", [rule("ModalitiesInStudy", {"equals": "MR"}, 1, True)])]
    chest_ct = study(ModalitiesInStudy="CT", BodyPartExamined="CHEST")
    assert winner(protocols, chest_ct, protocol_id="mr")[:2] == ("mr", 0.0)


def test_rules_can_ask_for_a_relevant_prior():
    current = study("9", ModalitiesInStudy="CT", BodyPartExamined="CHEST", date="20240301")
    needs_prior = proto("compare", [CT, rule("RelevantPriorCount", {"range": {"min": 1}}, 5, True)])
    plain = proto("plain", [CT, CHEST])
    assert winner([needs_prior, plain], current)[0] == "plain"
    other_body = study("1", ModalitiesInStudy="CT", BodyPartExamined="HEAD", date="20230301")
    assert winner([needs_prior, plain], current, [other_body])[0] == "plain"
    same = study("2", ModalitiesInStudy="CT", BodyPartExamined="CHEST", date="20230301")
    assert winner([needs_prior, plain], current, [other_body, same])[0] == "compare"
    # a later study is not a prior
    later = study("3", ModalitiesInStudy="CT", BodyPartExamined="CHEST", date="20250301")
    assert winner([needs_prior, plain], current, [later])[0] == "plain"


def test_prior_rules_and_ordering():
    current = study("9", ModalitiesInStudy="CT", BodyPartExamined="CHEST", date="20240301")
    old = study("1", ModalitiesInStudy="CT", BodyPartExamined="CHEST", date="20200301")
    recent = study("2", ModalitiesInStudy=("CT", "SR"), BodyPartExamined="CHEST", date="20230301")
    mr = study("3", ModalitiesInStudy="MR", BodyPartExamined="CHEST", date="20231201")
    p = proto("p", [CT], viewports=[{"displaySet": {"rules": []}}, {"study": "prior1", "displaySet": {"rules": []}}])
    plan = build_plan(current, [old, mr, recent], [p])
    assert [x.study_uid for x in plan.priors] == ["2"]
    assert [x.study_uid for x in plan.more_priors] == ["1"]
    # a weighted prior rule ranks before recency: prefer studies at least a year older
    yearly = proto("y", [CT], priors={"count": 1, "rules": [
        {"sameAs": "ModalitiesInStudy", "required": True},
        {"attribute": "DaysBeforeCurrent", "constraint": {"range": {"min": 400}}, "weight": 1}]},
        viewports=[{"study": "prior1", "displaySet": {"rules": []}}])
    plan = build_plan(current, [old, mr, recent], [yearly])
    assert [x.study_uid for x in plan.priors] == ["1"]


def test_a_missing_prior_leaves_its_viewport_empty_with_a_note():
    current = study("9", series=(series("s1", Modality="CT"),), ModalitiesInStudy="CT", BodyPartExamined="CHEST")
    p = proto("p", [CT], viewports=[{"displaySet": {"rules": []}}, {"study": "prior1", "displaySet": {"rules": []}}])
    vp_current, vp_prior = build_plan(current, [], [p]).stages[0].viewports
    assert vp_current.filled and vp_current.series_uid == "s1"
    assert vp_prior.status == "empty" and not vp_prior.series_uid and "no prior 1" in vp_prior.note
