"""Which studies are priors: same patient only; other IDs or names are possible matches, never merged."""

from __future__ import annotations

from tests.hanging.conftest import study
from workstation.hanging.priors import candidates, possible_match, same_patient

CURRENT = study("9", patient_id="P1", name="Doe^Jane", birth="19600101", issuer="HOSP", date="20240301")


def test_same_patient_needs_id_issuer_and_name():
    assert same_patient(CURRENT, study("1", patient_id="p1 ", name="DOE^JANE^^", issuer="hosp"))
    assert not same_patient(CURRENT, study("1", patient_id="P1", name="Doe^Jane", issuer="OTHER"))
    assert not same_patient(CURRENT, study("1", patient_id="P1", name="Roe^Richard", issuer="HOSP"))
    # an issuer missing on one side: accepted unless the birth dates disagree
    assert same_patient(CURRENT, study("1", patient_id="P1", name="Doe^Jane", issuer="", birth="19600101"))
    assert same_patient(CURRENT, study("1", patient_id="P1", name="Doe^Jane", issuer="", birth=""))
    assert not same_patient(CURRENT, study("1", patient_id="P1", name="Doe^Jane", issuer="", birth="19610101"))
    assert not same_patient(study("9", patient_id=""), study("1", patient_id=""))


def test_possible_matches_are_listed_never_priors():
    other_archive = study("1", patient_id="EXT-77", name="Doe^Jane", birth="19600101", date="20230101")
    other_issuer = study("2", patient_id="P1", name="Doe^Jane", issuer="OTHER", date="20230101")
    stranger = study("3", patient_id="X", name="Roe^Richard", birth="19600101", date="20230101")
    prior = study("4", patient_id="P1", name="Doe^Jane", issuer="HOSP", date="20230101")
    found = candidates(CURRENT, [other_archive, other_issuer, stranger, prior])
    assert [s.study_uid for s in found.priors] == ["4"]
    assert sorted(s.study_uid for s in found.possible_matches) == ["1", "2"]
    assert possible_match(CURRENT, other_archive) and not possible_match(CURRENT, stranger)


def test_priors_are_earlier_most_recent_first_and_counted_once():
    a = study("1", issuer="HOSP", date="20200101")
    b = study("2", issuer="HOSP", date="20230101")
    b_remote = study("2", issuer="HOSP", date="20230101", in_cache=False, source="PACS")
    same_time = study("3", issuer="HOSP", date="20240301", time="120000")
    later = study("4", issuer="HOSP", date="20250101")
    found = candidates(CURRENT, [b_remote, a, b, same_time, later, CURRENT])
    assert [s.study_uid for s in found.priors] == ["2", "1"]
    assert found.priors[0].in_cache


def test_what_an_archive_cannot_tell_does_not_rule_a_prior_out():
    from workstation.hanging.priors import relevant_priors
    from workstation.hanging.protocol import DEFAULT_PRIOR_RULES

    current = study("9", issuer="HOSP", date="20240301", ModalitiesInStudy="CT", BodyPartExamined="CHEST")
    told = study("1", issuer="HOSP", date="20230101", ModalitiesInStudy="CT", in_cache=False, source="PACS")
    untold = study("2", issuer="HOSP", date="20220101", ModalitiesInStudy="CT", in_cache=False, source="PACS",
                   unknown=frozenset({"BodyPartExamined"}))
    head = study("3", issuer="HOSP", date="20210101", ModalitiesInStudy="CT", BodyPartExamined="HEAD")
    got = relevant_priors(current, candidates(current, [told, untold, head]).priors, DEFAULT_PRIOR_RULES)
    assert [s.study_uid for s in got] == ["2"]
